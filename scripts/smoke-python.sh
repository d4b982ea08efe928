#!/usr/bin/env bash
# Builds the Python wheel with jsii-pacmak and runs the Python consumer test with it: a fresh venv
# outside the repository, aws-cdk-lib from PyPI, examples/python/app.py synthesized and its template
# checked. Proof that Python users need neither esbuild nor Docker. Downloads from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
npx projen bundle
npx projen compile
PACMAK_TARGETS=python GO_CODE=0 bash scripts/consumer/package.sh
bash scripts/consumer/python.sh
