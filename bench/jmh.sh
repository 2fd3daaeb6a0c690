#!/usr/bin/env bash
# JMH suite of the stages every operation passes (bench/jmh/java/dev/portcullis/bench/HotStages.java):
# token cache hit, policy decision, SQL analysis hit and miss, JSON masking of a 1 KB body, event append.
# Prints microseconds and bytes allocated per operation (-prof gc).
# Usage: bench/jmh.sh [JMH options, e.g. a benchmark name regex or -f 2]
set -euo pipefail
cd "$(dirname "$0")/.."
source bin/lib.sh
JAVA_HOME="$(portcullis_java_home)"; export JAVA_HOME
./mvnw -B -q -Pjmh -DskipTests test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/jmh-classpath.txt
CP="target/test-classes:target/classes:$(cat target/jmh-classpath.txt)"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$CP" org.openjdk.jmh.Main \
  -prof gc -rf text -rff target/jmh-results.txt "${@:-dev.portcullis.bench}"
