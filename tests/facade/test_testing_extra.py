"""The ``testing`` extra: what happens without it, and what the plugin imports at start-up.

Each case runs in a fresh interpreter whose import system refuses the blocked modules, as
if the extra were not installed (a meta-path finder, no file is touched).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest

INSTALL_HINT = "pip install 'friendli-images[testing]'"


def blocker(*modules: str) -> str:
    """Python source that makes importing ``modules`` (and their submodules) fail."""
    return textwrap.dedent(
        f"""
        import sys

        class _NotInstalled:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in {set(modules)!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None

        sys.meta_path.insert(0, _NotInstalled())
        """
    )


def run_python(source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "missing",
    [pytest.param("jsonschema", id="jsonschema"), pytest.param("PIL", id="pillow")],
)
def test_import_names_the_extra(missing: str) -> None:
    """Without jsonschema or Pillow, importing the testing package says what to install."""
    source = blocker(missing) + textwrap.dedent(
        """
        try:
            import friendli_images.testing
        except ImportError as exc:
            print(exc)
        """
    )

    result = run_python(source)

    assert 0 == result.returncode, result.stderr
    assert INSTALL_HINT in result.stdout
    assert missing in result.stdout


def test_mock_server_command_names_the_extra() -> None:
    """`friendli-images mock-server` without the extra: exit 1 and the pip command, no server."""
    source = blocker("jsonschema", "PIL") + textwrap.dedent(
        """
        from friendli_images._cli import main
        raise SystemExit(main(["mock-server", "--port", "0"]))
        """
    )

    result = run_python(source)

    assert 1 == result.returncode
    assert INSTALL_HINT in result.stderr
    assert "Traceback" not in result.stderr
    assert "listening" not in result.stdout + result.stderr


def test_fixture_names_the_extra(
    pytester: pytest.Pytester, run_user_pytest: Callable[..., pytest.RunResult]
) -> None:
    """The plugin loads without the extra; only tests using the fixture fail, with the hint."""
    pytester.makeconftest(blocker("jsonschema", "PIL"))
    pytester.makepyfile(
        """
        def test_without_server():
            pass

        def test_with_server(friendli_server):
            pass
        """
    )

    result = run_user_pytest()

    result.assert_outcomes(passed=1, errors=1)
    assert INSTALL_HINT in result.stdout.str()
    assert "During handling" not in result.stdout.str()


def test_plugin_does_not_import_the_server() -> None:
    """Loading the pytest plugin leaves the test server (and jsonschema, Pillow) unimported."""
    source = textwrap.dedent(
        """
        import sys
        import friendli_images.pytest_plugin
        print(sorted(
            name for name in ("friendli_images.testing", "jsonschema", "PIL") if name in sys.modules
        ))
        """
    )

    result = run_python(source)

    assert 0 == result.returncode, result.stderr
    assert "[]" == result.stdout.strip()
