#!/usr/bin/env bash
# Builds every package the consumer tests install, in one jsii-pacmak call (it builds the targets in
# parallel): the npm tarball (dist/js), the Python wheel (dist/python), the Maven artifacts (dist/java)
# and the Go module source (dist/go). Expects a compiled assembly (.jsii) and the bundled handler
# (assets/), which `.ci/run` produces with `npx projen compile` and `npm test`.
# Maven's downloads go to a local repository under the consumer cache, reused between runs.
set -euo pipefail
source "$(dirname "$0")/common.sh"
start_timer "package (jsii-pacmak --targets ${PACMAK_TARGETS:=js,python,java,go})"
cd "$REPO_ROOT"

if [ ! -f assets/lambda/discovery.lambda/index.js ]; then
  npx projen bundle
fi
if [ ! -f .jsii ]; then
  npx projen compile
fi
rm -rf dist
npx jsii-pacmak --targets "$PACMAK_TARGETS" --maven-local-repository "$CACHE_ROOT/m2-pacmak"
find dist -maxdepth 2 \( -name '*.tgz' -o -name '*.whl' -o -name 'go.mod' \) -printf '   %p %s bytes\n'
find dist/java -name '*.jar' -printf '   %p %s bytes\n' 2>/dev/null || true
