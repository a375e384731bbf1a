#!/usr/bin/env bash
# One step of CI, run the same by .ci/run, ci.yml's package job and release.yml's build job:
# build the sdist and the wheel once into dist/, then check them (twine check --strict,
# check-wheel-contents configured in pyproject.toml, the sdist's and the wheel's contents).
set -euo pipefail
cd "$(dirname "$0")/../.."

python -m pip install --quiet "build==1.6.1" "twine==7.0.0" "check-wheel-contents==0.6.3"
rm -rf dist
python -m build
twine check --strict dist/*
# Configuration (the ignored W002 and why): [tool.check-wheel-contents] in pyproject.toml.
check-wheel-contents dist/*.whl

listing="$(tar tzf dist/*.tar.gz)"
for path in LICENSE README.md CHANGELOG.md openapi.yaml pyproject.toml \
    generated/provenance.json tests/conftest.py scripts/regenerate.py bench/run.py \
    mkdocs.yml .ci/constraints-lowest.txt .ci/run .ci/steps/tests.sh .github/workflows/ci.yml; do
    grep -q -x "friendli_images-[^/]*/$path" <<< "$listing" || { echo "sdist lacks $path" >&2; exit 1; }
done

python - <<'PY'
import glob, zipfile
wheel = zipfile.ZipFile(glob.glob("dist/*.whl")[0])
meta = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
text = wheel.read(meta).decode()
assert "License-Expression: Apache-2.0" in text, "no License-Expression"
assert "License-File: LICENSE" in text, "no License-File"
assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel.namelist())
PY
echo "dist/ built and checked"
