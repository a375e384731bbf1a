"""Images that carry their recipe: how they were made, written into the file and read back.

* ``model``: the typed ``Recipe`` and its versioned JSON form;
* ``a1111``: the A1111 ``parameters`` text form (pure functions);
* ``png`` / ``jpeg``: metadata written without re-encoding, and read back;
* ``sidecar``: ``NAME.json`` for the other formats;
* ``origin``: the request behind an image, attached by the clients;
* ``embed``: saving with the recipe; ``read``: ``read_recipe`` and ``recipe_kwargs``.
"""

from .model import Recipe, RecipeInput
from .read import read_recipe, recipe_kwargs

__all__ = ["Recipe", "RecipeInput", "read_recipe", "recipe_kwargs"]
