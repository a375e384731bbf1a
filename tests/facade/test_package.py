"""The public surface: names, module, exception tree."""

from __future__ import annotations

import friendli_images
from friendli_images import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    FriendliImagesError,
    ImageDownloadError,
    InternalServerError,
    InvalidRequestError,
    MissingDependencyError,
    OutputExistsError,
    RateLimitError,
    UnprocessableEntityError,
)


class TestPublicNames:
    def test_all_is_sorted_and_importable(self) -> None:
        """Every name in __all__ exists; the list is sorted."""
        names = friendli_images.__all__

        assert sorted(names) == names
        for name in names:
            assert hasattr(friendli_images, name)

    def test_classes_show_the_public_module(self) -> None:
        """Public classes and functions present themselves as friendli_images.X."""
        for name in (
            "FriendliImages",
            "AsyncFriendliImages",
            "ImageResult",
            "generate_image",
            "APIStatusError",
            "encode_control_image",
            "Recipe",
            "RecipeInput",
            "read_recipe",
            "recipe_kwargs",
        ):
            assert "friendli_images" == getattr(friendli_images, name).__module__

    def test_recipe_names_are_public(self) -> None:
        """Issue 22: the recipe's reader, its keyword arguments and its two types."""
        assert {"Recipe", "RecipeInput", "read_recipe", "recipe_kwargs"} <= set(
            friendli_images.__all__
        )

    def test_private_modules_declare_all(self) -> None:
        """Each private module and subpackage, at every depth, declares what it exports."""
        import importlib
        import pkgutil

        names = [
            module.name
            for module in pkgutil.walk_packages(friendli_images.__path__, "friendli_images.")
            if module.name.rpartition(".")[2].startswith("_")
            and not module.name.endswith("__main__")
        ]
        assert "friendli_images._batch._engine" in names  # the walk reaches the subpackages
        for name in names:
            assert hasattr(importlib.import_module(name), "__all__"), name


class TestExceptionTree:
    def test_hierarchy(self) -> None:
        """Every error derives from FriendliImagesError; builtins are mixed in where natural."""
        assert issubclass(InvalidRequestError, ValueError)
        assert issubclass(OutputExistsError, FileExistsError)
        assert issubclass(MissingDependencyError, ImportError)
        for error in (
            APIConnectionError,
            APITimeoutError,
            APIResponseValidationError,
            APIStatusError,
            RateLimitError,
            UnprocessableEntityError,
            InternalServerError,
        ):
            assert issubclass(error, APIError)
        assert issubclass(APITimeoutError, APIConnectionError)
        for base in (
            APIError,
            InvalidRequestError,
            OutputExistsError,
            ImageDownloadError,
            MissingDependencyError,
        ):
            assert issubclass(base, FriendliImagesError)

    def test_version(self) -> None:
        """The package has a version string."""
        assert friendli_images.__version__.count(".") == 2
