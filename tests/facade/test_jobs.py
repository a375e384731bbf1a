"""Reading jobs files, and the dataset directory's crash repair: pure rules as tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from friendli_images import InvalidRequestError
from friendli_images._jobs import _lines
from friendli_images._jobs._dataset import (
    MARKER,
    METADATA,
    DatasetBusyError,
    DatasetDir,
    NotADatasetError,
    metadata_rows,
)
from friendli_images._jobs._lines import BadLine, Job, Shard, parse_line, read_jobs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            b'{"prompt": "a cat"}', Job(3, "line-3", {"model": "ep", "prompt": "a cat"}), id="plain"
        ),
        pytest.param(
            b'{"id": "cat-1", "prompt": "a", "model": "other"}',
            Job(3, "cat-1", {"model": "other", "prompt": "a"}),
            id="id-and-line-overrides-default",
        ),
        pytest.param(
            b'{"id": 42, "prompt": "a"}', Job(3, "42", {"model": "ep", "prompt": "a"}), id="int-id"
        ),
        pytest.param(b"not json", "not valid JSON", id="not-json"),
        pytest.param(b"[1, 2]", "must be a JSON object", id="not-an-object"),
        pytest.param(b"\xff\xfe{}", "not UTF-8", id="not-utf8"),
        pytest.param(b"[" * 100_000, "not valid JSON", id="deeply-nested"),
        pytest.param(b'{"id": "../x", "prompt": "a"}', "not usable as a file name", id="path-id"),
        pytest.param(b'{"id": "a.b", "prompt": "a"}', "not usable as a file name", id="dot-id"),
        pytest.param(b'{"id": "line-9", "prompt": "a"}', "not usable", id="line-key-id"),
        pytest.param(b'{"id": true, "prompt": "a"}', "string or an integer", id="bool-id"),
        pytest.param(b'{"prompt": "a", "seed": ' + b"9" * 5000 + b"}", "4300", id="huge-int"),
        pytest.param(
            b'{"prompt": "a", "retry_ambiguous": true}', "option of the run", id="retry-ambiguous"
        ),
    ],
)
def test_parse_line(raw: bytes, expected: Job | str) -> None:
    """A line is a job (id or line number as key, defaults filled in) or a reasoned BadLine."""
    item = parse_line(raw, 3, {"model": "ep"})

    if isinstance(expected, Job):
        assert expected == item
    else:
        assert isinstance(item, BadLine)
        assert (3, "line-3") == (item.line, item.key)
        assert expected in item.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("0/4", Shard(0, 4), id="first"),
        pytest.param(" 3 / 4 ", Shard(3, 4), id="spaces"),
        pytest.param("4/4", None, id="k-too-large"),
        pytest.param("1/0", None, id="zero-shards"),
        pytest.param("1", None, id="no-slash"),
        pytest.param("-1/2", None, id="negative"),
    ],
)
def test_shard_parse(text: str, expected: Shard | None) -> None:
    """--shard K/N needs 0 <= K < N."""
    if expected is None:
        with pytest.raises(InvalidRequestError):
            Shard.parse(text)
    else:
        assert expected == Shard.parse(text)


def test_shards_split_a_file(tmp_path: Path) -> None:
    """N shards take every line exactly once, by 0-based line index modulo N."""
    path = tmp_path / "jobs.jsonl"
    path.write_text("".join(json.dumps({"prompt": str(i)}) + "\n" for i in range(10)))

    shards = [[job.line for job in read_jobs(path, {}, Shard(k, 3))] for k in range(3)]

    assert [[1, 4, 7, 10], [2, 5, 8], [3, 6, 9]] == shards


def test_read_jobs_skips_blank_lines_and_flags_repeated_ids(tmp_path: Path) -> None:
    """Blank lines are no jobs; a repeated id makes the later line bad, keyed by its line."""
    path = tmp_path / "jobs.jsonl"
    path.write_text('{"id": "a", "prompt": "x"}\n\n   \n{"id": "a", "prompt": "y"}\n')

    items = list(read_jobs(path, {}))

    assert isinstance(items[0], Job)
    assert BadLine(4, "line-4", "id 'a' was already used on line 1") == items[1]


def test_a_byte_order_mark_is_not_part_of_line_one(tmp_path: Path) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"prompt": "a"}\n{"prompt": "b"}\n')

    assert [Job(1, "line-1", {"prompt": "a"}), Job(2, "line-2", {"prompt": "b"})] == list(
        read_jobs(path, {})
    )


def test_a_line_too_long_is_a_bad_line_read_past(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line over the limit is one BadLine; the lines after it are read as usual."""
    monkeypatch.setattr(_lines, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "jobs.jsonl"
    path.write_bytes(b'{"prompt": "' + b"x" * 5000 + b'"}\n{"prompt": "b"}\n')

    first, second = read_jobs(path, {})

    assert isinstance(first, BadLine)
    assert "longer than 1000 bytes" in first.message
    assert Job(2, "line-2", {"prompt": "b"}) == second
    assert 2 == _lines.count_jobs(path)


class TestDatasetDir:
    def _rows(self, key: str) -> list[dict[str, Any]]:
        return metadata_rows(
            key, 1, {"prompt": "p", "model": "m"}, [(f"images/{key}.png", 1, "png")], 0.5
        )

    def test_torn_line_and_orphans_are_repaired(self, tmp_path: Path) -> None:
        """After a crash: a torn last line is cut; the images it journaled but never recorded
        and its temporary files go; nothing else."""
        dataset = DatasetDir(tmp_path)
        dataset.open()
        dataset.add("a", self._rows("a"))
        dataset.note_written(tmp_path / "images" / "b.png")
        dataset.close()
        (tmp_path / "images" / "a.png").write_bytes(b"png")
        (tmp_path / "images" / "b.png").write_bytes(b"in flight when killed")
        (tmp_path / "images" / ".friendli-images-0123456789ab.part").write_bytes(b"half")
        (tmp_path / ".friendli-images-ba9876543210.part").write_bytes(b"failures rewrite")
        with (tmp_path / METADATA).open("ab") as file:
            file.write(b'{"file_name": "images/b.png", "id": "b", "pro')

        again = DatasetDir(tmp_path)
        again.open()

        assert {"a"} == again.done
        assert ["a.png"] == sorted(p.name for p in (tmp_path / "images").iterdir())
        assert not (tmp_path / ".friendli-images-ba9876543210.part").exists()
        assert (tmp_path / METADATA).read_bytes().endswith(b"}\n")
        again.close()

    def test_a_last_line_that_parses_is_kept(self, tmp_path: Path) -> None:
        """A complete last line without its newline (an editor dropped it) is not torn: its
        job stays done and its image stays (it would be billed again otherwise)."""
        dataset = DatasetDir(tmp_path)
        dataset.open()
        dataset.add("a", self._rows("a"))
        dataset.close()
        (tmp_path / "images" / "a.png").write_bytes(b"png")
        metadata = tmp_path / METADATA
        metadata.write_bytes(metadata.read_bytes().rstrip(b"\n"))

        again = DatasetDir(tmp_path)
        again.open()
        again.add("b", self._rows("b"))
        again.close()

        assert {"a"} == again.done
        assert (tmp_path / "images" / "a.png").exists()
        assert ["a", "b"] == [json.loads(line)["id"] for line in metadata.read_text().splitlines()]

    @pytest.mark.parametrize(
        "layout",
        [
            pytest.param({"images/holiday.jpg": b"jpeg"}, id="photos-in-images"),
            pytest.param({"metadata.jsonl": b'{"id": "x"}\n'}, id="someone-elses-metadata"),
            pytest.param({"failures.jsonl": b"notes\n"}, id="someone-elses-failures"),
            pytest.param({"images": b"a file named images"}, id="images-is-a-file"),
        ],
    )
    def test_a_directory_it_did_not_make_is_refused(
        self, tmp_path: Path, layout: dict[str, bytes]
    ) -> None:
        """Without the marker, a directory holding the dataset's names is refused: nothing
        is created, changed or removed there."""
        for name, data in layout.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_bytes(data)
        before = _tree(tmp_path)

        with pytest.raises(NotADatasetError, match="not a friendli-images dataset"):
            DatasetDir(tmp_path).open()

        assert before == _tree(tmp_path)

    def test_a_file_it_never_wrote_in_its_own_images_is_refused(self, tmp_path: Path) -> None:
        """In a dataset of its own, an unrecorded file the journal does not list is kept and
        the run refused (it is someone's, not a crash's)."""
        _open_and_close(tmp_path)
        (tmp_path / "images" / "holiday.jpg").write_bytes(b"jpeg")

        with pytest.raises(NotADatasetError, match=r"holiday\.jpg"):
            DatasetDir(tmp_path).open()

        assert b"jpeg" == (tmp_path / "images" / "holiday.jpg").read_bytes()

    def test_other_files_beside_the_dataset_are_left_alone(self, tmp_path: Path) -> None:
        """``--out .`` in a folder of photos: the dataset goes beside them, untouched."""
        (tmp_path / "holiday.jpg").write_bytes(b"jpeg")
        (tmp_path / "prompts.jsonl").write_bytes(b'{"prompt": "x"}\n')
        _open_and_close(tmp_path)
        _open_and_close(tmp_path)

        assert b"jpeg" == (tmp_path / "holiday.jpg").read_bytes()
        assert (tmp_path / MARKER).is_file()

    def test_a_directory_of_an_earlier_version_is_adopted(self, tmp_path: Path) -> None:
        """A dataset written before the marker existed (it has the run's lock file) resumes."""
        (tmp_path / "images").mkdir()
        (tmp_path / "images" / "a.png").write_bytes(b"png")
        (tmp_path / ".friendli-images.lock").write_bytes(b"")
        (tmp_path / METADATA).write_bytes(_encode_rows(self._rows("a")))

        dataset = DatasetDir(tmp_path)
        dataset.open()
        dataset.close()

        assert {"a"} == dataset.done
        assert (tmp_path / MARKER).is_file()

    def test_one_writer_at_a_time(self, tmp_path: Path) -> None:
        """A second run on the same directory is refused while the first holds it."""
        first = DatasetDir(tmp_path)
        first.open()
        try:
            with pytest.raises(DatasetBusyError):
                DatasetDir(tmp_path).open()
        finally:
            first.close()

    def test_metadata_columns_are_stable(self) -> None:
        """Every row has every request column; numbers that may be floats are floats."""
        (row,) = metadata_rows(
            "k",
            2,
            {"prompt": "p", "model": "m", "guidance_scale": 7},
            [("images/k.png", 9, "png")],
            1.23456,
        )

        assert {
            "file_name": "images/k.png",
            "id": "k",
            "line": 2,
            "model": "m",
            "prompt": "p",
            "num_inference_steps": None,
            "guidance_scale": 7.0,
            "seed": 9,
            "response_format": "png",
            "control_images": None,
            "controlnet_weights": None,
            "seconds": 1.235,
        } == row


def _tree(root: Path) -> dict[str, bytes | None]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def _encode_rows(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(row).encode() + b"\n" for row in rows)


def _open_and_close(root: Path) -> DatasetDir:
    dataset = DatasetDir(root)
    dataset.open()
    dataset.close()
    return dataset


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"prompt": "a", "sed": 7}', "unknown field 'sed'; did you mean 'seed'?"),
        ('{"prompt": "a", "num_inference_step": 7}', "did you mean 'num_inference_steps'?"),
        ('{"prompt": "a", "zzz": 1}', "unknown field 'zzz' (a job's fields: id, prompt"),
    ],
)
def test_a_misspelled_field_names_the_nearest_one(line: str, message: str) -> None:
    """A key no request takes is a bad line that says which known key was likely meant."""
    item = parse_line(line.encode(), 3, {})

    assert isinstance(item, BadLine)
    assert message in item.message
