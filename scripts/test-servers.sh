#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis servers for the tests, on 127.0.0.1, in a temporary directory.
#
#   eval "$(scripts/test-servers.sh start)"   # prints the export lines (and MORATORIUM_TEST_SERVERS_DIR)
#   npx vitest run test/unit/store
#   scripts/test-servers.sh stop              # stops both and removes the directory
#
# start installs Debian's postgresql and redis-server when they are missing and it may (root with
# apt-get, or MORATORIUM_TEST_INSTALL=1 with sudo), picks free ports, and fails with a message when a
# server cannot be found or does not answer. PostgreSQL refuses to run as root: as root, the cluster
# belongs to the `postgres` user. Everything it prints except the export lines goes to stderr.
set -euo pipefail

say() { printf '%s\n' "test-servers: $*" >&2; }
die() { say "$*"; exit 1; }

pg_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then printf '%s' "$d"; return 0; fi
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ]; then printf '%s' "$d"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

install_missing() {
  local want=()
  pg_bindir >/dev/null || want+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || want+=(redis-server)
  [ "${#want[@]}" -eq 0 ] && return 0
  local sudo=''
  if [ "$(id -u)" -ne 0 ]; then
    [ "${MORATORIUM_TEST_INSTALL:-}" = 1 ] || die "missing: ${want[*]} (install them, or set MORATORIUM_TEST_INSTALL=1 to let this script use sudo apt-get)"
    sudo='sudo'
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing: ${want[*]}, and there is no apt-get to install them"
  say "installing ${want[*]} with apt-get"
  # the packages' own services are not wanted: only the throwaway servers below run
  $sudo apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >&2
}

free_port() {
  node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# runs a command as the owner of the cluster (postgres when we are root)
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  install_missing
  local bindir dir pgport redisport
  bindir="$(pg_bindir)" || die "PostgreSQL's initdb was not found"
  command -v redis-server >/dev/null 2>&1 || die "redis-server was not found"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/moratorium-servers.XXXXXX")"
  # a start that fails half-way leaves nothing running behind it
  STARTED=0
  STARTING_DIR="$dir"
  trap '[ "$STARTED" = 1 ] || stop "$STARTING_DIR" || true' EXIT
  chmod 755 "$dir"
  mkdir -p "$dir/pg" "$dir/redis"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root, but there is no postgres user to own the cluster"
    chown postgres: "$dir/pg"
  fi
  pgport="$(free_port)"
  redisport="$(free_port)"
  as_pg "$bindir/initdb" -D "$dir/pg/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/pg/initdb.log" 2>&1 \
    || { cat "$dir/pg/initdb.log" >&2; die "initdb failed"; }
  # fsync off: a throwaway test cluster; the tests that need durability reopen, they do not pull the plug
  as_pg "$bindir/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 30 \
    -o "-h 127.0.0.1 -p $pgport -k $dir/pg -c fsync=off -c max_connections=200" start >&2 \
    || { cat "$dir/pg/server.log" >&2; die "PostgreSQL did not start"; }
  redis-server --bind 127.0.0.1 --port "$redisport" --dir "$dir/redis" --daemonize yes \
    --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --save '' --appendonly no >&2 \
    || die "redis-server did not start"
  local i
  for i in $(seq 1 50); do
    if redis-cli -h 127.0.0.1 -p "$redisport" ping 2>/dev/null | grep -q PONG; then break; fi
    [ "$i" -eq 50 ] && { cat "$dir/redis/redis.log" >&2; die "redis-server did not answer"; }
    sleep 0.1
  done
  as_pg "$bindir/psql" -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null \
    || die "PostgreSQL does not answer on 127.0.0.1:$pgport"
  printf '%s\n' "$bindir" >"$dir/pg/bindir"
  cat >"$dir/env" <<EOF
export MORATORIUM_TEST_SERVERS_DIR='$dir'
export MORATORIUM_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:$pgport/postgres'
export MORATORIUM_TEST_REDIS_URL='redis://127.0.0.1:$redisport'
EOF
  STARTED=1
  say "PostgreSQL on 127.0.0.1:$pgport, Redis on 127.0.0.1:$redisport, in $dir"
  cat "$dir/env"
}

stop() {
  local dir="${1:-${MORATORIUM_TEST_SERVERS_DIR:-}}"
  [ -n "$dir" ] || die "stop: which directory? (pass it, or set MORATORIUM_TEST_SERVERS_DIR)"
  [ -d "$dir" ] || { say "nothing to stop in $dir"; return 0; }
  case "$dir" in */moratorium-servers.*) ;; *) die "stop: $dir is not a directory made by this script" ;; esac
  if [ -f "$dir/pg/data/postmaster.pid" ]; then
    as_pg "$(cat "$dir/pg/bindir")/pg_ctl" -D "$dir/pg/data" -m fast -w stop >&2 || say "pg_ctl stop failed"
  fi
  if [ -f "$dir/redis/redis.pid" ]; then
    kill "$(cat "$dir/redis/redis.pid" 2>/dev/null)" 2>/dev/null || true
    local pid
    pid="$(cat "$dir/redis/redis.pid" 2>/dev/null || true)"
    for _ in $(seq 1 50); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$dir"
  say "stopped and removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) die "usage: $0 start | stop [DIR]" ;;
esac
