"""File ownership: the library removes or replaces only what it wrote; it keeps what it pays for."""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from friendli_images import FileWriteError, FriendliImages, OutputExistsError
from friendli_images._files import is_leftover, remove_leftovers, rewrite_owned
from friendli_images._jobs._runner import SAVE_FAILURES_TO_STOP, JobsSummary, run_jobs
from friendli_images.testing import FriendliTestServer


def _tree(root: Path) -> dict[str, bytes | None]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def _jobs(path: Path, count: int) -> Path:
    path.write_text(
        "".join(json.dumps({"id": f"j{i}", "prompt": f"p{i}"}) + "\n" for i in range(count))
    )
    return path


_RUN = (sys.executable, "-m", "friendli_images", "run")
_PNG_AT_2 = ("--format", "png", "--concurrency", "2")


def _env(server: FriendliTestServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
    return {**env, "FRIENDLI_TOKEN": server.token, "FRIENDLI_BASE_URL": server.base_url}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(".friendli-images-0123456789ab.part", True, id="temp-file"),
        pytest.param(".friendli-images-0123456789ab.old", True, id="backup"),
        pytest.param(".friendli-images-0123456789ab.probe", True, id="probe"),
        pytest.param(".friendli-images-0123.part", False, id="short-hex"),
        pytest.param(".friendli-images-0123456789AB.part", False, id="upper-hex"),
        pytest.param("friendli-images-0123456789ab.part", False, id="not-hidden"),
        pytest.param(".friendli-images-0123456789ab.part.jpg", False, id="suffix"),
        pytest.param("holiday.jpg", False, id="a-photo"),
        pytest.param(".failures.jsonl.1a2b3c4d.part", False, id="someone-elses-part"),
    ],
)
def test_is_leftover(name: str, expected: bool) -> None:
    assert expected == is_leftover(name)


def test_remove_leftovers_removes_only_its_own(tmp_path: Path) -> None:
    (tmp_path / ".friendli-images-0123456789ab.part").write_bytes(b"ours")
    (tmp_path / "holiday.jpg").write_bytes(b"yours")
    (tmp_path / ".friendli-images-ba9876543210.part").mkdir()  # a directory: not a temp file

    assert [".friendli-images-0123456789ab.part"] == remove_leftovers(tmp_path)
    assert ["holiday.jpg", ".friendli-images-ba9876543210.part"] == sorted(
        (p.name for p in tmp_path.iterdir()), reverse=True
    )


def test_write_atomic_leaves_nothing_on_failure(tmp_path: Path) -> None:
    """Into a directory that is a file: a typed error, nothing left behind."""
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(FileWriteError) as caught:
        rewrite_owned(tmp_path / "f" / "failures.jsonl", b"data")

    assert caught.value.errno in (errno.ENOTDIR, errno.EEXIST)  # mkdir over the file
    assert isinstance(caught.value, OSError)
    assert ["f"] == [p.name for p in tmp_path.iterdir()]


class TestSave:
    def test_overwrite_never_replaces_a_directory(
        self, client: FriendliImages, tmp_path: Path
    ) -> None:
        """save(overwrite=True) where a planned name is a directory: a typed error, nothing
        changed, no hidden ``.old`` directory left beside it (it used to be moved aside)."""
        result = client.generate("x", model="ep", n=2, response_format="png")
        (tmp_path / "image-1.png").mkdir()
        before = _tree(tmp_path)

        with pytest.raises(OutputExistsError, match="is a directory"):
            result.save(tmp_path, overwrite=True)

        assert before == _tree(tmp_path)

    @pytest.mark.parametrize("where", ["file-as-parent", "file-as-grandparent"])
    def test_an_os_error_is_typed(self, client: FriendliImages, tmp_path: Path, where: str) -> None:
        """A failed mkdir or write is a FileWriteError (an OSError too), never a raw OSError."""
        result = client.generate("x", model="ep", response_format="png")
        (tmp_path / "plain").write_bytes(b"x")
        target = tmp_path / "plain" / ("a.png" if where == "file-as-parent" else "sub/a.png")

        with pytest.raises(FileWriteError) as single:
            result.images[0].save(target)
        with pytest.raises(FileWriteError) as batch:
            result.save(target.parent)

        assert single.value.errno in (errno.ENOTDIR, errno.EEXIST)
        assert batch.value.errno in (errno.ENOTDIR, errno.EEXIST)
        assert ["plain"] == [p.name for p in tmp_path.iterdir()]


class TestRunOwnership:
    def test_photos_in_images_are_refused_before_sending(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """``run --out .`` where ``./images/`` holds someone's photos: refused, nothing sent,
        nothing deleted (they used to be deleted, exit 0)."""
        (tmp_path / "images").mkdir()
        (tmp_path / "images" / "holiday.jpg").write_bytes(b"jpeg")
        jobs = _jobs(tmp_path / "jobs.jsonl", 2)
        before = _tree(tmp_path)

        result = subprocess.run(
            [*_RUN, str(jobs), "--out", str(tmp_path), "--model", "ep"],
            env=_env(friendli_server),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        assert 0 != result.returncode
        assert "not a friendli-images dataset" in result.stderr
        assert "Traceback" not in result.stderr
        assert [] == friendli_server.generation_requests
        assert before == _tree(tmp_path)

    def test_a_full_disk_stops_the_run(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """Saves that keep failing (here EFBIG: a file size limit below one image) stop the
        sending after a few jobs instead of billing every job for nothing."""
        jobs = _jobs(tmp_path / "jobs.jsonl", 40)
        out = tmp_path / "out"

        def limit_file_size() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (8000, 8000))  # an image is 12 kB

        result = subprocess.run(
            [*_RUN, str(jobs), "--out", str(out), "--model", "ep", *_PNG_AT_2],
            env=_env(friendli_server),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            preexec_fn=limit_file_size,
        )

        assert 0 != result.returncode
        assert "stopped sending" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert len(friendli_server.generation_requests) <= SAVE_FAILURES_TO_STOP + 2
        assert [] == [p for p in (out / "images").iterdir()]

    def test_nothing_is_written_after_run_jobs_returned(
        self, friendli_server: FriendliTestServer, client: FriendliImages, tmp_path: Path
    ) -> None:
        """A sync run stopped early (here by on_progress) writes nothing into ``out`` once it
        has returned, and a rerun right away finds every finished job done, none failed."""
        friendli_server.latency = 0.3
        jobs = _jobs(tmp_path / "jobs.jsonl", 8)
        out = tmp_path / "out"
        reports: list[JobsSummary] = []

        def stop_after_first(summary: JobsSummary) -> None:
            reports.append(summary)
            if summary.done:
                raise RuntimeError("enough")

        with pytest.raises(RuntimeError, match="enough"):
            run_jobs(
                jobs,
                out,
                client=client,
                defaults={"model": "ep", "response_format": "png"},
                concurrency=4,
                on_progress=stop_after_first,
            )
        after_return = _tree(out)
        time.sleep(0.8)  # longer than the requests that were in flight

        assert after_return == _tree(out)
        rerun = run_jobs(
            jobs, out, client=client, defaults={"model": "ep", "response_format": "png"}
        )
        assert (0, 8) == (rerun.failed, rerun.done + rerun.skipped)


def _rows(out: Path, name: str) -> list[dict[str, Any]]:
    path = out / name
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
