"""scripts/sync_pr.py: the sync pull request's lifecycle, replayed over simulated days.

Nothing here reaches GitHub: ``gh`` is a fake on PATH (a Python script answering the REST
calls the script makes from a JSON state file), origin is a bare repository in tmp_path
whose pre-receive hook refuses what GitHub refuses the workflow's token (updating a bot
branch across a change of ``.github/workflows/``), and update_spec.py and the test suite
are small stand-ins (update_spec.py has its own tests; here only its exit status, its
reports and the files it writes matter).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sync_pr
import update_spec

REPO = "owner/client"
UPSTREAM = "friendliai/friendli-openapi"
BRANCH = "bot/sync-openapi"
MAIN_DIGEST = hashlib.sha256(b"api v0\n").hexdigest()

FAKE_GH = """\
import json, os, subprocess, sys, urllib.parse

STATE = os.environ["FAKE_GH_STATE"]
with open(STATE, encoding="utf-8") as handle:
    state = json.load(handle)
args = sys.argv[1:]
assert args[0] == "api", args
method, path, data, i = "GET", None, None, 1
while i < len(args):
    if args[i] == "--method":
        method, i = args[i + 1], i + 2
    elif args[i] == "--input":
        assert args[i + 1] == "-"
        data, i = json.load(sys.stdin), i + 2
    else:
        path, i = args[i], i + 1
state["calls"].append([method, path, data])


def save():
    with open(STATE, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1)


def answer(value):
    save()
    print(json.dumps(value))
    sys.exit(0)


def fail(status, message):
    save()
    print(f"gh: {message} (HTTP {status})", file=sys.stderr)
    sys.exit(1)


def branch_exists(name):
    found = subprocess.run(
        ["git", "--git-dir", os.environ["FAKE_GH_ORIGIN"], "rev-parse", "--verify",
         "--quiet", f"refs/heads/{name}"], capture_output=True)
    return found.returncode == 0


url = urllib.parse.urlsplit(path)
query = dict(urllib.parse.parse_qsl(url.query))
parts = url.path.split("/")
assert parts[0] == "repos", parts
repo, rest = "/".join(parts[1:3]), parts[3:]
items = state["items"]
if repo == state["upstream_repo"]:
    if rest[0] == "commits" and state["upstream_sha"]:
        answer({"sha": state["upstream_sha"]})
    fail(502, "upstream unavailable")
assert repo == state["repo"], repo
if rest == ["labels"] and method == "POST":
    if data["name"] in state["labels"]:
        fail(422, "label exists")
    state["labels"].append(data["name"])
    answer(data)
if rest == ["pulls"] and method == "GET":
    branch = query["head"].split(":", 1)[1]
    found = [
        item for item in items.values()
        if item["kind"] == "pull" and item["head"]["ref"] == branch
        and query["state"] in ("all", item["state"])
    ]
    answer(sorted(found, key=lambda item: -item["number"]))
if rest == ["issues"] and method == "GET":
    found = [
        item for item in items.values()
        if query["labels"] in item["labels"] and query["state"] in ("all", item["state"])
    ]
    answer([{**item, "pull_request": {}} if item["kind"] == "pull" else item for item in found])
if rest in (["pulls"], ["issues"]) and method == "POST":
    if rest == ["pulls"]:
        if not branch_exists(data["head"]):
            fail(422, "head branch does not exist")
        if any(item["kind"] == "pull" and item["state"] == "open"
               and item["head"]["ref"] == data["head"] for item in items.values()):
            fail(422, "a pull request already exists")
    number = state["next"]
    state["next"] += 1
    item = {
        "number": number, "kind": rest[0][:-1] if rest == ["pulls"] else "issue",
        "title": data["title"], "body": data["body"], "state": "open",
        "labels": list(data.get("labels", [])), "comments": [], "merged_at": None,
    }
    if rest == ["pulls"]:
        item["kind"] = "pull"
        item["head"] = {"ref": data["head"]}
    items[str(number)] = item
    answer(item)
number = rest[1] if len(rest) > 1 else None
if number not in items:
    fail(404, "not found")
item = items[number]
if len(rest) == 2 and method == "PATCH":
    item.update({key: data[key] for key in ("title", "body", "state") if key in data})
    answer(item)
if rest[2:] == ["comments"] and method == "POST":
    item["comments"].append(data["body"])
    answer({"body": data["body"]})
if rest[2:] == ["labels"] and method == "POST":
    item["labels"] = sorted(set(item["labels"]) | set(data["labels"]))
    answer(item["labels"])
if rest[2] == "labels" and method == "DELETE":
    if rest[3] not in item["labels"]:
        fail(404, "label not on the issue")
    item["labels"].remove(rest[3])
    answer(item["labels"])
fail(400, f"the fake gh does not know {method} {path}")
"""

# update_spec.py's stand-in: the upstream "document" is one line; some lines fail on purpose.
FAKE_UPDATE = """\
import argparse, hashlib, json, pathlib, sys

parser = argparse.ArgumentParser()
parser.add_argument("--source")
parser.add_argument("--report-md", type=pathlib.Path)
parser.add_argument("--report-json", type=pathlib.Path)
args = parser.parse_args()
sha = args.source.split("/raw/", 1)[1].split("/", 1)[0]
text = (pathlib.Path(sys.argv[0]).parent / "upstream" / f"{sha}.yaml").read_text()
failures = {
    "invalid": "upstream is not valid YAML: mapping values are not allowed here",
    "missing": "tracked operation(s) missing upstream: dedicatedImagesGenerate",
    "regen": "regeneration failed: openapi-python-client failed",
}
for word, message in failures.items():
    if text.startswith(word):
        args.report_md.write_text(f"## Upstream OpenAPI sync failed\\n\\n{message}\\n")
        args.report_json.write_text(json.dumps({"verdict": None, "error": message}))
        print(f"error: {message}", file=sys.stderr)
        sys.exit(1)
old = pathlib.Path("openapi.yaml").read_text()
verdict, status = ("no change", 0) if old == text else (
    ("BREAKING", 12) if "breaking" in text else ("non-breaking", 11))
pathlib.Path("openapi.yaml").write_text(text)
digest = hashlib.sha256(text.encode()).hexdigest()
pathlib.Path("generated/package.txt").write_text(f"generated from {digest}\\n")
args.report_md.write_text(
    f"## Upstream OpenAPI changes: {verdict}\\n\\nsource {args.source}\\n\\nVerdict: {verdict}\\n"
)
args.report_json.write_text(json.dumps({"verdict": verdict, "related_upstream_operations": []}))
sys.exit(status)
"""

# The test suite's stand-in: fails on an upstream that "needs-fix" until main has the fix.
FAKE_TESTS = """\
import pathlib, sys
broken = "needs-fix" in pathlib.Path("openapi.yaml").read_text()
sys.exit(1 if broken and not pathlib.Path("tests-fixed.txt").exists() else 0)
"""

# What GitHub refuses the workflow's token: updating a branch across a workflow change.
PRE_RECEIVE = """\
#!/bin/sh
zero=0000000000000000000000000000000000000000
while read -r old new ref; do
  case "$ref" in refs/heads/bot/*) ;; *) continue ;; esac
  [ "$old" = "$zero" ] && continue
  [ "$new" = "$zero" ] && continue
  if [ -n "$(git diff --name-only "$old" "$new" -- .github/workflows)" ]; then
    echo "refusing to allow a GitHub App to update workflow without workflows permission" >&2
    exit 1
  fi
done
exit 0
"""


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout.strip()


@dataclass
class World:
    """Origin, GitHub's state, and the stand-ins, all under tmp_path."""

    tmp: Path
    origin: Path
    maintainer: Path
    state_file: Path
    tools: Path

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.state_file.read_text(encoding="utf-8"))
        return data

    def save(self, state: dict[str, Any]) -> None:
        self.state_file.write_text(json.dumps(state, indent=1), encoding="utf-8")

    def item(self, number: int) -> dict[str, Any]:
        found: dict[str, Any] = self.state()["items"][str(number)]
        return found

    def on_main(self, message: str, files: dict[str, str]) -> None:
        """A maintainer's commit on main."""
        for name, text in files.items():
            path = self.maintainer / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        git(self.maintainer, "add", "--all")
        git(self.maintainer, "commit", "--quiet", "--message", message)
        git(self.maintainer, "push", "--quiet", "origin", "main")

    def branch_tip(self) -> str | None:
        result = subprocess.run(
            ["git", "--git-dir", str(self.origin), "rev-parse", "--verify", "--quiet", BRANCH],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip() or None

    def day(self, number: int, upstream: str | None) -> tuple[int, list[str]]:
        """One scheduled run: upstream publishes ``upstream``; a fresh checkout of main."""
        state = self.state()
        if upstream is None:
            state["upstream_sha"] = None
        else:
            sha = hashlib.sha1(upstream.encode()).hexdigest()
            (self.tools / "upstream" / f"{sha}.yaml").write_text(upstream, encoding="utf-8")
            state["upstream_sha"] = sha
        state["calls"] = []
        self.save(state)
        checkout = self.tmp / f"day-{number}"
        git(self.tmp, "clone", "--quiet", str(self.origin), str(checkout))
        reports = self.tmp / f"reports-{number}"
        reports.mkdir()
        python = sys.executable
        return sync_pr.run(
            [
                "--repo",
                REPO,
                "--root",
                str(checkout),
                "--report-dir",
                str(reports),
                "--update-command",
                f"{python} {self.tools / 'fake_update.py'}",
                "--test-command",
                f"{python} {self.tools / 'fake_tests.py'}",
                "--run-url",
                f"https://example.invalid/runs/{number}",
            ]
        )


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    tools = tmp_path / "tools"
    (tools / "upstream").mkdir(parents=True)
    (tools / "fake_update.py").write_text(FAKE_UPDATE, encoding="utf-8")
    (tools / "fake_tests.py").write_text(FAKE_TESTS, encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f"#!{sys.executable}\n{FAKE_GH}", encoding="utf-8")
    gh.chmod(0o755)

    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(PRE_RECEIVE, encoding="utf-8")
    hook.chmod(0o755)
    maintainer = tmp_path / "maintainer"
    git(tmp_path, "clone", "--quiet", str(origin), str(maintainer))
    git(maintainer, "config", "user.name", "A Maintainer")
    git(maintainer, "config", "user.email", "maintainer@example.com")
    git(maintainer, "switch", "--quiet", "--create", "main")

    state_file = tmp_path / "github.json"
    state: dict[str, object] = {
        "repo": REPO,
        "upstream_repo": UPSTREAM,
        "upstream_sha": None,
        "items": {},
        "labels": [],
        "next": 1,
        "calls": [],
    }
    state_file.write_text(json.dumps(state), encoding="utf-8")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GH_STATE", str(state_file))
    monkeypatch.setenv("FAKE_GH_ORIGIN", str(origin))
    for name in ("GH_TOKEN", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")

    result = World(tmp_path, origin, maintainer, state_file, tools)
    result.on_main(
        "Initial",
        {
            "openapi.yaml": "api v0\n",
            "generated/package.txt": f"generated from {MAIN_DIGEST}\n",
            "scripts/upstream-operations.txt": "dedicatedImagesGenerate\n",
            ".github/workflows/ci.yml": "name: CI v1\n",
        },
    )
    return result


def test_replay(world: World) -> None:
    """Thirteen days of upstream states: open, update, no change, revert, closed unmerged,
    failures and recovery, and a push refused after main's workflows changed."""
    # Day 1: upstream changes: a pull request is opened from the bot branch.
    status, actions = world.day(1, "api v1\n")
    assert (0, ["pushed bot/sync-openapi", "opened pull request #1"]) == (status, actions)
    pull = world.item(1)
    assert "Sync openapi.yaml with upstream: non-breaking" == pull["title"]
    sha1 = world.state()["upstream_sha"]
    assert f"Upstream: `{UPSTREAM}@{sha1} (openapi.yaml)`" in pull["body"]
    assert "refs/heads" not in pull["body"]
    assert "version `" not in pull["body"]  # the stand-in's document has no info.version
    tip1 = world.branch_tip()
    assert tip1 is not None
    body = git(world.tmp, "--git-dir", str(world.origin), "log", "-1", "--format=%B", BRANCH)
    assert "Upstream-Sha256: " in body

    # Day 2: upstream changes again (breaking): the same pull request is updated.
    status, actions = world.day(2, "api v2 breaking\n")
    assert (0, ["pushed bot/sync-openapi", "updated pull request #1"]) == (status, actions)
    assert "Sync openapi.yaml with upstream: BREAKING" == world.item(1)["title"]
    assert ["breaking-change"] == world.item(1)["labels"]
    tip2 = world.branch_tip()
    assert tip2 != tip1

    # Day 3: upstream as yesterday: nothing pushed, nothing edited.
    status, actions = world.day(3, "api v2 breaking\n")
    assert 0 == status
    assert [
        "bot/sync-openapi already holds this update: not pushed",
        "pull request #1 already up to date",
    ] == actions
    assert tip2 == world.branch_tip()
    assert not [call for call in world.state()["calls"] if call[0] == "PATCH"]

    # Day 4: upstream reverts to what main has: the pull request is closed with a comment.
    status, actions = world.day(4, "api v0\n")
    assert (0, ["closed pull request #1", "no change against main"]) == (status, actions)
    assert "closed" == world.item(1)["state"]
    assert "back to what main already has" in world.item(1)["comments"][-1]

    # Day 5: a new upstream change: a new pull request (the old one was closed by the bot).
    status, actions = world.day(5, "api v3\n")
    assert (0, ["pushed bot/sync-openapi", "opened pull request #2"]) == (status, actions)
    # A maintainer closes it without merging; the branch stays, holding the rejected commit.
    state = world.state()
    state["items"]["2"]["state"] = "closed"
    world.save(state)
    rejected_tip = world.branch_tip()

    # Day 6: the same upstream state: not opened again, nothing pushed.
    status, actions = world.day(6, "api v3\n")
    assert (0, ["skipped: this upstream state was closed unmerged in #2"]) == (status, actions)
    assert rejected_tip == world.branch_tip()
    assert [2] == [int(n) for n, item in world.state()["items"].items() if item["kind"] == "pull"][
        1:
    ]

    # Day 7: upstream is not valid YAML: a failure issue with the report.
    status, actions = world.day(7, "invalid: [yaml\n")
    assert (1, ["opened failure issue #3"]) == (status, actions)
    issue = world.item(3)
    assert ["sync-failure"] == issue["labels"]
    assert "not valid YAML" in issue["body"]
    assert "https://example.invalid/runs/7" in issue["body"]

    # Day 8: still invalid: the same issue gets a comment, no second issue.
    status, actions = world.day(8, "invalid: [yaml\n")
    assert (1, ["updated failure issue #3"]) == (status, actions)
    assert 4 == world.state()["next"]
    assert "Still failing" in world.item(3)["comments"][-1]

    # Day 9: upstream is fixed and changed: a pull request, and the issue is closed.
    status, actions = world.day(9, "api v4\n")
    assert (
        0,
        ["pushed bot/sync-openapi", "opened pull request #4", "closed failure issue #3"],
    ) == (
        status,
        actions,
    )
    assert "closed" == world.item(3)["state"]

    # Day 10: the update makes the tests fail: the pull request says so, and an issue.
    status, actions = world.day(10, "api v5 needs-fix\n")
    assert (
        1,
        ["pushed bot/sync-openapi", "updated pull request #4", "opened failure issue #5"],
    ) == (
        status,
        actions,
    )
    assert "The test suite failed on this update" in world.item(4)["body"]
    assert "test suite failed" in world.item(5)["body"]

    # Day 11: main fixes the tests and changes a workflow: the force push is refused, so
    # the branch is recreated from main and a new pull request replaces the old one.
    world.on_main(
        "Fix the tests; new CI",
        {"tests-fixed.txt": "yes\n", ".github/workflows/ci.yml": "name: CI v2\n"},
    )
    status, actions = world.day(11, "api v5 needs-fix\n")
    assert (
        0,
        [
            "closed pull request #4",
            "push refused: branch deleted and recreated from main",
            "pushed bot/sync-openapi",
            "opened pull request #6",
            "closed failure issue #5",
        ],
    ) == (status, actions)
    assert world.item(6)["body"].startswith("Replaces #4.")
    assert "The test suite failed" not in world.item(6)["body"]
    main_tip = git(world.tmp, "--git-dir", str(world.origin), "rev-parse", "main")
    parent = git(world.tmp, "--git-dir", str(world.origin), "rev-parse", f"{BRANCH}^")
    assert main_tip == parent

    # Day 12: a tracked operation is removed upstream: a new failure issue (#5 was closed);
    # the open pull request is left alone.
    status, actions = world.day(12, "missing operation\n")
    assert (1, ["opened failure issue #7"]) == (status, actions)
    assert "missing upstream" in world.item(7)["body"]
    assert "open" == world.item(6)["state"]

    # Day 13: a new upstream change: the open pull request is updated; the issue closed.
    status, actions = world.day(13, "api v6\n")
    assert (
        0,
        ["pushed bot/sync-openapi", "updated pull request #6", "closed failure issue #7"],
    ) == (
        status,
        actions,
    )
    assert "Sync openapi.yaml with upstream: non-breaking" == world.item(6)["title"]
    assert [] == world.item(6)["labels"]


def test_upstream_unreachable_and_regeneration_failure(world: World) -> None:
    """Upstream's commit cannot be resolved, then regeneration fails: one issue, two reports."""
    status, actions = world.day(1, None)
    assert (1, ["opened failure issue #1"]) == (status, actions)
    assert "cannot resolve" in world.item(1)["body"]

    status, actions = world.day(2, "regen fails\n")
    assert (1, ["updated failure issue #1"]) == (status, actions)
    assert "regeneration failed" in world.item(1)["comments"][-1]


def test_branch_with_human_commits_is_not_overwritten(world: World) -> None:
    world.day(1, "api v1\n")
    git(world.maintainer, "fetch", "--quiet", "origin", BRANCH)
    git(world.maintainer, "switch", "--quiet", "--create", "work", f"origin/{BRANCH}")
    (world.maintainer / "notes.txt").write_text("reviewed\n", encoding="utf-8")
    git(world.maintainer, "add", "notes.txt")
    git(world.maintainer, "commit", "--quiet", "--message", "Review notes")
    git(world.maintainer, "push", "--quiet", "origin", f"HEAD:{BRANCH}")
    git(world.maintainer, "switch", "--quiet", "main")
    tip = world.branch_tip()

    status, actions = world.day(2, "api v2\n")

    assert (0, ["branch has commits by people: not pushed", "updated pull request #1"]) == (
        status,
        actions,
    )
    assert tip == world.branch_tip()
    assert "commits by people" in world.item(1)["body"]


def test_sync_key_and_marker() -> None:
    key = "a" * 64
    body = f"report\n\n{sync_pr.MARKER.format(key=key, closed='')}\n"
    assert (key, False) == sync_pr.recorded_key(body)
    closed = sync_pr.MARKER.format(key=key, closed=sync_pr.CLOSED_BY_BOT)
    assert (key, True) == sync_pr.recorded_key(closed)
    assert (None, False) == sync_pr.recorded_key("no marker")


def test_update_spec_takes_the_arguments_sync_pr_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The stand-in's interface is update_spec.py's: --source, --report-md, --report-json."""
    with pytest.raises(SystemExit):
        update_spec.main(["--help"])
    usage = capsys.readouterr().out
    for option in ("--source", "--report-md", "--report-json"):
        assert option in usage
    assert textwrap.dedent(sync_pr.__doc__ or "").count("sync-failure") >= 1


def test_body_names_the_upstream_version(world: World) -> None:
    status, _ = world.day(1, "info:\n  version: 2.7.1\n")

    assert 0 == status
    assert ", version `2.7.1`" in world.item(1)["body"].splitlines()[0]
