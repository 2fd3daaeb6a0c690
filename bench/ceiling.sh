#!/usr/bin/env bash
# The ceiling of an event-loop gateway on this machine (issue 10's next step), measured against nginx
# in one run with wrk: direct (nginx static), nginx reverse proxy, and EventLoopProxyCeiling (Netty; the
# agent's and the upstream's connection on one loop thread; no token, policy or masking) with and
# without a 1.5 KB append per call to a file (the recording write), and JettyProxyCeiling (Jetty's
# server and client, asynchronous, nothing on a pool or virtual thread) likewise. Not Portcullis: it tells how far
# the design can go before Portcullis's own work is added.
# Usage: [WARMUP=seconds] bench/ceiling.sh [duration-seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
source bin/lib.sh
source bench/lib.sh
JAVA_HOME="$(portcullis_java_home)"; export JAVA_HOME
DURATION=${1:-15}
CONNECTIONS=${2:-32}
THREADS=$(( CONNECTIONS < 2 ? CONNECTIONS : 2 ))
WARMUP=${WARMUP:-20}
for tool in wrk nginx; do
  command -v $tool >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null; break; }
done
./mvnw -B -q -Pjmh -DskipTests test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/jmh-classpath.txt
CP="target/test-classes:target/classes:$(cat target/jmh-classpath.txt)"

WORK=$(mktemp -d /tmp/portcullis-ceiling.XXXX)
chmod 755 "$WORK"
UP=18291; PROXY=18292; LOOP=18293
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
start_nginx "$WORK" "$UP" "$PROXY"
URL_PATH=/api/v1/users/00ub0oNGTSWTBKOLGLNR

run() { # name url → "name req/s p99"
  local name=$1 url=$2
  wrk -t$THREADS -c$CONNECTIONS -d${WARMUP}s "$url" >/dev/null 2>&1
  wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency "$url" > "$WORK/$name.txt" 2>&1
  echo "$name $(awk '/Requests\/sec/ {print $2}' "$WORK/$name.txt") $(awk '$1=="99%" {print $2}' "$WORK/$name.txt")"
}
loop() { # CLASS args... → starts a ceiling proxy, waits for it
  local class=$1; shift
  "$JAVA_HOME/bin/java" -cp "$CP" "dev.portcullis.bench.$class" $LOOP $UP "$@" > "$WORK/loop.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$LOOP$URL_PATH" >/dev/null 2>&1 && return; sleep 0.2; done
  cat "$WORK/loop.log"; exit 1
}
stop_loop() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; sleep 0.5; }

echo "Event-loop ceiling: GET $URL_PATH, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s after ${WARMUP}s warm-up, $(nproc) cores"
results=("$(run direct "http://127.0.0.1:$UP$URL_PATH")" "$(run nginx "http://127.0.0.1:$PROXY$URL_PATH")")
for variant in "1" "2" "1 trail $WORK/trail.log"; do
  loop EventLoopProxyCeiling $variant
  results+=("$(run "loop-${variant%% *}$( [[ $variant == *trail* ]] && echo +trail )" "http://127.0.0.1:$LOOP$URL_PATH")")
  stop_loop
done
for variant in "" "trail $WORK/trail.log"; do
  loop JettyProxyCeiling $variant
  results+=("$(run "jetty-async$( [[ $variant == *trail* ]] && echo +trail )" "http://127.0.0.1:$LOOP$URL_PATH")")
  stop_loop
done
set -- ${results[1]}; nginx_rps=$2
printf "\n%-16s %12s %10s %14s\n" path requests/s p99 "vs nginx"
for line in "${results[@]}"; do
  set -- $line
  printf "%-16s %12s %10s %13.2fx\n" "$1" "$2" "$3" "$(awk -v a="$2" -v b="$nginx_rps" 'BEGIN {print a/b}')"
done
echo "(loop-N: Netty, N event-loop threads; jetty-async: Jetty server and client, handler on the selector,"
echo " response answered from the client's selector; +trail: 1.5 KB appended to a file per call)"
