"""A jobs file of any length costs memory O(1) in what the runner remembers of it.

Repeated ids are found with ``SeenKeys`` (digests, not strings) and confirmed by reading
the file again; ``check_jobs(on_problem=)`` and ``run --check`` stream their problems.
The memory figures themselves are measured in ``bench/jobs_memory.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from friendli_images import FriendliImages, check_jobs
from friendli_images._jobs import _keys
from friendli_images._jobs._keys import SeenKeys
from friendli_images._jobs._lines import BadLine, Job, read_jobs


class TestSeenKeys:
    @pytest.mark.parametrize("recent", [1, 2, 3, 1000])
    def test_new_and_seen_across_merges(self, monkeypatch: pytest.MonkeyPatch, recent: int) -> None:
        monkeypatch.setattr(_keys, "RECENT_KEYS", recent)
        keys = SeenKeys()
        added = [keys.add(f"k{i}") for i in range(10)]
        again = [keys.add(f"k{i}") for i in range(10)]
        assert ([True] * 10, [False] * 10) == (added, again)
        assert 10 == len(keys)
        assert keys.add("k10")

    def test_a_digest_collision_is_not_a_duplicate(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """Every key with the same digest: read_jobs reads the file again to confirm, so
        distinct ids stay jobs and a real repeat is still named with its first line."""
        monkeypatch.setattr(_keys, "digest", lambda key: 7)
        path = tmp_path / "jobs.jsonl"
        lines = [{"id": "a", "prompt": "p"}, {"prompt": "q"}, {"id": "b", "prompt": "r"}]
        lines += [{"id": "a", "prompt": "s"}]
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))

        items = list(read_jobs(path, {}))

        assert [Job, Job, Job, BadLine] == [type(item) for item in items]
        bad = items[3]
        assert isinstance(bad, BadLine)
        assert "id 'a' was already used on line 1" == bad.message

    def test_a_repeat_in_another_shard_is_not_seen(self, tmp_path: Path) -> None:
        from friendli_images._jobs._lines import Shard

        path = tmp_path / "jobs.jsonl"
        path.write_text('{"id": "a", "prompt": "p"}\n{"id": "a", "prompt": "q"}\n')
        assert [Job] == [type(item) for item in read_jobs(path, {}, Shard(1, 2))]
        assert [Job, BadLine] == [type(item) for item in read_jobs(path, {})]


class TestProblemsStream:
    def test_on_problem_takes_every_row_and_none_is_kept(self, tmp_path: Path) -> None:
        path = tmp_path / "jobs.jsonl"
        path.write_text('{"prompt": ""}\n' * 500 + "not json\n" * 500 + '{"prompt": "ok"}\n')
        seen: list[dict[str, object]] = []
        with FriendliImages(token="check-only") as client:
            valid, kept = check_jobs(
                path, client=client, defaults={"model": "m"}, on_problem=seen.append
            )
        assert (1, [], 1000) == (valid, kept, len(seen))
        assert list(range(1, 1001)) == [row["line"] for row in seen]

    def test_on_problem_must_be_callable(self, tmp_path: Path) -> None:
        from friendli_images import InvalidRequestError

        path = tmp_path / "jobs.jsonl"
        path.write_text('{"prompt": "ok"}\n')
        with FriendliImages(token="check-only") as client:
            with pytest.raises(InvalidRequestError, match="on_problem"):
                check_jobs(path, client=client, on_problem="print")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("body", "valid", "problems", "summary"),
        [
            ('{"prompt": "a"}\n', 1, 0, "check: 1 valid job, 0 problems"),
            ('{"prompt": "a"}\n{"prompt": ""}\n', 1, 1, "check: 1 valid job, 1 problem"),
            (
                '{"prompt": ""}\nx\n{"prompt": "a"}\n{"prompt": "b"}\n',
                2,
                2,
                "check: 2 valid jobs, 2 problems",
            ),
        ],
    )
    def test_cli_check_json_is_one_document(
        self, tmp_path: Path, body: str, valid: int, problems: int, summary: str
    ) -> None:
        path = tmp_path / "jobs.jsonl"
        path.write_text(body)
        out = tmp_path / "o"
        command = [sys.executable, "-m", "friendli_images", "run", str(path), "--out", str(out)]
        result = subprocess.run(
            [*command, "--model", "m", "--check", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        document = json.loads(result.stdout)
        assert (valid, problems) == (document["valid"], len(document["problems"]))
        assert {"id", "line", "error", "status", "message"} <= set(
            *(row.keys() for row in document["problems"][:1])
        ) or not problems
        assert summary == result.stderr.splitlines()[-1]
        assert (1 if problems else 0) == result.returncode
        assert not (tmp_path / "o").exists()
