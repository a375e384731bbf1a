"""scripts/regenerate.py: idempotent, drift-checking and all-or-nothing."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "regenerate.py"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def tree_digest(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of openapi.yaml and generated/ to regenerate without touching the real tree."""
    shutil.copy2(ROOT / "openapi.yaml", tmp_path / "openapi.yaml")
    shutil.copytree(
        ROOT / "generated", tmp_path / "generated", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


class TestCheck:
    def test_committed_tree_has_no_drift(self) -> None:
        """--check passes on the committed generated/."""
        result = run("--check")

        assert 0 == result.returncode, result.stderr
        assert "matches" in result.stdout

    def test_hand_edit_is_drift(self, project: Path) -> None:
        """--check fails on a hand-edited file in a copy and names the file."""
        edited = project / "generated" / "friendli_images_api" / "models" / "image_input.py"
        edited.write_text(edited.read_text() + "\n# a local tweak\n")
        extra = project / "generated" / "friendli_images_api" / "helpers.py"
        extra.write_text("X = 1\n")
        before = tree_digest(project / "generated")

        result = run(
            "--check", "--spec", project / "openapi.yaml", "--output", project / "generated"
        )

        assert 1 == result.returncode
        assert "M friendli_images_api/models/image_input.py" in result.stderr
        assert "- friendli_images_api/helpers.py" in result.stderr
        assert before == tree_digest(project / "generated")


class TestRegenerate:
    def test_idempotent(self, project: Path) -> None:
        """Regenerating an up-to-date tree changes no byte; a drifted one is restored."""
        before = tree_digest(project / "generated")

        first = run("--spec", project / "openapi.yaml", "--output", project / "generated")

        assert 0 == first.returncode, first.stderr
        assert "already up to date" in first.stdout
        assert before == tree_digest(project / "generated")

        (project / "generated" / "friendli_images_api" / "client.py").write_text("broken\n")
        second = run("--spec", project / "openapi.yaml", "--output", project / "generated")

        assert 0 == second.returncode, second.stderr
        assert "regenerated" in second.stdout
        assert before == tree_digest(project / "generated")
        assert not list(project.glob(".regenerate-*"))

    def test_reports_each_spec_fix(self, project: Path) -> None:
        """A run says, for every spec fix, where it applied."""
        result = run("--spec", project / "openapi.yaml", "--output", project / "generated")

        for name in (
            "inline_titled_ref_aliases",
            "base64_strings_in_json",
            "omit_request_defaults",
            "open_response_enums",
        ):
            assert f"spec fix {name}: applied at" in result.stdout


class TestAllOrNothing:
    @pytest.mark.parametrize(
        ("spec_text", "message"),
        [
            ("openapi: [unclosed\n", "not valid YAML/JSON"),
            ("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n", "not an OpenAPI 3.x"),
        ],
    )
    def test_unreadable_spec_leaves_target_untouched(
        self, project: Path, spec_text: str, message: str
    ) -> None:
        """A spec that cannot be read fails with a message and changes nothing."""
        (project / "openapi.yaml").write_text(spec_text)
        before = tree_digest(project / "generated")

        result = run("--spec", project / "openapi.yaml", "--output", project / "generated")

        assert 2 == result.returncode
        assert message in result.stderr
        assert "left untouched" in result.stderr
        assert before == tree_digest(project / "generated")

    def test_generator_warning_leaves_target_untouched(self, project: Path) -> None:
        """A spec the generator warns about fails with the generator's message, target intact."""
        spec = (project / "openapi.yaml").read_text()
        broken = spec.replace(
            "$ref: '#/components/schemas/ImageInput'",
            "$ref: '#/components/schemas/NoSuchSchema'",
        )
        assert broken != spec
        (project / "openapi.yaml").write_text(broken)
        before = tree_digest(project / "generated")

        result = run("--spec", project / "openapi.yaml", "--output", project / "generated")

        assert 2 == result.returncode
        assert "openapi-python-client failed" in result.stderr
        assert "NoSuchSchema" in result.stderr
        assert before == tree_digest(project / "generated")
        assert not list(project.glob(".regenerate-*"))
