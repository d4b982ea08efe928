#!/usr/bin/env bash
# Builds every package the consumer tests install, in one jsii-pacmak call (it builds the targets in
# parallel): the npm tarball (dist/js), the Python wheel (dist/python) and the Maven artifacts (dist/java);
# then the Go module source (dist/go), generated without building it. Expects a compiled assembly (.jsii)
# and the bundled handler (assets/), which `.ci/run` produces with `npx projen compile` and `npm test`.
# Maven's downloads go to a local repository under the consumer cache, reused between runs.
set -euo pipefail
source "$(dirname "$0")/common.sh"
PACMAK_TARGETS=${PACMAK_TARGETS:-js,python,java}
MAVEN_NAME=${MAVEN_NAME:-CDK ECS Public Discovery} # as MAVEN_NAME in .projenrc.ts
GO_CODE=${GO_CODE:-1}
start_timer "package (jsii-pacmak --targets $PACMAK_TARGETS$([ "$GO_CODE" = 1 ] && echo ', then go --code-only'))"
cd "$REPO_ROOT"

if [ ! -f assets/lambda/discovery.lambda/index.mjs ]; then
  npx projen bundle
fi
if [ ! -f .jsii ]; then
  npx projen compile
fi
rm -rf dist
npx jsii-pacmak --targets "$PACMAK_TARGETS" --maven-local-repository "$CACHE_ROOT/m2-pacmak"
# The registry metadata jsii-pacmak cannot set (as the release's package:java and package:python tasks do).
python3 scripts/release/registry_metadata.py java dist/java --maven-name "$MAVEN_NAME"
python3 scripts/release/registry_metadata.py python dist/python
# The Go module source only: a full Go build runs `go mod tidy`, which needs every module aws-cdk-go depends on
# from the Go proxy (not all of them are served there for aws-cdk-lib 2.177.0) and compiling aws-cdk-go is long.
if [ "$GO_CODE" = 1 ]; then
  npx jsii-pacmak --targets go --code-only
fi
find dist -maxdepth 3 \( -name '*.tgz' -o -name '*.whl' -o -name 'go.mod' \) -printf '   %p %s bytes\n'
find dist/java -name '*.jar' -printf '   %p %s bytes\n' 2>/dev/null || true
