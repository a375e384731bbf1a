"""The Ray guide's example (``docs/guide/ray.md``) runs as written on the local Ray cluster.

``tests/test_docs_examples.py`` runs the blocks of every page against ``mock-server``
but has no Ray cluster (and the ``ray`` extra is not in ``dev``): the page marks its Ray
blocks ``<!-- skip: next "... tests/ray/test_guide.py" -->`` and this test runs exactly
those blocks, read out of the page, in a new directory holding a small
``prompts.parquet``, with ``FRIENDLI_TOKEN`` and ``FRIENDLI_BASE_URL`` naming the
session's test server (the cluster's workers inherited them when it started).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

# ray.data, not ray: without the extra, this very directory imports as a namespace "ray".
pytest.importorskip("ray.data", reason="the 'ray' extra is not installed")
import pyarrow as pa
import pyarrow.parquet as pq
from friendli_images.testing import FriendliTestServer

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "guide" / "ray.md"
HERE = Path(__file__).resolve().relative_to(ROOT).as_posix()

_MARKED_BLOCK = re.compile(
    r'^<!-- skip: next "(?P<reason>[^"]*)" -->\n```python\n(?P<code>.*?)^```$',
    re.MULTILINE | re.DOTALL,
)


def guide_blocks(text: str) -> list[str]:
    """The Python blocks of ``text`` whose skip directive names this test as where they run."""
    return [m["code"] for m in _MARKED_BLOCK.finditer(text) if HERE in m["reason"]]


def test_the_page_marks_its_example_for_this_test() -> None:
    blocks = guide_blocks(PAGE.read_text(encoding="utf-8"))
    assert 1 == len(blocks)
    assert "generate_images(" in blocks[0]
    assert "prompts.parquet" in blocks[0]
    assert len(blocks[0].splitlines()) <= 10


# a small prompts file is one block, so one of the example's two actors has nothing to do
@pytest.mark.filterwarnings("ignore:The minimum number of concurrent actors:UserWarning")
def test_the_guide_example_runs_as_written(
    server: FriendliTestServer, ray_workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the example's relative paths are the workers' too: run it where the cluster started
    tmp_path = ray_workdir
    rows = 24
    table = pa.table(
        {
            "id": [f"p{i}" for i in range(rows)],
            "prompt": [f"a lighthouse at dusk, variation {i}" for i in range(rows)],
            "seed": list(range(1000, 1000 + rows)),
        }
    )
    pq.write_table(table, tmp_path / "prompts.parquet")
    monkeypatch.chdir(tmp_path)

    for code in guide_blocks(PAGE.read_text(encoding="utf-8")):
        exec(compile(code, f"{PAGE}:block", "exec"), {"__name__": "__guide__"})

    # every prompt was sent once, and is one image of the written imagefolder
    sent = sorted(json.loads(request.body)["prompt"] for request in server.generation_requests)
    assert sorted(table.column("prompt").to_pylist()) == sent
    folder = tmp_path / "images"
    lines = [
        {**json.loads(line), "part": path.parent}
        for path in sorted(folder.glob("part-*/metadata.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert {f"p{i}" for i in range(rows)} == {line["id"] for line in lines}
    assert rows == len(lines)
    assert {1000 + i for i in range(rows)} == {line["seed"] for line in lines}
    for line in lines:
        assert (line["part"] / line["file_name"]).read_bytes()[:4] == b"\x89PNG"
        assert line["model"] == "ENDPOINT_ID"
    assert [] == list(folder.glob("part-*/failures.jsonl"))
