# Sourced by the consumer scripts: paths, timing and helpers shared by every language.
# shellcheck shell=bash
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONSUMER_DIR="$REPO_ROOT/scripts/consumer"
# Download caches that are safe to keep between runs (content-addressed or versioned).
CACHE_ROOT=${CONSUMER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk-ecs-public-discovery}
mkdir -p "$CACHE_ROOT"

# Every consumer app lives in a fresh temporary folder outside the repository; `new_workdir NAME`
# creates it and sets WORKDIR. It is removed when the script ends, unless KEEP_CONSUMER_DIRS=1.
CLEANUP_DIRS=()
new_workdir() {
  WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/cdk-epd-consumer-$1.XXXXXX")
  CLEANUP_DIRS+=("$WORKDIR")
}

# `start_timer NAME`: prints "== NAME: passed|FAILED in Ns" when the calling script ends.
TIMER_NAME=
on_exit() {
  local rc=$?
  if [ "${KEEP_CONSUMER_DIRS:-0}" != 1 ] && [ ${#CLEANUP_DIRS[@]} -gt 0 ]; then
    rm -rf "${CLEANUP_DIRS[@]}"
  fi
  if [ -n "$TIMER_NAME" ]; then
    echo "== $TIMER_NAME: $([ $rc = 0 ] && echo passed || echo "FAILED (exit $rc)") in $(( $(date +%s) - TIMER_START ))s"
  fi
  exit $rc
}
trap on_exit EXIT
start_timer() {
  TIMER_NAME=$1
  TIMER_START=$(date +%s)
}

# The packages built by scripts/consumer/package.sh.
require_artifact() {
  local pattern=$1 found
  # shellcheck disable=SC2086
  found=$(ls -1 $pattern 2>/dev/null | head -n 1 || true)
  if [ -z "$found" ]; then
    echo "missing $pattern: run 'bash scripts/consumer/package.sh' first" >&2
    exit 1
  fi
  echo "$found"
}

# The version the built packages carry (package.json's, set by projen's bump during a release).
package_version() {
  node -p "require('$REPO_ROOT/package.json').version"
}

# jsii's runtime (used by the Python and Java bindings) prints a banner on every start under Node 20;
# the CI log names the Node version once, so keep the consumer logs readable.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=1
