#!/usr/bin/env bash
# One step of CI, run the same by .ci/run and ci.yml's ray job: the ray extra (79 MB, kept
# out of dev), the stage's tests on a local Ray cluster (tests/ray, marker ray) and the
# smoke run of its benchmark (tests/bench, marker ray: bench/ray_stage.py --quick), and
# mypy again, now with Ray's own types at the stage's boundary.
set -euo pipefail
cd "$(dirname "$0")/../.."
python -m pip install --quiet -e ".[dev,ray]"
# Arguments go to pytest (default: the stage's tests and the Ray benchmark's smoke test).
if [ "$#" -eq 0 ]; then set -- tests/ray tests/bench; fi
pytest -m ray "$@"
mypy
