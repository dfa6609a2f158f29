#!/bin/sh
# Start the web app (and, once present, the scheduler) for `make run`; Ctrl-C stops both.
set -e
: "${HOST:=127.0.0.1}" "${PORT:=5000}" "${FLASK:=.venv/bin/flask --app wsgi}" "${TRACKER_ENV:=development}"
# Local development: the development SECRET_KEY is allowed (production refuses it).
export TRACKER_ENV
pids=""
cleanup() {
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT
if $FLASK --help 2>/dev/null | grep -q run-scheduler; then
  $FLASK run-scheduler &
  pids="$pids $!"
fi
$FLASK run --host "$HOST" --port "$PORT" &
pids="$pids $!"
wait
