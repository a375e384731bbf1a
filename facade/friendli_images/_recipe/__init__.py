"""Images that carry their recipe: how they were made, written into the file and read back.

* ``model``: the typed ``Recipe`` and its versioned JSON form;
* ``a1111``: the A1111 ``parameters`` text form (pure functions);
* ``png`` / ``jpeg``: metadata written without re-encoding, and read back;
* ``sidecar``: ``NAME.json`` for the other formats;
* ``origin``: the request behind an image, attached by the clients;
* ``embed``: saving with the recipe; ``read``: ``read_recipe`` and ``recipe_kwargs``.
"""

import importlib as _importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Recipe, RecipeInput
    from .read import read_recipe, recipe_kwargs

__all__ = ["Recipe", "RecipeInput", "read_recipe", "recipe_kwargs"]

_LAZY = {
    "Recipe": ".model",
    "RecipeInput": ".model",
    "read_recipe": ".read",
    "recipe_kwargs": ".read",
}
"""Loaded on first use: a plain ``generate()`` attaches a request, it builds no recipe."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
