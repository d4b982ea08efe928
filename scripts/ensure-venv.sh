#!/usr/bin/env bash
# Creates (or refreshes) the project-local Python virtual environment that holds the AWS API
# emulator (moto_server) and cfn-lint, pinned in requirements-dev.txt. It is idempotent: a stamp
# file records the hash of the requirements, so an up-to-date venv costs one hash computation.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
req=requirements-dev.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
  && "$venv/bin/python" -c 'import moto, cfnlint' 2>/dev/null; then
  exit 0
fi

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "ensure-venv: '$python' was not found; install Python 3.9+ or set PYTHON to its path" >&2
  exit 1
fi

echo "ensure-venv: installing $req into $venv"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
echo "ensure-venv: ready ($("$venv/bin/moto_server" --version 2>/dev/null || echo moto), $("$venv/bin/cfn-lint" --version))"
