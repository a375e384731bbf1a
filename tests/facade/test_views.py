"""Sweeps on the bulk engine, contact sheets and the gallery page (files, not a browser).

Real requests to the loopback test server; the page in a browser is
``test_views_browser.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from friendli_images import (
    AsyncFriendliImages,
    FailedCell,
    FriendliImages,
    InvalidRequestError,
    OutputExistsError,
    RateLimitError,
    arun_sweep,
    build_sweep,
    contact_sheet,
    read_recipe,
    run_sweep,
    sweep_sheets,
    write_gallery,
)
from friendli_images._views.gallery import GALLERY_MARKER
from friendli_images._views.sheet import SHEET_MARKER
from friendli_images.testing import ErrorStatus, FriendliTestServer
from PIL import Image

HOSTILE = '<script>alert("x")</script><b onmouseover=alert(1)>bold</b> & "quotes"'


def _color_at(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    pixel = image.getpixel((x, y))
    assert isinstance(pixel, tuple)
    return pixel


class TestRunSweep:
    def test_six_images_grid_and_resume(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        sweep = build_sweep(
            "a lighthouse", model="ep", axes={"seed": "1..3", "guidance_scale": "3,7"}
        )
        out = tmp_path / "s"
        summary = run_sweep(sweep, out, client=client, gallery=True)
        assert (6, 6, 0) == (summary.total, summary.done, summary.failed)
        rows = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
        assert {(row["seed"], row["guidance_scale"]) for row in rows} == {
            (s, g) for s in (1, 2, 3) for g in (3.0, 7.0)
        }
        assert {row["file_name"] for row in rows} == {
            f"images/seed{s}-guidance{g}.png" for s in (1, 2, 3) for g in (3, 7)
        }
        with Image.open(out / "grid.png") as grid:
            assert SHEET_MARKER == grid.info["Software"]
            assert grid.width > 3 * 256
            assert grid.height > 2 * 256
        assert (out / "index.html").is_file()
        assert 6 == len(friendli_server.generation_requests)

        again = run_sweep(sweep, out, client=client)
        assert (0, 6) == (again.done, again.skipped)
        assert 6 == len(friendli_server.generation_requests)  # nothing sent twice

    def test_refusals_send_nothing(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        big = build_sweep("a", model="ep", axes={"seed": "1..101"})
        with pytest.raises(InvalidRequestError, match=r"101 images.*max_images=100"):
            run_sweep(big, tmp_path / "big", client=client)
        invalid = build_sweep("a", model="ep", axes={"num_inference_steps": "0..2"})
        with pytest.raises(InvalidRequestError, match=r"cell steps0: .*must be an integer"):
            run_sweep(invalid, tmp_path / "invalid", client=client)
        out = tmp_path / "s"
        run_sweep(build_sweep("a", model="ep", axes={"seed": "1..2"}), out, client=client)
        sent = len(friendli_server.generation_requests)
        with pytest.raises(InvalidRequestError, match="holds a different sweep"):
            run_sweep(build_sweep("a", model="ep", axes={"seed": "1..3"}), out, client=client)
        user_grid = tmp_path / "mine"
        user_grid.mkdir()
        (user_grid / "grid.png").write_bytes(b"my own picture")
        with pytest.raises(OutputExistsError):
            run_sweep(build_sweep("a", model="ep", axes={"seed": "1..2"}), user_grid, client=client)
        assert b"my own picture" == (user_grid / "grid.png").read_bytes()
        assert not (tmp_path / "big").exists()
        assert not (tmp_path / "invalid").exists()
        assert sent == 2 == len(friendli_server.generation_requests)

    def test_big_sweep_allowed_by_max_images(self, client: FriendliImages, tmp_path: Path) -> None:
        sweep = build_sweep("a", model="ep", axes={"seed": "1..3"})
        with pytest.raises(InvalidRequestError, match="max_images"):
            run_sweep(sweep, tmp_path / "s", client=client, max_images=2)
        assert 3 == run_sweep(sweep, tmp_path / "s", client=client, max_images=3).done

    def test_failed_cell_drawn_with_its_error(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        friendli_server.inject(ErrorStatus(400, message="refused"))
        out = tmp_path / "s"
        summary = run_sweep(
            build_sweep("a", model="ep", axes={"seed": "1..2"}), out, client=client, concurrency=1
        )
        assert (1, 1) == (summary.done, summary.failed)
        (sheet,) = sweep_sheets(out, cell_size=64)
        # The first cell (seed 1, failed first) is drawn in the failure colour.
        assert (253, 226, 226) == _color_at(sheet, sheet.width // 4, sheet.height - 20)[:3]

    @pytest.mark.anyio
    async def test_async(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        sweep = build_sweep("a", model="ep", axes={"seed": "1..2", "guidance_scale": "3,4"})
        summary = await arun_sweep(sweep, tmp_path / "s", client=aclient, gallery=True)
        assert 4 == summary.done
        assert (tmp_path / "s" / "grid.png").is_file()


class TestContactSheet:
    def test_cells_labels_and_failures(self, tmp_path: Path) -> None:
        blue = tmp_path / "blue.png"
        Image.new("RGB", (32, 32), (0, 0, 255)).save(blue)
        sheet = contact_sheet(
            [blue, RateLimitError.__new__(RateLimitError), None, FailedCell("APITimeoutError")],
            columns=2,
            column_labels=["seed=1", "seed=2"],
            row_labels=["guidance=3", "guidance=7"],
            title="a lighthouse",
            cell_size=64,
        )
        assert isinstance(sheet, Image.Image)
        colors = {c for _, c in sheet.getcolors(1 << 16) or []}
        assert (0, 0, 255) in colors  # the image, scaled into its cell
        assert (253, 226, 226) in colors  # the failed cells
        assert (235, 235, 235) in colors  # the cell not generated

    def test_default_columns(self) -> None:
        images = [Image.new("RGB", (8, 8), (0, 255, 0)) for _ in range(5)]
        three = contact_sheet(images, cell_size=32)  # ceil(sqrt(5)) = 3 columns, 2 rows
        one_row = contact_sheet(images, columns=5, cell_size=32)
        assert three.width < one_row.width
        assert three.height > one_row.height

    @pytest.mark.parametrize(
        ("images", "options", "message"),
        [
            ([], {}, "at least one image"),
            ([42], {}, "a cell must be"),
            ([None], {"columns": 0}, "columns"),
            ([None], {"cell_size": 8}, "cell_size"),
            ([None] * 400, {"cell_size": 4096}, "too large"),
        ],
    )
    def test_rejects(self, images: list[object], options: dict[str, int], message: str) -> None:
        with pytest.raises(InvalidRequestError, match=message):
            contact_sheet(images, **options)  # type: ignore[arg-type]

    def test_unreadable_image_drawn_as_failed(self, tmp_path: Path) -> None:
        (tmp_path / "x.png").write_bytes(b"not an image")
        sheet = contact_sheet([tmp_path / "x.png"], cell_size=32)
        assert (253, 226, 226) in {c for _, c in sheet.getcolors(1 << 16) or []}

    def test_third_axis_makes_several_sheets(self, client: FriendliImages, tmp_path: Path) -> None:
        sweep = build_sweep(
            "a",
            model="ep",
            axes={"seed": "1..2", "guidance_scale": "3,4", "num_inference_steps": "5,6,7"},
        )
        run_sweep(sweep, tmp_path / "s", client=client)
        assert [f"grid-{n}.png" for n in (1, 2, 3)] == sorted(
            path.name for path in (tmp_path / "s").glob("grid*.png")
        )
        assert 3 == len(sweep_sheets(tmp_path / "s", cell_size=32))

    def test_not_a_sweep(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidRequestError, match="holds no sweep"):
            sweep_sheets(tmp_path)


def _dataset(root: Path, rows: list[dict[str, object]], failures: list[dict[str, object]]) -> None:
    (root / "images").mkdir(parents=True)
    with (root / "metadata.jsonl").open("w") as file:
        for row in rows:
            file.write(json.dumps(row) + "\n")
    with (root / "failures.jsonl").open("w") as file:
        for row in failures:
            file.write(json.dumps(row) + "\n")


class TestGallery:
    def test_escaped_inside_dir_and_redacted(self, tmp_path: Path) -> None:
        root = tmp_path / "run"
        outside = tmp_path / "secret.png"
        Image.new("RGB", (8, 8)).save(outside)
        _dataset(
            root,
            [
                {"file_name": "images/a.png", "id": "a", "prompt": HOSTILE, "seed": 1},
                {"file_name": "../secret.png", "id": "b", "prompt": "up", "seed": 2},
                {"file_name": str(outside), "id": "c", "prompt": "absolute", "seed": 3},
                {"file_name": "images/link.png", "id": "d", "prompt": "link", "seed": 4},
            ],
            [
                {
                    "id": "e",
                    "line": 5,
                    "error": "BadRequestError",
                    "status": 400,
                    "message": "token tok-SECRET was <b>bad</b>",
                }
            ],
        )
        Image.new("RGB", (600, 300), (255, 0, 0)).save(root / "images" / "a.png")
        os.symlink(outside, root / "images" / "link.png")
        page = write_gallery(root, redact_texts=["tok-SECRET"]).read_text()
        assert "<script>alert" not in page
        assert "<b onmouseover" not in page
        assert html_escaped(HOSTILE) in page
        assert "secret.png" not in page.replace("../secret.png", "")  # no link to it
        assert 'src="thumbs/images/a.png.jpg"' in page
        assert 'href="images/a.png"' in page
        assert 1 == page.count("<img ")
        assert 3 == page.count("image missing or outside the directory")
        assert "tok-SECRET" not in page
        assert "[secure]" in page
        assert "&lt;b&gt;bad&lt;/b&gt;" in page
        assert "4 images from 4 jobs, 1 failed" in page
        with Image.open(root / "thumbs" / "images" / "a.png.jpg") as thumb:
            assert (256, 128) == thumb.size

    def test_thumbnails_made_once_and_pages_replaced_only_if_ours(self, tmp_path: Path) -> None:
        root = tmp_path / "run"
        _dataset(root, [{"file_name": "images/a.png", "id": "a", "prompt": "p"}], [])
        Image.new("RGB", (64, 64)).save(root / "images" / "a.png")
        write_gallery(root)
        thumb = root / "thumbs" / "images" / "a.png.jpg"
        made = thumb.stat().st_mtime_ns
        write_gallery(root)  # our page: replaced; the thumbnail: kept
        assert made == thumb.stat().st_mtime_ns
        assert GALLERY_MARKER in (root / "index.html").read_text()
        (root / "index.html").write_text("<p>my notes</p>")
        with pytest.raises(OutputExistsError):
            write_gallery(root)
        assert "<p>my notes</p>" == (root / "index.html").read_text()
        assert [] == [p.name for p in root.iterdir() if p.name.endswith(".part")]

    def test_not_a_dataset(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidRequestError, match="not a run or sweep output"):
            write_gallery(tmp_path)

    def test_hostile_lines_are_skipped(self, tmp_path: Path) -> None:
        root = tmp_path / "run"
        _dataset(root, [], [])
        with (root / "metadata.jsonl").open("wb") as file:
            file.write(b"[1]\n{not json\n" + b"x" * (2 * 1024 * 1024) + b"\n")
            file.write(json.dumps({"id": "ok", "prompt": "fine"}).encode() + b"\n")
        page = write_gallery(root).read_text()
        assert "1 images from 1 jobs" in page
        assert "fine" in page


def html_escaped(text: str) -> str:
    import html

    return html.escape(text, quote=True)


# -- the commands --------------------------------------------------------------------------


def _env(friendli_server: FriendliTestServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
    return {
        **env,
        "FRIENDLI_TOKEN": friendli_server.token,
        "FRIENDLI_BASE_URL": friendli_server.base_url,
    }


def _cli(args: list[str | Path], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "friendli_images", *map(str, args)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestCommands:
    def test_sweep_done_when(self, friendli_server: FriendliTestServer, tmp_path: Path) -> None:
        """The issue's example: 6 images, grid.png, index.html; the size said first."""
        out = tmp_path / "s"
        args: list[str | Path] = ["sweep", "a lighthouse", "--seed", "1..3", "--guidance", "3,7"]
        done = _cli([*args, "--out", out, "--gallery", "--model", "ep"], _env(friendli_server))
        assert 0 == done.returncode, done.stderr
        assert done.stderr.startswith("sweep: 6 images: seed (3) x guidance (2)")
        assert 6 == len(list((out / "images").iterdir()))
        assert (out / "grid.png").is_file()
        assert (out / "index.html").is_file()
        rerun = _cli([*args, "--out", out, "--model", "ep", "--json"], _env(friendli_server))
        assert 0 == rerun.returncode, rerun.stderr
        assert 6 == json.loads(rerun.stdout)["skipped"]
        assert 6 == len(friendli_server.generation_requests)

    def test_sweep_embed_params(self, friendli_server: FriendliTestServer, tmp_path: Path) -> None:
        """Each cell's image carries its own recipe: the seed and guidance of its cell."""
        out = tmp_path / "s"
        args: list[str | Path] = ["sweep", "a lighthouse", "--seed", "1,2", "--guidance", "3,7"]
        done = _cli([*args, "--out", out, "--model", "ep", "--embed-params"], _env(friendli_server))
        assert 0 == done.returncode, done.stderr
        recipes = [read_recipe(path) for path in sorted((out / "images").iterdir())]
        assert all(recipe is not None for recipe in recipes)
        cells = {(recipe.seed, recipe.guidance_scale) for recipe in recipes if recipe is not None}
        assert {(1, 3.0), (2, 3.0), (1, 7.0), (2, 7.0)} == cells
        assert {"a lighthouse"} == {recipe.prompt for recipe in recipes if recipe is not None}

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            (["--seed", "1..101"], "pass --max-images 101 to confirm"),
            (["--steps", "0..2"], "1 of 3 cells invalid; nothing was sent"),
            (["--seed", "1..x"], "argument --seed"),
            (["--seed", "1,2", "--seed", "3"], "given twice"),
        ],
    )
    def test_sweep_refusals(
        self,
        friendli_server: FriendliTestServer,
        tmp_path: Path,
        extra: list[str],
        message: str,
    ) -> None:
        result = _cli(
            ["sweep", "a", "--model", "ep", "--out", tmp_path / "s", *extra],
            _env(friendli_server),
        )
        assert 2 == result.returncode
        assert message in result.stderr
        assert [] == friendli_server.generation_requests
        assert not (tmp_path / "s").exists()

    def test_sweep_check_and_prompts_file(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        prompts = tmp_path / "prompts.txt"
        prompts.write_text("a cat\n\na dog\n")
        result = _cli(
            [
                "sweep",
                "--prompts",
                prompts,
                "--prompt",
                "a bird",
                "--seed",
                "1,2",
                "--steps",
                "20",
                "--model",
                "ep",
                "--out",
                tmp_path / "s",
                "--check",
            ],
            _env(friendli_server),
        )
        assert 0 == result.returncode, result.stderr
        assert "sweep: 6 images: prompt (3) x seed (2)" in result.stderr
        assert "check: 6 valid cells, 0 problems" in result.stderr
        assert [] == friendli_server.generation_requests
        assert not (tmp_path / "s").exists()

    def test_gallery_and_run_gallery(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        jobs = tmp_path / "jobs.jsonl"
        jobs.write_text("".join(json.dumps({"prompt": f"p{i}"}) + "\n" for i in range(3)))
        out = tmp_path / "out"
        run = _cli(["run", jobs, "--out", out, "--model", "ep", "--gallery"], _env(friendli_server))
        assert 0 == run.returncode, run.stderr
        assert f"gallery: {out / 'index.html'}" in run.stderr
        page = (out / "index.html").read_text()
        assert 3 == page.count('loading="lazy"')
        gallery = _cli(["gallery", out], _env(friendli_server))
        assert 0 == gallery.returncode
        assert str(out / "index.html") == gallery.stdout.strip()
        assert 2 == _cli(["gallery", tmp_path], _env(friendli_server)).returncode

    def test_run_gallery_refused_before_sending(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        jobs = tmp_path / "jobs.jsonl"
        jobs.write_text(json.dumps({"prompt": "p"}) + "\n")
        out = tmp_path / "out"
        out.mkdir()
        (out / "index.html").write_text("mine")
        run = _cli(["run", jobs, "--out", out, "--model", "ep", "--gallery"], _env(friendli_server))
        assert 2 == run.returncode
        assert "was not written by friendli-images" in run.stderr
        assert [] == friendli_server.generation_requests
        assert "mine" == (out / "index.html").read_text()
