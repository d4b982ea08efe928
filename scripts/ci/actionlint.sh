#!/usr/bin/env bash
# Lints the GitHub Actions workflows projen generates (.github/workflows/) with actionlint, built from
# source as a Go module at a pinned version through the Go module proxy (checksummed by sum.golang.org).
# The binary is cached per version under ~/.cache, so later runs skip the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=v1.7.12
bin_dir=${XDG_CACHE_HOME:-$HOME/.cache}/cdk-ecs-public-discovery/actionlint-$version
start=$(date +%s)
if [ ! -x "$bin_dir/actionlint" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "actionlint: Go is needed to install actionlint $version (go install github.com/rhysd/actionlint/cmd/actionlint@$version)" >&2
    exit 1
  fi
  GOBIN="$bin_dir" go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
fi
"$bin_dir/actionlint" -version | head -n 1
"$bin_dir/actionlint" -no-color .github/workflows/*.yml
echo "actionlint: $(ls .github/workflows/*.yml | wc -l) workflows clean in $(( $(date +%s) - start ))s"
