#!/usr/bin/env bash
# npm run down: stops the services `up` started, then the servers it started (only those).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

pids=()
for pidfile in "$RUN_DIR"/*.pid; do
  [ -e "$pidfile" ] || continue
  case "$(basename "$pidfile")" in redis.pid | nats.pid | mosquitto.pid) continue ;; esac
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2> /dev/null; then
    kill -TERM "$pid" && pids+=("$pid") && info "stopping $(basename "$pidfile" .pid) (pid $pid)"
  fi
  rm -f "$pidfile"
done
for ((i = 0; i < 300; i++)); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2> /dev/null && alive=1; done
  [ "$alive" = 0 ] && break
  sleep 0.1
done
for pid in "${pids[@]}"; do kill -0 "$pid" 2> /dev/null && { warn "pid $pid ignored SIGTERM; killing"; kill -KILL "$pid"; }; done

if [ -f "$STARTED" ]; then
  while read -r server; do
    case "$server" in
      pgbouncer)
        pidfile="$PGBOUNCER_DIR/pgbouncer.pid"
        [ -f "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2> /dev/null && info "stopped PgBouncer"
        ;;
      redis) [ -f "$RUN_DIR/redis.pid" ] && kill -TERM "$(cat "$RUN_DIR/redis.pid")" 2> /dev/null && info "stopped Redis"; rm -f "$RUN_DIR/redis.pid" ;;
      mosquitto) [ -f "$RUN_DIR/mosquitto.pid" ] && kill -TERM "$(cat "$RUN_DIR/mosquitto.pid")" 2> /dev/null && info "stopped Mosquitto"; rm -f "$RUN_DIR/mosquitto.pid" ;;
      nats) [ -f "$RUN_DIR/nats.pid" ] && kill -TERM "$(cat "$RUN_DIR/nats.pid")" 2> /dev/null && info "stopped NATS"; rm -f "$RUN_DIR/nats.pid" ;;
      postgresql)
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main stop && info "stopped PostgreSQL"
        ;;
    esac
  done < "$STARTED"
  rm -f "$STARTED"
fi
info "down"
