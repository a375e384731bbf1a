#!/usr/bin/env bash
# One step of CI, run the same by .ci/run and .github/workflows (see .ci/run). Assumes the
# tools of the `dev` extra are on PATH (the active virtual environment).
set -euo pipefail
cd "$(dirname "$0")/../.."
# The import contracts ([tool.importlinter] in pyproject.toml, CONTRIBUTING.md).
lint-imports --no-cache
