#!/usr/bin/env bash
# One step of CI, run the same by .ci/run and .github/workflows (see .ci/run). Assumes the
# tools of the `dev` extra are on PATH (the active virtual environment).
set -euo pipefail
cd "$(dirname "$0")/../.."
# Warnings are errors. The site goes to $1 (default: a temporary directory).
site="${1:-$(mktemp -d)}"
NO_MKDOCS_2_WARNING=1 mkdocs build --strict --quiet --site-dir "$site"
