#!/usr/bin/env bash
# One step of CI, run the same by .ci/run and .github/workflows (see .ci/run). Assumes the
# tools of the `dev` extra are on PATH (the active virtual environment).
set -euo pipefail
cd "$(dirname "$0")/../.."
# The README's test command (arguments go to pytest), on every core (pytest-xdist, in the
# dev extra; PYTEST_WORKERS=0 runs it in one process).
pytest -n "${PYTEST_WORKERS:-auto}" "$@"
