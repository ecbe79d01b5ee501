#!/bin/bash
# Stop the Sori server started by sori-start.sh (SIGTERM, SIGKILL after 10 s).
RUN=${BENCH_RUN_DIR:-/tmp/sori-peer-bench/run/sori}
[ -f "$RUN/server.pid" ] || exit 0
PID=$(cat "$RUN/server.pid")
kill "$PID" 2>/dev/null || exit 0
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || exit 0; sleep 0.2; done
kill -9 "$PID" 2>/dev/null || true
