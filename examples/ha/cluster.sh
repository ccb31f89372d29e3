#!/usr/bin/env bash
# A replicated PostgreSQL for qrswitch on one machine: etcd as Patroni's store, two
# PostgreSQL nodes managed by Patroni (a primary and a *synchronous* standby: a commit is
# acknowledged once the standby has it), and HAProxy sending connections to whichever node
# is the leader (by Patroni's REST health checks), with a second port for the replica.
#
#   examples/ha/cluster.sh start         etcd, both nodes (the first bootstraps), HAProxy
#   examples/ha/cluster.sh status        the members, their roles and lag (patronictl list)
#   examples/ha/cluster.sh leader        the name of the node that takes writes now
#   examples/ha/cluster.sh switchover    planned: the standby becomes the primary
#   examples/ha/cluster.sh kill-primary  unplanned: SIGKILL the leader's postmaster
#   examples/ha/cluster.sh stop          everything this script started
#
# Settings (environment): QRSWITCH_HA_DIR (data, configs, logs and pids; default
# examples/ha/state), QRSWITCH_HA_PORT (base port, default 15430): HAProxy's primary port
# is the base, its replica port base+1, etcd base+2 (peers base+3), node pg1 PostgreSQL
# base+4 and REST base+5, node pg2 base+6 and base+7. The switch's database URL is
# postgres://postgres:postgres@127.0.0.1:BASE/postgres (demo credentials: examples only).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${QRSWITCH_HA_DIR:-$here/state}
base=${QRSWITCH_HA_PORT:-15430}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
etcd_port=$((base + 2))
pg_port() { echo $((base + 4 + 2 * ($1 - 1))); }
rest_port() { echo $((base + 5 + 2 * ($1 - 1))); }
bin_dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# PostgreSQL refuses to run as root: as root, everything runs as the postgres user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

wait_for() { # URL, seconds: until it answers 200
  for _ in $(seq 1 $(($2 * 10))); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "no answer from $1 within $2 s" >&2
  return 1
}

stop_pid() { # pid file: TERM, then KILL after 10 s
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

node_config() { # node number
  local n=$1 name="pg$1"
  cat > "$dir/$name.yml" <<YAML
scope: qrswitch
name: $name
restapi:
  listen: 127.0.0.1:$(rest_port "$n")
  connect_address: 127.0.0.1:$(rest_port "$n")
etcd3:
  hosts: 127.0.0.1:$etcd_port
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 1
    retry_timeout: 5
    # A crashed primary is not restarted in place: the synchronous standby takes over.
    master_start_timeout: 0
    primary_start_timeout: 0
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 200
        shared_preload_libraries: pg_stat_statements
  initdb:
    - encoding: UTF8
    - auth: trust
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 md5
    - host all all 127.0.0.1/32 md5
postgresql:
  listen: 127.0.0.1:$(pg_port "$n")
  connect_address: 127.0.0.1:$(pg_port "$n")
  data_dir: $dir/$name/data
  bin_dir: $bin_dir
  pgpass: $dir/$name/pgpass
  authentication:
    superuser: {username: postgres, password: postgres}
    replication: {username: replicator, password: replicator}
    rewind: {username: postgres, password: postgres}
  parameters:
    unix_socket_directories: $dir/$name
YAML
}

haproxy_config() {
  cat > "$dir/haproxy.cfg" <<CFG
global
    maxconn 1000

defaults
    mode tcp
    timeout connect 1s
    timeout client 30m
    timeout server 30m
    # Checked every 500 ms; a node that stops being the leader loses its connections at once.
    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions

listen primary
    bind 127.0.0.1:$base
    option httpchk GET /primary
    http-check expect status 200
    server pg1 127.0.0.1:$(pg_port 1) check port $(rest_port 1)
    server pg2 127.0.0.1:$(pg_port 2) check port $(rest_port 2)

listen replica
    bind 127.0.0.1:$((base + 1))
    option httpchk GET /replica
    http-check expect status 200
    server pg1 127.0.0.1:$(pg_port 1) check port $(rest_port 1)
    server pg2 127.0.0.1:$(pg_port 2) check port $(rest_port 2)
CFG
}

start_node() { # node number
  local name="pg$1"
  mkdir -p "$dir/$name"
  node_config "$1"
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$dir/$name" "$dir/$name.yml"; fi
  as_owner bash -c "nohup patroni '$dir/$name.yml' >> '$dir/$name.log' 2>&1 & echo \$! > '$dir/$name.pid'"
}

leader() { # the node whose REST API says it is the primary
  for n in 1 2; do
    if curl -fs -o /dev/null "http://127.0.0.1:$(rest_port "$n")/primary"; then
      echo "pg$n"
      return 0
    fi
  done
  return 1
}

ctl() { patronictl -c "$dir/pg1.yml" "$@"; }

case "${1:-}" in
  start)
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_owner bash -c "nohup etcd --name ha --data-dir '$dir/etcd' \
      --listen-client-urls http://127.0.0.1:$etcd_port --advertise-client-urls http://127.0.0.1:$etcd_port \
      --listen-peer-urls http://127.0.0.1:$((base + 3)) --initial-advertise-peer-urls http://127.0.0.1:$((base + 3)) \
      --initial-cluster ha=http://127.0.0.1:$((base + 3)) >> '$dir/etcd.log' 2>&1 & echo \$! > '$dir/etcd.pid'"
    wait_for "http://127.0.0.1:$etcd_port/health" 20
    start_node 1
    wait_for "http://127.0.0.1:$(rest_port 1)/primary" 60
    start_node 2
    wait_for "http://127.0.0.1:$(rest_port 2)/sync" 90
    haproxy_config
    haproxy -D -f "$dir/haproxy.cfg" -p "$dir/haproxy.pid"
    # HAProxy counts a server up until its checks say otherwise: wait until every
    # connection through it lands on the primary.
    primary_in_a_row=0
    for _ in $(seq 1 200); do
      if [ "$(psql -Atqw "postgres://postgres:postgres@127.0.0.1:$base/postgres" \
              -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; then
        primary_in_a_row=$((primary_in_a_row + 1))
        [ "$primary_in_a_row" -ge 6 ] && break
      else
        primary_in_a_row=0
      fi
      sleep 0.1
    done
    echo "primary (synchronous standby attached) at postgres://postgres:postgres@127.0.0.1:$base/postgres"
    ;;
  status)
    ctl list
    ;;
  leader)
    leader
    ;;
  switchover)
    from=$(leader)
    to=$([ "$from" = pg1 ] && echo pg2 || echo pg1)
    ctl switchover --leader "$from" --candidate "$to" --force
    ;;
  kill-primary)
    from=$(leader)
    pid=$(head -1 "$dir/$from/data/postmaster.pid")
    kill -9 "$pid"
    echo "$from (postmaster $pid) killed"
    ;;
  stop)
    stop_pid "$dir/haproxy.pid"
    for n in 2 1; do stop_pid "$dir/pg$n.pid"; done
    # A postmaster its Patroni left behind.
    for n in 1 2; do
      if [ -f "$dir/pg$n/data/postmaster.pid" ]; then
        as_owner "$bin_dir/pg_ctl" -D "$dir/pg$n/data" stop -m immediate >/dev/null 2>&1 || true
      fi
    done
    stop_pid "$dir/etcd.pid"
    ;;
  *)
    sed -n '2,19p' "$0" >&2
    exit 2
    ;;
esac
