"""Views of a run's results: parameter sweeps, contact sheets and a gallery page.

``axes`` parses axis values (``1..4``, ``3,5,7.5``) and names sweep cells; ``sweep``
turns axes into jobs and runs them on the bulk engine (``run_jobs``); ``sheet`` draws
labeled contact sheets (Pillow); ``gallery`` writes a self-contained ``index.html``.
"""

__all__: list[str] = []
