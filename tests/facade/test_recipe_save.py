"""Saving with the recipe (``metadata=True``) against the loopback test server.

Pillow reads every file back: the text is there, and the pixels equal those of the same
image saved without a recipe.
"""

from __future__ import annotations

import io
import json
import pickle
from pathlib import Path
from typing import Any, Literal, TypedDict

import pytest
from friendli_images import (
    AsyncFriendliImages,
    FriendliContainerImages,
    FriendliImages,
    FriendliImagesError,
    InvalidRequestError,
    OutputExistsError,
    generate_image,
    read_recipe,
    recipe_kwargs,
)
from friendli_images._recipe.embed import PARAMETERS_KEY, RECIPE_KEY
from friendli_images._recipe.origin import recipe_of
from friendli_images._recipe.sidecar import sidecar_path
from friendli_images.testing import FriendliTestServer, WrongShape
from PIL import Image


class _Params(TypedDict):
    seed: int
    num_inference_steps: int
    guidance_scale: float


PARAMS: _Params = {"seed": 11, "num_inference_steps": 12, "guidance_scale": 2.5}


def pixels(path: Path | bytes) -> bytes:
    source = io.BytesIO(path) if isinstance(path, bytes) else path
    with Image.open(source) as image:
        return image.convert("RGB").tobytes()


def texts(path: Path) -> dict[str, object]:
    with Image.open(path) as image:
        image.load()  # PNG text after IDAT is read with the pixels
        info: dict[Any, Any] = image.info
        return {str(key): value for key, value in info.items()}


@pytest.mark.parametrize("response_format", ["png", "url"])
def test_png_round_trip(
    client: FriendliImages, tmp_path: Path, response_format: Literal["png", "url"]
) -> None:
    result = client.generate(
        "a lighthouse, dawn: gold", model="ep-1:adapter", response_format=response_format, **PARAMS
    )
    plain = result[0].save(tmp_path / "plain")
    path = result[0].save(tmp_path / "with", metadata=True)
    assert path.suffix == ".png"
    assert pixels(path) == pixels(plain)
    info = texts(path)
    recipe = read_recipe(path)
    assert recipe is not None
    assert recipe == recipe_of(result[0])
    assert (recipe.prompt, recipe.model, recipe.seed) == (
        "a lighthouse, dawn: gold",
        "ep-1:adapter",
        11,
    )
    assert (recipe.endpoint_id, recipe.adapter) == ("ep-1", "adapter")
    assert (recipe.num_inference_steps, recipe.guidance_scale) == (12, 2.5)
    assert recipe.response_format == response_format
    assert json.loads(str(info[RECIPE_KEY])) == recipe.to_json()
    assert str(info[PARAMETERS_KEY]).startswith(
        "a lighthouse, dawn: gold\nSteps: 12, CFG scale: 2.5"
    )
    # everything but the inserted chunks is byte-identical
    original, embedded = plain.read_bytes(), path.read_bytes()
    assert embedded.startswith(original[:-12])
    assert embedded.endswith(original[-12:])


def test_jpeg_round_trip(client: FriendliImages, tmp_path: Path) -> None:
    result = client.generate("a fox ☃", model="ep-2", response_format="jpeg", **PARAMS)
    plain = result[0].save(tmp_path / "plain")
    path = result[0].save(tmp_path / "with", metadata=True)
    assert path.suffix == ".jpg"
    assert pixels(path) == pixels(plain)
    with Image.open(path) as image:
        comment = image.info["comment"]
        user_comment = image.getexif().get_ifd(0x8769)[0x9286]
    assert json.loads(comment)["prompt"] == "a fox ☃"
    assert user_comment.startswith(b"UNICODE\0" + "a fox ☃".encode("utf-16-be"))
    recipe = read_recipe(path)
    assert recipe == recipe_of(result[0])
    assert recipe is not None
    assert recipe.seed == 11


def test_seed_is_the_one_each_image_was_made_with(client: FriendliImages, tmp_path: Path) -> None:
    result = client.generate("p", model="ep", response_format="png", n=3, seed=100)
    paths = result.save(tmp_path, metadata=True)
    seeds = [read_recipe(path).seed for path in paths]  # type: ignore[union-attr]
    assert seeds == [100, 101, 102]


def test_off_by_default(client: FriendliImages, tmp_path: Path) -> None:
    result = client.generate("a private prompt", model="ep", response_format="png")
    path = result[0].save(tmp_path)
    assert read_recipe(path) is None
    assert b"a private prompt" not in path.read_bytes()


def test_the_token_never_reaches_the_file(
    friendli_server: FriendliTestServer, tmp_path: Path
) -> None:
    with FriendliImages(
        token=friendli_server.token, base_url=friendli_server.base_url, team_id="team-7"
    ) as client:
        prompt = f"leak {friendli_server.token} please"
        path = client.generate(prompt, model="ep", response_format="png")[0].save(
            tmp_path, metadata=True
        )
    data = path.read_bytes()
    assert friendli_server.token.encode() not in data
    recipe = read_recipe(path)
    assert recipe is not None
    assert recipe.prompt == "leak [secure] please"
    assert recipe.team_id == "team-7"


def test_no_team_unless_set(client: FriendliImages, tmp_path: Path) -> None:
    path = client.generate("p", model="ep", response_format="png")[0].save(tmp_path, metadata=True)
    assert "team_id" not in json.loads(str(texts(path)[RECIPE_KEY]))


def test_edit_recipe_names_inputs_by_sha256(client: FriendliImages, tmp_path: Path) -> None:
    source = client.generate("p", model="ep", response_format="png")[0].save(tmp_path / "src")
    result = client.edit(source, "make it blue", model="ep", response_format="png", seed=3)
    path = result[0].save(tmp_path / "edited", metadata=True)
    recipe = read_recipe(path)
    assert recipe is not None
    assert recipe.operation == "edit"
    import hashlib

    data = source.read_bytes()
    assert [(item.sha256, item.size) for item in recipe.images] == [
        (hashlib.sha256(data).hexdigest(), len(data))
    ]
    assert str(source) not in path.read_bytes().decode("latin-1")
    copy = tmp_path / "copy.png"
    copy.write_bytes(data)
    kwargs = recipe_kwargs(recipe, inputs=[path, copy])
    assert kwargs["image"] == copy
    with pytest.raises(InvalidRequestError, match="sha256") as caught:
        recipe_kwargs(recipe, inputs=[path])
    assert caught.value.param == "image"


def test_control_images_and_weights(client: FriendliImages, tmp_path: Path) -> None:
    control = client.generate("c", model="ep", response_format="png")[0].content()
    result = client.generate(
        "p", model="ep", response_format="png", control_images=[control], controlnet_weights=[0.4]
    )
    recipe = read_recipe(result[0].save(tmp_path, metadata=True))
    assert recipe is not None
    assert recipe.controlnet_weights == (0.4,)
    assert recipe.control_images[0].size == len(control)
    (tmp_path / "control.png").write_bytes(control)
    kwargs = recipe_kwargs(recipe, inputs=[tmp_path / "control.png"])
    assert kwargs["control_images"] == [tmp_path / "control.png"]
    assert kwargs["controlnet_weights"] == [0.4]


def test_recipe_kwargs_reproduce_the_request_body(
    client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
) -> None:
    path = client.generate("again", model="ep:ad", response_format="png", **PARAMS)[0].save(
        tmp_path, metadata=True
    )
    recipe = read_recipe(path)
    assert recipe is not None
    client.generate(**recipe_kwargs(recipe))
    first, second = (request.json for request in friendli_server.generation_requests)
    assert first == second


def test_sidecar_for_other_types(client: FriendliImages, tmp_path: Path) -> None:
    image = client.generate("p", model="ep", response_format="png")[0]
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="GIF")
    image._remember(buffer.getvalue())  # the same image, as if the server had sent a GIF
    path = image.save(tmp_path, metadata=True)
    assert path.suffix == ".gif"
    assert path.read_bytes() == buffer.getvalue()
    assert sidecar_path(path).name == path.name + ".json"
    assert read_recipe(path) == recipe_of(image)
    with pytest.raises(OutputExistsError):
        image.save(path, metadata=True)
    (path.parent / "b.gif.json").write_text("mine")
    with pytest.raises(OutputExistsError):
        image.save(tmp_path / "b", metadata=True)
    assert not (tmp_path / "b.gif").exists()
    assert (path.parent / "b.gif.json").read_text() == "mine"


def test_truncated_png_is_not_saved(client: FriendliImages, tmp_path: Path) -> None:
    image = client.generate("p", model="ep", response_format="png")[0]
    image._remember(image.content()[:-20])
    with pytest.raises(FriendliImagesError, match="truncated"):
        image.save(tmp_path / "cut", metadata=True)
    assert list(tmp_path.iterdir()) == []


def test_an_image_not_from_a_client_has_no_recipe(tmp_path: Path, client: FriendliImages) -> None:
    from friendli_images import GeneratedImage

    data = client.generate("p", model="ep", response_format="png")[0].content()
    with pytest.raises(FriendliImagesError, match="no recipe"):
        GeneratedImage(seed=1, response_format="png", data=data).save(tmp_path, metadata=True)
    assert list(tmp_path.iterdir()) == []


def test_pickled_image_carries_no_source(client: FriendliImages) -> None:
    image = client.generate("p", model="ep", response_format="png")[0]
    copy = pickle.loads(pickle.dumps(image._recipe_source))
    assert copy is None


@pytest.mark.anyio
async def test_async_save(aclient: AsyncFriendliImages, tmp_path: Path) -> None:
    result = await aclient.generate("async", model="ep", response_format="url", seed=5)
    path = await result[0].asave(tmp_path / "one", metadata=True)
    paths = await result.asave(tmp_path / "all", metadata=True)
    assert read_recipe(path) == read_recipe(paths[0]) == recipe_of(result[0])
    assert pixels(path) == pixels(await result[0].acontent())


def test_generate_image_metadata(friendli_server: FriendliTestServer, tmp_path: Path) -> None:
    result = generate_image(
        "one call",
        model="ep",
        response_format="png",
        save_to=tmp_path,
        metadata=True,
        token=friendli_server.token,
        base_url=friendli_server.base_url,
    )
    recipe = read_recipe(tmp_path / "image.png")
    assert recipe == recipe_of(result[0])
    options: dict[str, Any] = {"token": friendli_server.token, "base_url": friendli_server.base_url}
    for bad in ({"metadata": "yes", "save_to": tmp_path / "x"}, {"metadata": True}):
        with pytest.raises(InvalidRequestError) as caught:
            generate_image("p", model="ep", **bad, **options)
        assert caught.value.param == "metadata"
    assert len(friendli_server.generation_requests) == 1  # the rejected calls sent nothing


def test_container_recipe(friendli_server: FriendliTestServer, tmp_path: Path) -> None:
    with FriendliContainerImages(base_url=friendli_server.base_url) as client:
        result = client.generate("local", seed=4, response_format="jpeg")
    recipe = read_recipe(result[0].save(tmp_path, metadata=True))
    assert recipe is not None
    assert (recipe.api, recipe.model, recipe.seed, recipe.team_id) == ("container", None, 4, None)
    assert recipe_kwargs(recipe) == {"prompt": "local", "seed": 4, "response_format": "jpeg"}


def test_the_token_echoed_in_urls_never_reaches_the_file(
    friendli_server: FriendliTestServer, tmp_path: Path
) -> None:
    """A server that echoes the token in an image URL, a control image URL holding it: the
    file (PNG chunks, JPEG segments, sidecar) carries neither, in any form."""
    from urllib.parse import quote

    token = friendli_server.token
    forms = [token, quote(token, safe=""), json.dumps(token)[1:-1]]
    with FriendliImages(token=token, base_url=friendli_server.base_url) as client:
        url = client.generate("p", model="ep", response_format="url")[0].url
        assert url is not None
        for fmt in ("png", "jpeg"):
            echoed = f"{url}?token={quote(token, safe='')}&again={token}"
            friendli_server.inject(
                WrongShape({"data": [{"seed": 5, "response_format": "url", "url": echoed}]})
            )
            result = client.generate(
                f"{fmt} prompt",
                model="ep",
                response_format="url",
                control_images=[f"https://example.com/{token}/c.png?sig=abc"],
            )
            path = result[0].save(tmp_path / fmt, metadata=True)
            data = path.read_bytes()
            for form in forms:
                assert form.encode() not in data
            recipe = read_recipe(path)
            assert recipe is not None
            assert ("https://example.com/[secure]/c.png",) == tuple(
                item.url for item in recipe.control_images
            )
