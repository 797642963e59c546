#!/usr/bin/env bash
# Makes sure PostgreSQL (5432), Redis (6379), NATS with JetStream (4222), PgBouncer (6432,
# transaction mode) and an MQTT broker (Mosquitto, 1883: the mqtt vendor integration) answer on 127.0.0.1: reuses what already listens, starts what is installed,
# installs what is missing (Debian/Ubuntu as root), and records what it started so that
# `npm run down` stops only that. Idempotent.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

PG_PORT=5432 REDIS_PORT=6379 NATS_PORT=4222 BOUNCER_PORT=6432 MQTT_PORT=1883

need() { # need <what> <install hint>
  die "$1 is not running and cannot be installed here (needs Debian/Ubuntu and root). Install and start $2, then run this again."
}

ensure_postgres() {
  port_open 127.0.0.1 $PG_PORT && return 0
  if ! command -v pg_ctlcluster > /dev/null; then
    info "installing postgresql"
    apt_install postgresql || need "PostgreSQL" "PostgreSQL 15+ listening on 127.0.0.1:5432 with trust auth for user postgres"
  fi
  local version
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  if [ ! -d "/etc/postgresql/$version/main" ]; then die "no PostgreSQL cluster found in /etc/postgresql"; fi
  # Local tooling and the services connect as postgres over TCP without a password.
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  grep -q '^host all all 127.0.0.1/32 trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  info "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  mark_started postgresql
  wait_port 127.0.0.1 $PG_PORT 30 || die "PostgreSQL did not open port $PG_PORT"
}

ensure_redis() {
  port_open 127.0.0.1 $REDIS_PORT && return 0
  command -v redis-server > /dev/null || { info "installing redis-server"; apt_install redis-server || need "Redis" "Redis 7 on 127.0.0.1:6379"; }
  info "starting Redis"
  mkdir -p "$ROOT/.conduit/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port $REDIS_PORT --save "" --appendonly no \
    --dir "$ROOT/.conduit/redis" --pidfile "$RUN_DIR/redis.pid" --logfile "$LOG_DIR/redis.log"
  mark_started redis
  wait_port 127.0.0.1 $REDIS_PORT 15 || die "Redis did not open port $REDIS_PORT"
}

ensure_nats() {
  if port_open 127.0.0.1 $NATS_PORT; then
    "$NODE_BIN" "$ROOT/scripts/stack/check-jetstream.mjs" "nats://127.0.0.1:$NATS_PORT" ||
      die "a NATS server on port $NATS_PORT runs without JetStream: restart it with -js"
    return 0
  fi
  local bin
  bin="$(command -v nats-server || true)"
  [ -n "$bin" ] || { info "installing nats-server"; apt_install nats-server || need "NATS" "nats-server 2.9+ with JetStream (-js) on 127.0.0.1:4222"; bin="$(command -v nats-server)"; }
  info "starting NATS with JetStream"
  mkdir -p "$ROOT/.conduit/nats"
  nohup "$bin" -a 127.0.0.1 -p $NATS_PORT -js -sd "$ROOT/.conduit/nats" -P "$RUN_DIR/nats.pid" \
    > "$LOG_DIR/nats.log" 2>&1 &
  mark_started nats
  wait_port 127.0.0.1 $NATS_PORT 15 || die "NATS did not open port $NATS_PORT"
}

ensure_pgbouncer() {
  local dir="$PGBOUNCER_DIR" pid=""
  [ -f "$dir/pgbouncer.pid" ] && pid="$(cat "$dir/pgbouncer.pid")"
  if port_open 127.0.0.1 $BOUNCER_PORT && ! { [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; }; then
    return 0 # someone else's PgBouncer: use it as it is
  fi
  command -v pgbouncer > /dev/null || { info "installing pgbouncer"; apt_install pgbouncer || need "PgBouncer" "pgbouncer (transaction mode) on 127.0.0.1:6432 in front of 5432"; }
  mkdir -p "$dir"
  cat > "$dir/pgbouncer.ini" << INI
[databases]
* = host=127.0.0.1 port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
reserve_pool_size = 5
server_reset_query =
; Fail fast while Postgres is down (a queued query errors after 3 s, answered 503) and
; reconnect within a second once it is back, instead of the defaults of 120 s and 15 s.
query_wait_timeout = 3
server_login_retry = 1
ignore_startup_parameters = extra_float_digits,options
admin_users = postgres
stats_users = postgres
pidfile = $dir/pgbouncer.pid
logfile = $dir/pgbouncer.log
INI
  echo '"postgres" ""' > "$dir/userlist.txt"
  if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then
    kill -HUP "$pid" # ours, already running: apply the config written above
    return 0
  fi
  # PgBouncer refuses to run as root.
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres:postgres "$dir"
    runuser -u postgres -- pgbouncer -d "$dir/pgbouncer.ini"
  else
    pgbouncer -d "$dir/pgbouncer.ini"
  fi
  mark_started pgbouncer
  wait_port 127.0.0.1 $BOUNCER_PORT 15 || die "PgBouncer did not open port $BOUNCER_PORT (see $dir/pgbouncer.log)"
  info "PgBouncer on 127.0.0.1:$BOUNCER_PORT (transaction mode)"
}

ensure_mosquitto() {
  port_open 127.0.0.1 $MQTT_PORT && return 0
  command -v mosquitto > /dev/null || { info "installing mosquitto"; apt_install mosquitto || need "Mosquitto" "an MQTT broker on 127.0.0.1:1883"; }
  info "starting Mosquitto"
  mkdir -p "$ROOT/.conduit"
  # Foreground under nohup (pid from $!): as root Mosquitto drops to its own user, which could
  # not write a pid file into the checkout.
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$MQTT_PORT" > "$ROOT/.conduit/mosquitto.conf"
  nohup mosquitto -c "$ROOT/.conduit/mosquitto.conf" > "$LOG_DIR/mosquitto.log" 2>&1 &
  echo $! > "$RUN_DIR/mosquitto.pid"
  mark_started mosquitto
  wait_port 127.0.0.1 $MQTT_PORT 15 || die "Mosquitto did not open port $MQTT_PORT"
}

ensure_databases() {
  local db
  for db in conduit conduit_test; do
    psql -h 127.0.0.1 -p $PG_PORT -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
      psql -h 127.0.0.1 -p $PG_PORT -U postgres -d postgres -qc "CREATE DATABASE $db" > /dev/null
  done
}

require_node24
ensure_postgres
ensure_redis
ensure_nats
ensure_pgbouncer
ensure_mosquitto
ensure_databases
info "servers ready: postgres :$PG_PORT, pgbouncer :$BOUNCER_PORT, redis :$REDIS_PORT, nats :$NATS_PORT, mqtt :$MQTT_PORT"
