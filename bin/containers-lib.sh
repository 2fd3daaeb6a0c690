# Shared by bin/image and deploy/compose/e2e.sh: podman as it works on a machine without systemd or a
# Docker engine (see docs/deployment.md): runc, and ulimits the sandbox allows.
containers_setup() {
  local need=()
  for tool in podman mmdebstrap podman-compose docker-compose iptables; do command -v "$tool" >/dev/null || need+=("$tool"); done
  if [ ${#need[@]} -gt 0 ]; then
    echo "containers: installing podman, runc, mmdebstrap, podman-compose, docker-compose (for validation)" >&2
    [ "$(id -u)" -eq 0 ] || { echo "containers: run as root, or install: podman runc mmdebstrap podman-compose" >&2; return 1; }
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman runc netavark aardvark-dns \
      mmdebstrap podman-compose docker-compose uidmap slirp4netns fuse-overlayfs iptables ca-certificates >/dev/null
  fi
  if [ -z "${CONTAINERS_CONF:-}" ]; then
    local conf="${PORTCULLIS_HOME:?}/target/containers.conf" n
    n=$(ulimit -Hn)
    mkdir -p "$(dirname "$conf")"
    cat > "$conf" <<CONF
[containers]
default_ulimits = ["nofile=$n:$n", "nproc=32768:32768"]
[engine]
runtime = "runc"
[network]
network_backend = "netavark"
CONF
    export CONTAINERS_CONF="$conf"
  fi
}

# The machine's own apt sources, so mmdebstrap uses the same mirror (and works where only it is reachable).
containers_apt_sources() {
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then cat /etc/apt/sources.list.d/debian.sources
  elif [ -f /etc/apt/sources.list ]; then grep -E '^deb ' /etc/apt/sources.list
  else echo "deb http://deb.debian.org/debian bookworm main"; fi
}
