#!/usr/bin/env bash
# Python consumer test: installs the wheel (dist/python) with aws-cdk-lib from PyPI into a fresh
# virtual environment outside the repository, synthesizes examples/python/app.py there and checks the
# template. pip's download cache is kept under the consumer cache (safe: pip verifies what it reuses).
#
# Usage: python.sh [aws-cdk-lib requirement]   (default: the newest aws-cdk-lib 2.x on PyPI)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cdk_lib=${1:-aws-cdk-lib>=2.177.0,<3}
start_timer "consumer python ($cdk_lib)"

wheel=$(require_artifact "$REPO_ROOT/dist/python/*.whl")
new_workdir python
cd "$WORKDIR"
cp -r "$REPO_ROOT/examples/python/." .
"${PYTHON:-python3}" -m venv venv
export PIP_CACHE_DIR="$CACHE_ROOT/pip" PIP_DISABLE_PIP_VERSION_CHECK=1
echo "-- $WORKDIR: pip install $(basename "$wheel") '$cdk_lib'"
venv/bin/pip install --quiet "$wheel" "$cdk_lib"
echo "-- installed: $(venv/bin/pip list --format=freeze 2>/dev/null | grep -E '^(aws-cdk-lib|constructs|jsii|cdk-ecs-public-discovery)==' | tr '\n' ' ')"
venv/bin/python --version
# What PyPI shows: the keywords and the bug tracker that scripts/release/registry_metadata.py adds.
venv/bin/python - <<'PY'
from importlib.metadata import metadata
m = metadata("cdk-ecs-public-discovery")
urls = dict(u.split(", ", 1) for u in m.get_all("Project-URL"))
assert "route53" in m["Keywords"].split(","), m["Keywords"]
assert urls.get("Bug Tracker", "").endswith("/issues"), urls
assert not any(u.endswith(".git") for u in urls.values()), urls
print("-- package metadata: keywords", m["Keywords"], "| links", urls, "| requires python", m["Requires-Python"])
PY
# The app synthesizes into the folder given as argument; no esbuild, Docker or AWS account involved.
AWS_EC2_METADATA_DISABLED=true venv/bin/python app.py cdk.out
node "$CONSUMER_DIR/assert-template.js" cdk.out GameStack mc 30
