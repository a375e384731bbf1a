"""scripts/update_spec.py: fetch, filter, report, regenerate; all or nothing."""

from __future__ import annotations

import copy
import hashlib
import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import update_spec
import yaml
from regenerate import Generated
from spec_filter import dump_spec, parse_document, select_operations

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT.parent / "shared" / "upstream" / "openapi-2026-07-22.yaml"
IMAGES = "/dedicated/v1/images/generations"
BASE = parse_document((ROOT / "openapi.yaml").read_text(encoding="utf-8"), "openapi.yaml")
ONE_OPERATION = "dedicatedImagesGenerate"
MODEL = Path("generated/friendli_images_api/models/dedicated_image_generation_body.py")

Spec = dict[str, Any]
Routes = dict[str, tuple[int, dict[str, str], bytes]]
"""Loopback server routes: path -> (status, headers, body)."""


def digest(root: Path) -> dict[str, str]:
    """sha256 of openapi.yaml and of every file under generated/."""
    files = [root / "openapi.yaml", *sorted((root / "generated").rglob("*"))]
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in files
        if path.is_file() and "__pycache__" not in path.parts
    }


def leftovers(root: Path) -> list[str]:
    """Temporary files or folders an update may have left beside openapi.yaml or generated/."""
    return sorted(path.name for path in root.iterdir() if path.name.startswith("."))


def with_body_property(name: str, *, required: bool) -> Spec:
    spec = copy.deepcopy(BASE)
    body = spec["components"]["schemas"]["DedicatedImageGenerationBody"]
    body["properties"][name] = {"type": "string", "title": name.title(), "description": "New."}
    if required:
        body["required"].append(name)
    return spec


def write(path: Path, spec: Spec) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of openapi.yaml, generated/ and scripts/ to update without touching the real tree."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy2(ROOT / "openapi.yaml", root / "openapi.yaml")
    for folder in ("generated", "scripts"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture
def fake_generate(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the (3 s) generator with a copy of generated/ stamped with the spec's hash."""
    calls: list[Path] = []

    def generate(spec_path: Path, workdir: Path) -> Generated:
        calls.append(spec_path)
        tree = workdir / "generated"
        shutil.copytree(ROOT / "generated", tree, ignore=shutil.ignore_patterns("__pycache__"))
        stamp = hashlib.sha256(spec_path.read_bytes()).hexdigest()
        (tree / "provenance.json").write_text(json.dumps({"spec_sha256": stamp}) + "\n")
        return Generated(tree=tree, fixes=[])

    monkeypatch.setattr(update_spec, "generate", generate)
    return calls


def track_one_operation(project: Path) -> Spec:
    """Make ``project`` track only the image generation operation; return its upstream.

    The project's tracked list, copied from the repository, names whatever the project tracks
    today; a test whose fixture is a one-operation spec writes its own list to match it, and
    openapi.yaml as update_spec.py would write it for that list.
    """
    (project / update_spec.TRACKED_FILE).write_text(f"{ONE_OPERATION}\n", encoding="utf-8")
    upstream = select_operations(BASE, [ONE_OPERATION]).spec
    (project / "openapi.yaml").write_text(dump_spec(upstream), encoding="utf-8")
    return upstream


def run(project: Path, *args: str | Path) -> int:
    return update_spec.main([str(arg) for arg in args], root=project)


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[Routes] = {}

    def do_GET(self) -> None:
        status, headers, payload = self.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def server() -> Iterator[tuple[str, Routes]]:
    """A loopback HTTP server; tests fill in its routes."""
    routes: Routes = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class TestErrors:
    def test_unreachable_source(self, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A source nobody listens on fails with a clear message; nothing is written."""
        before = digest(project)

        status = run(project, "--source", f"http://127.0.0.1:{closed_port()}/openapi.yaml")

        assert update_spec.EXIT_ERROR == status
        assert "cannot fetch http://127.0.0.1:" in capsys.readouterr().err
        assert before == digest(project)

    def test_http_error(
        self, project: Path, server: tuple[str, Routes], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An HTTP error status is an error, not an empty spec."""
        url, _ = server
        before = digest(project)

        status = run(project, "--source", f"{url}/missing.yaml")

        assert update_spec.EXIT_ERROR == status
        assert "HTTP 404" in capsys.readouterr().err
        assert before == digest(project)

    def test_missing_file(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A local source that does not exist is an error."""
        before = digest(project)

        status = run(project, "--source", tmp_path / "nowhere.yaml")

        assert update_spec.EXIT_ERROR == status
        assert "cannot read" in capsys.readouterr().err
        assert before == digest(project)

    def test_malformed_yaml(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Malformed YAML is an error naming the source; the error report is written."""
        source = tmp_path / "broken.yaml"
        source.write_text("openapi: 3.1.0\npaths: {\n  /x: [\n", encoding="utf-8")
        report = tmp_path / "report.json"
        before = digest(project)

        status = run(project, "--source", source, "--report-json", report)

        assert update_spec.EXIT_ERROR == status
        assert f"{source} is not valid YAML or JSON" in capsys.readouterr().err
        assert before == digest(project)
        assert json.loads(report.read_text())["verdict"] is None

    def test_not_openapi_3(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A Swagger 2 document is refused."""
        source = write(tmp_path / "swagger.yaml", {"swagger": "2.0", "paths": {}})
        before = digest(project)

        status = run(project, "--source", source)

        assert update_spec.EXIT_ERROR == status
        assert "is not an OpenAPI 3.x document" in capsys.readouterr().err
        assert before == digest(project)

    def test_tracked_operation_missing(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A tracked operation gone upstream is reported as a breaking removal; nothing written."""
        spec = copy.deepcopy(BASE)
        spec["paths"][IMAGES]["post"]["operationId"] = "renamedOperation"
        source = write(tmp_path / "upstream.yaml", spec)
        markdown, report = tmp_path / "report.md", tmp_path / "report.json"
        before = digest(project)

        status = run(project, "--source", source, "--report-md", markdown, "--report-json", report)

        assert update_spec.EXIT_ERROR == status
        assert (
            "tracked operation(s) missing upstream: dedicatedImagesGenerate"
            in capsys.readouterr().err
        )
        assert before == digest(project)
        data = json.loads(report.read_text())
        assert "BREAKING" == data["verdict"]
        statuses = {op["operationId"]: op["status"] for op in data["operations"]}
        assert "removed" == statuses[ONE_OPERATION]
        assert data["outcome"].startswith("not applied")
        assert markdown.read_text().endswith("Verdict: BREAKING\n")

    def test_dangling_ref(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A reference the tracked operation needs that points at nothing is an error."""
        spec = copy.deepcopy(BASE)
        del spec["components"]["schemas"]["ImageInput"]
        source = write(tmp_path / "upstream.yaml", spec)
        before = digest(project)

        status = run(project, "--source", source)

        assert update_spec.EXIT_ERROR == status
        assert "'#/components/schemas/ImageInput' points at nothing" in capsys.readouterr().err
        assert before == digest(project)

    def test_failing_regeneration(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A spec the generator warns about (XML-only response) changes nothing (real generator)."""
        spec = copy.deepcopy(BASE)
        responses = spec["paths"][IMAGES]["post"]["responses"]
        responses["200"]["content"] = {
            "application/xml": responses["200"]["content"]["application/json"]
        }
        source = write(tmp_path / "upstream.yaml", spec)
        report = tmp_path / "report.json"
        before = digest(project)

        status = run(project, "--source", source, "--report-json", report)

        assert update_spec.EXIT_ERROR == status
        assert "regeneration failed" in capsys.readouterr().err
        assert before == digest(project)
        assert [] == leftovers(project)
        assert "BREAKING" == json.loads(report.read_text())["verdict"]

    def test_swap_failure_restores_openapi_yaml(
        self,
        project: Path,
        tmp_path: Path,
        fake_generate: list[Path],
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """If generated/ cannot be swapped in, the already written openapi.yaml is put back."""

        def broken_swap(new_tree: Path, target: Path) -> None:
            assert (project / "openapi.yaml").read_text() != (ROOT / "openapi.yaml").read_text()
            raise OSError("disk full")

        monkeypatch.setattr(update_spec, "swap_in", broken_swap)
        source = write(tmp_path / "upstream.yaml", with_body_property("style", required=False))
        before = digest(project)

        status = run(project, "--source", source)

        assert update_spec.EXIT_ERROR == status
        assert "could not write the update: disk full" in capsys.readouterr().err
        assert before == digest(project)
        assert [] == leftovers(project)


class TestUpdate:
    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            (with_body_property("style", required=False), 11),
            (with_body_property("style", required=True), 12),
        ],
    )
    def test_exit_status_and_write(
        self, project: Path, tmp_path: Path, fake_generate: list[Path], spec: Spec, expected: int
    ) -> None:
        """A change is written to openapi.yaml and generated/; the exit status is its verdict."""
        source = write(tmp_path / "upstream.yaml", spec)

        status = run(project, "--source", source)

        assert expected == status
        written = (project / "openapi.yaml").read_text(encoding="utf-8")
        assert "style:" in written
        stamp = hashlib.sha256(written.encode()).hexdigest()
        assert stamp in (project / "generated" / "provenance.json").read_text()
        assert [] == leftovers(project)

    def test_documentation_only(
        self, project: Path, tmp_path: Path, fake_generate: list[Path]
    ) -> None:
        """A description change exits 10."""
        spec = copy.deepcopy(BASE)
        operation = spec["paths"][IMAGES]["post"]
        operation["description"] = f"{operation.get('description', '')} Now reworded."

        assert 10 == run(project, "--source", write(tmp_path / "upstream.yaml", spec))

    def test_dry_run_writes_nothing(
        self, project: Path, tmp_path: Path, fake_generate: list[Path]
    ) -> None:
        """--dry-run reports the verdict and the generated/ changes but writes neither."""
        source = write(tmp_path / "upstream.yaml", with_body_property("style", required=True))
        markdown, report = tmp_path / "out" / "report.md", tmp_path / "out" / "report.json"
        before = digest(project)

        status = run(
            project,
            "--source",
            source,
            "--dry-run",
            "--report-md",
            markdown,
            "--report-json",
            report,
        )

        assert 12 == status
        assert before == digest(project)
        data = json.loads(report.read_text())
        assert "BREAKING" == data["verdict"]
        assert ["changed provenance.json"] == data["generated"]
        assert data["outcome"].startswith("dry run")
        assert "Verdict: BREAKING" == markdown.read_text().splitlines()[-1]

    def test_unchanged_upstream_is_byte_identical(
        self,
        project: Path,
        server: tuple[str, Routes],
        fake_generate: list[Path],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """An unchanged upstream (JSON, behind a redirect) changes no byte and skips generation."""
        url, routes = server
        track_one_operation(project)
        routes["/latest"] = (302, {"Location": "/openapi.json"}, b"")
        routes["/openapi.json"] = (
            200,
            {"Content-Type": "application/json"},
            json.dumps(BASE).encode(),
        )
        before = digest(project)

        status = run(project, "--source", f"{url}/latest")

        assert 0 == status
        assert before == digest(project)
        assert [] == fake_generate
        assert "already matches upstream" in capsys.readouterr().out

    def test_tracked_list(self, tmp_path: Path) -> None:
        """The tracked list ignores comments, blank lines and repeats."""
        listing = tmp_path / "tracked.txt"
        listing.write_text(
            "# comment\n\nfirstOp  # trailing\nsecondOp\nfirstOp\n", encoding="utf-8"
        )

        assert ["firstOp", "secondOp"] == update_spec.read_tracked(listing)

    def test_empty_tracked_list(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An empty tracked list is an error, not an empty spec."""
        listing = tmp_path / "tracked.txt"
        listing.write_text("# nothing\n", encoding="utf-8")
        before = digest(project)

        status = run(project, "--source", write(tmp_path / "u.yaml", BASE), "--tracked", listing)

        assert update_spec.EXIT_ERROR == status
        assert "lists no operationId" in capsys.readouterr().err
        assert before == digest(project)

    def test_help_documents_exit_statuses(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--help lists every exit status."""
        with pytest.raises(SystemExit):
            update_spec.main(["--help"])

        text = capsys.readouterr().out
        for line in (
            "0   no change",
            "10  documentation only",
            "11  non-breaking",
            "12  BREAKING",
            "1   error",
        ):
            assert line in text


class TestEndToEnd:
    def test_real_update_then_check(self, project: Path, tmp_path: Path) -> None:
        """A real update regenerates the model with the new field and leaves no drift."""
        source = write(
            tmp_path / "upstream.yaml", with_body_property("negative_prompt", required=False)
        )
        report = tmp_path / "report.json"

        status = run(project, "--source", source, "--report-json", report)

        assert 11 == status, report.read_text()
        assert "negative_prompt" in (project / MODEL).read_text(encoding="utf-8")
        assert "negative_prompt" not in (ROOT / MODEL).read_text(encoding="utf-8")
        data = json.loads(report.read_text())
        assert f"changed {MODEL.relative_to('generated').as_posix()}" in data["generated"]
        check = subprocess.run(
            [sys.executable, str(project / "scripts" / "regenerate.py"), "--check"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert 0 == check.returncode, check.stderr
        after = digest(project)

        again = run(project, "--source", source)

        assert 0 == again
        assert after == digest(project)
        assert [] == leftovers(project)


@pytest.mark.skipif(
    not SNAPSHOT.is_file(),
    reason=f"no upstream snapshot at {SNAPSHOT}: ../shared/upstream/ is not beside this checkout "
    "(a fresh clone has none)",
)
class TestUpstreamSnapshot:
    def test_dry_run_is_documentation_only(
        self, project: Path, tmp_path: Path, fake_generate: list[Path]
    ) -> None:
        """A dry run of the snapshot over a reworded description: documentation only (10)."""
        markdown = tmp_path / "report.md"
        upstream = parse_document(SNAPSHOT.read_text(encoding="utf-8"), str(SNAPSHOT))
        tracked = update_spec.read_tracked(project / update_spec.TRACKED_FILE)
        seed = select_operations(upstream, tracked).spec
        seed["paths"][IMAGES]["post"]["description"] = "Given a description, the model ..."
        (project / "openapi.yaml").write_text(dump_spec(seed), encoding="utf-8")
        before = digest(project)

        status = run(project, "--source", SNAPSHOT, "--dry-run", "--report-md", markdown)

        assert 10 == status
        assert before == digest(project)
        text = markdown.read_text()
        assert "`Generate an image from a text prompt.`" in text
        assert text.endswith("Verdict: documentation only\n")


def with_operation(spec: Spec, path: str, operation_id: str) -> Spec:
    """``spec`` with one more upstream operation, tagged like the tracked one."""
    result = copy.deepcopy(spec)
    tags = result["paths"][IMAGES]["post"].get("tags", [])
    result["paths"][path] = {
        "post": {
            "operationId": operation_id,
            "tags": tags,
            "responses": {"200": {"description": "ok"}},
        }
    }
    return result


class TestRelatedOperations:
    def test_new_untracked_operation_is_reported_and_recorded(
        self, project: Path, tmp_path: Path, fake_generate: list[Path]
    ) -> None:
        """A new upstream image operation is listed as new, and the record keeps it."""
        seen = project / update_spec.SEEN_FILE
        base = track_one_operation(project)
        first = write(tmp_path / "first.yaml", with_operation(base, f"{IMAGES}-old", "oldImageOp"))
        assert 0 == run(project, "--source", first)
        assert "oldImageOp" in seen.read_text(encoding="utf-8")
        upstream = with_operation(
            with_operation(base, f"{IMAGES}-old", "oldImageOp"),
            "/dedicated/v1/images/edits",
            "dedicatedImagesEdit",
        )
        markdown, report = tmp_path / "report.md", tmp_path / "report.json"
        before = digest(project)

        status = run(
            project,
            "--source",
            write(tmp_path / "second.yaml", upstream),
            "--report-md",
            markdown,
            "--report-json",
            report,
        )

        assert 0 == status
        assert before == digest(project)
        related = json.loads(report.read_text())["related_upstream_operations"]
        assert [("oldImageOp", False), ("dedicatedImagesEdit", True)] == [
            (operation["operationId"], operation["new"]) for operation in related
        ]
        text = markdown.read_text()
        assert "**1 new since the last sync**: `dedicatedImagesEdit`" in text
        assert "dedicatedImagesEdit" in seen.read_text(encoding="utf-8")

    def test_dry_run_records_nothing(
        self, project: Path, tmp_path: Path, fake_generate: list[Path]
    ) -> None:
        """Without a record none is marked new; a dry run reports but writes no record."""
        seen = project / update_spec.SEEN_FILE
        seen.unlink(missing_ok=True)
        base = track_one_operation(project)
        upstream = with_operation(base, "/dedicated/v1/images/edits", "dedicatedImagesEdit")
        report = tmp_path / "report.json"

        run(
            project,
            "--source",
            write(tmp_path / "u.yaml", upstream),
            "--dry-run",
            "--report-json",
            report,
        )

        assert not seen.exists()
        related = json.loads(report.read_text())["related_upstream_operations"]
        assert [("dedicatedImagesEdit", None)] == [(op["operationId"], op["new"]) for op in related]


class TestPaths:
    def test_relative_generated_dir(
        self, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Relative --spec-path and --generated-dir work from the current directory (real
        generator: it runs in a temporary directory, where a relative path names nothing)."""
        source = write(tmp_path / "upstream.yaml", with_body_property("style", required=False))
        report = tmp_path / "report.json"
        monkeypatch.chdir(project)

        status = run(
            project,
            "--source",
            source,
            "--dry-run",
            "--spec-path",
            "openapi.yaml",
            "--generated-dir",
            "generated",
            "--report-json",
            report,
        )

        data = json.loads(report.read_text())
        assert 11 == status, data.get("error")
        assert [] == data["warnings"]
        assert any("dedicated_image_generation_body.py" in line for line in data["generated"])
        assert [] == leftovers(project)

    def test_spec_not_matching_generated_is_reported(
        self, project: Path, tmp_path: Path, fake_generate: list[Path]
    ) -> None:
        """A --spec-path that generated/ was not made from (provenance.json's spec hash
        differs) is said in the report, Markdown and JSON, and on stderr."""
        other = tmp_path / "other.yaml"
        other.write_text(dump_spec(with_body_property("style", required=False)), encoding="utf-8")
        source = write(tmp_path / "upstream.yaml", BASE)
        markdown, report = tmp_path / "report.md", tmp_path / "report.json"

        run(
            project,
            "--source",
            source,
            "--dry-run",
            "--spec-path",
            other,
            "--report-md",
            markdown,
            "--report-json",
            report,
        )

        (warning,) = json.loads(report.read_text())["warnings"]
        assert "was not generated from" in warning
        assert str(other) in warning
        assert "[!WARNING]" in markdown.read_text()

    def test_matching_provenance_gives_no_warning(
        self, project: Path, tmp_path: Path, fake_generate: list[Path]
    ) -> None:
        source = write(tmp_path / "upstream.yaml", with_body_property("style", required=False))
        report = tmp_path / "report.json"

        run(project, "--source", source, "--dry-run", "--report-json", report)

        assert [] == json.loads(report.read_text())["warnings"]
