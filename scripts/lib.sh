#!/usr/bin/env bash
# Shared helpers for the stack scripts. Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="$ROOT/.conduit/run"
LOG_DIR="$ROOT/.conduit/logs"
STARTED="$RUN_DIR/started-by-us"
NODE_BIN="$ROOT/node_modules/.bin/node"
# PgBouncer runs as postgres, which may not be able to traverse the checkout (e.g. under /root).
PGBOUNCER_DIR="${CONDUIT_PGBOUNCER_DIR:-/tmp/conduit-pgbouncer}"
mkdir -p "$RUN_DIR" "$LOG_DIR"

info() { printf '\033[1;34m[conduit]\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m[conduit]\033[0m %s\n' "$*" >&2; }
die() {
  printf '\033[1;31m[conduit]\033[0m %s\n' "$*" >&2
  exit 1
}

# Our code runs on Node 24 from the node@24 devDependency; the system node may be older.
require_node24() {
  [ -x "$NODE_BIN" ] || die "node_modules/.bin/node is missing: run 'npm ci' first"
  local major
  major="$("$NODE_BIN" -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 24 ] || die "node_modules/.bin/node is Node $major; Conduit needs Node 24 (npm ci installs it from the node@24 devDependency)"
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
  local host=$1 port=$2 timeout=${3:-30} i
  for ((i = 0; i < timeout * 10; i++)); do
    port_open "$host" "$port" && return 0
    sleep 0.1
  done
  return 1
}

wait_http() {
  local url=$1 timeout=${2:-60} i
  for ((i = 0; i < timeout * 5; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null)" = "200" ] && return 0
    sleep 0.2
  done
  return 1
}

is_debian_root() { [ -f /etc/debian_version ] && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; }

APT_UPDATED=""
apt_install() {
  is_debian_root || return 1
  if [ -z "$APT_UPDATED" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" > "$LOG_DIR/apt.log" 2>&1 && return 0
    info "apt-get update"
    apt-get update > "$LOG_DIR/apt.log" 2>&1 || true
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >> "$LOG_DIR/apt.log" 2>&1
}

mark_started() { grep -qx "$1" "$STARTED" 2> /dev/null || echo "$1" >> "$STARTED"; }
