"""Bulk jobs: jobs-file lines, the ``imagefolder`` dataset directory and the runner
behind ``run_jobs`` and ``friendli-images run``."""

__all__: list[str] = []
