#!/usr/bin/env bash
# Kubernetes benchmark: `kubectl get pods -n dev`-style requests (GET /api/v1/namespaces/dev/pods, JSON)
# against the Kubernetes API stand-in, measured three ways in one run, with wrk:
#   direct     wrk → stand-in (plain HTTP, the cluster token)
#   nginx      wrk → nginx TLS reverse proxy → stand-in (the same key and certificate as the gateway)
#   portcullis wrk → Portcullis over TLS (token validation, policy, Secret masking, recording) → stand-in
# Prints requests/s and p99 latency for each, the ratios portcullis/direct and portcullis/nginx, and the
# gateway's CPU and allocation per request.
# Usage: [WARMUP=seconds] bench/kubernetes.sh [duration-seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DURATION=${1:-15}
CONNECTIONS=${2:-16}
THREADS=$(( CONNECTIONS < 2 ? CONNECTIONS : 2 ))
WARMUP=${WARMUP:-30}
for tool in wrk nginx openssl; do
  command -v $tool >/dev/null || { echo "bench: installing wrk, nginx-light and openssl"; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light openssl >/dev/null; break; }
done

WORK=$(mktemp -d /tmp/portcullis-kbench.XXXX)
chmod 755 "$WORK"
CLUSTER=18291; PROXY=18292; GW=18293; ADMIN=18294; ISSUER=18295
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# Three processes, so the gateway's figures are its own: the stand-in, the development issuer, the gateway
# running the shipped examples/kubernetes.yaml with a key store made here.
CLUSTER_TOKEN=bench-cluster-token-$RANDOM$RANDOM
bin/portcullis --version >/dev/null   # builds once here, not twice in the background below
bin/portcullis dev-kube-api --port $CLUSTER --token "$CLUSTER_TOKEN" --log-level warn > "$WORK/cluster.log" 2>&1 &
pids+=($!)
bin/portcullis dev-issuer --port $ISSUER --token-file "$WORK/token" --log-level warn > "$WORK/issuer.log" 2>&1 &
pids+=($!)
PASSWORD=bench-$RANDOM$RANDOM
"$(source bin/lib.sh; portcullis_java_home)/bin/keytool" -genkeypair -alias gateway -keyalg EC -groupname secp256r1 -dname CN=localhost \
  -ext san=ip:127.0.0.1,dns:localhost -validity 2 -storetype PKCS12 -keystore "$WORK/gateway.p12" -storepass "$PASSWORD" >/dev/null 2>&1
"$(source bin/lib.sh; portcullis_java_home)/bin/keytool" -exportcert -rfc -alias gateway -keystore "$WORK/gateway.p12" \
  -storepass "$PASSWORD" > "$WORK/cert.pem" 2>/dev/null
for _ in $(seq 1 120); do [ -s "$WORK/token" ] && break; sleep 0.5; done
[ -s "$WORK/token" ] || { echo "bench: the dev issuer did not start"; cat "$WORK/issuer.log"; exit 1; }
TOKEN=$(cat "$WORK/token")
PORTCULLIS_OIDC_ISSUER="http://127.0.0.1:$ISSUER" PORTCULLIS_OIDC_AUDIENCE=portcullis PORTCULLIS_DATA="$WORK/data" \
  PORTCULLIS_ADMIN_LISTEN="127.0.0.1:$ADMIN" PORTCULLIS_KUBE_LISTEN="127.0.0.1:$GW" PORTCULLIS_KUBE_KEYSTORE="$WORK/gateway.p12" \
  PORTCULLIS_TLS_PASSWORD="$PASSWORD" KUBE_API_URL="http://127.0.0.1:$CLUSTER" KUBE_TOKEN="$CLUSTER_TOKEN" \
  bin/portcullis serve --config examples/kubernetes.yaml --log-level warn > "$WORK/portcullis.log" 2>&1 &
pids+=($!)
GW_PID=$!   # bin/portcullis execs the JVM: this is the gateway's process
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$ADMIN/readyz" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$ADMIN/readyz" >/dev/null || { echo "bench: portcullis did not start"; cat "$WORK/portcullis.log"; exit 1; }
PATH_UNDER_TEST=/api/v1/namespaces/dev/pods

# nginx terminates TLS with the gateway's own key and certificate and injects the cluster token.
openssl pkcs12 -in "$WORK/gateway.p12" -passin "pass:$PASSWORD" -nodes -nocerts -out "$WORK/key.pem" 2>/dev/null
chmod 644 "$WORK/key.pem" "$WORK/cert.pem"
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream cluster { server 127.0.0.1:$CLUSTER; keepalive 64; }
  server { listen 127.0.0.1:$PROXY ssl; ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;
    location / { proxy_pass http://cluster; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer $CLUSTER_TOKEN"; } }
}
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK"

check=$(curl -s --cacert "$WORK/cert.pem" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$GW$PATH_UNDER_TEST")
echo "$check" | grep -q '"web-1"' || { echo "bench: portcullis did not answer: $check"; exit 1; }
secret=$(curl -s --cacert "$WORK/cert.pem" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$GW/api/v1/namespaces/dev/secrets/db")
echo "$secret" | grep -q 'W21hc2tlZF0=' || { echo "bench: Secret masking is off, refusing to measure: $secret"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/cert.pem" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$GW/api/v1/namespaces/kube-system/pods")" = 403 ] \
  || { echo "bench: policy is off, refusing to measure"; exit 1; }

run() { # name url [wrk options]
  local name=$1 url=$2
  shift 2
  [ "$WARMUP" -gt 0 ] && wrk -t$THREADS -c$CONNECTIONS -d${WARMUP}s "$@" "$url" >/dev/null 2>&1
  wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency "$@" "$url" > "$WORK/$name.txt" 2>&1
  local errors
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$WORK/$name.txt")
  [ -n "$errors" ] && echo "  ($name: $errors)" >&2
  echo "$name $(awk '/Requests\/sec/ {print $2}' "$WORK/$name.txt") $(awk '$1=="99%" {print $2}' "$WORK/$name.txt")"
}
to_ms() {
  awk -v v="$1" 'BEGIN { n=v; sub(/[a-z]+$/,"",n); u=v; sub(/^[0-9.]+/,"",u);
    if (u=="us") n=n/1000; else if (u=="s") n=n*1000; printf "%.3f", n }'
}

echo "Portcullis Kubernetes benchmark: GET $PATH_UNDER_TEST (kubectl get pods -n dev, JSON), wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s after ${WARMUP}s warm-up, $(nproc) cores"
direct=$(run direct "http://127.0.0.1:$CLUSTER$PATH_UNDER_TEST" -H "Authorization: Bearer $CLUSTER_TOKEN")
nginx=$(run nginx "https://127.0.0.1:$PROXY$PATH_UNDER_TEST")
wrk -t$THREADS -c$CONNECTIONS -d${WARMUP}s -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$GW$PATH_UNDER_TEST" >/dev/null 2>&1
before=$(gateway_figures "$GW_PID" "$ADMIN")
WARMUP_SAVED=$WARMUP; WARMUP=0
portcullis=$(run portcullis "https://127.0.0.1:$GW$PATH_UNDER_TEST" -H "Authorization: Bearer $TOKEN")
WARMUP=$WARMUP_SAVED
after=$(gateway_figures "$GW_PID" "$ADMIN")

printf "\n%-12s %12s %12s\n" path "requests/s" "p99 (ms)"
for line in "$direct" "$nginx" "$portcullis"; do
  set -- $line
  printf "%-12s %12s %12s\n" "$1" "$2" "$(to_ms "$3")"
done
set -- $direct; d_rps=$2; d_p99=$(to_ms "$3")
set -- $nginx; n_rps=$2; n_p99=$(to_ms "$3")
set -- $portcullis; p_rps=$2; p_p99=$(to_ms "$3")
awk -v p="$p_rps" -v d="$d_rps" -v n="$n_rps" -v pp="$p_p99" -v dp="$d_p99" -v np="$n_p99" 'BEGIN {
  printf "\nthroughput portcullis/direct = %.2fx   portcullis/nginx (TLS proxy) = %.2fx\n", p/d, p/n
  printf "p99 added vs direct = %.3f ms   vs nginx = %.3f ms\n", pp-dp, pp-np }'
echo "$before $after $(getconf CLK_TCK)" | awk '{ ops = $6 - $3; if (ops <= 0) ops = 1;
  printf "gateway per request (measured run): %.1f us CPU, %.1f KB allocated, over %d requests\n",
    ($4 - $1) / $7 * 1e6 / ops, ($5 - $2) / 1024 / ops, ops }'
