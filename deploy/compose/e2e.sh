#!/usr/bin/env bash
# The Compose trial end to end, as a user runs it: builds the images (bin/image --postgres, nothing
# pulled), brings the stack up with podman-compose, runs the README tour's requests with curl and a psql
# session through the gateway, checks the trail in PostgreSQL with `portcullis audit verify` inside the
# gateway's container, and tears everything down. Prints what it checked; exits non-zero on the first
# failure, with the containers' logs.
# Usage: deploy/compose/e2e.sh     (as root; installs podman and podman-compose if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bin/lib.sh
source bin/containers-lib.sh
containers_setup
command -v psql >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; }
started=$(date +%s)
bin/image --postgres

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export PORTCULLIS_ADMIN_PORT=$(free_port) PORTCULLIS_OKTA_PORT=$(free_port) PORTCULLIS_PG_PORT=$(free_port) PORTCULLIS_ISSUER_PORT=$(free_port)
PROJECT=portcullis-e2e-$$
COMPOSE=(podman-compose -p "$PROJECT" -f deploy/compose/compose.yaml)
logs() { for s in gateway postgres stand-ins; do echo "--- $s"; podman logs --tail 40 "${PROJECT}_${s}_1" 2>&1 || true; done; }
down() { "${COMPOSE[@]}" down -v >/dev/null 2>&1 || true; podman network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true; }
fail() { echo "e2e: FAILED: $*" >&2; logs >&2; down; exit 1; }
trap down EXIT
if command -v docker-compose >/dev/null; then   # the file as Docker Compose reads it too (offline validation)
  docker-compose -f deploy/compose/compose.yaml config -q || fail "docker-compose config rejects compose.yaml"
  echo "e2e: compose.yaml valid for docker-compose $(docker-compose version --short 2>/dev/null)"
fi
"${COMPOSE[@]}" up -d >/dev/null 2>&1 || fail "podman-compose up"
ADMIN=http://127.0.0.1:$PORTCULLIS_ADMIN_PORT OKTA=http://127.0.0.1:$PORTCULLIS_OKTA_PORT

for _ in $(seq 1 120); do curl -sf "$ADMIN/readyz" >/dev/null && break; sleep 1; done
curl -sf "$ADMIN/readyz" >/dev/null || fail "the gateway did not become ready in 120 s"
podman healthcheck run "${PROJECT}_gateway_1" >/dev/null || fail "the gateway's health check"
echo "e2e: stack up and ready in $(( $(date +%s) - started )) s (images included)"

token() { curl -sf -d "subject=$1" -d "groups=$2" "http://127.0.0.1:$PORTCULLIS_ISSUER_PORT/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
TOKEN=$(token agent-1 agents) || fail "no token from the development issuer"

body=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" "$OKTA/api/v1/users?limit=2")
[ "${body##*$'\n'}" = 200 ] || fail "GET users: ${body##*$'\n'}"
grep -q '\[masked\]' <<<"$body" || fail "GET users came back unmasked"
grep -q '@example' <<<"${body%$'\n'*}" && fail "an email came back through the gateway"
echo "e2e: GET /api/v1/users?limit=2 -> 200, emails and phones masked"
user=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[0]["id"])' "${body%$'\n'*}")
code=$(curl -s -o /tmp/e2e-delete.$$ -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "$OKTA/api/v1/users/$user")
[ "$code" = 403 ] && grep -q 'no-user-deletion' /tmp/e2e-delete.$$ || fail "DELETE user: $code $(cat /tmp/e2e-delete.$$)"
rm -f /tmp/e2e-delete.$$
echo "e2e: DELETE /api/v1/users/$user -> 403, rule no-user-deletion"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer nope" "$OKTA/api/v1/users")
[ "$code" = 401 ] || fail "a forged token: $code"
echo "e2e: a forged token -> 401"

PSQL=(psql -X -v ON_ERROR_STOP=0 "host=127.0.0.1 port=$PORTCULLIS_PG_PORT dbname=app user=agent sslmode=disable")
out=$(PGPASSWORD=$TOKEN "${PSQL[@]}" -At -c "SELECT name, email FROM customers ORDER BY id LIMIT 1" 2>&1) || fail "psql: $out"
[ "$out" = "Customer 1|[masked]" ] || fail "psql SELECT: $out"
echo "e2e: psql SELECT name, email -> Customer 1|[masked]"
out=$(PGPASSWORD=$TOKEN "${PSQL[@]}" -c "DELETE FROM customers" 2>&1 || true)
grep -q 'ERROR:  Portcullis: refused' <<<"$out" || fail "psql DELETE: $out"
count=$(podman exec "${PROJECT}_postgres_1" psql -h /tmp -U portcullis -d app -Atc "SELECT count(*) FROM customers")
[ "$count" = 100 ] || fail "the refused DELETE reached the database: $count rows left"
echo "e2e: psql DELETE FROM customers -> refused, and the database still has its 100 rows"

verify=$(podman exec "${PROJECT}_gateway_1" portcullis audit verify --config /etc/portcullis/portcullis.yaml 2>&1) \
  || fail "audit verify: $verify"
grep -q '^OK' <<<"$verify" || fail "audit verify: $verify"
echo "e2e: audit verify (PostgreSQL store) -> $(grep "^OK" <<<"$verify")"
sessions=$(podman exec "${PROJECT}_gateway_1" portcullis sessions list --config /etc/portcullis/portcullis.yaml 2>&1) || fail "sessions list: $sessions"
grep -q 'agent-1' <<<"$sessions" || fail "sessions list: $sessions"
echo "e2e: PASSED in $(( $(date +%s) - started )) s"
