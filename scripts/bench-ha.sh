#!/usr/bin/env bash
# The price of a synchronous standby: alternates `qrswitch bench` against a single
# PostgreSQL server and against the replicated set-up of examples/ha (Patroni, a primary
# and a synchronous standby, HAProxy in front), each run on a freshly created database,
# and prints each run's summary line (docs/benchmarks.md).
#
#   scripts/bench-ha.sh BINARY [ROUNDS] [-- BENCH_ARGS…]
#
# Both servers are started here, on loopback, from Debian's packages, with the same
# settings (PostgreSQL's defaults, WAL for replication), and stopped at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
binary=$(realpath "${1:?the qrswitch binary}")
rounds=${2:-3}
shift $(( $# < 2 ? $# : 2 ))
[ "${1:-}" = "--" ] && shift
bench_args=("$@")
[ ${#bench_args[@]} -eq 0 ] && bench_args=(--duration 20)

work=$(mktemp -d)
chmod 755 "$work"
ha_port=25530
single_port=25550
bin_dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
  QRSWITCH_HA_DIR="$work/ha" QRSWITCH_HA_PORT=$ha_port "$here/examples/ha/cluster.sh" stop || true
  as_owner "$bin_dir/pg_ctl" -D "$work/single" stop -m fast >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/ha" "$work/single"
[ "$(id -u)" = 0 ] && chown postgres: "$work/ha" "$work/single"
QRSWITCH_HA_DIR="$work/ha" QRSWITCH_HA_PORT=$ha_port "$here/examples/ha/cluster.sh" start
as_owner "$bin_dir/initdb" -D "$work/single" -A trust -U postgres >/dev/null
as_owner "$bin_dir/pg_ctl" -D "$work/single" -l "$work/single/log" -w start \
  -o "-p $single_port -k $work/single -c listen_addresses=127.0.0.1 -c wal_level=replica \
      -c wal_log_hints=on -c max_connections=200 -c shared_preload_libraries=pg_stat_statements" \
  >/dev/null

declare -A admin=(
  [single]="postgres://postgres@127.0.0.1:$single_port"
  [standby]="postgres://postgres:postgres@127.0.0.1:$ha_port"
)
for round in $(seq 1 "$rounds"); do
  for setup in single standby; do
    db="bench_${setup}_${round}"
    psql "${admin[$setup]}/postgres" -qc "CREATE DATABASE $db"
    summary=$(DATABASE_URL="${admin[$setup]}/$db" "$binary" bench "${bench_args[@]}" 2>/dev/null \
      | grep '^summary:' || echo "summary: failed")
    psql "${admin[$setup]}/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    echo "round=$round setup=$setup ${summary#summary: }"
  done
done
