#!/usr/bin/env bash
# Builds the Python wheel with jsii-pacmak, installs it with aws-cdk-lib into a throwaway venv and
# synthesizes examples/python/app.py: proof that Python users need neither esbuild nor Docker.
# Downloads aws-cdk-lib from PyPI; not part of `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
npx projen compile
npx projen package:python
venv=.smoke-venv
rm -rf "$venv" "$venv-out"
"${PYTHON:-python3}" -m venv "$venv"
cdk_version=$(node -p "require('./package.json').devDependencies['aws-cdk-lib']")
"$venv/bin/pip" install --quiet --disable-pip-version-check dist/python/*.whl "aws-cdk-lib==$cdk_version"
"$venv/bin/python" examples/python/app.py "$venv-out"
