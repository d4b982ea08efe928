#!/usr/bin/env bash
# Proves that a change leaves the synthesized CloudFormation unchanged: synthesizes the example apps
# (scripts/synth-templates.ts: the example apps of emulator/example-app.ts, or of the older layout, several variants) at a
# git ref and in the working tree, and diffs the templates and the synthesis messages, byte for byte.
#
# Usage: bash scripts/compare-templates.sh [--api] [<ref>]   (default: HEAD)
#   --api  also compiles both sides with jsii and compares the public API in the .jsii assembly (every type,
#          property, method, parameter and doc comment; only the source line numbers are left out)
# Exit status: 0 when everything is identical, 1 when something differs (the diff is printed).
#
# The ref is checked out with `git worktree add` into a temporary folder that reuses this checkout's
# node_modules through a symlink, so both sides synthesize with the same aws-cdk-lib. The handler bundle
# (assets/, built by `npx projen bundle`) is shared too when the handler's sources are the same at the ref;
# otherwise it is built in the temporary checkout.
set -euo pipefail

root="$(git rev-parse --show-toplevel)"
cd "$root"
api=false
if [ "${1:-}" = "--api" ]; then
  api=true
  shift
fi
ref="${1:-HEAD}"
commit="$(git rev-parse --verify "${ref}^{commit}")"

if [ ! -d assets/lambda/discovery.lambda ]; then
  echo "compare-templates: no handler bundle in assets/: run npx projen bundle first" >&2
  exit 2
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/compare-templates.XXXXXX")"
base="$tmp/base"
cleanup() {
  git worktree remove --force "$base" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

git worktree add --quiet --detach "$base" "$commit"
ln -s "$root/node_modules" "$base/node_modules"
if git diff --quiet "$commit" -- src/lambda src/shared scripts/bundle-lambda.mjs package-lock.json; then
  ln -s "$root/assets" "$base/assets"
else
  echo "compare-templates: the handler differs at $ref, bundling it there"
  (cd "$base" && npx projen bundle >/dev/null)
fi

synth() { # <checkout> <output folder>
  mkdir -p "$2" "$tmp/cdk.out"
  CDK_OUTDIR="$tmp/cdk.out" TS_NODE_PROJECT="$root/tsconfig.dev.json" \
    npx ts-node --transpile-only "$root/scripts/synth-templates.ts" "$1" "$2"
}

echo "== $ref ($(git log -1 --format='%h %s' "$commit" | cut -c1-100))"
synth "$base" "$tmp/out/ref"
echo "== working tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD && echo '' || echo ', with uncommitted changes'))"
synth "$root" "$tmp/out/worktree"

if [ "$api" = true ]; then
  # The public API as jsii records it, without the source locations (which move when code moves).
  api_of() { # <checkout> <output file>
    (cd "$1" && npx jsii --silence-warnings=reserved-word >"$tmp/jsii.log" 2>&1) || { cat "$tmp/jsii.log" >&2; exit 2; }
    node -e '
      const strip = (v) => Array.isArray(v) ? v.map(strip) : v && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== "locationInModule").map(([k, x]) => [k, strip(x)])) : v;
      const types = JSON.parse(require("fs").readFileSync(process.argv[1] + "/.jsii", "utf8")).types;
      process.stdout.write(JSON.stringify(strip(types), null, 2) + "\n");' "$1" >"$2"
  }
  echo "== public API (jsii)"
  api_of "$base" "$tmp/out/ref/public-api.jsii.json"
  api_of "$root" "$tmp/out/worktree/public-api.jsii.json"
fi

echo "== comparison"
status=0
for f in "$tmp"/out/ref/*.json; do
  name="$(basename "$f")"
  other="$tmp/out/worktree/$name"
  if [ ! -f "$other" ]; then
    echo "MISSING  $name (not written for the working tree)"
    status=1
  elif cmp -s "$f" "$other"; then
    echo "same     $name  sha256 $(sha256sum "$f" | cut -c1-16)  $(wc -c <"$f") bytes"
  else
    echo "DIFFERS  $name"
    diff -u --label "$ref/$name" --label "worktree/$name" "$f" "$other" | head -200 || true
    status=1
  fi
done
if [ "$status" -eq 0 ]; then
  echo "no differences: $(ls "$tmp"/out/ref/*.json | wc -l) files identical between $ref and the working tree"
fi
exit "$status"
