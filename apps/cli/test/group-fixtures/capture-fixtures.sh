#!/usr/bin/env bash
# Captures the group fixtures of the replay tests from real processes on
# this machine: starts each program, waits until it says it is ready,
# captures it with `mmlab capture --pids ... --gzip` (paths anonymised),
# and stops it. Run from the repository root after `npm run build`:
#
#   apps/cli/test/group-fixtures/capture-fixtures.sh [NAME...]
#
# The folders are replaced (--force). Each is a different run of real
# processes: re-capturing changes the figures, which the tests read from the
# captures themselves.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mmlab="node $here/../../dist/main.js"
programs=$here/programs

# start CMD...: runs CMD as the leader of its own session and process group
# (setsid does not fork here: a background job of a script leads no group),
# waits for its first line, "ready ...", and keeps it in $ready_line
start() {
  out=$(mktemp)
  setsid "$@" >"$out" &
  leader=$!
  for _ in $(seq 100); do
    ready_line=$(head -n 1 "$out")
    [ -n "$ready_line" ] && break
    sleep 0.1
  done
  rm -f "$out"
  [ -n "$ready_line" ] || { echo "$1 did not get ready" >&2; stop; exit 1; }
}
# stops the process group the program leads (its children too), by its id
stop() { kill -- -"$leader" 2>/dev/null || true; wait "$leader" 2>/dev/null || true; }

capture() { # NAME PIDS
  $mmlab capture --gzip --force --pids "$2" "$here/$1"
}

want() { [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; }

name=shell
if want "${@}"; then
  # a shell running a pipeline in the background and a sleep: bash and its three children
  start bash -c 'sleep 1000 | cat & sleep 1000 & echo ready $$; wait'
  sleep 0.5
  pids=$(echo "${ready_line#ready }"; pgrep -P "${ready_line#ready }" | tr '\n' ' ')
  capture shell "$(echo $pids | tr ' ' ',')"
  stop
fi

name=python-workers
if want "${@}"; then
  start python3 "$programs/python-workers.py" 4
  sleep 0.5
  capture python-workers "$(echo "${ready_line#ready }" | tr ' ' ',')"
  stop
fi

name=python-heap
if want "${@}"; then
  start python3 "$programs/python-heap.py"
  sleep 0.5
  capture python-heap "${ready_line#ready }"
  stop
fi

name=postgres
if want "${@}"; then
  # a PostgreSQL 15 server (postmaster, its five helpers) with four client
  # backends that scanned one table through the buffer pool (128 MiB of
  # shared anonymous memory). initdb refuses root: the server runs as the
  # user postgres, in a throw-away cluster on a Unix socket only.
  pgbin=$(dirname "$(readlink -f "$(command -v postgres)")")
  data=$(mktemp -d)
  chown postgres "$data"
  as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
  as_pg "$pgbin/initdb -D $data -A trust" >/dev/null
  as_pg "$pgbin/pg_ctl -D $data -o '-k $data -p 54329 -c listen_addresses=' -l $data/log -w start" >/dev/null
  start python3 "$programs/pg-clients.py" "$data" 54329 4
  sleep 0.5
  postmaster=$(head -n 1 "$data/postmaster.pid")
  capture postgres "$(echo "$postmaster" $(pgrep -P "$postmaster") | tr ' ' ',')"
  stop
  as_pg "$pgbin/pg_ctl -D $data -w stop" >/dev/null
  rm -rf "$data"
fi
