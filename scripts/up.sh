#!/usr/bin/env bash
# npm run up [-- --replicas gateway=2,telemetry=3]
# Installs what is missing, starts or reuses the servers, builds, migrates and starts every
# service (each replica its own process, pid file and log), waits for every /readyz, prints URLs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

SERVICES=(gateway device-control telemetry analytics llm-experiments)
declare -A BASE_PORT=([gateway]=3000 [device-control]=3001 [telemetry]=3002 [analytics]=3003 [llm-experiments]=3004)
declare -A REPLICAS=()
# Heap bounds per service. The telemetry writer's in-flight work is bounded by the consumer's
# max_ack_pending (a few MB of points); without a cap V8 lets the heap grow to ~400 MB RSS.
declare -A NODE_FLAGS=([telemetry]="--max-old-space-size=160 --max-semi-space-size=8")

while [ $# -gt 0 ]; do
  case "$1" in
    --replicas)
      IFS=',' read -ra pairs <<< "${2:?--replicas needs service=N[,service=N]}"
      for pair in "${pairs[@]}"; do
        name="${pair%%=*}" count="${pair#*=}"
        [ -n "${BASE_PORT[$name]:-}" ] || die "unknown service '$name' in --replicas (one of: ${SERVICES[*]})"
        [[ "$count" =~ ^[1-9]$ ]] || die "replicas of $name must be 1-9"
        REPLICAS[$name]=$count
      done
      shift 2
      ;;
    *) die "unknown option $1 (usage: npm run up [-- --replicas gateway=2,telemetry=3])" ;;
  esac
done

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  info "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund > "$LOG_DIR/npm-ci.log" 2>&1 || die "npm ci failed, see $LOG_DIR/npm-ci.log"
fi
require_node24
bash scripts/stack/servers.sh
info "building"
npm run build --silent > "$LOG_DIR/build.log" 2>&1 || die "build failed, see $LOG_DIR/build.log"
info "migrating"
CONDUIT_PRESET="${CONDUIT_PRESET:-development}" "$NODE_BIN" dist/scripts/migrate.js

# The development admin key: generated once, kept in .conduit/dev.env (ignored by git) for
# scripts, benches and k6; the gateway seeds its hash at start-up (GATEWAY_BOOTSTRAP_ADMIN_KEY).
mkdir -p .conduit
if ! grep -qs '^CONDUIT_API_KEY=cdt_' .conduit/dev.env; then
  echo "CONDUIT_API_KEY=cdt_$("$NODE_BIN" -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('base64url'))")" > .conduit/dev.env
  chmod 600 .conduit/dev.env
fi
DEV_API_KEY="$(sed -n 's/^CONDUIT_API_KEY=//p' .conduit/dev.env | head -n 1)"

start_one() { # start_one <service> <replica index from 1>
  local service=$1 index=$2 port=$((BASE_PORT[$1] + ($2 - 1) * 100)) id pidfile
  id="$service"
  [ "$index" -gt 1 ] && id="$service-$index"
  pidfile="$RUN_DIR/$id.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2> /dev/null; then
    info "$id already running (pid $(cat "$pidfile"), port $port)"
  else
    local dist="dist/apps/$service/src"
    # (No comment line may sit inside this continued command: it would end it, and the variables
    # would no longer reach the process.)
    # shellcheck disable=SC2086 # flags are word lists on purpose
    CONDUIT_PRESET="${CONDUIT_PRESET:-development}" HTTP_PORT="$port" GATEWAY_BOOTSTRAP_ADMIN_KEY="$DEV_API_KEY" \
      nohup "$NODE_BIN" --enable-source-maps ${NODE_FLAGS[$service]:-} --import "./$dist/instrument.js" "./$dist/main.js" \
      >> "$LOG_DIR/$id.log" 2>&1 &
    echo $! > "$pidfile"
    info "started $id (pid $!, port $port)"
  fi
  echo "$id $port" >> "$RUN_DIR/.ports.tmp"
}

: > "$RUN_DIR/.ports.tmp"
for service in "${SERVICES[@]}"; do
  for ((i = 1; i <= ${REPLICAS[$service]:-1}; i++)); do start_one "$service" "$i"; done
done

failed=0
while read -r id port; do
  if ! wait_http "http://127.0.0.1:$port/readyz" 60; then
    warn "$id is not ready on port $port; last lines of $LOG_DIR/$id.log:"
    tail -n 30 "$LOG_DIR/$id.log" >&2 || true
    failed=1
  fi
done < "$RUN_DIR/.ports.tmp"
mv "$RUN_DIR/.ports.tmp" "$RUN_DIR/ports"
[ "$failed" = 0 ] || die "some services did not become ready"

echo
info "Conduit is up"
echo "  API           http://127.0.0.1:3000/api/v1/devices"
echo "  OpenAPI       http://127.0.0.1:3000/docs"
while read -r id port; do
  printf '  %-18s http://127.0.0.1:%s/{health,readyz,metrics}\n' "$id" "$port"
done < "$RUN_DIR/ports"
echo "  admin key     $DEV_API_KEY  (in .conduit/dev.env as CONDUIT_API_KEY)"
echo "  try           curl -H \"Authorization: Bearer \$CONDUIT_API_KEY\" http://127.0.0.1:3000/api/v1/devices"
echo "  logs          $LOG_DIR/"
echo "  stop with     npm run down"
