#!/usr/bin/env bash
# PostgreSQL benchmark: the same PostgreSQL 15 server measured three ways in one run, with pgbench.
#   direct     pgbench → PostgreSQL (SCRAM-SHA-256 over TCP)
#   pgbouncer  pgbench → PgBouncer (session mode) → PostgreSQL
#   portcullis pgbench → Portcullis (token as password, every statement parsed and judged, masking,
#              recording on; examples/postgres.yaml as shipped) → PostgreSQL
# Select-only pgbench (-S, scale 10) with -M simple and -M prepared: TPS and p99 latency for each, and
# the ratios portcullis/direct and portcullis/pgbouncer; the gateway's CPU and allocation per statement and its own
# time per statement (p50, p99 of portcullis_gateway_added_seconds: judging to recorded, the server's part out).
# Then one large result (1,000,000 rows with an email column that Portcullis masks) read with psql directly and through Portcullis: rows/s and ratio.
# With PGSTORE=1, a fourth path: a second Portcullis, the same policy, its store in PostgreSQL (store.type:
# postgres, a database of the same server) instead of the embedded file; its ratio to the embedded store.
# With AGENT=1, another path: a third Portcullis whose upstream goes through a network agent
# (examples/postgres-via-agent.yaml; the agent a separate process on the same machine), and its ratio to
# the gateway that reaches the database itself: what the tunnel costs.
# With RELAY=1, another path: a minimal TCP relay on Netty's event loops (TcpRelayCeiling, bench/jmh: no
# parsing, policy, masking or recording), its ratio to PgBouncer and Portcullis's to it: what any JVM relay
# costs on this machine, apart from what Portcullis's own work adds. RELAY_LOOPS=n gives it n event loops
# (default: one per core); RELAY_TRAIL=1 makes it append 1.5 KB to a file per read of the server's answers
# (one per pgbench statement), the least a relay that records each statement writes.
# With JFR_DIR=dir, the gateway's measured runs are flight-recorded there (JFR, profile settings).
# With PERF_RECORD_DIR=dir, perf samples the gateway's measured runs there (a flat profile, kernel included).
# With PERF=1, perf stat counts the gateway's system calls, context switches and migrations per statement,
# and, for every path, the CPU PostgreSQL's backends spend per transaction (the same queries: what differs
# between paths is what the proxy in front of them does to the machine they share).
# With PERF_SYSCALLS=1 as well, the system calls of its I/O one by one (read, write, epoll_wait, futex...).
# Usage: [WARMUP=seconds] [PGSTORE=1] [AGENT=1] [RELAY=1 [RELAY_LOOPS=n] [RELAY_TRAIL=1]] [PERF=1 [PERF_SYSCALLS=1]] [JFR_DIR=dir] [PERF_RECORD_DIR=dir] bench/postgres.sh [duration-seconds]   (runs as root: the server runs as the postgres OS user)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DURATION=${1:-15}
# Every path gets the same warm-up; a JVM on two cores is still compiling after 10 s (see bench/http.sh).
WARMUP=${WARMUP:-40}
CLIENTS=8
THREADS=2
SCALE=10
LARGE_ROWS=1000000
LARGE_RUNS=3
PGBIN=/usr/lib/postgresql/15/bin
installed=true
for tool in "$PGBIN/initdb" /usr/bin/pgbench /usr/sbin/pgbouncer; do [ -e "$tool" ] || installed=false; done
bin/have-libpg-query || installed=false
$installed || { echo "bench: installing postgresql, postgresql-contrib, pgbouncer and libpg-query-dev"; apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib pgbouncer libpg-query-dev >/dev/null; }
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (PostgreSQL and PgBouncer are started as the postgres OS user)"; exit 1; }
bin/portcullis --version >/dev/null   # builds once here, not twice in the background below

WORK=$(mktemp -d /tmp/portcullis-pgbench.XXXX)
chown postgres:postgres "$WORK"
chmod 755 "$WORK"
used_ports=" "
free_port() { # a loopback port nobody listens on and this script has not handed out yet
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    case "$used_ports" in *" $p "*) continue ;; esac
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    used_ports+="$p "; echo "$p"; return
  done
}
PG=$(free_port); BOUNCER=$(free_port); GW=$(free_port); ADMIN=$(free_port); ISSUER=$(free_port)
GW2=$(free_port); ADMIN2=$(free_port)
GW3=$(free_port); ADMIN3=$(free_port); AGENTS=$(free_port)
RELAY_PORT=$(free_port)
PASSWORD=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -f "$WORK/pgbouncer.pid" ] && kill "$(cat "$WORK/pgbouncer.pid")" 2>/dev/null
  [ -f "$WORK/pgdata/postmaster.pid" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pgdata" -m fast -w stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "bench: $*" >&2; exit 1; }

# PostgreSQL 15: SCRAM for every TCP login (as the gateway and PgBouncer must do), trust on the socket for set-up.
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pgdata" -U postgres -E UTF8 --no-locale -A trust >"$WORK/initdb.log" 2>&1 \
  || { cat "$WORK/initdb.log"; fail "initdb failed"; }
mkdir "$WORK/sock" && chown postgres:postgres "$WORK/sock"
cat >> "$WORK/pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG
unix_socket_directories = '$WORK/sock'
password_encryption = scram-sha-256
max_connections = 100
CONF
cat > "$WORK/pgdata/pg_hba.conf" <<HBA
local all all trust
host all all 127.0.0.1/32 scram-sha-256
HBA
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pgdata" -l "$WORK/postgres.log" -w start >/dev/null \
  || { cat "$WORK/postgres.log"; fail "PostgreSQL did not start"; }
psql -XqAt -h "$WORK/sock" -p "$PG" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE bench LOGIN PASSWORD '$PASSWORD'" -c "CREATE DATABASE bench OWNER bench"
export PGPASSWORD=$PASSWORD
pgbench -i -q -s $SCALE -h 127.0.0.1 -p "$PG" -U bench bench >"$WORK/pgbench-init.log" 2>&1 \
  || { cat "$WORK/pgbench-init.log"; fail "pgbench -i failed"; }
psql -XqAt -h 127.0.0.1 -p "$PG" -U bench -d bench -v ON_ERROR_STOP=1 -c "
  CREATE TABLE customers (id int PRIMARY KEY, name text, email text, phone text);
  INSERT INTO customers SELECT i, 'Customer ' || i, 'customer' || i || '@example.com', '+1-555-010-' || lpad(i::text, 4, '0')
    FROM generate_series(1, 100) i;
  ANALYZE customers;"

# PgBouncer in session mode, SCRAM to the client and to the server (plain password in its auth_file).
echo "\"bench\" \"$PASSWORD\"" > "$WORK/userlist.txt"
cat > "$WORK/pgbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$PG dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $WORK/userlist.txt
pool_mode = session
max_client_conn = 100
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
logfile = $WORK/pgbouncer.log
pidfile = $WORK/pgbouncer.pid
INI
chown postgres:postgres "$WORK/userlist.txt" "$WORK/pgbouncer.ini"
chmod 600 "$WORK/userlist.txt"
runuser -u postgres -- pgbouncer -q -d "$WORK/pgbouncer.ini" || { cat "$WORK/pgbouncer.log"; fail "PgBouncer did not start"; }

# Portcullis: the development issuer for the agent's token, then the shipped PostgreSQL example.
bin/portcullis dev-issuer --port "$ISSUER" --token-file "$WORK/token" --log-level warn >"$WORK/issuer.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do [ -s "$WORK/token" ] && break; sleep 0.5; done
[ -s "$WORK/token" ] || { cat "$WORK/issuer.log"; fail "the dev issuer did not start"; }
TOKEN=$(cat "$WORK/token")
mkdir "$WORK/data"
PORTCULLIS_OIDC_ISSUER="http://127.0.0.1:$ISSUER" PORTCULLIS_OIDC_AUDIENCE=portcullis PORTCULLIS_DATA="$WORK/data" \
  PORTCULLIS_ADMIN_LISTEN="127.0.0.1:$ADMIN" PORTCULLIS_PG_LISTEN="127.0.0.1:$GW" \
  PG_HOST=127.0.0.1 PG_PORT="$PG" PG_DATABASE=bench PG_USER=bench PG_PASSWORD="$PASSWORD" \
  bin/portcullis serve --config examples/postgres.yaml --log-level warn >"$WORK/portcullis.log" 2>&1 &
pids+=($!)
GW_PID=$!   # bin/portcullis execs the JVM: this is the gateway's process
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$ADMIN/readyz" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$ADMIN/readyz" >/dev/null || { cat "$WORK/portcullis.log"; fail "portcullis did not start"; }
if [ "${PGSTORE:-0}" = 1 ]; then
  # The same gateway and policy with its store in PostgreSQL: a database of the same server.
  psql -XqAt -h "$WORK/sock" -p "$PG" -U postgres -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE portcullis_store OWNER bench"
  python3 - "$WORK/pgstore.yaml" <<'PY'
import re, sys
s = open("examples/postgres.yaml").read()
s = re.sub(r"store:\n  type: embedded\n  path: [^\n]*\n", """store:
  type: postgres
  url: ${STORE_URL}
  user: bench
  password: ${PG_PASSWORD}
  replica: bench
  trail: ${PORTCULLIS_DATA}/trail
""", s)
assert "type: postgres" in s
open(sys.argv[1], "w").write(s)
PY
  mkdir "$WORK/data2"
  STORE_URL="jdbc:postgresql://127.0.0.1:$PG/portcullis_store" \
  PORTCULLIS_OIDC_ISSUER="http://127.0.0.1:$ISSUER" PORTCULLIS_OIDC_AUDIENCE=portcullis PORTCULLIS_DATA="$WORK/data2" \
    PORTCULLIS_ADMIN_LISTEN="127.0.0.1:$ADMIN2" PORTCULLIS_PG_LISTEN="127.0.0.1:$GW2" \
    PG_HOST=127.0.0.1 PG_PORT="$PG" PG_DATABASE=bench PG_USER=bench PG_PASSWORD="$PASSWORD" \
    bin/portcullis serve --config "$WORK/pgstore.yaml" --log-level warn >"$WORK/portcullis-pgstore.log" 2>&1 &
  pids+=($!)
  GW2_PID=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$ADMIN2/readyz" >/dev/null && break; sleep 0.5; done
  curl -sf "http://127.0.0.1:$ADMIN2/readyz" >/dev/null || { cat "$WORK/portcullis-pgstore.log"; fail "portcullis (PostgreSQL store) did not start"; }
fi

if [ "${AGENT:-0}" = 1 ]; then
  # The same policy, the database reached through a network agent (a separate process) over its tunnel.
  mkdir "$WORK/data3"
  start_gw3() {
    PORTCULLIS_OIDC_ISSUER="http://127.0.0.1:$ISSUER" PORTCULLIS_OIDC_AUDIENCE=portcullis PORTCULLIS_DATA="$WORK/data3" \
      PORTCULLIS_ADMIN_LISTEN="127.0.0.1:$ADMIN3" PORTCULLIS_PG_LISTEN="127.0.0.1:$GW3" PORTCULLIS_AGENTS_LISTEN="127.0.0.1:$AGENTS" \
      PG_HOST=127.0.0.1 PG_PORT="$PG" PG_DATABASE=bench PG_USER=bench PG_PASSWORD="$PASSWORD" \
      bin/portcullis serve --config examples/postgres-via-agent.yaml --log-level warn >>"$WORK/portcullis-agent-gw.log" 2>&1 &
    pids+=($!)
    GW3_PID=$!
    for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$ADMIN3/readyz" >/dev/null && break; sleep 0.25; done
    curl -sf "http://127.0.0.1:$ADMIN3/readyz" >/dev/null || { cat "$WORK/portcullis-agent-gw.log"; fail "portcullis (via agent) did not start"; }
  }
  start_gw3
  PLATFORM=$(curl -sf -d subject=ops-1 -d groups=platform "http://127.0.0.1:$ISSUER/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  join=$(curl -sf -H "Authorization: Bearer $PLATFORM" -d '{"name":"db-private","ttl":"10m"}' "http://127.0.0.1:$ADMIN3/api/v1/agents/join-tokens") \
    || fail "no join token from the gateway"
  PORTCULLIS_JOIN_TOKEN=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$join") \
    bin/portcullis agent --gateway "127.0.0.1:$AGENTS" --name db-private --allow "127.0.0.1:$PG" --state-dir "$WORK/agent" \
      --gateway-key "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["gatewayKey"])' "$join")" --log-level warn >"$WORK/agent.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do PGPASSWORD=$TOKEN psql -XAt -h 127.0.0.1 -p "$GW3" -U agent-1 -d bench -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5; done
fi

if [ "${RELAY:-0}" = 1 ]; then
  # A minimal Netty TCP relay to the same server (bench/jmh/java/.../TcpRelayCeiling.java), one loop per core
  # unless RELAY_LOOPS says otherwise.
  source bin/lib.sh
  JAVA_HOME="$(portcullis_java_home)"; export JAVA_HOME
  ./mvnw -B -q -Pjmh -DskipTests test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/jmh-classpath.txt
  relay_trail=()
  [ "${RELAY_TRAIL:-0}" = 1 ] && relay_trail=(trail "$WORK/relay-trail.log")
  "$JAVA_HOME/bin/java" -cp "target/test-classes:$(cat target/jmh-classpath.txt)" dev.portcullis.bench.TcpRelayCeiling \
    "$RELAY_PORT" "$PG" "${RELAY_LOOPS:-$(nproc)}" "${relay_trail[@]}" >"$WORK/relay.log" 2>&1 &
  pids+=($!)
  RELAY_PID=$!
  for _ in $(seq 1 100); do PGPASSWORD=$PASSWORD psql -XAt -h 127.0.0.1 -p "$RELAY_PORT" -U bench -d bench -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
  PGPASSWORD=$PASSWORD psql -XAt -h 127.0.0.1 -p "$RELAY_PORT" -U bench -d bench -c "SELECT 1" >/dev/null 2>&1 \
    || { cat "$WORK/relay.log"; fail "the TCP relay did not start"; }
fi

# psql/pgbench along one of the three paths: direct|pgbouncer use the bench role, portcullis the agent's token.
via() { # path command args...
  local path=$1 cmd=$2; shift 2
  case $path in
    direct) PGPASSWORD=$PASSWORD $cmd -h 127.0.0.1 -p "$PG" -U bench "$@" ;;
    pgbouncer) PGPASSWORD=$PASSWORD $cmd -h 127.0.0.1 -p "$BOUNCER" -U bench "$@" ;;
    portcullis) PGPASSWORD=$TOKEN $cmd -h 127.0.0.1 -p "$GW" -U agent-1 "$@" ;;
    pgstore) PGPASSWORD=$TOKEN $cmd -h 127.0.0.1 -p "$GW2" -U agent-1 "$@" ;;
    agent) PGPASSWORD=$TOKEN $cmd -h 127.0.0.1 -p "$GW3" -U agent-1 "$@" ;;
    relay) PGPASSWORD=$PASSWORD $cmd -h 127.0.0.1 -p "$RELAY_PORT" -U bench "$@" ;;
  esac
}
check=$(via portcullis psql -XAt -d bench -c "SELECT email FROM customers ORDER BY id LIMIT 3" 2>&1) \
  || fail "the agent token was not accepted: $check"
[ "$(grep -c '^\[masked\]$' <<<"$check")" -eq 3 ] || fail "masking is off, refusing to measure: $check"
grep -q '@' <<<"$check" && fail "an email came back through portcullis, refusing to measure: $check"
via direct psql -XAt -d bench -c "SELECT email FROM customers WHERE id = 1" | grep -q '^customer1@example.com$' \
  || fail "the direct path does not return the email; the masking check proves nothing"
refused=$(PGPASSWORD=not-a-token psql -XAt -h 127.0.0.1 -p "$GW" -U agent-1 -d bench -c "SELECT 1" 2>&1) \
  && fail "portcullis accepted a bad token: $refused"

percentile99_ms() { # pgbench -l logs: the 3rd field is the transaction's latency in µs (nearest rank)
  cat "$@" | awk '$3 ~ /^[0-9]+$/ {print $3}' | sort -n | awk '{v[NR]=$1}
    END { if (NR == 0) { print "n/a"; exit } i = int(NR * 0.99); if (i < NR * 0.99) i++; printf "%.3f", v[i] / 1000 }'
}
run() { # path mode → "path-mode tps p99ms idle% steal% machine-µs-per-transaction"
  local path=$1 mode=$2 name=$1-$2
  mkdir "$WORK/$name"
  local opts=(-n -S -M "$mode" -c $CLIENTS -j $THREADS)
  for seconds in $(warmup_runs "$WARMUP"); do   # JIT, pools, caches; two runs (bench/lib.sh)
    [ "$seconds" -gt 0 ] && { via "$path" pgbench "${opts[@]}" -T "$seconds" bench >>"$WORK/$name/warmup.txt" 2>&1 || true; }
  done
  [ "$path" = portcullis ] && { gateway_figures "$GW_PID" "$ADMIN" > "$WORK/$name/before"; added_buckets "$ADMIN" > "$WORK/$name/added.before"; }
  [ "$path" = relay ] && awk '{print $14 + $15}' "/proc/$RELAY_PID/stat" > "$WORK/$name/before"
  local perf_pid=
  if [ "${PERF:-0}" = 1 ] && [ "$path" = portcullis ]; then
    perf_start "$GW_PID" "$DURATION" "$WORK/$name/perf"
    perf_pid=$!
  fi
  if [ -n "${JFR_DIR:-}" ] && [ "$path" = portcullis ]; then # a flight recording of the measured run, to read later
    jfr_start "$GW_PID" "$name" "$DURATION" "$JFR_DIR/$name.jfr"
  fi
  local record_pid=
  if [ -n "${PERF_RECORD_DIR:-}" ] && [ "$path" = portcullis ]; then
    perf_record_start "$GW_PID" "$name" "$DURATION" "$PERF_RECORD_DIR"
    record_pid=$!
  fi
  [ "$path" = pgstore ] && gateway_figures "$GW2_PID" "$ADMIN2" > "$WORK/$name/before"
  [ "$path" = agent ] && gateway_figures "$GW3_PID" "$ADMIN3" > "$WORK/$name/before"
  local machine_before
  machine_before=$(machine_ticks)
  via "$path" pgbench "${opts[@]}" -T "$DURATION" -l --log-prefix="$WORK/$name/tx" bench >"$WORK/$name/run.txt" 2>&1 &
  local bench_pid=$! backends_pid=
  if [ "${PERF:-0}" = 1 ] && [ "$DURATION" -ge 4 ]; then
    # The server's backends serving this run (the bench role on the bench database, whichever proxy connected
    # them), counted from a second in until a second before the end.
    sleep 1
    local backends
    backends=$(pgrep -d, -f '^postgres: bench bench ' || true)
    if [ -n "$backends" ]; then
      perf stat -x, -e task-clock -p "$backends" -o "$WORK/$name/backends" -- sleep $((DURATION - 2)) >/dev/null 2>&1 &
      backends_pid=$!
    fi
  fi
  if ! wait "$bench_pid"; then
    echo "  ($name: pgbench exited non-zero; its output:)" >&2
    sed 's/^/    /' "$WORK/$name/run.txt" >&2
    touch "$WORK/failed"
  fi
  local tps fails
  local machine_after
  machine_after=$(machine_ticks)
  tps=$(awk '/^tps = / {print $3}' "$WORK/$name/run.txt")
  fails=$(awk -F': ' '/number of failed transactions/ {print $2}' "$WORK/$name/run.txt")
  [ -n "$fails" ] && [ "${fails%% *}" != 0 ] && { echo "  ($name: failed transactions $fails)" >&2; touch "$WORK/failed"; }
  [ "$path" = portcullis ] && { gateway_figures "$GW_PID" "$ADMIN" > "$WORK/$name/after"; added_buckets "$ADMIN" > "$WORK/$name/added.after"; }
  [ -n "$perf_pid" ] && wait "$perf_pid"
  [ -n "$record_pid" ] && wait "$record_pid"
  [ -n "$backends_pid" ] && { wait "$backends_pid" || true; }
  [ "$path" = relay ] && awk '{print $14 + $15}' "/proc/$RELAY_PID/stat" > "$WORK/$name/after"
  [ "$path" = pgstore ] && gateway_figures "$GW2_PID" "$ADMIN2" > "$WORK/$name/after"
  [ "$path" = agent ] && gateway_figures "$GW3_PID" "$ADMIN3" > "$WORK/$name/after"
  local transactions
  transactions=$(awk '/number of transactions actually processed/ {split($NF, a, "/"); print a[1]}' "$WORK/$name/run.txt")
  echo "$name ${tps:-0} $(percentile99_ms "$WORK/$name"/tx.*) $(machine_figures "$machine_before" "$machine_after" "${transactions:-0}")"
}
# What one statement costs the gateway over a measured run (not the warm-up): CPU from /proc (user +
# system), allocation from the JVM's own counter, statements from its metrics.
cost() { # name → "CPU µs and KB allocated per statement"
  echo "$(cat "$WORK/$1/before") $(cat "$WORK/$1/after") $(getconf CLK_TCK)" | awk '{ ops = $6 - $3; if (ops <= 0) ops = 1;
    printf "%.1f us CPU, %.1f KB allocated per statement, over %d statements", ($4 - $1) / $7 * 1e6 / ops, ($5 - $2) / 1024 / ops, ops }'
}

echo "Portcullis PostgreSQL benchmark: pgbench -S -n -c$CLIENTS -j$THREADS -T${DURATION}s (after ${WARMUP}s warm-up), scale $SCALE, PostgreSQL $(psql -XAt -h "$WORK/sock" -p "$PG" -U postgres -d postgres -c 'SHOW server_version' | cut -d' ' -f1), $(nproc) cores"
results=()
for mode in simple prepared; do
  for path in direct pgbouncer portcullis ${PGSTORE:+pgstore} ${AGENT:+agent} ${RELAY:+relay}; do
    results+=("$(run $path $mode)")
  done
done

# idle: the machine's CPU left unused during the run; steal: taken by the hypervisor (a noisy neighbour);
# CPU/tx: what one transaction cost every process on the machine together (pgbench, the proxy, PostgreSQL,
# the kernel): with nothing idle or stolen, cores / CPU/tx is the throughput.
printf "\n%-22s %12s %12s %6s %6s %12s\n" path tps "p99 (ms)" "idle" "steal" "CPU/tx (us)"
for line in "${results[@]}"; do
  set -- $line
  printf "%-22s %12.1f %12s %5s%% %5s%% %12s\n" "$1" "$2" "$3" "$4" "$5" "$6"
done
echo
declare -A tps p99
for line in "${results[@]}"; do set -- $line; tps[$1]=$2; p99[$1]=$3; done
for m in simple prepared; do
  d_name=direct-$m d_tps=${tps[direct-$m]} d_p99=${p99[direct-$m]} n_tps=${tps[pgbouncer-$m]} n_p99=${p99[pgbouncer-$m]}
  p_tps=${tps[portcullis-$m]} p_p99=${p99[portcullis-$m]}
  awk -v m="${d_name#direct-}" -v p="$p_tps" -v d="$d_tps" -v n="$n_tps" -v pp="$p_p99" -v dp="$d_p99" -v np="$n_p99" 'BEGIN {
    printf "%-8s throughput portcullis/direct = %.2fx   portcullis/pgbouncer = %.2fx", m, (d ? p/d : 0), (n ? p/n : 0)
    printf "   p99 added vs direct = %.3f ms   vs pgbouncer = %.3f ms\n", pp-dp, pp-np }'
done
for mode in simple prepared; do echo "gateway per statement ($mode): $(cost portcullis-$mode)"; done
# The gateway's own clock per statement (from judging it to its outcome recorded, the server's part taken out):
# beside the p99 added that pgbench sees, it tells the gateway's work from what happens around it.
for mode in simple prepared; do
  echo "gateway's own time per statement ($mode; its clock, server excluded): $(added_quantiles "$WORK/portcullis-$mode/added.before" "$WORK/portcullis-$mode/added.after")"
done
if [ "${PERF:-0}" = 1 ]; then # perf stat over the measured run: what the kernel does for the gateway per statement
  for mode in simple prepared; do
    ops=$(echo "$(cat "$WORK/portcullis-$mode/before") $(cat "$WORK/portcullis-$mode/after")" | awk '{print $6 - $3}')
    perf_per_op "$WORK/portcullis-$mode/perf" "$ops" "gateway per statement ($mode)"
  done
fi
if [ "${PERF:-0}" = 1 ]; then # the server's backends, per transaction, behind each path
  for line in "${results[@]}"; do
    set -- $line
    [ -s "$WORK/$1/backends" ] || continue
    awk -F, -v name="$1" -v tps="$2" -v secs=$((DURATION - 2)) '$3 == "task-clock" {
      printf "PostgreSQL backends per transaction (%s): %.1f us CPU\n", name, (tps > 0 ? $1 * 1000 / (tps * secs) : 0) }' "$WORK/$1/backends"
  done
fi
if [ "${RELAY:-0}" = 1 ]; then
  for m in simple prepared; do
    transactions=$(awk '/number of transactions actually processed/ {split($NF, a, "/"); print a[1]}' "$WORK/relay-$m/run.txt")
    awk -v m=$m -v r="${tps[relay-$m]}" -v n="${tps[pgbouncer-$m]}" -v p="${tps[portcullis-$m]}" -v rp="${p99[relay-$m]}" -v np="${p99[pgbouncer-$m]}" \
      -v dp="${p99[direct-$m]}" -v name="TCP relay${relay_trail:++trail}" \
      -v t0="$(cat "$WORK/relay-$m/before")" -v t1="$(cat "$WORK/relay-$m/after")" -v hz="$(getconf CLK_TCK)" -v tx="${transactions:-0}" 'BEGIN {
      printf "%-8s %s/pgbouncer = %.2fx (p99 %s vs %s ms; added vs direct %.3f ms)   portcullis/%s = %.2fx   relay %.1f us CPU per transaction\n",
        m, name, (n ? r/n : 0), rp, np, rp - dp, name, (r ? p/r : 0), (tx ? (t1 - t0) / hz * 1e6 / tx : 0) }'
  done
fi
if [ "${PGSTORE:-0}" = 1 ]; then
  for m in simple prepared; do
    awk -v m=$m -v s="${tps[pgstore-$m]}" -v e="${tps[portcullis-$m]}" -v sp="${p99[pgstore-$m]}" -v ep="${p99[portcullis-$m]}" 'BEGIN {
      printf "%-8s PostgreSQL store/embedded store = %.2fx   (%.0f vs %.0f TPS; p99 %s vs %s ms)\n", m, (e ? s/e : 0), s, e, sp, ep }'
    echo "gateway per statement ($m, PostgreSQL store): $(cost pgstore-$m)"
  done
fi

if [ "${AGENT:-0}" = 1 ]; then
  for m in simple prepared; do
    awk -v m=$m -v s="${tps[agent-$m]}" -v e="${tps[portcullis-$m]}" -v sp="${p99[agent-$m]}" -v ep="${p99[portcullis-$m]}" 'BEGIN {
      printf "%-8s through a network agent/gateway reaching the database itself = %.2fx   (%.0f vs %.0f TPS; p99 %s vs %s ms)\n", m, (e ? s/e : 0), s, e, sp, ep }'
    echo "gateway per statement ($m, through the agent; the agent's own CPU not included): $(cost agent-$m)"
  done
fi

# Large result: 1M rows, email masked by column name and detector; the whole result read by psql.
LARGE="SELECT i, 'user' || i || '@example.com' AS email, md5(i::text) AS notes FROM generate_series(1, $LARGE_ROWS) i"
via portcullis psql -XAt -d bench -c "$LARGE" -o "$WORK/large-portcullis.out" 2>"$WORK/large-portcullis.err" \
  || { cat "$WORK/large-portcullis.err"; fail "the large SELECT failed through portcullis"; }
via direct psql -XAt -d bench -c "$LARGE" -o "$WORK/large-direct.out"
rows=$(wc -l < "$WORK/large-portcullis.out")
masked=$(grep -c '|\[masked\]|' "$WORK/large-portcullis.out" || true)
leaked=$(grep -c '@example\.com' "$WORK/large-portcullis.out" || true)
[ "$rows" -eq $LARGE_ROWS ] && [ "$masked" -eq $LARGE_ROWS ] && [ "$leaked" -eq 0 ] \
  || fail "large result through portcullis: $rows rows, $masked masked, $leaked with an email; refusing to report it"
bytes_direct=$(wc -c < "$WORK/large-direct.out"); bytes_portcullis=$(wc -c < "$WORK/large-portcullis.out")
rm -f "$WORK"/large-*.out
large() { # path → median seconds of LARGE_RUNS timed runs (the runs above were the warm-up)
  local t0 t1 times=()
  for _ in $(seq 1 $LARGE_RUNS); do
    t0=$(date +%s%N)
    via "$1" psql -XAt -d bench -c "$LARGE" -o /dev/null
    t1=$(date +%s%N)
    times+=("$(( (t1 - t0) / 1000000 ))")
  done
  printf "%s\n" "${times[@]}" | sort -n | awk '{v[NR]=$1} END {printf "%.3f %.3f %.3f", v[int((NR+1)/2)]/1000, v[1]/1000, v[NR]/1000}'
}
echo
echo "Large result: $LARGE_ROWS rows (i, email, md5 notes) read whole by psql -o /dev/null, median of $LARGE_RUNS runs"
set -- $(large direct); l_direct=$1; echo "$(printf '%-12s' direct) $(awk -v s="$1" -v r=$LARGE_ROWS -v b="$bytes_direct" 'BEGIN {printf "%10.0f rows/s  %7.1f MB/s of output", r/s, b/s/1e6}')   (min $2 s, max $3 s)"
set -- $(large portcullis); l_portcullis=$1; echo "$(printf '%-12s' portcullis) $(awk -v s="$1" -v r=$LARGE_ROWS -v b="$bytes_portcullis" 'BEGIN {printf "%10.0f rows/s  %7.1f MB/s of output", r/s, b/s/1e6}')   (min $2 s, max $3 s)"
awk -v p="$l_portcullis" -v d="$l_direct" -v m="$masked" 'BEGIN {
  printf "rows/s portcullis/direct = %.2fx   (every email masked: %d of %d rows showed [masked], none leaked)\n", d/p, m, m }'
if [ "${AGENT:-0}" = 1 ]; then
  set -- $(large agent); l_agent=$1; echo "$(printf '%-12s' 'via agent') $(awk -v s="$1" -v r=$LARGE_ROWS -v b="$bytes_portcullis" 'BEGIN {printf "%10.0f rows/s  %7.1f MB/s of output", r/s, b/s/1e6}')   (min $2 s, max $3 s)"
  awk -v a="$l_agent" -v p="$l_portcullis" 'BEGIN { printf "rows/s through a network agent/gateway reaching the database itself = %.2fx\n", p/a }'
fi

if [ "${AGENT:-0}" = 1 ]; then
  # The gateway restarts (a rolling update): how long until the agent carries sessions again.
  kill "$GW3_PID"; wait "$GW3_PID" 2>/dev/null || true
  t_down=$(date +%s%N)
  start_gw3
  t_ready=$(date +%s%N)
  for _ in $(seq 1 2400); do
    PGPASSWORD=$TOKEN psql -XAt -h 127.0.0.1 -p "$GW3" -U agent-1 -d bench -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.05
  done
  PGPASSWORD=$TOKEN psql -XAt -h 127.0.0.1 -p "$GW3" -U agent-1 -d bench -c "SELECT 1" >/dev/null 2>&1 \
    || { cat "$WORK/agent.log"; fail "the agent did not come back within 2 minutes of the gateway's restart"; }
  t_back=$(date +%s%N)
  awk -v d="$t_down" -v r="$t_ready" -v b="$t_back" 'BEGIN {
    printf "gateway restart: ready %.2f s after it stopped; the agent carried a session again %.2f s after the gateway was ready (%.2f s in all)\n", (r-d)/1e9, (b-r)/1e9, (b-d)/1e9 }'
fi

ops=$(curl -s "http://127.0.0.1:$ADMIN/metrics" | awk '/^portcullis_operations_total/ {s+=$2} END {print s+0}')
echo "operations judged by portcullis during the run: $ops"
if [ -s "$WORK/portcullis.log" ] && grep -qE 'ERROR|Exception' "$WORK/portcullis.log"; then
  echo "portcullis logged errors during the run:"; grep -E 'ERROR|Exception' "$WORK/portcullis.log" | sort | uniq -c | head -20
fi
[ ! -e "$WORK/failed" ] || { echo "bench: some runs failed (see above)"; exit 1; }
