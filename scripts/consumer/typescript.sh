#!/usr/bin/env bash
# TypeScript consumer test: installs the npm tarball (dist/js) into a fresh copy of examples/typescript
# outside the repository, with the given aws-cdk-lib and cdk-nag, compiles it with tsc (strict) and
# synthesizes it with the AWS CDK CLI (`cdk synth`) while neither esbuild nor docker is on PATH. Then it
# checks the template (assert-template.js), runs cdk-nag's AwsSolutions pack (nag-check.js) and cfn-lint.
#
# Usage: typescript.sh <label> <aws-cdk-lib version> <cdk-nag version> <constructs version>
#   e.g. typescript.sh min 2.177.0 2.37.55 10.0.5;  typescript.sh latest latest '^3' latest
set -euo pipefail
source "$(dirname "$0")/common.sh"
label=${1:?label} cdk_lib=${2:?aws-cdk-lib version} cdk_nag=${3:?cdk-nag version} constructs=${4:?constructs version}
start_timer "consumer typescript ($label: aws-cdk-lib@$cdk_lib, cdk-nag@$cdk_nag)"

tarball=$(require_artifact "$REPO_ROOT/dist/js/cdk-ecs-public-discovery@*.jsii.tgz")
new_workdir "ts-$label"
cd "$WORKDIR"
cp -r "$REPO_ROOT/examples/typescript/." .
rm -rf node_modules cdk.out
cp "$CONSUMER_DIR/nag-check.js" .

echo "-- $WORKDIR: npm install $(basename "$tarball") aws-cdk-lib@$cdk_lib cdk-nag@$cdk_nag constructs@$constructs"
# The CLI's latest 2.x line reads the cloud assemblies of every aws-cdk-lib 2.x.
npm install --no-audit --no-fund --loglevel=error \
  "$tarball" "aws-cdk-lib@$cdk_lib" "constructs@$constructs" "cdk-nag@$cdk_nag" \
  "aws-cdk@^2" "typescript@~5.9.3" "@types/node@^20"
echo "-- installed: $(node -p "['aws-cdk-lib','constructs','cdk-nag','aws-cdk','cdk-ecs-public-discovery'].map(p => p + '@' + require(p + '/package.json').version).join(' ')")"
npx tsc

# A PATH without esbuild and docker: only the directories holding neither.
clean_path=
IFS=: read -r -a dirs <<< "$PATH"
for d in "${dirs[@]}"; do
  if [ -n "$d" ] && [ ! -e "$d/esbuild" ] && [ ! -e "$d/docker" ]; then
    clean_path=${clean_path:+$clean_path:}$d
  fi
done
# No AWS credentials, no instance metadata: nothing may reach AWS.
env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
  PATH="$clean_path" AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_VERSION_CHECK=1 \
  bash -c '
    set -euo pipefail
    for tool in esbuild docker; do
      if command -v "$tool" >/dev/null 2>&1 || [ -e node_modules/.bin/$tool ]; then
        echo "$tool is reachable: the test needs a PATH without it" >&2; exit 1
      fi
    done
    echo "-- npx cdk synth (esbuild: not found, docker: not found)"
    npx cdk synth --no-notices --quiet --output cdk.out
    node "$0" cdk.out GameStack mc 30
    echo "-- cdk-nag"
    node nag-check.js "$1"
    echo "-- cfn-lint"
    # The pinned cfn-lint of the project venv (npm test creates it). W3005: aws-cdk-lib adds a DependsOn on the
    # function role that the Role property already implies (as in test/cfn-lint.test.ts).
    "$2" --regions us-east-1 eu-west-1 ap-southeast-2 --ignore-checks W3005 -- cdk.out/GameStack.template.json
    echo "cfn-lint: no finding"
  ' "$CONSUMER_DIR/assert-template.js" "$CONSUMER_DIR/nag-allowlist.json" "$REPO_ROOT/.venv/bin/cfn-lint"
