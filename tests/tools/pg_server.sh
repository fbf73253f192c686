#!/usr/bin/env bash
# pg_server.sh: a private PostgreSQL server for the tests, in a folder of its own.
#
#   tests/tools/pg_server.sh start DIR   initdb into DIR/data (trust auth, user eider),
#                                        start on a free loopback port (55432 upward) with
#                                        its socket in DIR, create the database eider_test,
#                                        and print its URL (also written to DIR/url); when
#                                        it cannot live in DIR, in /tmp/eider-pg.* instead
#   tests/tools/pg_server.sh stop DIR    stop it (fast) and remove DIR
#
# The binaries come from $PG_BIN if set, else the newest /usr/lib/postgresql/*/bin
# (Debian's layout), else PATH. PostgreSQL refuses to run as root: as root, the server
# runs as the system user eider-pg (created if missing) and DIR is handed to it. The
# cluster Debian's package may have made (port 5432) is neither used nor touched.
set -euo pipefail

pg_user=eider-pg
first_port=55432
last_port=55631

die() { echo "pg_server.sh: $*" >&2; exit 1; }

find_bin() {  # the folder holding initdb, pg_ctl and postgres
  local dir=${PG_BIN:-}
  if [ -z "$dir" ]; then
    dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    if [ ! -x "$dir/initdb" ] && command -v initdb >/dev/null; then
      dir=$(dirname "$(command -v initdb)")
    fi
  fi
  if [ ! -x "$dir/initdb" ] || [ ! -x "$dir/postgres" ]; then
    die "no PostgreSQL server found (install the Debian package 'postgresql', or set PG_BIN)"
  fi
  echo "$dir"
}

as_owner() {  # run a server command as the user that owns the cluster
  if [ "$(id -u)" = 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi
}

ensure_user() {
  [ "$(id -u)" = 0 ] || return 0
  id -u "$pg_user" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$pg_user"
}

# The server's user must reach its binaries and /tmp. Some fresh roots (a chroot made
# with mktemp -d) have a / of mode 0700, which stops every user but root at the first
# step: give the folders on those paths the search bit that a normal / has (o+x only:
# nothing becomes readable or listable that was not).
ensure_reachable() {  # bin
  local path dir
  [ "$(id -u)" = 0 ] || return 0
  as_owner test -x "$1/initdb" 2>/dev/null && return 0
  for path in "$1" /tmp; do
    dir=$path
    while :; do
      if [ -d "$dir" ] && [ "$(( $(stat -c '%#a' "$dir") & 1 ))" = 0 ]; then
        echo "pg_server.sh: giving '$dir' the search bit (o+x) so that $pg_user can reach $path" >&2
        chmod o+x "$dir"
      fi
      [ "$dir" = / ] && break
      dir=$(dirname "$dir")
    done
  done
  as_owner test -x "$1/initdb" || die "user $pg_user cannot run $1/initdb"
}

port_in_use() {  # something listens on 127.0.0.1:$1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

init_cluster() {  # dir bin
  local dir=$1 bin=$2
  [ -f "$dir/data/PG_VERSION" ] && return 0
  as_owner "$bin/initdb" -D "$dir/data" -U eider -A trust -E UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed in $dir/data"; }
  cat >>"$dir/data/postgresql.conf" <<EOF
# pg_server.sh: a throwaway server for tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

start_on_free_port() {  # dir bin: prints the port
  local dir=$1 bin=$2 port
  for ((port = first_port; port <= last_port; port++)); do
    port_in_use "$port" && continue
    rm -f "$dir/server.log"
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-p $port" start \
         >/dev/null 2>&1; then
      echo "$port"
      return 0
    fi
    grep -q "could not bind\|already in use" "$dir/server.log" 2>/dev/null ||
      { tail -n 20 "$dir/server.log" >&2 || true; die "the server in $dir did not start"; }
  done
  die "no free port between $first_port and $last_port"
}

wait_ready() {  # bin port
  local i
  for ((i = 0; i < 60; i++)); do
    "$1/pg_isready" -q -h 127.0.0.1 -p "$2" && return 0
    sleep 0.5
  done
  die "the server on port $2 does not answer"
}

home_of() {  # DIR: the folder that holds the cluster of DIR
  cat "$1/cluster" 2>/dev/null || echo "$1"
}

running() {  # DIR: the server of DIR is up
  local home
  home=$(home_of "$1")
  [ -f "$1/url" ] && [ -f "$home/data/postmaster.pid" ] &&
    as_owner "$(find_bin)/pg_ctl" -D "$home/data" status >/dev/null 2>&1
}

# DIR itself when the server's user can write there and the socket's path fits in
# 107 bytes; else a private folder under /tmp (DIR under /root, or a deep build tree).
choose_home() {  # DIR
  local dir=$1 home
  [ -f "$dir/cluster" ] && [ -d "$(cat "$dir/cluster")" ] && { cat "$dir/cluster"; return 0; }
  [ "$(id -u)" = 0 ] && chown "$pg_user:" "$dir"
  if [ $((${#dir} + 16)) -le 107 ] && as_owner test -w "$dir" 2>/dev/null; then
    home=$dir
  else
    home=$(mktemp -d /tmp/eider-pg.XXXXXX)
  fi
  [ "$(id -u)" = 0 ] && chown -R "$pg_user:" "$home"
  echo "$home" >"$dir/cluster"
  echo "$home"
}

start() {
  local dir bin home port url
  bin=$(find_bin)
  mkdir -p "$1"
  dir=$(cd "$1" && pwd)
  if running "$dir"; then cat "$dir/url"; return 0; fi
  ensure_user
  ensure_reachable "$bin"
  touch "$dir/.pg_server"
  home=$(choose_home "$dir")
  cd "$home"                         # a folder the server's user can enter
  init_cluster "$home" "$bin"
  port=$(start_on_free_port "$home" "$bin")
  wait_ready "$bin" "$port"
  "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U eider -d postgres \
    -c "CREATE DATABASE eider_test" >/dev/null 2>&1 || true
  "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U eider -d eider_test -c "SELECT 1" >/dev/null ||
    die "the database eider_test is not there"
  url="postgresql://eider@127.0.0.1:$port/eider_test"
  echo "$url" >"$dir/url"
  echo "$url"
}

stop() {
  local dir home
  [ -d "$1" ] || return 0
  dir=$(cd "$1" && pwd)
  [ -f "$dir/.pg_server" ] || die "$dir was not made by pg_server.sh: not removing it"
  home=$(home_of "$dir")
  if [ -f "$home/data/postmaster.pid" ]; then
    (cd / && as_owner "$(find_bin)/pg_ctl" -D "$home/data" -m fast -w stop >/dev/null 2>&1) || true
  fi
  case "$home" in /tmp/eider-pg.*) rm -rf "$home" ;; esac
  rm -rf "$dir"
}

case "${1:-} ${2:+dir}" in
  "start dir") start "$2" ;;
  "stop dir") stop "$2" ;;
  *) sed -n '2,9p' "$0" >&2; exit 2 ;;
esac
