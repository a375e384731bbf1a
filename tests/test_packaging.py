"""The project files agree with each other: dependency floors, Python versions, README, docs."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
PROJECT = PYPROJECT["project"]


def _floors() -> dict[str, str]:
    """Each runtime dependency's lowest allowed version, from its `>=` specifier."""
    floors = {}
    for line in PROJECT["dependencies"]:
        requirement = Requirement(line)
        lower = [s.version for s in requirement.specifier if s.operator == ">="]
        assert len(lower) == 1, f"{line}: a runtime dependency needs exactly one >= floor"
        floors[requirement.name] = lower[0]
    return floors


class TestDependencyFloors:
    def test_lowest_constraints_pin_the_floors(self):
        """.ci/constraints-lowest.txt pins exactly the floors that pyproject.toml declares."""
        pins = {}
        for line in (ROOT / ".ci" / "constraints-lowest.txt").read_text("utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, version = line.partition("==")
                pins[name.strip()] = version.strip()

        assert _floors() == pins

    def test_httpx_floor_runs_on_python_313(self):
        """httpx 0.23.0 imports `cgi`, removed in Python 3.13: the floor is above it."""
        from packaging.version import Version

        assert Version(_floors()["httpx"]) > Version("0.23.0")


class TestMetadata:
    def test_license_file(self):
        """The SPDX license ships with its text, which is the Apache License 2.0."""
        text = (ROOT / "LICENSE").read_text("utf-8")

        assert "Apache-2.0" == PROJECT["license"]
        assert ["LICENSE"] == PROJECT["license-files"]
        assert "Apache License" in text
        assert "Version 2.0, January 2004" in text
        assert "END OF TERMS AND CONDITIONS" in text

    def test_build_requirements(self):
        """setuptools 77 is the first to build an SPDX `license`; `wheel` is not needed."""
        assert ["setuptools>=77"] == PYPROJECT["build-system"]["requires"]

    def test_python_versions_match_ci(self):
        """The classifiers, requires-python and every CI matrix list the same Pythons."""
        classified = sorted(
            c.rsplit(" ", 1)[1]
            for c in PROJECT["classifiers"]
            if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
        )
        ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text("utf-8"))
        matrices = [
            job["strategy"]["matrix"]["python-version"]
            for job in ci["jobs"].values()
            if "python-version" in job.get("strategy", {}).get("matrix", {})
        ]

        assert PROJECT["requires-python"] == f">={classified[0]}"
        assert matrices
        for matrix in matrices:
            assert classified == matrix

    @pytest.mark.parametrize(
        "classifier",
        [
            pytest.param("Framework :: Pytest", id="pytest-plugin"),
            pytest.param("Typing :: Typed", id="typed"),
            pytest.param("Operating System :: OS Independent", id="os"),
            pytest.param("Intended Audience :: Developers", id="audience"),
        ],
    )
    def test_classifier(self, classifier):
        """The classifiers users filter on are declared."""
        assert classifier in PROJECT["classifiers"]

    def test_no_license_classifier(self):
        """The license is the SPDX `license` field only (PEP 639 forbids both)."""
        assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]

    def test_project_urls(self):
        """Source, changelog, issues and documentation are linked, all on one repository."""
        urls = PROJECT["urls"]

        assert {"Source", "Changelog", "Issues", "Documentation"} <= set(urls)
        assert urls["Changelog"].startswith(urls["Source"])
        assert urls["Issues"].startswith(urls["Source"])


class TestReadme:
    def test_fresh_machine_commands(self):
        """The README keeps the exact install and test commands that .ci/run follows."""
        readme = (ROOT / "README.md").read_text("utf-8")

        assert re.search(r'^pip install -e "\.\[dev\]"\s', readme, re.MULTILINE)
        assert re.search(r"^pytest\s", readme, re.MULTILINE)

    def test_readme_links_are_absolute(self):
        """The README is the PyPI page: relative links would be broken there."""
        readme = (ROOT / "README.md").read_text("utf-8")
        targets = re.findall(r"\]\(([^)]+)\)", readme)

        assert targets
        assert [t for t in targets if not t.startswith("https://")] == []

    def test_docs_snippets_exist(self):
        """Every README section the docs include is marked, once, in the README."""
        readme = (ROOT / "README.md").read_text("utf-8")
        included = {
            name
            for page in (ROOT / "docs").rglob("*.md")
            for name in re.findall(r'--8<-- "README\.md:([a-z-]+)"', page.read_text("utf-8"))
        }

        assert included
        for name in included:
            assert 1 == readme.count(f"<!-- --8<-- [start:{name}] -->")
            assert 1 == readme.count(f"<!-- --8<-- [end:{name}] -->")

    def test_docs_extra_in_dev(self):
        """`pip install -e ".[dev]"` installs the docs tools that .ci/run needs."""
        assert "friendli-images[docs]" in PROJECT["optional-dependencies"]["dev"]


def test_version_from_one_place():
    """setuptools reads the version from the module the package exports it from."""
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]

    assert "friendli_images._version.__version__" == attr
