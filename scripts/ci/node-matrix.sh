#!/usr/bin/env bash
# Runs the compile (jsii) and the construct, cdk-nag and handler unit tests under other Node.js major versions.
# Each Node.js is installed from npm (the `node` package, which carries the official binary) into a cache
# folder, then put first on PATH; npm and npx run under it too.
# Usage: node-matrix.sh 22 24
set -euo pipefail
cd "$(dirname "$0")/../.."
cache=${XDG_CACHE_HOME:-$HOME/.cache}/cdk-ecs-public-discovery/node
for major in "$@"; do
  start=$(date +%s)
  dir="$cache/$major"
  if [ ! -x "$dir/node_modules/node/bin/node" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --no-save "node@$major" >/dev/null)
  fi
  bin="$dir/node_modules/node/bin"
  echo "== Node.js $("$bin/node" --version)"
  PATH="$bin:$PATH" npx projen compile
  PATH="$bin:$PATH" npx jest --coverage=false --reporters=default --testPathPatterns "test/(construct|lambda|shared)/" "test/nag.test.ts"
  echo "== Node.js $major: passed in $(( $(date +%s) - start ))s"
done
