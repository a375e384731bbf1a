"""Bulk jobs, from the library and from `friendli-images run`: dataset, resume, shards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from friendli_images import AsyncFriendliImages, FriendliImages
from friendli_images._jobs._runner import JobsSummary, arun_jobs, check_jobs, run_jobs
from friendli_images.testing import ErrorStatus, FriendliTestServer


def write_jobs(path: Path, count: int, extra: str = "") -> Path:
    lines = [
        json.dumps({"id": f"job-{i}", "prompt": f"prompt {i}", "seed": i}) for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def metadata(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]


def failures(out: Path) -> list[dict[str, Any]]:
    path = out / "failures.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def assert_consistent(out: Path, ids: set[str]) -> None:
    """Each job once in metadata; each row's image exists; no other file; no temporary file."""
    rows = metadata(out)
    assert sorted(ids) == sorted(row["id"] for row in rows)
    named = {row["file_name"] for row in rows}
    on_disk = {f"images/{p.name}" for p in (out / "images").iterdir()}
    assert named == on_disk
    assert all(name.endswith(".png") for name in named)


class TestRunJobs:
    def test_dataset_layout(self, client: FriendliImages, tmp_path: Path) -> None:
        """Images under DIR/images, one metadata line each: file name, request, seed, timing."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", 5)

        summary = run_jobs(
            jobs,
            tmp_path / "out",
            client=client,
            defaults={"model": "ep", "response_format": "png"},
        )

        assert (5, 5, 0, 0, 5) == (
            summary.total,
            summary.done,
            summary.failed,
            summary.skipped,
            summary.images,
        )
        assert_consistent(tmp_path / "out", {f"job-{i}" for i in range(5)})
        row = next(row for row in metadata(tmp_path / "out") if row["id"] == "job-3")
        assert ("images/job-3.png", "prompt 3", 3, "ep", 4) == (
            row["file_name"],
            row["prompt"],
            row["seed"],
            row["model"],
            row["line"],
        )
        assert row["seconds"] >= 0

    def test_bad_lines_recorded_never_stop_the_run(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """Invalid lines and failed requests go to failures.jsonl; the others are done."""
        jobs = write_jobs(
            tmp_path / "jobs.jsonl", 3, 'oops\n{"prompt": "p", "num_inference_steps": 99}\n'
        )
        friendli_server.inject(ErrorStatus(400, message="nope"))

        summary = run_jobs(
            jobs, tmp_path / "out", client=client, defaults={"model": "ep"}, concurrency=1
        )

        assert (2, 3) == (summary.done, summary.failed)
        rows = {row["line"]: row for row in failures(tmp_path / "out")}
        assert ("InvalidJobLine", None) == (rows[4]["error"], rows[4]["status"])
        assert "InvalidRequestError" == rows[5]["error"]
        (api_failure,) = [row for line, row in rows.items() if line <= 3]
        assert ("BadRequestError", 400) == (api_failure["error"], api_failure["status"])
        assert "nope" in api_failure["message"]
        assert 3 == len(friendli_server.generation_requests)

    def test_rerun_skips_done_and_retries_failed_on_request(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """A rerun sends nothing for done jobs; --retry-failed runs only the failed ones."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", 4)
        out = tmp_path / "out"
        defaults = {"model": "ep", "response_format": "png"}
        friendli_server.inject(ErrorStatus(400))
        run_jobs(jobs, out, client=client, defaults=defaults, concurrency=1)
        sent = len(friendli_server.generation_requests)

        again = run_jobs(jobs, out, client=client, defaults=defaults)
        retried = run_jobs(jobs, out, client=client, defaults=defaults, retry_failed=True)

        assert (0, 0, 3, 1) == (again.done, again.failed, again.skipped, again.failed_before)
        assert (1, 0, 3) == (retried.done, retried.failed, retried.skipped)
        assert sent + 1 == len(friendli_server.generation_requests)
        assert [] == failures(out)
        assert_consistent(out, {f"job-{i}" for i in range(4)})

    def test_shards_concatenate_into_the_whole(
        self, client: FriendliImages, tmp_path: Path
    ) -> None:
        """Two shards into two directories hold every job exactly once between them."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", 7)

        for k in range(2):
            run_jobs(
                jobs,
                tmp_path / f"out-{k}",
                client=client,
                defaults={"model": "ep", "response_format": "png"},
                shard=f"{k}/2",
            )

        ids = [[row["id"] for row in metadata(tmp_path / f"out-{k}")] for k in range(2)]
        assert {"job-0", "job-2", "job-4", "job-6"} == set(ids[0])
        assert {"job-1", "job-3", "job-5"} == set(ids[1])

    @pytest.mark.parametrize(
        ("response_format", "extension", "magic"),
        [
            pytest.param("url", ".png", b"\x89PNG", id="url-downloaded"),
            pytest.param("jpeg", ".jpg", b"\xff\xd8\xff", id="base64-jpeg"),
        ],
    )
    def test_images_are_saved_with_their_type(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        tmp_path: Path,
        response_format: str,
        extension: str,
        magic: bytes,
    ) -> None:
        """Each image gets the extension its bytes show; url results are downloaded to disk."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", 2)

        run_jobs(
            jobs,
            tmp_path / "out",
            client=client,
            defaults={"model": "ep", "response_format": response_format},
        )

        rows = metadata(tmp_path / "out")
        assert {f"images/job-0{extension}", f"images/job-1{extension}"} == {
            row["file_name"] for row in rows
        }
        assert all(
            (tmp_path / "out" / row["file_name"]).read_bytes().startswith(magic) for row in rows
        )
        assert (2 if response_format == "url" else 0) == len(friendli_server.image_requests)

    @pytest.mark.anyio
    async def test_async_run(self, aclient: AsyncFriendliImages, tmp_path: Path) -> None:
        """arun_jobs writes the same dataset, reporting progress as it goes."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", 4)
        seen: list[JobsSummary] = []

        summary = await arun_jobs(
            jobs,
            tmp_path / "out",
            client=aclient,
            defaults={"model": "ep", "response_format": "png"},
            on_progress=seen.append,
        )

        assert 4 == summary.done
        assert [0, 1, 2, 3, 4, 4] == [s.done for s in seen]
        assert_consistent(tmp_path / "out", {f"job-{i}" for i in range(4)})

    def test_check_sends_nothing(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """check_jobs validates every line (JSON and request) without a request."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", 2, '{"prompt": "x", "colour": 1}\n[]\n')

        valid, problems = check_jobs(jobs, client=client, defaults={"model": "ep"})

        assert 2 == valid
        assert [3, 4] == [problem["line"] for problem in problems]
        assert "colour" in problems[0]["message"]
        assert [] == friendli_server.generation_requests

    def test_loads_with_datasets(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The output directory loads with datasets.load_dataset("imagefolder")."""
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # loopback only: never ask the Hub
        monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
        datasets = pytest.importorskip("datasets")
        jobs = write_jobs(tmp_path / "jobs.jsonl", 3)
        out = tmp_path / "out"
        run_jobs(jobs, out, client=client, defaults={"model": "ep", "response_format": "png"})

        dataset = datasets.load_dataset(
            "imagefolder", data_dir=str(out), split="train", cache_dir=str(tmp_path / "cache")
        )

        assert 3 == len(dataset)
        assert ["job-0", "job-1", "job-2"] == sorted(dataset["id"])
        assert {"prompt 0", "prompt 1", "prompt 2"} == set(dataset["prompt"])
        assert friendli_server.image_size == dataset[0]["image"].size


# -- the command ---------------------------------------------------------------------------


def cli_env(friendli_server: FriendliTestServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
    return {
        **env,
        "FRIENDLI_TOKEN": friendli_server.token,
        "FRIENDLI_BASE_URL": friendli_server.base_url,
    }


def run_command(args: list[str | Path], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "friendli_images", "run", *map(str, args)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestRunCommand:
    def test_run_then_rerun(self, friendli_server: FriendliTestServer, tmp_path: Path) -> None:
        """The command writes the dataset, a summary line, and --json; a rerun skips all."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", 3)
        out = tmp_path / "out"
        args: list[str | Path] = [jobs, "--out", out, "--model", "ep", "--format", "png"]

        first = run_command([*args, "--json"], cli_env(friendli_server))
        second = run_command(args, cli_env(friendli_server))

        assert 0 == first.returncode, first.stderr
        summary = json.loads(first.stdout)
        assert (3, 3, 0, 0) == (
            summary["total"],
            summary["done"],
            summary["failed"],
            summary["skipped"],
        )
        assert "3 done, 0 failed" in first.stderr
        assert (0, "") == (second.returncode, second.stdout)
        assert "0 done, 0 failed, 3 skipped" in second.stderr
        assert 3 == len(friendli_server.generation_requests)

    def test_check_reports_lines_and_sends_nothing(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """--check names every bad line and exits 1, with no request and no output."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", 2, '{"prompt": ""}\n')

        result = run_command(
            [jobs, "--out", tmp_path / "out", "--model", "ep", "--check"], cli_env(friendli_server)
        )

        assert 1 == result.returncode
        assert "line 3" in result.stderr
        assert "2 valid jobs, 1 problem\n" in result.stderr
        assert [] == friendli_server.generation_requests
        assert not (tmp_path / "out").exists()

    def test_check_of_one_job_is_singular(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """--check counts in words that agree: "1 valid job, 0 problems"."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", 1)

        result = run_command(
            [jobs, "--out", tmp_path / "out", "--model", "ep", "--check"], cli_env(friendli_server)
        )

        assert 0 == result.returncode
        assert "check: 1 valid job, 0 problems\n" in result.stderr

    def test_a_misspelled_key_says_what_was_meant(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """A misspelled key ("sed") is a bad line saying "did you mean 'seed'?", in the
        library's run and in the command's --check alike; it is never sent."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", 1, '{"id": "x", "prompt": "a", "sed": 7}\n')

        summary = run_jobs(jobs, tmp_path / "out", client=client, defaults={"model": "ep"})
        result = run_command(
            [jobs, "--out", tmp_path / "out2", "--model", "ep", "--check"],
            cli_env(friendli_server),
        )

        hint = "unknown field 'sed'; did you mean 'seed'?"
        assert (1, 1) == (summary.done, summary.failed)
        assert [hint] == [row["message"] for row in failures(tmp_path / "out")]
        assert f"error: line 2 (x): {hint}" in result.stderr
        assert 1 == len(friendli_server.generation_requests)

    def test_bad_default_is_a_usage_error(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """A default no line can fix (--steps 0) is refused before anything is sent."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", 2)

        result = run_command(
            [jobs, "--out", tmp_path / "out", "--model", "ep", "--steps", "0"],
            cli_env(friendli_server),
        )

        assert 2 == result.returncode
        assert "--steps" in result.stderr
        assert [] == friendli_server.generation_requests

    def test_sigkill_then_rerun_gives_each_job_once(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """SIGKILL mid-run twice, rerun: every job once, nothing partial, few regenerated."""
        count, concurrency = 40, 4
        friendli_server.latency = 0.05
        jobs = write_jobs(tmp_path / "jobs.jsonl", count)
        out = tmp_path / "out"
        args = [
            sys.executable,
            "-m",
            "friendli_images",
            "run",
            str(jobs),
            "--out",
            str(out),
            "--model",
            "ep",
            "--format",
            "png",
            "--concurrency",
            str(concurrency),
        ]
        for kill_after in (5, 15):
            process = subprocess.Popen(
                args,
                env=cli_env(friendli_server),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    path = out / "metadata.jsonl"
                    if path.exists() and path.read_bytes().count(b"\n") >= kill_after:
                        break
                    time.sleep(0.005)
                process.send_signal(signal.SIGKILL)
            finally:
                process.wait(10)

        final = run_command(
            [jobs, "--out", out, "--model", "ep", "--format", "png"], cli_env(friendli_server)
        )

        assert 0 == final.returncode, final.stderr
        assert_consistent(out, {f"job-{i}" for i in range(count)})
        assert len(friendli_server.generation_requests) <= count + 2 * concurrency

    def test_ctrl_c_leaves_a_resumable_dataset(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """SIGINT mid-run exits 130 with a summary; nothing partial; the rerun completes it."""
        friendli_server.latency = 0.05
        jobs = write_jobs(tmp_path / "jobs.jsonl", 30)
        out = tmp_path / "out"
        args: list[str | Path] = [
            jobs,
            "--out",
            out,
            "--model",
            "ep",
            "--format",
            "png",
            "--concurrency",
            "4",
        ]
        process = subprocess.Popen(
            [sys.executable, "-m", "friendli_images", "run", *map(str, args)],
            env=cli_env(friendli_server),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            path = out / "metadata.jsonl"
            if path.exists() and path.read_bytes().count(b"\n") >= 5:
                break
            time.sleep(0.005)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)

        assert 130 == process.returncode, stderr
        assert "interrupted:" in stderr
        assert [] == [p.name for p in out.rglob("*.part")]
        final = run_command(args, cli_env(friendli_server))
        assert 0 == final.returncode, final.stderr
        assert_consistent(out, {f"job-{i}" for i in range(30)})
