#!/usr/bin/env bash
# Alternates two builds of qrswitch through `qrswitch bench`, each run on a freshly created
# PostgreSQL database, and prints each run's summary line: the way docs/benchmarks.md
# compares a change with the build before it on a noisy machine.
#
#   scripts/bench-alternate.sh BEFORE_BINARY AFTER_BINARY [ROUNDS] [-- BENCH_ARGS…]
#
# ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) names a server where
# databases may be created; ROUNDS defaults to 3; BENCH_ARGS default to --duration 20.
set -euo pipefail

before=${1:?the binary before the change}
after=${2:?the binary after the change}
rounds=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
[ "${1:-}" = "--" ] && shift
bench_args=("$@")
[ ${#bench_args[@]} -eq 0 ] && bench_args=(--duration 20)
admin=${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
base=${admin%/*}

sql() { psql "$admin" -v ON_ERROR_STOP=1 -qc "$1"; }

for round in $(seq 1 "$rounds"); do
  for build in before after; do
    binary=$before
    [ "$build" = after ] && binary=$after
    db="qrswitch_alternate_${build}_${round}_$$"
    sql "CREATE DATABASE $db"
    summary=$(DATABASE_URL="$base/$db" "$binary" bench "${bench_args[@]}" 2>/dev/null \
      | grep '^summary:' || echo "summary: failed")
    sql "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    echo "round=$round build=$build ${summary#summary: }"
  done
done
