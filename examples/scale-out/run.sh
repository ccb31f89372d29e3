#!/usr/bin/env bash
# Three qrswitch instances on one PostgreSQL store behind HAProxy (Debian's package), with
# the partner simulator: the switch scaled out on one machine, on loopback only.
#
#   examples/scale-out/run.sh start        PostgreSQL (started if stopped), the store, the
#                                          simulator, three instances, HAProxy
#   examples/scale-out/run.sh restart N    SIGTERM instance N (1-3), wait, start it again
#   examples/scale-out/run.sh stop         everything this script started
#
# Settings (environment): QRSWITCH_BIN (default target/release/qrswitch), DATABASE_URL
# (default postgres://postgres@127.0.0.1:5432/qrswitch_scaleout; created if missing),
# QRSWITCH_SCALEOUT_PORT (HAProxy's port, default 18080: instances on the next three, the
# simulator ten above), QRSWITCH_SCALEOUT_DIR (logs, pids and configs; default
# examples/scale-out/state). The POS and partners talk to http://127.0.0.1:PORT/qr/v1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${QRSWITCH_BIN:-$here/../../target/release/qrswitch}
db=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/qrswitch_scaleout}
port=${QRSWITCH_SCALEOUT_PORT:-18080}
state=${QRSWITCH_SCALEOUT_DIR:-$here/state}
sim_port=$((port + 10))
mkdir -p "$state"

wait_for() { # URL, seconds: until it answers 200
  for _ in $(seq 1 $(($2 * 10))); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "no answer from $1 within $2 s" >&2
  return 1
}

start_instance() { # N
  local n=$1
  QRSWITCH_LISTEN=127.0.0.1:$((port + n)) DATABASE_URL=$db QRSWITCH_LOG_FORMAT=json \
    "$bin" --config "$state/qrswitch.toml" serve --no-migrate >>"$state/instance-$n.log" 2>&1 &
  echo $! >"$state/instance-$n.pid"
  wait_for "http://127.0.0.1:$((port + n))/ready" 30
}

stop_pid() { # pid file
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$1"
}

store() {
  local name=${db##*/} admin=${db%/*}/postgres
  # Debian's cluster is started only for the default store; a DATABASE_URL of another
  # server (a test's own, say) must already answer.
  if [ -z "${DATABASE_URL:-}" ] && ! pg_isready -d "$admin" -q; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
    for _ in $(seq 1 60); do pg_isready -d "$admin" -q && break; sleep 0.5; done
  fi
  if ! psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    psql "$admin" -qc "CREATE DATABASE \"$name\""
  fi
}

configs() {
  sed -e "s|@SIM@|http://127.0.0.1:$sim_port/qr/v1|" "$here/qrswitch.toml" >"$state/qrswitch.toml"
  sed -e "s|@PORT@|$port|" -e "s|@S1@|$((port + 1))|" -e "s|@S2@|$((port + 2))|" \
    -e "s|@S3@|$((port + 3))|" "$here/haproxy.cfg" >"$state/haproxy.cfg"
}

case ${1:-} in
  start)
    command -v haproxy >/dev/null || { echo "haproxy is not installed (apt-get install haproxy)" >&2; exit 1; }
    store
    configs
    DATABASE_URL=$db "$bin" --config "$state/qrswitch.toml" migrate
    "$bin" partner-sim --listen "127.0.0.1:$sim_port" --mode approve \
      --switch-url "http://127.0.0.1:$port/qr/v1" >>"$state/sim.log" 2>&1 &
    echo $! >"$state/sim.pid"
    for n in 1 2 3; do start_instance "$n"; done
    haproxy -f "$state/haproxy.cfg" -db >>"$state/haproxy.log" 2>&1 &
    echo $! >"$state/haproxy.pid"
    wait_for "http://127.0.0.1:$port/health" 10
    echo "switch at http://127.0.0.1:$port (instances $((port + 1))-$((port + 3))), partner simulator at http://127.0.0.1:$sim_port"
    ;;
  restart)
    n=${2:?which instance, 1 to 3}
    stop_pid "$state/instance-$n.pid"
    start_instance "$n"
    echo "instance $n restarted"
    ;;
  stop)
    stop_pid "$state/haproxy.pid"
    for n in 1 2 3; do stop_pid "$state/instance-$n.pid"; done
    stop_pid "$state/sim.pid"
    ;;
  *)
    sed -n '2,14p' "$0" >&2
    exit 2
    ;;
esac
