#!/usr/bin/env bash
# One step of CI, run the same by .ci/run and ci.yml's test-wheel job: install the wheel of
# dist/ alone in a fresh virtual environment and run the tests of the sdist against it, in
# a directory where the source tree is not importable (facade/ removed; generated/ stays as
# the scripts tests' data, not on the path). Arguments go to pytest (default: the suite).
# Python: $PYTHON, else python3. Installed beside the wheel: its extras $WHEEL_EXTRAS (default
# dev: every tool of the suite) and the requirements $WHEEL_REQUIREMENTS (default none), so
# that a selection of the suite installs only what it needs.
set -euo pipefail
cd "$(dirname "$0")/../.."
dist="$PWD/dist"

work="$(mktemp -d "${TMPDIR:-/tmp}/friendli-images-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT
"${PYTHON:-python3}" -m venv "$work/venv"
if [ -x "$work/venv/Scripts/python.exe" ]; then py="$work/venv/Scripts/python.exe"; else py="$work/venv/bin/python"; fi
wheel="$(ls "$dist"/*.whl)"
# shellcheck disable=SC2086 # the requirements are words on purpose
"$py" -m pip install --quiet --disable-pip-version-check "${wheel}[${WHEEL_EXTRAS:-dev}]" \
    ${WHEEL_REQUIREMENTS:-}

mkdir "$work/src"
tar xzf "$dist"/*.tar.gz -C "$work/src" --strip-components=1
rm -rf "$work/src/facade"
cd "$work/src"
"$py" -c "import friendli_images as f, friendli_images_api as g; print(f.__file__, g.__file__)"
"$py" -c "import friendli_images, sys; sys.exit('the source tree is imported' if '/src/facade' in friendli_images.__file__ else 0)"
"$py" -m pytest "$@"
