#!/usr/bin/env bash
# `make invoke EVENT=events/<file>.json`: send one Kinesis event to the function running in
# `cargo lambda watch` on 127.0.0.1:$WATCH_PORT and print its response.
# When nothing listens there, start a watch for this call only, wait until it accepts
# connections, invoke, then stop it by its PID (its own process group: the watch and the
# function process it runs). Environment: the function's settings (KEY_PROVIDER, SINKS, ...)
# apply only to a watch this script starts.
set -euo pipefail

event=${1:?usage: lambda-invoke.sh EVENT_FILE}
addr=127.0.0.1
port=${WATCH_PORT:-9000}
ready_secs=${WATCH_READY_SECS:-600}
[ -f "$event" ] || { echo "lambda-invoke: no such event file: $event" >&2; exit 2; }
command -v cargo-lambda >/dev/null || { echo "lambda-invoke: cargo-lambda not on PATH (make lambda-tools)" >&2; exit 2; }

listening() { (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; }

pid=""
stop_watch() {
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap stop_watch EXIT

if ! listening; then
  log=${WATCH_LOG:-out/watch-$port.log}
  mkdir -p "$(dirname "$log")"
  echo "lambda-invoke: no cargo lambda watch on $addr:$port; starting one for this call (log: $log)" >&2
  # setsid: the watch leads a process group of its own, so stopping it stops only what it started.
  setsid cargo lambda watch --ignore-changes -A "$addr" -P "$port" >"$log" 2>&1 &
  pid=$!
  deadline=$(( $(date +%s) + ready_secs ))
  until listening; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "lambda-invoke: cargo lambda watch exited; its log:" >&2; tail -n 30 "$log" >&2; exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "lambda-invoke: cargo lambda watch not ready after ${ready_secs}s" >&2; exit 1
    fi
    sleep 0.2
  done
fi

cargo lambda invoke -A "$addr" -P "$port" --data-file "$event" das-forwarder
