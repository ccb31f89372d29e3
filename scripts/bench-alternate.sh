#!/usr/bin/env bash
# Alternates two builds of qrswitch through `qrswitch bench`, each run on a freshly created
# PostgreSQL database, and prints each run's summary line, then both builds side by side
# (medians over the rounds and their ratio): the way docs/benchmarks.md compares a change
# with the build before it on a noisy machine.
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

runs=$(mktemp)
trap 'rm -f "$runs"' EXIT

for round in $(seq 1 "$rounds"); do
  for build in before after; do
    binary=$before
    [ "$build" = after ] && binary=$after
    db="qrswitch_alternate_${build}_${round}_$$"
    sql "CREATE DATABASE $db"
    summary=$(DATABASE_URL="$base/$db" "$binary" bench "${bench_args[@]}" 2>/dev/null \
      | grep '^summary:' || echo "summary: failed")
    sql "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    echo "round=$round build=$build ${summary#summary: }" | tee -a "$runs"
  done
done

# Both builds side by side: the median of each figure over the rounds (a run that failed
# counts as missing), then the after/before ratio.
echo
awk '
  function median(build, key,   n, i, j, t, v) {
    n = count[build, key]
    if (n == 0) return ""
    for (i = 1; i <= n; i++) v[i] = value[build, key, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  {
    build = ""
    for (f = 1; f <= NF; f++) { split($f, kv, "="); if (kv[1] == "build") build = kv[2] }
    for (f = 1; f <= NF; f++) {
      split($f, kv, "=")
      if (kv[1] ~ /^(payments_per_s|switch_cpu_ms_per_payment|db_cpu_ms_per_payment|db_commits_per_payment|pay_p99_ms|resolve_p99_ms|errors)$/) {
        if (!(kv[1] in seen)) { seen[kv[1]] = 1; keys[++nkeys] = kv[1] }
        value[build, kv[1], ++count[build, kv[1]]] = kv[2]
      }
    }
  }
  END {
    printf "%-28s %12s %12s %8s\n", "median of the rounds", "before", "after", "ratio"
    for (k = 1; k <= nkeys; k++) {
      b = median("before", keys[k]); a = median("after", keys[k])
      ratio = (b != "" && a != "" && b + 0 != 0) ? sprintf("%.2f", a / b) : "-"
      printf "%-28s %12s %12s %8s\n", keys[k], b, a, ratio
    }
  }' "$runs"
