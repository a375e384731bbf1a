"""The ``friendli-images`` command: one module per command, shared options in one.

``main`` is the entry point named in pyproject (``friendli_images._cli:main``).
"""

from ._main import main

__all__ = ["main"]
