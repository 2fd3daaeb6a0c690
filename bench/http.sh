#!/usr/bin/env bash
# HTTP benchmark: the same upstream measured three ways in one run, with wrk.
#   direct     wrk → upstream (nginx serving Okta-shaped JSON)
#   nginx      wrk → nginx reverse proxy → upstream
#   portcullis wrk → Portcullis (token validation, policy, masking, recording on) → upstream
# Prints requests/s and p99 latency for each and the ratios portcullis/direct, portcullis/nginx; for the gateway,
# its CPU and allocation per call and its own time per call (p50, p99 of portcullis_gateway_added_seconds: from
# taking a call in (token check included) to its outcome recorded, the upstream's part taken out).
# With PERF=1, perf stat counts the gateway's system calls, context switches and migrations per call.
# With PERF_SYSCALLS=1 as well, the system calls of its I/O one by one (read, write, epoll_wait, futex...).
# With JFR_DIR=dir, the gateway's measured run is flight-recorded there (JFR, profile settings).
# With PERF_RECORD_DIR=dir, perf samples it there (a flat profile, kernel included; bench/lib.sh).
# Usage: [WARMUP=seconds] [PERF=1 [PERF_SYSCALLS=1]] [JFR_DIR=dir] [PERF_RECORD_DIR=dir] bench/http.sh [duration-seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DURATION=${1:-15}
CONNECTIONS=${2:-32}
THREADS=$(( CONNECTIONS < 2 ? CONNECTIONS : 2 ))   # wrk needs a connection per thread
# Every path gets the same warm-up. On two cores the JVM's C2 compiler still used ~30% of the
# gateway's CPU after 10 s of load (perf, 2026-11-23), which measured a half-compiled gateway.
WARMUP=${WARMUP:-40}
for tool in wrk nginx; do
  command -v $tool >/dev/null || { echo "bench: installing wrk and nginx-light"; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null; break; }
done

WORK=$(mktemp -d /tmp/portcullis-bench.XXXX)
chmod 755 "$WORK"   # nginx workers run unprivileged
UP=18091; PROXY=18092; GW=18093; ADMIN=18094; ISSUER=18095
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

start_nginx "$WORK" "$UP" "$PROXY"

# Portcullis in dev mode pointed at the same upstream: dev issuer, Okta policy with masking, recording.
PORTCULLIS_DATA="$WORK/data" bin/portcullis dev --upstream "http://127.0.0.1:$UP" \
  --listen 127.0.0.1:$GW --admin 127.0.0.1:$ADMIN --issuer-port $ISSUER --token-file "$WORK/token" \
  --log-level warn > "$WORK/portcullis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do [ -s "$WORK/token" ] && curl -sf "http://127.0.0.1:$ADMIN/readyz" >/dev/null && break; sleep 0.5; done
[ -s "$WORK/token" ] || { echo "bench: portcullis did not start"; cat "$WORK/portcullis.log"; exit 1; }
TOKEN=$(cat "$WORK/token")
PATH_UNDER_TEST=/api/v1/users/00ub0oNGTSWTBKOLGLNR

check=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$GW$PATH_UNDER_TEST")
echo "$check" | grep -q 'isaac.brock@example.com' && { echo "bench: masking is off, refusing to measure"; exit 1; }
echo "$check" | grep -q '00ub0oNGTSWTBKOLGLNR' || { echo "bench: portcullis did not answer: $check"; exit 1; }

warm_up() { # url [wrk options]: JIT, pools; two runs, so connections have ended and started once (bench/lib.sh)
  local url=$1 seconds
  shift
  for seconds in $(warmup_runs "$WARMUP"); do
    [ "$seconds" -gt 0 ] && wrk -t$THREADS -c$CONNECTIONS -d${seconds}s "$@" "$url" >/dev/null 2>&1
  done
  return 0
}
run() { # name url [auth]
  local name=$1 url=$2
  shift 2
  warm_up "$url" "$@"
  wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency "$@" "$url" > "$WORK/$name.txt" 2>&1
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/$name.txt")
  local errors
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$WORK/$name.txt")
  [ -n "$errors" ] && echo "  ($name: $errors)" >&2
  echo "$name $rps $p99"
}
to_ms() { # wrk latency like 1.23ms / 850.00us / 1.02s → milliseconds
  awk -v v="$1" 'BEGIN { n=v; sub(/[a-z]+$/,"",n); u=v; sub(/^[0-9.]+/,"",u);
    if (u=="us") n=n/1000; else if (u=="s") n=n*1000; printf "%.3f", n }'
}

echo "Portcullis HTTP benchmark: GET $PATH_UNDER_TEST, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s after ${WARMUP}s warm-up, $(nproc) cores"
direct=$(run direct "http://127.0.0.1:$UP$PATH_UNDER_TEST")
nginx=$(run nginx "http://127.0.0.1:$PROXY$PATH_UNDER_TEST")
GW_PID=${pids[0]}
# What one operation costs the gateway, over the measured run only (the warm-up runs first, inside run):
# CPU from /proc (user + system), allocation from the JVM's own counter, operations from its metrics.
warm_up "http://127.0.0.1:$GW$PATH_UNDER_TEST" -H "Authorization: Bearer $TOKEN"
before=$(gateway_figures "$GW_PID" "$ADMIN")
added_buckets "$ADMIN" > "$WORK/added.before"
if [ -n "${JFR_DIR:-}" ]; then # a flight recording of the measured run, to read later
  jfr_start "$GW_PID" http "$DURATION" "$JFR_DIR/http-$CONNECTIONS.jfr"
fi
record_pid=
if [ -n "${PERF_RECORD_DIR:-}" ]; then
  perf_record_start "$GW_PID" "http-$CONNECTIONS" "$DURATION" "$PERF_RECORD_DIR"
  record_pid=$!
fi
perf_pid=
if [ "${PERF:-0}" = 1 ]; then # what the kernel does for the gateway over the measured run
  perf_start "$GW_PID" "$DURATION" "$WORK/perf"
  perf_pid=$!
fi
WARMUP_SAVED=$WARMUP; WARMUP=0
portcullis=$(run portcullis "http://127.0.0.1:$GW$PATH_UNDER_TEST" -H "Authorization: Bearer $TOKEN")
WARMUP=$WARMUP_SAVED
[ -n "$perf_pid" ] && wait "$perf_pid"
[ -n "$record_pid" ] && wait "$record_pid"
after=$(gateway_figures "$GW_PID" "$ADMIN")
added_buckets "$ADMIN" > "$WORK/added.after"

printf "\n%-12s %12s %12s\n" path "requests/s" "p99 (ms)"
for line in "$direct" "$nginx" "$portcullis"; do
  set -- $line
  printf "%-12s %12s %12s\n" "$1" "$2" "$(to_ms "$3")"
done
set -- $direct; d_rps=$2; d_p99=$(to_ms "$3")
set -- $nginx; n_rps=$2; n_p99=$(to_ms "$3")
set -- $portcullis; p_rps=$2; p_p99=$(to_ms "$3")
awk -v p="$p_rps" -v d="$d_rps" -v n="$n_rps" -v pp="$p_p99" -v dp="$d_p99" -v np="$n_p99" 'BEGIN {
  printf "\nthroughput portcullis/direct = %.2fx   portcullis/nginx = %.2fx\n", p/d, p/n
  printf "p99 added vs direct = %.3f ms   vs nginx = %.3f ms\n", pp-dp, pp-np }'
events=$(curl -s "http://127.0.0.1:$ADMIN/metrics" | awk '/^portcullis_operations_total/ {s+=$2} END {print s+0}')
echo "operations judged by portcullis during the run: $events"
echo "$before $after $(getconf CLK_TCK)" | awk '{ ops = $6 - $3; if (ops <= 0) ops = 1;
  printf "gateway per operation (measured run): %.1f us CPU, %.1f KB allocated, over %d operations\n",
    ($4 - $1) / $7 * 1e6 / ops, ($5 - $2) / 1024 / ops, ops }' 
# The gateway's own clock: from taking a call in (token check included) to its outcome recorded, the upstream's part taken out. Beside the
# p99 added that wrk sees, it tells the gateway's work from what happens around it (network stack, scheduler, client).
echo "gateway's own time per call (its clock, upstream excluded): $(added_quantiles "$WORK/added.before" "$WORK/added.after")"
if [ "${PERF:-0}" = 1 ]; then
  ops=$(echo "$before $after" | awk '{print $6 - $3}')
  perf_per_op "$WORK/perf" "$ops" "gateway per operation"
fi
