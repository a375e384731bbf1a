"""tools/release_notes.py: the changelog section of a release, cutting a release, the tag check."""

import datetime
import re

import pytest
from release_notes import (
    CHANGELOG,
    VERSION_FILE,
    ReleaseError,
    check_tag,
    cut_release,
    main,
    read_version,
    release_notes,
)

CHANGELOG_TEXT = """\
# Changelog

Intro.

## [Unreleased]

### Added

- A thing.

## [0.1.0] - 2026-01-02

### Fixed

- Another thing.
"""


class TestReleaseNotes:
    def test_section_body_without_heading(self):
        """The notes of a version are its section's body, up to the next section."""
        assert "### Fixed\n\n- Another thing.\n" == release_notes(CHANGELOG_TEXT, "0.1.0")

    def test_unreleased_section(self):
        """The Unreleased section stops at the next version's heading."""
        assert "### Added\n\n- A thing.\n" == release_notes(CHANGELOG_TEXT, "Unreleased")

    @pytest.mark.parametrize(
        ("text", "version", "message"),
        [
            pytest.param(CHANGELOG_TEXT, "9.9.9", "no section [9.9.9]", id="missing"),
            pytest.param("## [Unreleased]\n\n## [0.1.0]\n- x\n", "Unreleased", "empty", id="empty"),
            pytest.param("## [1.0.0]", "1.0.0", "empty", id="heading-only"),
        ],
    )
    def test_errors(self, text, version, message):
        """A missing or empty section is an error, never empty release notes."""
        with pytest.raises(ReleaseError, match=re.escape(message)):
            release_notes(text, version)


class TestCutRelease:
    def test_unreleased_becomes_the_release(self):
        """[Unreleased] is renamed to the version and date; a new empty one opens above it."""
        new = cut_release(CHANGELOG_TEXT, "0.2.0", datetime.date(2026, 11, 27))

        assert "## [Unreleased]\n\n## [0.2.0] - 2026-11-27\n\n### Added" in new
        assert "### Added\n\n- A thing.\n" == release_notes(new, "0.2.0")
        assert release_notes(new, "0.1.0") == release_notes(CHANGELOG_TEXT, "0.1.0")

    @pytest.mark.parametrize(
        ("text", "version", "message"),
        [
            pytest.param(CHANGELOG_TEXT, "0.1.0", "already has", id="existing-version"),
            pytest.param(CHANGELOG_TEXT, "Unreleased", "not a release version", id="unreleased"),
            pytest.param(CHANGELOG_TEXT, "v1.0.0", "not a release version", id="v-prefix"),
            pytest.param(CHANGELOG_TEXT, "1.0", "not a release version", id="two-parts"),
            pytest.param("## [Unreleased]\n\n## [0.1.0]\n- x\n", "0.2.0", "empty", id="nothing"),
            pytest.param("# Changelog\n", "0.2.0", "no section", id="no-unreleased"),
        ],
    )
    def test_refused(self, text, version, message):
        """Nothing to release, or a version that is not new and well-formed, is refused."""
        with pytest.raises(ReleaseError, match=re.escape(message)):
            cut_release(text, version, datetime.date(2026, 11, 27))


class TestCheckTag:
    @pytest.mark.parametrize(
        ("tag", "version", "message"),
        [
            pytest.param("0.1.0", "0.1.0", "not a release tag", id="no-v"),
            pytest.param("v0.1", "0.1", "not a release tag", id="short"),
            pytest.param("v0.1.1", "0.1.0", "does not match", id="other-version"),
            pytest.param("v0.3.0", "0.3.0", "no section", id="no-changelog-section"),
        ],
    )
    def test_mismatch(self, tag, version, message):
        """The tag, __version__ and the changelog must agree before anything is published."""
        with pytest.raises(ReleaseError, match=re.escape(message)):
            check_tag(tag, version, CHANGELOG_TEXT)

    def test_match(self):
        """A matching tag gives the version."""
        assert "0.1.0" == check_tag("v0.1.0", "0.1.0", CHANGELOG_TEXT)

    def test_read_version(self):
        """The version is read from the one place it is written."""
        assert "1.2.3" == read_version('"""Doc."""\n\n__version__ = "1.2.3"\n')
        with pytest.raises(ReleaseError, match="__version__"):
            read_version("VERSION = 1\n")


class TestProject:
    @pytest.mark.skipif(
        not VERSION_FILE.exists(), reason="needs the source tree (the wheel is tested without it)"
    )
    def test_version_file_is_the_package_version(self):
        """The file the tool reads is the one the installed package reports."""
        import friendli_images

        assert friendli_images.__version__ == read_version(VERSION_FILE.read_text("utf-8"))

    def test_changelog_has_unreleased(self):
        """The project's changelog has the section a release is cut from."""
        assert release_notes(CHANGELOG.read_text("utf-8"), "Unreleased")

    def test_command_line(self, capsys):
        """`show Unreleased` prints the section; an unknown version exits 1 with a message."""
        assert 0 == main(["show", "Unreleased"])
        assert "### Added" in capsys.readouterr().out
        assert 1 == main(["show", "99.0.0"])
        assert "error: CHANGELOG.md has no section [99.0.0]" in capsys.readouterr().err
