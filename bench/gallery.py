"""Benchmark of ``friendli-images gallery`` on a large run output (time and peak memory).

    python bench/gallery.py [--images 10000] [--size 256] [--reps 3] [--json PATH]

Builds a ``run`` output of N images in a temporary directory (the layout ``run_jobs``
writes: ``images/<id>.png`` and one ``metadata.jsonl`` line per image, one line in 50
failed in ``failures.jsonl``), then measures, interleaved, ``reps`` times each:

gallery_time
    Wall time of ``write_gallery(DIR)`` with no thumbnail yet (it makes N), against a
    baseline loop doing the least the same page needs: per image, Pillow ``open``,
    ``draft``, ``thumbnail``, ``save`` as JPEG, and one ``html.escape``d card appended
    to a list, joined and written at the end.
gallery_rerun
    ``write_gallery`` again with the thumbnails in place (they are made once), against
    ``gallery_time``.
gallery_memory
    Peak RSS of a fresh process running ``write_gallery`` (``ru_maxrss``) on the N-image
    output against the same on an output of N/10 images: 1x means memory does not grow
    with the number of images. The RSS after the imports, before the call, is reported.

Prints one line per figure and writes them as JSON (default
``bench/results/gallery.json``, git-ignored).
"""

from __future__ import annotations

import argparse
import html
import io
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import BENCH_DIR, REPO_ROOT, machine_info, median


def build_output(root: Path, images: int, size: int) -> None:
    """A run output of ``images`` PNGs of ``size`` x ``size`` (one picture, many files)."""
    from PIL import Image

    picture = Image.effect_noise((size, size), 64).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    data = buffer.getvalue()
    (root / "images").mkdir(parents=True)
    with (
        (root / "metadata.jsonl").open("w") as metadata,
        (root / "failures.jsonl").open("w") as failures,
    ):
        for index in range(images):
            key = f"job-{index:06d}"
            if index % 50 == 49:
                failures.write(
                    json.dumps(
                        {
                            "id": key,
                            "line": index + 1,
                            "error": "RateLimitError",
                            "status": 429,
                            "message": "Error code: 429 - too many requests",
                        }
                    )
                    + "\n"
                )
                continue
            (root / "images" / f"{key}.png").write_bytes(data)
            row = {
                "file_name": f"images/{key}.png",
                "id": key,
                "line": index + 1,
                "model": "bench-endpoint",
                "prompt": f"prompt number {index}: a lighthouse at dawn, <b>oil</b> painting",
                "num_inference_steps": 20,
                "guidance_scale": 7.5,
                "seed": index,
                "response_format": "png",
                "seconds": 1.25,
            }
            metadata.write(json.dumps(row) + "\n")


def clear_views(root: Path) -> None:
    shutil.rmtree(root / "thumbs", ignore_errors=True)
    (root / "index.html").unlink(missing_ok=True)
    (root / "baseline.html").unlink(missing_ok=True)
    shutil.rmtree(root / "baseline-thumbs", ignore_errors=True)


def baseline(root: Path, size: int) -> None:
    """The least the page needs, written plainly: thumbnails and escaped cards."""
    from PIL import Image

    thumbs = root / "baseline-thumbs"
    thumbs.mkdir()
    cards = []
    with (root / "metadata.jsonl").open() as metadata:
        for line in metadata:
            row = json.loads(line)
            with Image.open(root / row["file_name"]) as image:
                image.draft("RGB", (size, size))
                image.thumbnail((size, size))
                image.convert("RGB").save(thumbs / f"{row['id']}.jpg", format="JPEG", quality=82)
            cards.append(
                f'<figure><img src="baseline-thumbs/{row["id"]}.jpg" loading="lazy">'
                f"<p>{html.escape(row['prompt'])}</p><p>{row['seed']}</p></figure>"
            )
    (root / "baseline.html").write_text("<!DOCTYPE html><body>" + "".join(cards) + "</body>")


def timed(function: Any, *args: Any) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def child(root: str) -> None:
    """In a fresh process: the peak RSS increase of one ``write_gallery``."""
    from friendli_images import write_gallery
    from PIL import Image  # noqa: F401 - loaded before the "before" figure

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    write_gallery(root)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"before_kib": before, "after_kib": after}))


def peak_rss(root: Path) -> tuple[float, float]:
    clear_views(root)
    done = subprocess.run(
        [sys.executable, "-m", "bench.gallery", "--child", str(root)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    values = json.loads(done.stdout)
    return values["before_kib"] / 1024, values["after_kib"] / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "results" / "gallery.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    from friendli_images import write_gallery

    with tempfile.TemporaryDirectory(prefix="friendli-gallery-bench-") as temporary:
        big, small = Path(temporary) / "big", Path(temporary) / "small"
        build_output(big, args.images, args.size)
        build_output(small, max(1, args.images // 10), args.size)
        first, raw, again = [], [], []
        for _ in range(args.reps):
            clear_views(big)
            raw.append(timed(baseline, big, 256))
            first.append(timed(write_gallery, big))
            again.append(timed(write_gallery, big))
        page_bytes = (big / "index.html").stat().st_size
        imported, memory_big = peak_rss(big)
        _, memory_small = peak_rss(small)
    figures = {
        "gallery_time": {
            "value_s": median(first),
            "baseline_s": median(raw),
            "ratio": median(first) / median(raw),
            "samples": first,
            "baseline_samples": raw,
        },
        "gallery_rerun": {
            "value_s": median(again),
            "baseline_s": median(first),
            "ratio": median(again) / median(first),
            "samples": again,
        },
        "gallery_memory": {
            "value_mib": memory_big,
            "baseline_mib": memory_small,
            "ratio": memory_big / memory_small if memory_small > 0 else float("nan"),
        },
        "page_bytes": page_bytes,
    }
    report = {"images": args.images, "size": args.size, "machine": machine_info(), **figures}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"gallery on {args.images} images of {args.size}x{args.size} (page {page_bytes} bytes)")
    print(
        f"gallery_time   {median(first):8.2f} s  baseline {median(raw):8.2f} s  "
        f"ratio {median(first) / median(raw):.2f}x"
    )
    print(
        f"gallery_rerun  {median(again):8.2f} s  first    {median(first):8.2f} s  "
        f"ratio {median(again) / median(first):.2f}x"
    )
    print(
        f"gallery_memory {memory_big:8.1f} MiB  {args.images // 10} images {memory_small:8.1f} MiB"
        f"  ratio {memory_big / memory_small:.2f}x (after imports: {imported:.1f} MiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
