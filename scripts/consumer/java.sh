#!/usr/bin/env bash
# Java consumer test: installs the jar built by jsii-pacmak (dist/java, with its pom, sources and javadoc)
# into a local Maven repository with `mvn install:install-file`, then compiles and runs a fresh copy of
# examples/java outside the repository against it, and checks the synthesized template.
# The local repository lives under the consumer cache, so Maven's downloads (aws-cdk-lib, plugins) are
# reused between runs; the project's own artifact is removed from it before and after each run.
set -euo pipefail
source "$(dirname "$0")/common.sh"
start_timer "consumer java"

version=$(package_version)
artifact_dir="$REPO_ROOT/dist/java/com/engineal/cdk/ecs-public-discovery/$version"
jar=$(require_artifact "$artifact_dir/ecs-public-discovery-$version.jar")
repo="$CACHE_ROOT/m2"
own="$repo/com/engineal/cdk/ecs-public-discovery"
# Two runs on one machine share the repository: the second waits until the first is done with it.
exec 9>"$CACHE_ROOT/m2.lock"
flock 9
rm -rf "$own"
CLEANUP_DIRS+=("$own")
mvn_opts=(--batch-mode --no-transfer-progress -Dmaven.repo.local="$repo")

pom="$artifact_dir/ecs-public-discovery-$version.pom"
# What Maven Central shows: the readable name scripts/release/registry_metadata.py puts in the pom, with matching checksums.
grep -q '<name>CDK ECS Public Discovery</name>' "$pom" || { echo "the pom has no readable <name>" >&2; exit 1; }
[ "$(sha1sum < "$pom" | cut -d' ' -f1)" = "$(cat "$pom.sha1")" ] || { echo "the pom's .sha1 does not match it" >&2; exit 1; }
echo "-- pom name: $(grep -m1 -o '<name>[^<]*</name>' "$pom")"
echo "-- mvn install:install-file $(basename "$jar") into $repo"
mvn "${mvn_opts[@]}" -q install:install-file -Dfile="$jar" -DpomFile="$artifact_dir/ecs-public-discovery-$version.pom" \
  -Dsources="$artifact_dir/ecs-public-discovery-$version-sources.jar" -Djavadoc="$artifact_dir/ecs-public-discovery-$version-javadoc.jar"

new_workdir java
cd "$WORKDIR"
cp -r "$REPO_ROOT/examples/java/." .
rm -rf target cdk.out
java -version 2>&1 | head -n 1
echo "-- mvn compile exec:java (com.engineal.cdk:ecs-public-discovery:$version)"
AWS_EC2_METADATA_DISABLED=true CDK_OUTDIR="$WORKDIR/cdk.out" \
  mvn "${mvn_opts[@]}" -q -Ddiscovery.version="$version" compile exec:java
mvn "${mvn_opts[@]}" -q -Ddiscovery.version="$version" dependency:list -DincludeGroupIds=software.amazon.awscdk,software.constructs,com.engineal.cdk -DoutputFile=deps.txt >/dev/null 2>&1 \
  && echo "-- resolved: $(grep -oE '[a-z.]+:[a-z-]+:jar:[0-9.]+' deps.txt | tr '\n' ' ')" || true
node "$CONSUMER_DIR/assert-template.js" cdk.out GameStack mc 30
