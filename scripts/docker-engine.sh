#!/usr/bin/env bash
# A Docker engine and a base image for the container tests (test/container/), on machines with
# no image registry (docs/development.md, "Container tests").
#
#   scripts/docker-engine.sh up      answer if an engine already runs; otherwise install Debian's
#                                    docker.io when absent (root + apt only) and start dockerd with
#                                    host networking only. Prints `running` or `started <pid>`.
#   scripts/docker-engine.sh down    stop the dockerd that `up` started (nothing else) and wait for it
#   scripts/docker-engine.sh status  exit 0 when an engine answers, 1 when none does
#   scripts/docker-engine.sh base    build the local Node base image once; prints its tag
#   scripts/docker-engine.sh image [TAG]
#                                    build this checkout's Dockerfile on that base (or on
#                                    PEM_TEST_BASE_IMAGE, e.g. node:20-bookworm-slim where a
#                                    registry is reachable); build output on stderr, the tag on stdout
#
# Why no bridge and no iptables: containers use the host's network namespace, so every byte the
# tests send stays on 127.0.0.1, and the daemon leaves the host's firewall alone.
# Why a home-made base image: no registry (Docker Hub included) is reachable here, and the base is
# only the runtime the official node image would give: the host's own `node` (the same Node 20
# the tests run on), its shared libraries, npm, a static busybox for /bin/sh, the host's CA bundle
# (trusted by node through NODE_EXTRA_CA_CERTS: where a TLS-inspecting proxy fronts the npm
# registry, its CA is in that bundle) and a `node` user (uid 1000, as in the official image).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE_DIR=${PEM_DOCKERD_STATE_DIR:-${TMPDIR:-/tmp}/pem-dockerd}
PIDFILE=$STATE_DIR/dockerd.pid
LOG=$STATE_DIR/dockerd.log

die() {
  printf 'docker-engine: %s\n' "$1" >&2
  exit "${2:-1}"
}

engine_answers() {
  command -v docker >/dev/null 2>&1 && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# Installs Debian packages when missing; only as root with apt (CI), never elsewhere.
apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing $*: install them (Debian: apt-get install -y --no-install-recommends $*)" 2
  fi
  printf 'docker-engine: installing %s from apt\n' "$*" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

up() {
  if engine_answers; then
    echo running
    return
  fi
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  static_busybox >/dev/null || missing+=(busybox-static)
  [ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"
  mkdir -p "$STATE_DIR"
  # setsid: the daemon outlives this script (the caller stops it with `down`), and a Ctrl-C meant
  # for the test run does not reach it before `down` does.
  setsid dockerd --bridge=none --iptables=false --ip-masq=false >"$LOG" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  for _ in $(seq 1 60); do
    if engine_answers; then
      echo "started $pid"
      return
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  down >/dev/null 2>&1 || true
  die "dockerd did not answer within 30 s; its last lines ($LOG): $(tail -n 5 "$LOG" | tr '\n' ' ')"
}

down() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    # dockerd stops its containers and containerd first: 10-15 s is usual.
    for _ in $(seq 1 120); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid"
      echo "docker-engine: dockerd (pid $pid) ignored SIGTERM for 60 s; killed" >&2
    fi
  fi
  rm -f "$PIDFILE"
  echo "stopped $pid"
}

static_busybox() {
  local path
  for path in /bin/busybox /usr/bin/busybox; do
    # Debian's busybox-static; the dynamic `busybox` package would need its own libraries.
    if [ -x "$path" ] && ! ldd "$path" >/dev/null 2>&1; then
      echo "$path"
      return 0
    fi
  done
  return 1
}

base() {
  local node version tag
  node=$(readlink -f "$(command -v node)")
  version=$("$node" -p process.versions.node)
  tag=${PEM_TEST_BASE_TAG:-pem-test/node-base:$version}
  if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "$tag"
    return
  fi
  local busybox npm_dir root
  busybox=$(static_busybox) || { apt_install busybox-static && busybox=$(static_busybox); }
  npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
  [ -f "$npm_dir/bin/npm-cli.js" ] || die "npm not found next to $(command -v npm)"
  root=$(mktemp -d "${TMPDIR:-/tmp}/pem-base-XXXXXX")
  # shellcheck disable=SC2064 # expand now: $root is local
  trap "rm -rf '$root'" RETURN

  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,usr/local/lib/node_modules,etc/ssl/certs,root,home/node,tmp,var/tmp}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  cp "$node" "$root/usr/local/bin/node"
  # The loader and every library node links (glibc, libstdc++, libgcc_s: DuckDB's binding needs the same).
  ldd "$node" | grep -o '/[^ ]*' | while read -r lib; do cp -L --parents "$lib" "$root"; done
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  ln -s /bin/env "$root/usr/bin/env" # npm's `#!/usr/bin/env node`
  cp -r "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  if [ "$(id -u)" = 0 ]; then chown 1000:1000 "$root/home/node"; else chmod 1777 "$root/home/node"; fi

  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin' \
    -c "ENV NODE_VERSION=$version" \
    -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    -c 'CMD ["node"]' \
    -m "pem test base: host node $version, npm, busybox" - "$tag" >/dev/null
  echo "$tag"
}

image() {
  local base tag
  base=${PEM_TEST_BASE_IMAGE:-$(base)}
  tag=${1:-pem-test/processor-execution-monitor:latest}
  # --network host: RUN steps reach the npm registry without a bridge. Docker's layer cache makes
  # a second build of an unchanged checkout take a second or two.
  docker build --network host --build-arg "BASE_IMAGE=$base" -t "$tag" "$REPO_ROOT" >&2
  echo "$tag"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) engine_answers ;;
  base) base ;;
  image) image "${2:-}" ;;
  *) die "usage: scripts/docker-engine.sh up|down|status|base|image [TAG]" 2 ;;
esac
