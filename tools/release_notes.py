"""Release helpers: the CHANGELOG section of a version, and the version from one place.

    python tools/release_notes.py cut 0.2.0          # [Unreleased] becomes [0.2.0] - today
    python tools/release_notes.py show 0.2.0         # print that section (the release notes)
    python tools/release_notes.py check-tag v0.2.0   # the tag, __version__ and CHANGELOG agree

The version lives in ``facade/friendli_images/_version.py`` only; it is read as text, so
this works without installing the package. Exit status: 0 success, 1 a check failed (the
message says why), 2 a bad command line.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from pathlib import Path

__all__ = ["ReleaseError", "check_tag", "cut_release", "read_version", "release_notes"]

ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = ROOT / "CHANGELOG.md"
VERSION_FILE = ROOT / "facade" / "friendli_images" / "_version.py"

UNRELEASED = "## [Unreleased]"
_HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\]", re.MULTILINE)
_VERSION = re.compile(r'^__version__ = "(?P<version>[^"]+)"$', re.MULTILINE)
# Release versions only (PEP 440 final and pre-releases), never "Unreleased".
_RELEASE = re.compile(r"^\d+\.\d+\.\d+((a|b|rc)\d+)?$")


class ReleaseError(Exception):
    """A release step cannot go ahead; the message says why."""


def _sections(changelog: str) -> dict[str, tuple[int, int]]:
    """Each ``## [name]`` section: name -> (start of heading, end of section)."""
    matches = list(_HEADING.finditer(changelog))
    bounds: dict[str, tuple[int, int]] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(changelog)
        bounds[match["name"]] = (match.start(), end)
    return bounds


def release_notes(changelog: str, version: str) -> str:
    """The body of the ``## [version]`` section, without its heading; never empty."""
    bounds = _sections(changelog).get(version)
    if bounds is None:
        raise ReleaseError(f"CHANGELOG.md has no section [{version}]")
    start, end = bounds
    body = changelog[start:end].split("\n", 1)[1].strip() if "\n" in changelog[start:end] else ""
    if not body:
        raise ReleaseError(f"the section [{version}] of CHANGELOG.md is empty")
    return body + "\n"


def cut_release(changelog: str, version: str, date: datetime.date) -> str:
    """``changelog`` with [Unreleased] renamed to [version] - date, and a new empty [Unreleased]."""
    if not _RELEASE.match(version):
        raise ReleaseError(f"{version!r} is not a release version such as 1.2.3 or 1.2.3rc1")
    sections = _sections(changelog)
    if version in sections:
        raise ReleaseError(f"CHANGELOG.md already has a section [{version}]")
    release_notes(changelog, "Unreleased")  # raises when missing or empty
    start, _ = sections["Unreleased"]
    heading_end = changelog.index("\n", start)
    return (
        changelog[:start]
        + f"{UNRELEASED}\n\n## [{version}] - {date.isoformat()}"
        + changelog[heading_end:]
    )


def read_version(version_file_text: str) -> str:
    """The ``__version__ = "..."`` string of ``_version.py``."""
    match = _VERSION.search(version_file_text)
    if match is None:
        raise ReleaseError('no `__version__ = "..."` line in _version.py')
    return match["version"]


def check_tag(tag: str, version: str, changelog: str) -> str:
    """The version of tag ``v<version>`` when it matches ``version`` and has a changelog section."""
    if not tag.startswith("v") or not _RELEASE.match(tag[1:]):
        raise ReleaseError(f"the tag {tag!r} is not a release tag such as v1.2.3")
    if tag[1:] != version:
        raise ReleaseError(f"the tag {tag!r} does not match __version__ = {version!r}")
    release_notes(changelog, version)
    return version


def main(argv: list[str] | None = None) -> int:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="release_notes.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print the changelog section of VERSION")
    show.add_argument("version")
    cut = commands.add_parser("cut", help="rename [Unreleased] to [VERSION] - today")
    cut.add_argument("version")
    cut.add_argument("--date", type=datetime.date.fromisoformat, default=None)
    tag = commands.add_parser("check-tag", help="the tag, __version__ and CHANGELOG agree")
    tag.add_argument("tag")
    args = parser.parse_args(argv)
    try:
        changelog = CHANGELOG.read_text(encoding="utf-8")
        if args.command == "show":
            sys.stdout.write(release_notes(changelog, args.version))
        elif args.command == "cut":
            date = args.date or datetime.datetime.now(datetime.UTC).date()
            new = cut_release(changelog, args.version, date)
            tmp = CHANGELOG.with_suffix(".md.tmp")
            tmp.write_text(new, encoding="utf-8")
            tmp.replace(CHANGELOG)
            print(f"CHANGELOG.md: [Unreleased] is now [{args.version}] - {date.isoformat()}")
        else:
            version = read_version(VERSION_FILE.read_text(encoding="utf-8"))
            print(check_tag(args.tag, version, changelog))
    except (ReleaseError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
