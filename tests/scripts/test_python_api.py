"""The generated package's public Python surface in the change report (scripts/python_surface.py).

A rename upstream that is only documentation on the wire still removes the class importers
use; the report says so, separately from the wire changes, and says whether the facade
still imports against the freshly generated package (checked before anything is swapped in).
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import update_spec
import yaml
from python_surface import compare_surfaces, facade_imports, surface, void_class_overrides
from spec_filter import parse_document, select_operations

ROOT = Path(__file__).resolve().parents[2]
BASE = parse_document((ROOT / "openapi.yaml").read_text(encoding="utf-8"), "openapi.yaml")
TRACKED = update_spec.read_tracked(ROOT / update_spec.TRACKED_FILE)
MODELS = "friendli_images_api.models"

Spec = dict[str, Any]


def operations_using(schema: str) -> int:
    """How many tracked operations of the committed spec reach component ``schema``.

    A change inside a shared schema is reported once under each operation that reaches it,
    so this is the count one such change adds to the report's wire counts.
    """
    users = []
    for operation_id in TRACKED:
        components = select_operations(BASE, [operation_id]).spec.get("components") or {}
        if schema in (components.get("schemas") or {}):
            users.append(operation_id)
    assert users, f"no tracked operation of openapi.yaml uses {schema}"
    return len(users)


def write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


ITEM = """\
from typing import Any


class Item:
    url: str
    additional_properties: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {}

    def __getitem__(self, key: str) -> Any:
        return None


def build(*, url: str, seed: int = 0) -> Item:
    return Item()
"""


class TestSurface:
    def test_lists_modules_classes_attributes_and_signatures(self, tmp_path: Path) -> None:
        """Every public name is listed with its shape; private names are not."""
        package = write_package(
            tmp_path,
            {"__init__.py": '__all__ = ["Item"]\n', "item.py": ITEM, "_private.py": "X = 1\n"},
        )

        found = surface(package)

        assert {
            "pkg": "module",
            "pkg.Item": "exported",
            "pkg.item": "module",
            "pkg.item.Item": "class",
            "pkg.item.Item.url": "attribute: str",
            "pkg.item.Item.additional_properties": "attribute: dict[str, Any]",
            "pkg.item.Item.to_dict": "def to_dict(self) -> dict[str, Any]",
            "pkg.item.Item.__getitem__": "def __getitem__(self, key: str) -> Any",
            "pkg.item.build": "def build(*, url: str, seed: int=0) -> Item",
        } == found

    def test_removed_changed_added(self, tmp_path: Path) -> None:
        """A removed member and a changed signature break importers; a new name does not."""
        old = surface(write_package(tmp_path / "old", {"__init__.py": "", "item.py": ITEM}))
        changed = ITEM.replace(
            "    def __getitem__(self, key: str) -> Any:\n        return None\n", ""
        )
        changed = (
            changed.replace("seed: int = 0", "seed: str = ''") + "\n\ndef fresh() -> None: ...\n"
        )
        new = surface(write_package(tmp_path / "new", {"__init__.py": "", "item.py": changed}))

        changes = compare_surfaces(old, new)

        assert [
            ("pkg.item.Item.__getitem__", "removed", True),
            ("pkg.item.build", "changed", True),
            ("pkg.item.fresh", "added", False),
        ] == [(change.name, change.status, change.breaking) for change in changes]

    def test_compatible_changes_are_not_breaking(self, tmp_path: Path) -> None:
        """A parameter widened and a new optional parameter change the text but not what
        user code may do: not breaking; a result's attribute widened is breaking."""
        old = surface(write_package(tmp_path / "old", {"__init__.py": "", "item.py": ITEM}))
        changed = ITEM.replace(
            "url: str, seed: int = 0", "url: str | bytes, seed: int = 0, n: int = 1"
        )
        changed = changed.replace("    url: str\n", "    url: str | None = None\n")
        changed = changed.replace("def to_dict(self)", "def to_dict(self, *, strict: bool = True)")
        new = surface(write_package(tmp_path / "new", {"__init__.py": "", "item.py": changed}))

        changes = compare_surfaces(old, new)

        assert "attribute: str | None = None" == new["pkg.item.Item.url"]
        expected = [
            ("pkg.item.Item.to_dict", False, "new optional parameter strict"),
            ("pkg.item.Item.url", True, "response attribute widened"),
            ("pkg.item.build", False, "parameter url widened"),
        ]
        assert [(name, breaking) for name, breaking, _ in expected] == [
            (change.name, change.breaking) for change in changes
        ]
        for (_, _, words), change in zip(expected, changes, strict=True):
            assert words in change.ruling.message, change.ruling

    def test_removed_class_is_one_line(self, tmp_path: Path) -> None:
        """A class that disappears is reported once, not once per member."""
        old = surface(write_package(tmp_path / "old", {"__init__.py": "", "item.py": ITEM}))
        renamed = ITEM.replace("class Item:", "class Entry:")
        new = surface(write_package(tmp_path / "new", {"__init__.py": "", "item.py": renamed}))

        changes = compare_surfaces(old, new)

        assert [("pkg.item.Entry", "added"), ("pkg.item.Item", "removed")] == [
            (change.name, change.status) for change in changes
        ]

    def test_void_class_override(self, tmp_path: Path) -> None:
        """An override whose module the generator no longer writes is void."""
        package = write_package(tmp_path, {"__init__.py": "", "models/kept.py": ""})
        overrides = {
            "A": {"class_name": "Kept", "module_name": "kept"},
            "B": {"class_name": "Gone", "module_name": "gone"},
        }

        assert ["B → Gone"] == void_class_overrides(overrides, package)

    def test_facade_imports_with_the_committed_package(self) -> None:
        """The import check passes against today's generated package."""
        check = facade_imports(ROOT / "facade", ROOT / "generated")

        assert check.imports, check.detail


def rename_schema(old: str, new: str) -> Callable[[Spec], None]:
    """Rename a component schema, its title and every reference to it (same shape)."""

    def mutation(spec: Spec) -> None:
        schemas = spec["components"]["schemas"]
        if schemas[old].get("title") == old:
            schemas[old]["title"] = new
        spec["components"]["schemas"] = {
            (new if name == old else name): schema for name, schema in schemas.items()
        }
        text = json.dumps(spec).replace(
            f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"'
        )
        spec.clear()
        spec.update(json.loads(text))

    return mutation


def close_url_item(spec: Spec) -> None:
    spec["components"]["schemas"]["UrlImageItem"]["additionalProperties"] = False


def each_operation(spec: Spec) -> list[Spec]:
    return [
        operation
        for path in spec["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "responses" in operation
    ]


def new_optional_header(spec: Spec) -> None:
    header = {"name": "X-Trace", "in": "header", "required": False, "schema": {"type": "string"}}
    for operation in each_operation(spec):
        operation.setdefault("parameters", []).append(header)


def team_header_default(spec: Spec) -> None:
    for operation in each_operation(spec):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "X-Friendli-Team":
                parameter["schema"]["default"] = "team-a"


def steps_become_numbers(spec: Spec) -> None:
    body = spec["components"]["schemas"]["DedicatedImageGenerationBody"]
    body["properties"]["num_inference_steps"]["type"] = "number"


def phase_always_a_string(spec: Spec) -> None:
    status = spec["components"]["schemas"]["DedicatedEndpointStatus"]
    status["required"].append("phase")
    phase = status["properties"]["phase"]
    del phase["anyOf"]
    phase["type"] = "string"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """openapi.yaml, generated/, scripts/ and the facade, copied."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy2(ROOT / "openapi.yaml", root / "openapi.yaml")
    for folder in ("generated", "scripts", "facade"):
        ignored = shutil.ignore_patterns("__pycache__", "*.egg-info")
        shutil.copytree(ROOT / folder, root / folder, ignore=ignored)
    return root


class TestUpdateReport:
    @pytest.mark.parametrize(
        ("mutation", "wire", "removed", "facade_imports"),
        [
            pytest.param(
                rename_schema("UrlImageItem", "UrlImage"),
                {"breaking": 0, "non-breaking": 0},
                [f"{MODELS}.UrlImageItem", f"{MODELS}.url_image_item"],
                False,
                id="UrlImageItem-renamed",
            ),
            pytest.param(
                rename_schema("DedicatedImageGenerationBody", "ImageGenerationBody"),
                {"breaking": 0, "non-breaking": 0},
                [
                    f"{MODELS}.DedicatedImageGenerationBody",
                    f"{MODELS}.ImageResponseFormat",
                    f"{MODELS}.dedicated_image_generation_body",
                    f"{MODELS}.image_response_format",
                ],
                False,
                id="DedicatedImageGenerationBody-renamed",
            ),
            pytest.param(
                close_url_item,
                {"breaking": 0, "non-breaking": operations_using("UrlImageItem")},
                [
                    f"{MODELS}.url_image_item.UrlImageItem.__contains__",
                    f"{MODELS}.url_image_item.UrlImageItem.__delitem__",
                    f"{MODELS}.url_image_item.UrlImageItem.__getitem__",
                    f"{MODELS}.url_image_item.UrlImageItem.__setitem__",
                    f"{MODELS}.url_image_item.UrlImageItem.additional_keys",
                    f"{MODELS}.url_image_item.UrlImageItem.additional_properties",
                ],
                True,
                id="response-additionalProperties-false",
            ),
        ],
    )
    def test_importers_see_the_break(
        self,
        project: Path,
        tmp_path: Path,
        mutation: Callable[[Spec], None],
        wire: dict[str, int],
        removed: list[str],
        facade_imports: bool,
    ) -> None:
        """Wire counts stay as they were; the Python API section names what importers lose."""
        spec = copy.deepcopy(BASE)
        mutation(spec)
        source = tmp_path / "upstream.yaml"
        source.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        report_json, report_md = tmp_path / "report.json", tmp_path / "report.md"

        status = update_spec.main(
            [
                "--source",
                str(source),
                "--dry-run",
                "--report-json",
                str(report_json),
                "--report-md",
                str(report_md),
            ],
            root=project,
        )

        data = json.loads(report_json.read_text(encoding="utf-8"))
        assert 12 == status
        assert wire == {key: data["counts"][key] for key in wire}
        python = data["python_api"]["changes"]
        gone = [change["pointer"] for change in python if change["message"].startswith("removed")]
        assert removed == gone
        assert facade_imports == data["facade"].startswith("imports"), data["facade"]
        markdown = report_md.read_text(encoding="utf-8")
        assert "### Python API of `friendli_images_api` (importers)" in markdown
        assert markdown.endswith("Verdict: BREAKING\n")

    @pytest.mark.parametrize(
        ("mutation", "status", "python_class", "wording"),
        [
            pytest.param(
                new_optional_header, 11, "non-breaking", "not breaking: new optional parameter",
                id="new-optional-header",
            ),
            pytest.param(
                phase_always_a_string, 11, "non-breaking", "response attribute narrowed",
                id="response-attribute-narrowed",
            ),
            pytest.param(
                team_header_default, 12, "breaking", "breaking (behaviour)",
                id="header-gains-default",
            ),
            pytest.param(
                steps_become_numbers, 12, "breaking", "breaking for code that reads it back",
                id="request-attribute-widened",
            ),
        ],
    )  # fmt: skip
    def test_verdict_follows_the_python_rules(
        self,
        project: Path,
        tmp_path: Path,
        mutation: Callable[[Spec], None],
        status: int,
        python_class: str,
        wording: str,
    ) -> None:
        """A Python-API change that is not breaking leaves the verdict non-breaking (exit 11);
        a changed header default or a widened request field makes it BREAKING, saying which."""
        spec = copy.deepcopy(BASE)
        mutation(spec)
        source = tmp_path / "upstream.yaml"
        source.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        report_json, report_md = tmp_path / "report.json", tmp_path / "report.md"

        reports = ["--report-json", str(report_json), "--report-md", str(report_md)]

        exit_status = update_spec.main(
            ["--source", str(source), "--dry-run", *reports], root=project
        )

        data = json.loads(report_json.read_text(encoding="utf-8"))
        python = data["python_api"]["changes"]
        assert python, "the mutation changes the generated package"
        assert {python_class} == {change["class"] for change in python}
        assert all(wording in change["message"] for change in python), python
        assert status == exit_status
        assert wording in report_md.read_text(encoding="utf-8")

    def test_void_class_override_is_reported(self, project: Path, tmp_path: Path) -> None:
        """Renaming the body voids the ImageResponseFormat override; the report names it."""
        spec = copy.deepcopy(BASE)
        rename_schema("DedicatedImageGenerationBody", "ImageGenerationBody")(spec)
        source = tmp_path / "upstream.yaml"
        source.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        report_json = tmp_path / "report.json"

        update_spec.main(
            ["--source", str(source), "--dry-run", "--report-json", str(report_json)], root=project
        )

        python = json.loads(report_json.read_text(encoding="utf-8"))["python_api"]["changes"]
        overrides = [change for change in python if change["pointer"] == "class_overrides"]
        assert ["DedicatedImageGenerationBodyResponseFormatType0 → ImageResponseFormat"] == [
            change["location"] for change in overrides
        ]
        assert all(change["class"] == "breaking" for change in overrides)
