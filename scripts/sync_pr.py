#!/usr/bin/env python3
"""The daily upstream sync's pull-request lifecycle (``.github/workflows/sync-openapi.yml``).

Usage (in a checkout of main, with ``GH_TOKEN`` set; the workflow's environment)::

    python scripts/sync_pr.py --repo owner/name --report-dir "$RUNNER_TEMP"

One run:

1. Resolves the upstream branch to a commit (``gh api repos/UPSTREAM/commits/REF``) and
   runs ``update_spec.py`` on the document *at that commit*, so the report and the pull
   request name the commit, not a moving ``refs/heads/main`` URL.
2. Update failed (upstream not valid YAML, a tracked operation removed upstream, a failed
   regeneration, upstream unreachable): the report goes into the one open issue labelled
   ``sync-failure`` (opened, or commented on: one issue, not one a day). Exit 1.
3. Nothing differs from main (``openapi.yaml``, ``generated/``,
   ``scripts/upstream-operations.txt``): an open sync pull request is closed with a comment
   (upstream went back to what main has), an open failure issue is closed. Exit 0.
4. Otherwise the change gets a *sync key*: the sha256 of the new ``openapi.yaml`` and
   ``scripts/upstream-operations.txt``, the upstream state the pull request proposes. It is
   recorded in the commit message (``Upstream-Sha256:``) and in the pull-request body (an
   HTML comment). A pull request closed without merging is a decision: when a closed,
   unmerged pull request from the bot branch (not closed by this script) has today's key,
   nothing is opened or pushed, even though the branch may still hold the rejected commit.
   A new upstream change has a new key and opens a new pull request.
5. The test suite runs (``--test-command``); the bot commit is built on main's tip and
   force-pushed to the one bot branch (unless the branch has commits by people: then only
   the description is updated), and the pull request is opened or updated, with the
   ``breaking-change`` label when the verdict is BREAKING. Failed tests: the pull request
   says so, the failure issue gets the report, exit 1. Passed: the failure issue is closed.

Pushing to a branch whose previous tip was built on an older main is refused for the
workflow's ``GITHUB_TOKEN`` when main's ``.github/workflows/`` changed in between (the push
would "update a workflow" and the token has no ``workflows`` permission). Design: the
branch name stays fixed (one pull request, updated in place, on ordinary days), and when
the force push is refused the script closes the open pull request with a comment, deletes
the branch and pushes it anew from main's tip (creating a branch whose only new commit
touches no workflow is allowed), then opens a new pull request that names the old one. So
the daily run does not fail on it; the pull request number changes once.

Exit status: 0 done (no change, pull request opened/updated/closed, or skipped as
rejected), 1 a failure (reported in the ``sync-failure`` issue), 2 bad command line.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["GitHub", "Outcome", "SyncError", "main", "run", "sync_key"]

SYNC_PATHS = ("openapi.yaml", "generated", "scripts/upstream-operations.txt")
KEY_PATHS = ("openapi.yaml", "scripts/upstream-operations.txt")
VERDICTS = {0: "no change", 10: "documentation only", 11: "non-breaking", 12: "BREAKING"}
BREAKING_STATUS = 12
FAILURE_LABEL = "sync-failure"
FAILURE_TITLE = "Upstream OpenAPI sync is failing"
BREAKING_LABEL = "breaking-change"
MARKER = "<!-- sync-openapi upstream-sha256={key}{closed} -->"
MARKER_RE = re.compile(r"<!-- sync-openapi upstream-sha256=([0-9a-f]{64})( closed-by-bot)? -->")
CLOSED_BY_BOT = " closed-by-bot"
REFUSED_RE = re.compile(r"workflow|refusing to allow", re.IGNORECASE)


class SyncError(Exception):
    """The run cannot go on; the message says why (it goes into the failure issue)."""


@dataclass
class Outcome:
    """What one run did, for the job summary and the tests."""

    actions: list[str] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.actions.append(text)
        print(text)


def _run(
    command: Sequence[str], cwd: Path, *, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        list(command), cwd=cwd, input=stdin, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        shown = " ".join(command[:3])
        raise SyncError(f"`{shown} …` failed ({result.returncode}): {result.stderr.strip()}")
    return result


class GitHub:
    """The REST calls this script makes, through the ``gh`` command line (``gh api``)."""

    def __init__(self, repo: str, cwd: Path, gh: str = "gh") -> None:
        self.repo = repo
        self.cwd = cwd
        self.gh = gh

    def call(
        self, method: str, path: str, data: dict[str, Any] | None = None, *, check: bool = True
    ) -> Any:
        command = [self.gh, "api", "--method", method, path]
        if data is not None:
            command += ["--input", "-"]
        result = _run(
            command, self.cwd, check=check, stdin=None if data is None else json.dumps(data)
        )
        if result.returncode != 0:
            return None
        return json.loads(result.stdout) if result.stdout.strip() else None

    def repo_call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        return self.call(method, f"repos/{self.repo}/{path}", data)

    def pulls(self, branch: str, state: str) -> list[dict[str, Any]]:
        owner = self.repo.split("/", 1)[0]
        found = self.repo_call(
            "GET", f"pulls?head={owner}:{branch}&base=main&state={state}&per_page=100"
        )
        return list(found or [])

    def comment(self, number: int, body: str) -> None:
        self.repo_call("POST", f"issues/{number}/comments", {"body": body})

    def failure_issue(self) -> dict[str, Any] | None:
        found = self.repo_call("GET", f"issues?labels={FAILURE_LABEL}&state=open&per_page=100")
        issues = [issue for issue in found or [] if "pull_request" not in issue]
        return issues[0] if issues else None

    def ensure_label(self, name: str, color: str, description: str) -> None:
        self.call(
            "POST",
            f"repos/{self.repo}/labels",
            {"name": name, "color": color, "description": description},
            check=False,  # 422 when it exists already
        )


def sync_key(root: Path) -> str:
    """The sha256 of the upstream state a sync proposes (see the module docstring)."""
    digest = hashlib.sha256()
    for name in KEY_PATHS:
        path = root / name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"")
        digest.update(b"\0")
    return digest.hexdigest()


def recorded_key(body: str | None) -> tuple[str | None, bool]:
    """The sync key recorded in a pull-request body, and whether this script closed it."""
    found = MARKER_RE.search(body or "")
    if found is None:
        return None, False
    return found.group(1), found.group(2) is not None


class Sync:
    """One run of the lifecycle; see the module docstring."""

    def __init__(self, args: argparse.Namespace, github: GitHub) -> None:
        self.args = args
        self.root: Path = args.root.resolve()
        self.github = github
        self.branch: str = args.branch
        self.report_dir: Path = args.report_dir.resolve()
        self.report_md = self.report_dir / "sync-report.md"
        self.report_json = self.report_dir / "sync-report.json"
        self.outcome = Outcome()
        self.upstream = ""

    # -- git ----------------------------------------------------------------------------

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run(["git", *args], self.root, check=check)

    def remote_git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``git`` with the token as an HTTP header for this one command (the checkout
        keeps no credentials, and nothing is written to ``.git/config``)."""
        token, server = os.environ.get("GH_TOKEN"), os.environ.get("GITHUB_SERVER_URL")
        config: list[str] = []
        if token and server:
            basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
            if os.environ.get("GITHUB_ACTIONS") == "true":
                print(f"::add-mask::{basic}")
            config = ["-c", f"http.{server}/.extraheader=AUTHORIZATION: basic {basic}"]
        return _run(["git", *config, *args], self.root, check=check)

    def changed(self) -> bool:
        status = self.git("status", "--porcelain", "--", *SYNC_PATHS).stdout
        return bool(status.strip())

    def commit(self, title: str, key: str) -> None:
        self.git("config", "user.name", self.args.bot_name)
        self.git("config", "user.email", self.args.bot_email)
        self.git("switch", "--quiet", "--force-create", self.branch)
        self.git("add", "--all", "--", *SYNC_PATHS)
        message = f"{title}\n\nUpstream: {self.upstream}\nUpstream-Sha256: {key}\n"
        self.git("commit", "--quiet", "--message", message)

    def remote_branch(self) -> str | None:
        """The bot branch's tip on origin (fetched), or None when it does not exist."""
        fetched = self.remote_git(
            "fetch",
            "--quiet",
            "origin",
            f"+refs/heads/{self.branch}:refs/remotes/origin/{self.branch}",
            check=False,
        )
        if fetched.returncode != 0:
            return None
        return self.git("rev-parse", f"origin/{self.branch}").stdout.strip()

    def human_commits(self) -> int:
        emails = self.git(
            "log", "--format=%ae", f"origin/main..origin/{self.branch}"
        ).stdout.split()
        return sum(1 for email in emails if email != self.args.bot_email)

    def push(self) -> subprocess.CompletedProcess[str]:
        return self.remote_git(
            "push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{self.branch}", check=False
        )

    # -- the steps -------------------------------------------------------------------------

    def resolve_upstream(self) -> str:
        """The upstream document's URL at the upstream branch's current commit."""
        if self.args.source:
            source: str = self.args.source
            self.upstream = source
            return source
        repo, ref, path = self.args.upstream_repo, self.args.upstream_ref, self.args.upstream_path
        commit = self.github.call("GET", f"repos/{repo}/commits/{ref}", check=False)
        sha = commit.get("sha") if isinstance(commit, dict) else None
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{40}", sha):
            raise SyncError(f"cannot resolve {repo}@{ref} to a commit (GitHub API)")
        self.upstream = f"{repo}@{sha} ({path})"
        return f"https://github.com/{repo}/raw/{sha}/{path}"

    def update(self, source: str) -> int:
        command = [*shlex.split(self.args.update_command), "--source", source]
        command += ["--report-md", str(self.report_md), "--report-json", str(self.report_json)]
        result = _run(command, self.root, check=False)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        if result.returncode not in VERDICTS:
            report = self.report_text() or result.stderr.strip()
            raise SyncError(
                f"update_spec.py failed (exit status {result.returncode}) on {self.upstream}"
                f"\n\n{report}"
            )
        return result.returncode

    def upstream_version(self) -> str:
        """The updated ``openapi.yaml``'s ``info.version`` (empty when it has none)."""
        try:
            document = yaml.safe_load((self.root / "openapi.yaml").read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            return ""
        info = document.get("info") if isinstance(document, dict) else None
        version = info.get("version") if isinstance(info, dict) else None
        return str(version) if version is not None else ""

    def report_text(self) -> str:
        return self.report_md.read_text(encoding="utf-8") if self.report_md.is_file() else ""

    def new_operations(self) -> int:
        try:
            report = json.loads(self.report_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0
        related = report.get("related_upstream_operations") or []
        return sum(1 for operation in related if operation.get("new"))

    def tests_pass(self) -> bool:
        result = _run(shlex.split(self.args.test_command), self.root, check=False)
        return result.returncode == 0

    def close_pull(self, pull: dict[str, Any], comment: str) -> None:
        """Close a sync pull request, marking its body so it is not read as rejected."""
        key, _ = recorded_key(pull.get("body"))
        body = MARKER_RE.sub("", pull.get("body") or "").rstrip()
        marker = MARKER.format(key=key or "0" * 64, closed=CLOSED_BY_BOT)
        number = int(pull["number"])
        self.github.comment(number, comment)
        self.github.repo_call("PATCH", f"pulls/{number}", {"body": f"{body}\n\n{marker}\n"})
        self.github.repo_call("PATCH", f"pulls/{number}", {"state": "closed"})
        self.outcome.say(f"closed pull request #{number}")

    def rejected(self, key: str) -> dict[str, Any] | None:
        """A closed, unmerged sync pull request with this key that a person closed."""
        for pull in self.github.pulls(self.branch, "closed"):
            recorded, by_bot = recorded_key(pull.get("body"))
            if recorded == key and not by_bot and not pull.get("merged_at"):
                return pull
        return None

    def report_failure(self, message: str) -> None:
        issue = self.github.failure_issue()
        run = f"\n\nRun: {self.args.run_url}" if self.args.run_url else ""
        text = f"{message}{run}"
        if issue is None:
            self.github.ensure_label(FAILURE_LABEL, "D93F0B", "The daily upstream sync failed")
            created = self.github.repo_call(
                "POST",
                "issues",
                {
                    "title": FAILURE_TITLE,
                    "body": f"The daily upstream OpenAPI sync failed.\n\n{text}",
                    "labels": [FAILURE_LABEL],
                },
            )
            self.outcome.say(f"opened failure issue #{created['number']}")
        else:
            self.github.comment(int(issue["number"]), f"Still failing.\n\n{text}")
            self.outcome.say(f"updated failure issue #{issue['number']}")

    def clear_failure(self) -> None:
        issue = self.github.failure_issue()
        if issue is None:
            return
        number = int(issue["number"])
        run = f" ({self.args.run_url})" if self.args.run_url else ""
        self.github.comment(number, f"The sync succeeded again on {self.upstream}{run}.")
        self.github.repo_call("PATCH", f"issues/{number}", {"state": "closed"})
        self.outcome.say(f"closed failure issue #{number}")

    def body(self, key: str, *, tests_ok: bool, note: str) -> str:
        version = self.upstream_version()
        named = f"Upstream: `{self.upstream}`" + (f", version `{version}`" if version else "")
        parts = [named]
        if not tests_ok:
            where = f": {self.args.run_url}" if self.args.run_url else ""
            parts.append(f"> [!WARNING]\n> The test suite failed on this update{where}")
        if note:
            parts.append(f"> [!NOTE]\n> {note}")
        parts += [self.report_text().rstrip(), MARKER.format(key=key, closed="")]
        return "\n\n".join(parts) + "\n"

    def publish(self, status: int, key: str, *, tests_ok: bool) -> None:
        """Push the bot branch and open or update its pull request."""
        title = f"Sync openapi.yaml with upstream: {VERDICTS[status]}"
        new = self.new_operations()
        if new:
            title += f"; {new} new upstream operation(s) beside the tracked ones"
        self.commit(title, key)
        opened = self.github.pulls(self.branch, "open")
        pull = opened[0] if opened else None
        note, replaced = "", None
        tip = self.remote_branch()
        if tip is not None and self.human_commits():
            note = (
                "This branch has commits by people, so the bot did not overwrite it: the "
                "report below describes upstream today, not necessarily this branch."
            )
            self.outcome.say("branch has commits by people: not pushed")
        elif (
            tip is None
            or self.git("rev-parse", "HEAD^{tree}").stdout
            != self.git("rev-parse", f"{tip}^{{tree}}").stdout
        ):
            pushed = self.push()
            if pushed.returncode != 0 and REFUSED_RE.search(pushed.stderr) and tip is not None:
                # The design in the module docstring: recreate the branch from main's tip.
                if pull is not None:
                    self.close_pull(
                        pull,
                        "main's workflows changed, so this branch cannot be updated with the "
                        "workflow's token; the bot recreates it from main and opens a new "
                        "pull request.",
                    )
                    replaced, pull = int(pull["number"]), None
                self.remote_git("push", "--quiet", "origin", "--delete", self.branch)
                pushed = self.push()
                self.outcome.say("push refused: branch deleted and recreated from main")
            if pushed.returncode != 0:
                raise SyncError(f"cannot push {self.branch}: {pushed.stderr.strip()}")
            self.outcome.say(f"pushed {self.branch}")
        else:
            self.outcome.say(f"{self.branch} already holds this update: not pushed")

        body = self.body(key, tests_ok=tests_ok, note=note)
        if replaced is not None:
            body = f"Replaces #{replaced}.\n\n{body}"
        if pull is None:
            created = self.github.repo_call(
                "POST", "pulls", {"base": "main", "head": self.branch, "title": title, "body": body}
            )
            number = int(created["number"])
            self.outcome.say(f"opened pull request #{number}")
        else:
            number = int(pull["number"])
            if pull.get("title") != title or pull.get("body") != body:
                self.github.repo_call("PATCH", f"pulls/{number}", {"title": title, "body": body})
                self.outcome.say(f"updated pull request #{number}")
            else:
                self.outcome.say(f"pull request #{number} already up to date")
        if status == BREAKING_STATUS:
            self.github.ensure_label(
                BREAKING_LABEL,
                "B60205",
                "The upstream API changed in a way that breaks this client",
            )
            self.github.repo_call("POST", f"issues/{number}/labels", {"labels": [BREAKING_LABEL]})
        else:
            self.github.call(
                "DELETE",
                f"repos/{self.github.repo}/issues/{number}/labels/{BREAKING_LABEL}",
                check=False,
            )

    def execute(self) -> int:
        try:
            status = self.update(self.resolve_upstream())
            if not self.changed():
                for pull in self.github.pulls(self.branch, "open"):
                    self.close_pull(
                        pull,
                        f"Upstream ({self.upstream}) is back to what main already has: "
                        "nothing left to sync, so the bot closes this pull request.",
                    )
                self.outcome.say("no change against main")
                self.clear_failure()
                return 0
            key = sync_key(self.root)
            rejected = self.rejected(key)
            if rejected is not None:
                for pull in self.github.pulls(self.branch, "open"):
                    self.close_pull(
                        pull,
                        f"Upstream ({self.upstream}) is back to the state that was closed "
                        f"without merging in #{rejected['number']}; the bot closes this one.",
                    )
                self.outcome.say(
                    f"skipped: this upstream state was closed unmerged in #{rejected['number']}"
                )
                self.clear_failure()
                return 0
            tests_ok = self.tests_pass()
            self.publish(status, key, tests_ok=tests_ok)
            if not tests_ok:
                raise SyncError(
                    f"The test suite failed on the update to {self.upstream}; the sync pull "
                    f"request says so.\n\n{self.report_text()}"
                )
            self.clear_failure()
            return 0
        except SyncError as exc:
            print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
            try:
                self.report_failure(str(exc))
            except SyncError as nested:
                print(f"error: cannot report the failure: {nested}", file=sys.stderr)
            return 1


def run(argv: Sequence[str] | None = None) -> tuple[int, list[str]]:
    """Run the command line; returns the exit status and what was done, step by step."""
    parser = argparse.ArgumentParser(
        description="Update openapi.yaml from upstream and open, update or close the sync PR.",
        epilog="Exit status: 0 done, 1 a failure (reported in an issue), 2 bad command line.",
    )
    environ = os.environ
    parser.add_argument("--repo", default=environ.get("GITHUB_REPOSITORY"), help="owner/name")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="checkout of main")
    parser.add_argument(
        "--report-dir", type=Path, default=Path(environ.get("RUNNER_TEMP", ".")), metavar="DIR"
    )
    parser.add_argument("--branch", default="bot/sync-openapi")
    parser.add_argument("--upstream-repo", default="friendliai/friendli-openapi")
    parser.add_argument("--upstream-ref", default="main")
    parser.add_argument("--upstream-path", default="openapi.yaml")
    parser.add_argument("--source", help="a fixed source instead of the upstream commit")
    parser.add_argument(
        "--update-command", default=f"{shlex.quote(sys.executable)} scripts/update_spec.py"
    )
    parser.add_argument("--test-command", default=f"{shlex.quote(sys.executable)} -m pytest")
    parser.add_argument("--gh", default="gh", help="the GitHub CLI executable")
    parser.add_argument("--bot-name", default="github-actions[bot]")
    parser.add_argument(
        "--bot-email", default="41898282+github-actions[bot]@users.noreply.github.com"
    )
    parser.add_argument("--run-url", default="", help="this run's URL, for the reports")
    parser.add_argument("--summary", type=Path, default=None, help="append what was done here")
    args = parser.parse_args(argv)
    if not args.repo:
        parser.error("--repo (or GITHUB_REPOSITORY) is required")
    sync = Sync(args, GitHub(args.repo, args.root.resolve(), args.gh))
    status = sync.execute()
    summary = args.summary or (
        Path(environ["GITHUB_STEP_SUMMARY"]) if "GITHUB_STEP_SUMMARY" in environ else None
    )
    if summary is not None:
        with summary.open("a", encoding="utf-8") as handle:
            handle.write(sync.report_text())
            handle.write("\n".join(f"- {action}" for action in sync.outcome.actions) + "\n")
    return status, sync.outcome.actions


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv)[0]


if __name__ == "__main__":
    sys.exit(main())
