"""Benchmark of saving with the recipe (``metadata=True``) against saving without it.

    python bench/recipe.py [--size 1024] [--reps 200] [--quick] [--json PATH]

Images come from the loopback test server (``response_format="png"`` and ``"jpeg"``, so
the bytes are in memory and only the saving is timed); both sides save the same
``GeneratedImage`` to the same directory, alternating, ``reps`` times each:

recipe_time_png, recipe_time_jpeg
    Median wall time of ``GeneratedImage.save(path, overwrite=True, metadata=True)``
    against ``save(path, overwrite=True)``: what embedding costs per image (building the
    recipe, the text chunks or segments, streaming the bytes through the inserter).
pillow_pnginfo_png
    Reference row: opening the same PNG with Pillow and saving it with ``PngInfo`` text
    (what re-encoding costs), against ``save(path, overwrite=True)``.
recipe_memory_png
    Peak RSS increase of a fresh process saving one ``--size`` x ``--size`` PNG 20 times
    with ``metadata=True``, against the same process kind saving without it.

Nothing is asserted: ``tests/bench/test_recipe_bench.py`` only checks that every figure
is reported. Prints one line per figure and writes them as JSON (default
``bench/results/recipe.json``, git-ignored).
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/recipe.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    BENCH_DIR,
    MODEL,
    PROMPT,
    REPO_ROOT,
    machine_info,
    median,
    peak_rss_bytes,
    start_peak_window,
)

MIB = 1024 * 1024


def _images(size: int) -> dict[str, Any]:
    """One generated PNG and one JPEG of ``size`` x ``size``, with their recipe source."""
    from friendli_images import FriendliImages
    from friendli_images.testing import FriendliTestServer

    with (
        FriendliTestServer(image_size=(size, size)) as server,
        FriendliImages(token=server.token, base_url=server.base_url) as client,
    ):
        return {
            fmt: client.generate(
                PROMPT,
                model=MODEL,
                seed=7,
                num_inference_steps=20,
                guidance_scale=3.5,
                response_format=fmt,
            )[0]
            for fmt in ("png", "jpeg")
        }


def _alternate(
    candidate: Callable[[], object], baseline: Callable[[], object], reps: int
) -> tuple[list[float], list[float]]:
    """Both callables ``reps`` times, alternating (after one warm-up each)."""
    candidate()
    baseline()
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(reps):
        for function, samples in ((candidate, ours), (baseline, theirs)):
            start = time.perf_counter()
            function()
            samples.append(time.perf_counter() - start)
    return ours, theirs


def _pnginfo_save(source: Path, target: Path) -> None:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", PROMPT)
    with Image.open(source) as image:
        image.save(target, format="PNG", pnginfo=info)


def _figure(ours: list[float], theirs: list[float]) -> dict[str, Any]:
    return {
        "value_ms": median(ours) * 1000,
        "baseline_ms": median(theirs) * 1000,
        "ratio": median(ours) / median(theirs),
        "samples": len(ours),
    }


def child(size: int, metadata: bool) -> None:
    """In a fresh process: the peak RSS increase of saving one PNG 20 times."""
    image = _images(size)["png"]
    with tempfile.TemporaryDirectory(prefix="friendli-recipe-bench-") as temporary:
        target = Path(temporary) / "image.png"
        image.save(target, overwrite=True, metadata=metadata)  # warm: imports, recipe
        start, _ = start_peak_window()
        for _ in range(20):
            image.save(target, overwrite=True, metadata=metadata)
        peak = peak_rss_bytes()
        file_bytes = target.stat().st_size
    print(json.dumps({"increase": max(0, peak - start), "file_bytes": file_bytes}))


def _shown(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def _memory(size: int, metadata: bool) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.recipe", "--child", str(size)]
        + (["--metadata"] if metadata else []),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _memory_ratio(ours: int, theirs: int) -> float | None:
    """``ours / theirs``; 1 when neither grew at all, ``None`` when only ours did."""
    if theirs:
        return ours / theirs
    return 1.0 if ours == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 256x256, 10 reps")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "results" / "recipe.json")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--metadata", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.metadata)
        return 0
    size, reps = (256, 10) if args.quick else (args.size, args.reps)
    images = _images(size)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="friendli-recipe-bench-") as temporary:
        root = Path(temporary)
        for fmt, image in images.items():
            plain, embedded = root / f"plain-{fmt}", root / f"embedded-{fmt}"
            ours, theirs = _alternate(
                functools.partial(image.save, embedded, overwrite=True, metadata=True),
                functools.partial(image.save, plain, overwrite=True),
                reps,
            )
            figures[f"recipe_time_{fmt}"] = _figure(ours, theirs)
        source = images["png"].save(root / "source.png", overwrite=True)
        ours, theirs = _alternate(
            lambda: _pnginfo_save(source, root / "pillow.png"),
            lambda: images["png"].save(root / "plain.png", overwrite=True),
            reps,
        )
        figures["pillow_pnginfo_png"] = {**_figure(ours, theirs), "reference": True}
    with_recipe, without = _memory(size, True), _memory(size, False)
    figures["recipe_memory_png"] = {
        "value_mib": with_recipe["increase"] / MIB,
        "baseline_mib": without["increase"] / MIB,
        "ratio": _memory_ratio(with_recipe["increase"], without["increase"]),
        "file_bytes": with_recipe["file_bytes"],
        "baseline_file_bytes": without["file_bytes"],
    }
    report = {"size": size, "reps": reps, "machine": machine_info(), "figures": figures}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"saving one {size}x{size} image, with the recipe against without, {reps} reps each")
    for key, figure in figures.items():
        if "value_ms" in figure:
            print(
                f"{key:20} {figure['value_ms']:8.3f} ms  baseline {figure['baseline_ms']:8.3f} ms"
                f"  ratio {figure['ratio']:.2f}x"
            )
        else:
            print(
                f"{key:20} {figure['value_mib']:8.2f} MiB "
                f"baseline {figure['baseline_mib']:8.2f} MiB"
                f"  ratio {_shown(figure['ratio'])} (peak RSS increase, 20 saves)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
