# Shared by the benchmark scripts (sourced, not run).

# start_nginx WORK UP PROXY: nginx serving one Okta user (the common GET /api/v1/users/{id}, with an
# email and phones to mask) on 127.0.0.1:UP, and a reverse proxy to it on 127.0.0.1:PROXY that injects
# the target's credential as a gateway would. Writes WORK/nginx.pid.
start_nginx() {
  local WORK=$1 UP=$2 PROXY=$3
  # Upstream content: one Okta user (the common GET /api/v1/users/{id}) with an email and phone to mask.
  mkdir -p "$WORK/www/api/v1/users"
  cat > "$WORK/www/api/v1/users/00ub0oNGTSWTBKOLGLNR" <<'JSON'
{"id":"00ub0oNGTSWTBKOLGLNR","status":"ACTIVE","created":"2013-06-24T16:39:18.000Z","activated":"2013-06-24T16:39:19.000Z","statusChanged":"2013-06-24T16:39:19.000Z","lastLogin":"2013-06-24T17:39:19.000Z","lastUpdated":"2013-07-02T21:36:25.344Z","passwordChanged":"2013-07-02T21:36:25.344Z","type":{"id":"otyfnjfba4ye7pgjB0g4"},"profile":{"firstName":"Isaac","lastName":"Brock","email":"isaac.brock@example.com","login":"isaac.brock@example.com","mobilePhone":"+1-555-415-1337","secondEmail":null,"title":"Engineer","notes":"call +44 20 7946 0958 after 5pm"},"credentials":{"password":{},"provider":{"type":"OKTA","name":"OKTA"}},"_links":{"self":{"href":"https://example.okta.com/api/v1/users/00ub0oNGTSWTBKOLGLNR"}}}
JSON
  cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  keepalive_requests 1000000;
  upstream api { server 127.0.0.1:$UP; keepalive 64; }
  server { listen 127.0.0.1:$UP; root $WORK/www; location / { try_files \$uri =404; } }
  server { listen 127.0.0.1:$PROXY;
    location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Authorization "SSWS bench-api-token"; } }
}
NGINX
  chmod -R a+rX "$WORK/www"
  nginx -c "$WORK/nginx.conf" -p "$WORK"
}

# gateway_figures PID ADMIN: the gateway's CPU ticks (user + system, from /proc), bytes allocated by
# its JVM and operations judged (from its metrics on 127.0.0.1:ADMIN), as "ticks bytes operations".
gateway_figures() {
  local ticks
  ticks=$(awk '{print $14 + $15}' "/proc/$1/stat")
  curl -s "http://127.0.0.1:$2/metrics" | awk -v t="$ticks" '
    /^jvm_gc_memory_allocated_bytes_total/ {a += $2} /^portcullis_operations_total/ {o += $2}
    END {printf "%s %.0f %.0f\n", t, a, o}'
}

# machine_ticks: the whole machine's CPU ticks so far, as "busy idle steal" (idle includes waiting for I/O;
# steal is time the hypervisor gave this VM's CPUs to others). Two readings around a run give how much of
# the machine stood idle or was taken away, and the CPU a transaction cost all the processes together
# (client, proxy, server, kernel): what bounds the throughput when nothing is idle.
machine_ticks() {
  awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $5 + $6, $9}' /proc/stat
}
# machine_figures "BEFORE" "AFTER" OPERATIONS → "idle% steal% busy-µs-per-operation"
machine_figures() {
  echo "$1 $2 $3 $(getconf CLK_TCK)" | awk '{ busy = $4 - $1; idle = $5 - $2; steal = $6 - $3; all = busy + idle + steal
    ops = $7 > 0 ? $7 : 1
    printf "%.0f %.0f %.1f", (all > 0 ? 100 * idle / all : 0), (all > 0 ? 100 * steal / all : 0), busy / $8 * 1e6 / ops }'
}

# The warm-up as two runs, the second a quarter of the whole (at least 5 s): a JVM compiles the code that
# ends and starts connections only once it has run, and the first reconnect after a long warm-up costs a
# burst of C2 compilation (seconds of a core, measured: docs/benchmarks.md). Clients connect and disconnect
# all the time in production, so the steady state to measure is one where that code is compiled too.
# Every path gets the same two runs. Prints "first second" in seconds.
warmup_runs() {
  local total=$1 second
  second=$(( total / 4 < 5 ? 5 : total / 4 ))
  [ "$total" -le "$second" ] && { echo "$total 0"; return; }
  echo "$(( total - second )) $second"
}

# PERF=1: perf stat counts a process's system calls, context switches and migrations for the next N
# seconds, in the background ($! to wait on); perf_per_op then prints each per operation.
# PERF_SYSCALLS=1 as well: the system calls a proxy's I/O is made of, counted one by one (those made at
# least once per hundred operations are printed), so a change of I/O model shows where its calls went.
PERF_SYSCALL_KINDS="read readv recvfrom recvmsg write writev sendto sendmsg epoll_wait epoll_pwait epoll_ctl futex
  pwrite64 pread64 msync fsync fdatasync madvise sched_yield"
perf_start() { # pid seconds file
  local events=raw_syscalls:sys_enter,context-switches,cpu-migrations kind
  if [ "${PERF_SYSCALLS:-0}" = 1 ]; then
    for kind in $PERF_SYSCALL_KINDS; do events="$events,syscalls:sys_enter_$kind"; done
  fi
  perf stat -x, -e "$events" -p "$1" -o "$3" -- sleep "$2" &
}
perf_per_op() { # file operations label
  awk -F, -v ops="$2" -v label="$3" '$3 ~ /sys_enter|context-switches|cpu-migrations/ && ops > 0 && $1 ~ /^[0-9]+$/ {
    kind = $3; sub(/.*:/, "", kind)
    if (kind ~ /^sys_enter_/ && $1 / ops < 0.01) next
    printf "%s: %.1f %s\n", label, $1 / ops, kind }' "$1"
}
# JFR_DIR=dir: a flight recording (JFR, profile settings) of a gateway for the next N seconds.
jfr_start() { # pid name seconds file
  "${JAVA_HOME:+$JAVA_HOME/bin/}jcmd" "$1" JFR.start name="$2" settings=profile duration="$3s" filename="$4" >/dev/null
}
# PERF_RECORD_DIR=dir: perf samples a gateway's every thread, kernel included, for the next N seconds (in the
# background, $! to wait on), then has the JVM write its compiled code's symbols (/tmp/perf-PID.map) so that
# `perf report -i dir/NAME.data --sort sym` names Java methods too: a flat profile of where the CPU goes,
# system calls and page faults included, which a JFR recording does not see (call chains: the kernel's whole, Java's
# only with -XX:+PreserveFramePointer in PORTCULLIS_JAVA_OPTS).
perf_record_start() { # pid name seconds dir
  ( perf record -q -g -F 997 -p "$1" -o "$4/$2.data" -- sleep "$3" 2>/dev/null
    "${JAVA_HOME:+$JAVA_HOME/bin/}jcmd" "$1" Compiler.perfmap >/dev/null ) &
}

# added_buckets ADMIN: the gateway's portcullis_gateway_added_seconds histogram (its own part of each forwarded call,
# from taking it in to recorded, the upstream's part excluded), summed over connections, as "le cumulative-count" lines.
added_buckets() {
  curl -s "http://127.0.0.1:$1/metrics" | awk '/^portcullis_gateway_added_seconds_bucket/ {
      match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); n[le] += $NF }
    END { print 0, 0; for (le in n) print (le == "+Inf" ? 1e9 : le), n[le] }' | sort -g
}
# added_quantiles BEFORE-FILE AFTER-FILE: over the calls between the two readings, the bucket bounds under which
# half and 99% of them fell: "p50<=X ms p99<=Y ms over N calls" (bucket resolution, from 10 µs up).
added_quantiles() {
  awk 'NR == FNR { b[$1] = $2; next } { n++; le[n] = $1; c[n] = $2 - b[$1] } END {
    total = c[n]; if (total <= 0) { print "no forwarded calls measured"; exit }
    for (i = 1; i <= n; i++) { if (!p50 && c[i] >= 0.5 * total) p50 = le[i]; if (!p99 && c[i] >= 0.99 * total) p99 = le[i] }
    printf "p50<=%.3f ms p99<=%.3f ms over %d calls", p50 * 1000, p99 * 1000, total }' "$1" "$2"
}
