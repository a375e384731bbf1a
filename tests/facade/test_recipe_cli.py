"""The recipe on the command line, end to end: a subprocess against the loopback test server.

``info`` (human and ``--json``), ``generate``/``edit --from`` (the same request body, as
the server recorded it), ``generate --skip-existing`` (a truncated image is generated
again, complete ones are kept) and ``run --embed-params`` (``info`` agrees with
``metadata.jsonl``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from friendli_images.testing import FriendliTestServer

INFO_FIELDS = (
    "prompt",
    "model",
    "seed",
    "num_inference_steps",
    "guidance_scale",
    "response_format",
)


@pytest.fixture
def server() -> Iterator[FriendliTestServer]:
    with FriendliTestServer(token="recipe-cli-token") as running:
        yield running
        assert [] == running.errors


def env_for(server: FriendliTestServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
    return {**env, "FRIENDLI_TOKEN": server.token, "FRIENDLI_BASE_URL": server.base_url}


def cli(*args: str | Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "friendli_images", *map(str, args)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def bodies(server: FriendliTestServer) -> list[dict[str, Any]]:
    return [json.loads(request.body) for request in server.generation_requests]


def info_json(*paths: Path, env: Mapping[str, str]) -> list[dict[str, Any]]:
    result = cli("info", "--json", *paths, env=env)
    assert 0 == result.returncode, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


REQUEST = ("--seed", "7", "--steps", "12", "--guidance", "3.5")


class TestInfo:
    @pytest.mark.parametrize(("fmt", "suffix"), [("png", ".png"), ("jpeg", ".jpg")])
    def test_human_and_json(
        self, server: FriendliTestServer, tmp_path: Path, fmt: str, suffix: str
    ) -> None:
        env = env_for(server)
        made = cli(
            "generate",
            "a red kite",
            "--model",
            "ep-1",
            *REQUEST,
            "--format",
            fmt,
            "--out",
            tmp_path,
            "--embed-params",
            env=env,
        )
        assert 0 == made.returncode, made.stderr
        path = tmp_path / f"image{suffix}"
        assert [str(path)] == made.stdout.splitlines()

        human = cli("info", path, env=env)
        assert 0 == human.returncode, human.stderr
        lines = human.stdout.splitlines()
        assert f"{path}:" == lines[0]
        for expected in (
            "  prompt: a red kite",
            "  model: ep-1",
            "  seed: 7",
            "  steps: 12",
            "  guidance: 3.5",
            f"  format: {fmt}",
            "  operation: generate",
        ):
            assert expected in lines

        [document] = info_json(path, env=env)
        assert {
            "prompt": "a red kite",
            "model": "ep-1",
            "seed": 7,
            "num_inference_steps": 12,
            "guidance_scale": 3.5,
            "response_format": fmt,
        } == {name: document[name] for name in INFO_FIELDS}
        assert str(path) == document["path"]
        assert server.token not in human.stdout + json.dumps(document)

    def test_a_file_without_recipe(self, server: FriendliTestServer, tmp_path: Path) -> None:
        env = env_for(server)
        made = cli("generate", "p", "--model", "ep", "--format", "png", "--out", tmp_path, env=env)
        assert 0 == made.returncode, made.stderr
        plain = tmp_path / "image.png"
        result = cli("info", "--json", plain, env=env)
        assert 1 == result.returncode
        assert [{"path": str(plain), "recipe": None}] == [
            json.loads(line) for line in result.stdout.splitlines()
        ]
        assert "no recipe" in result.stderr
        missing = cli("info", tmp_path / "nope.png", env=env)
        assert 1 == missing.returncode
        assert "error:" in missing.stderr


class TestFrom:
    def test_generate_from_sends_the_same_body(
        self, server: FriendliTestServer, tmp_path: Path
    ) -> None:
        env = env_for(server)
        first = cli(
            "generate",
            "a lighthouse: dawn",
            "--model",
            "ep-2:adapter",
            *REQUEST,
            "--format",
            "png",
            "--out",
            tmp_path / "a",
            "--embed-params",
            env=env,
        )
        assert 0 == first.returncode, first.stderr
        again = cli(
            "generate", "--from", tmp_path / "a" / "image.png", "--out", tmp_path / "b", env=env
        )
        assert 0 == again.returncode, again.stderr
        sent = bodies(server)
        assert 2 == len(sent)
        assert sent[0] == sent[1]
        assert (tmp_path / "a" / "image.png").read_bytes() != b""

        # flags override the recipe, the rest stays
        override = cli(
            "generate",
            "--from",
            tmp_path / "a" / "image.png",
            "--seed",
            "99",
            "--out",
            tmp_path / "c",
            env=env,
        )
        assert 0 == override.returncode, override.stderr
        assert {**sent[0], "seed": 99} == bodies(server)[2]

    def test_edit_from_asks_for_its_input_by_sha256(
        self, server: FriendliTestServer, tmp_path: Path
    ) -> None:
        env = env_for(server)
        made = cli(
            "generate",
            "source",
            "--model",
            "ep",
            "--format",
            "png",
            "--out",
            tmp_path / "src",
            env=env,
        )
        assert 0 == made.returncode, made.stderr
        source = tmp_path / "src" / "image.png"
        edited = cli(
            "edit",
            source,
            "make it blue",
            "--model",
            "ep",
            "--seed",
            "3",
            "--format",
            "png",
            "--out",
            tmp_path / "edited",
            "--embed-params",
            env=env,
        )
        assert 0 == edited.returncode, edited.stderr
        recipe_file = tmp_path / "edited" / "image.png"

        copy = tmp_path / "renamed.png"  # the same bytes under another name still match
        copy.write_bytes(source.read_bytes())
        again = cli("edit", "--from", recipe_file, copy, "--out", tmp_path / "again", env=env)
        assert 0 == again.returncode, again.stderr
        sent = bodies(server)
        assert 3 == len(sent)
        assert sent[1] == sent[2]

        other = tmp_path / "other.png"
        other.write_bytes(recipe_file.read_bytes())  # a different image
        refused = cli("edit", "--from", recipe_file, other, "--out", tmp_path / "x", env=env)
        assert 2 == refused.returncode
        assert "IMAGE" in refused.stderr
        assert 3 == len(server.generation_requests)  # refused before sending

    def test_from_a_file_without_recipe_is_a_usage_error(
        self, server: FriendliTestServer, tmp_path: Path
    ) -> None:
        env = env_for(server)
        plain = tmp_path / "plain.png"
        made = cli(
            "generate",
            "p",
            "--model",
            "ep",
            "--format",
            "png",
            "--stem",
            "plain",
            "--out",
            tmp_path,
            env=env,
        )
        assert 0 == made.returncode, made.stderr
        result = cli("generate", "--from", plain, "--out", tmp_path / "o", env=env)
        assert 2 == result.returncode
        assert "carries no recipe" in result.stderr
        assert 1 == len(server.generation_requests)


class TestSkipExisting:
    def test_keeps_complete_images_and_regenerates_the_rest(
        self, server: FriendliTestServer, tmp_path: Path
    ) -> None:
        env = env_for(server)
        out = tmp_path / "out"
        args = (
            "generate",
            "a batch",
            "--model",
            "ep",
            "-n",
            "4",
            "--seed",
            "10",
            "--format",
            "png",
            "--out",
            out,
        )
        first = cli(*args, env=env)
        assert 0 == first.returncode, first.stderr
        paths = [out / f"image-{i}.png" for i in range(4)]
        kept = {i: paths[i].read_bytes() for i in (0, 3)}
        whole = paths[1].read_bytes()
        paths[1].write_bytes(whole[: len(whole) // 2])  # cut short, as by a crash
        paths[2].unlink()  # never written (Ctrl-C)
        stamp = {i: paths[i].stat().st_mtime_ns for i in (0, 3)}

        refused = cli(*args, env=env)  # without the flag: refused, nothing sent
        assert 1 == refused.returncode
        assert "already exists" in refused.stderr
        assert 4 == len(server.generation_requests)

        resumed = cli(*args, "--skip-existing", env=env)
        assert 0 == resumed.returncode, resumed.stderr
        assert "image-1.png is incomplete" in resumed.stderr
        assert "kept 2 complete image(s)" in resumed.stderr
        assert [str(paths[1]), str(paths[2])] == resumed.stdout.splitlines()
        assert [11, 12] == sorted(body["seed"] for body in bodies(server)[4:])
        for i in (0, 3):
            assert kept[i] == paths[i].read_bytes()
            assert stamp[i] == paths[i].stat().st_mtime_ns
        assert paths[1].read_bytes() == whole  # seed 11 again: the same picture, complete
        assert paths[2].read_bytes().startswith(b"\x89PNG")

        nothing = cli(*args, "--skip-existing", env=env)
        assert 0 == nothing.returncode, nothing.stderr
        assert "" == nothing.stdout
        assert 6 == len(server.generation_requests)

    def test_not_with_overwrite(self, server: FriendliTestServer, tmp_path: Path) -> None:
        result = cli(
            "generate",
            "p",
            "--model",
            "ep",
            "--out",
            tmp_path,
            "--skip-existing",
            "--overwrite",
            env=env_for(server),
        )
        assert 2 == result.returncode
        assert "--skip-existing" in result.stderr
        assert [] == server.generation_requests


def test_run_embed_params_agrees_with_metadata(server: FriendliTestServer, tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    lines = [
        {
            "id": "a",
            "prompt": "first",
            "seed": 1,
            "num_inference_steps": 5,
            "response_format": "png",
        },
        {
            "id": "b",
            "prompt": "second ☃",
            "seed": 2,
            "guidance_scale": 4.0,
            "response_format": "jpeg",
        },
        {"id": "c", "prompt": "third", "seed": 3, "model": "ep-other", "response_format": "png"},
    ]
    jobs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out"
    env = env_for(server)
    result = cli("run", jobs, "--out", out, "--model", "ep", "--embed-params", env=env)
    assert 0 == result.returncode, result.stderr
    rows = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert 3 == len(rows)
    documents = info_json(*(out / row["file_name"] for row in rows), env=env)
    for row, document in zip(rows, documents, strict=True):
        assert {name: row[name] for name in INFO_FIELDS} == {
            name: document[name] for name in INFO_FIELDS
        }
    assert server.token not in json.dumps(documents)

    plain = tmp_path / "plain"  # without the flag the files carry nothing
    assert 0 == cli("run", jobs, "--out", plain, "--model", "ep", env=env).returncode
    first = json.loads((plain / "metadata.jsonl").read_text().splitlines()[0])
    assert 1 == cli("info", plain / first["file_name"], env=env).returncode
