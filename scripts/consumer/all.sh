#!/usr/bin/env bash
# Runs every consumer test against the packages in dist/ (build them first with package.sh).
# The tests are independent (each works in its own temporary folder), so they run in parallel; each
# one's output goes to a log printed when it ends, in start order, with its duration.
set -euo pipefail
cd "$(dirname "$0")"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
names=() pids=()
background() { # background NAME COMMAND...
  local name=$1
  shift
  names+=("$name")
  ( "$@" ) > "$logs/${#names[@]}.log" 2>&1 &
  pids+=($!)
}

# Both ends of what the package supports: the declared minimum (peer ^2.177.0, cdk-nag 2, constructs 10.0.5)
# and what a new user installs today (the newest aws-cdk-lib, constructs and the cdk-nag 3 line).
background "typescript, minimum (aws-cdk-lib 2.177.0, cdk-nag 2.37.55)" bash typescript.sh min 2.177.0 2.37.55 10.0.5
background "typescript, newest (aws-cdk-lib latest, cdk-nag ^3)" bash typescript.sh latest latest '^3' latest
background "python, newest aws-cdk-lib 2.x" bash python.sh
background "python, minimum (aws-cdk-lib 2.177.0)" bash python.sh 'aws-cdk-lib==2.177.0'
background "java" bash java.sh

failed=()
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then status=passed; else status=FAILED; failed+=("${names[$i]}"); fi
  echo "== consumer ${names[$i]}: $status; log:"
  sed 's/^/   | /' "$logs/$((i + 1)).log"
done
if [ ${#failed[@]} -gt 0 ]; then
  printf '== consumer test failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "== all consumer tests passed"
