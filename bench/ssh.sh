#!/usr/bin/env bash
# SSH benchmark: N sequential `ssh HOST 'uptime'` (a new SSH connection each, as an agent's tool call
# does) against Debian's sshd on 127.0.0.1, measured two ways in one run:
#   direct     ssh → sshd (the gateway's own key)
#   portcullis ssh → Portcullis (certificate login, the line judged, recorded) → sshd
# Prints the total and per-command time of each and the ratio.
# Usage: bench/ssh.sh [count]   (default 200; runs sshd, so as root or as the user it logs in as)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-200}
[ -x /usr/sbin/sshd ] || { echo "bench: installing openssh-server"; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null; }
WORK=$(mktemp -d /tmp/portcullis-sshbench.XXXX)
SSHD=18391; GW=18392; ADMIN=18394; ISSUER=18395
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N "" -f "$WORK/host_key"
ssh-keygen -q -t ecdsa -b 256 -N "" -f "$WORK/gateway_key"
cp "$WORK/gateway_key.pub" "$WORK/authorized_keys"
mkdir -p /run/sshd 2>/dev/null || true
cat > "$WORK/sshd_config" <<EOF
Port $SSHD
ListenAddress 127.0.0.1
HostKey $WORK/host_key
AuthorizedKeysFile $WORK/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
PidFile $WORK/sshd.pid
EOF
/usr/sbin/sshd -D -e -f "$WORK/sshd_config" 2>"$WORK/sshd.log" &
pids+=($!)
echo "[127.0.0.1]:$SSHD $(cat "$WORK/host_key.pub")" > "$WORK/known_hosts"

bin/portcullis --version >/dev/null   # builds once here
bin/portcullis dev-issuer --port $ISSUER --token-file "$WORK/token" --log-level warn > "$WORK/issuer.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do [ -s "$WORK/token" ] && break; sleep 0.5; done
PORTCULLIS_OIDC_ISSUER="http://127.0.0.1:$ISSUER" PORTCULLIS_OIDC_AUDIENCE=portcullis PORTCULLIS_DATA="$WORK/data" \
  PORTCULLIS_ADMIN_LISTEN="127.0.0.1:$ADMIN" PORTCULLIS_SSH_LISTEN="127.0.0.1:$GW" SSH_HOST=127.0.0.1 SSH_PORT=$SSHD \
  SSH_USER="$(id -un)" SSH_KEY_FILE="$WORK/gateway_key" SSH_KNOWN_HOSTS="$WORK/known_hosts" \
  bin/portcullis serve --config examples/ssh.yaml --log-level warn > "$WORK/portcullis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$ADMIN/readyz" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$ADMIN/readyz" >/dev/null || { echo "bench: portcullis did not start"; cat "$WORK/portcullis.log"; exit 1; }
bin/portcullis ssh-login --connection web --server "http://127.0.0.1:$ADMIN" --token-file "$WORK/token" --dir "$WORK/agent" 2>/dev/null

direct() { ssh -o BatchMode=yes -o IdentitiesOnly=yes -o UserKnownHostsFile="$WORK/known_hosts" -o StrictHostKeyChecking=yes \
  -i "$WORK/gateway_key" -p $SSHD "$(id -un)@127.0.0.1" uptime; }
through() { ssh -F "$WORK/agent/ssh_config" -o BatchMode=yes web uptime; }
direct >/dev/null && through >/dev/null || { echo "bench: a path does not work"; exit 1; }
[ "$(ssh -F "$WORK/agent/ssh_config" -o BatchMode=yes web 'rm -rf /nonexistent' >/dev/null 2>&1; echo $?)" = 126 ] \
  || { echo "bench: policy is off, refusing to measure"; exit 1; }

measure() { # name function → "name seconds"
  local start end
  start=$(date +%s.%N)
  for _ in $(seq 1 "$COUNT"); do $2 >/dev/null; done
  end=$(date +%s.%N)
  echo "$1 $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')"
}
echo "Portcullis SSH benchmark: $COUNT sequential 'ssh HOST uptime', a new connection each, $(nproc) cores, $(ssh -V 2>&1)"
d=$(measure direct direct); p=$(measure portcullis through)
printf "\n%-12s %10s %14s\n" path "total (s)" "per command (ms)"
for line in "$d" "$p"; do set -- $line; printf "%-12s %10.2f %14.1f\n" "$1" "$2" "$(awk -v t="$2" -v n="$COUNT" 'BEGIN { print t * 1000 / n }')"; done
set -- $d; dt=$2; set -- $p; pt=$2
echo "$dt $pt" | awk '{ printf "\nportcullis/direct time = %.2fx (each command through the gateway adds %.1f ms)\n", $2/$1, ($2-$1)*1000/'"$COUNT"' }'
