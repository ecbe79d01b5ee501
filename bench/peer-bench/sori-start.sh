#!/bin/bash
# Start Sori for ../shared/bench (peer-bench) like its servers/*/start.sh: a fresh data dir seeded with
# COUNT users u0..u{COUNT-1} (and, with PAIRS=1, the 1:1 group of every pair), the server on
# 127.0.0.1:PORT; prints the server PID and writes it to $BENCH_RUN_DIR/server.pid.
#   COUNT=1000 PAIRS=1 PORT=8090 bench/peer-bench/sori-start.sh
#   BENCH_KEEP_DATA=1 bench/peer-bench/sori-start.sh      # restart on a fresh copy of the seeded data
#   SORI_ARGS="--store-thread off" …                      # extra server flags
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NODE="$ROOT/node_modules/.bin/node"
RUN=${BENCH_RUN_DIR:-/tmp/sori-peer-bench/run/sori}
COUNT=${COUNT:-1000}
PAIRS=${PAIRS:-1}
PORT=${PORT:-8090}
if [ -f "$RUN/server.pid" ] && kill -0 "$(cat "$RUN/server.pid")" 2>/dev/null; then
  echo "already running: pid $(cat "$RUN/server.pid")" >&2; exit 1
fi
if [ "${BENCH_KEEP_DATA:-0}" != 1 ]; then
  rm -rf "$RUN"
  mkdir -p "$RUN/data"
  ARGS=(--data "$RUN/data" --count "$COUNT" --accounts "$RUN/accounts.json")
  [ "$PAIRS" = 1 ] && ARGS+=(--pairs)
  "$NODE" "$ROOT/bench/peer-bench/seed.ts" "${ARGS[@]}" >&2
  cp -a "$RUN/data" "$RUN/seeded"
else
  # Back to the freshly seeded state: what an overloaded run left queued (Sori stores every message
  # until its recipient acks it) must not become the next run's backlog.
  rm -rf "$RUN/data"
  cp -a "$RUN/seeded" "$RUN/data"
fi
ulimit -n "$(ulimit -Hn)"
# The node flags of `npm start` (e.g. the young-generation cap), unless SORI_NODE_ARGS replaces them.
NODE_ARGS=${SORI_NODE_ARGS-$("$NODE" --input-type=module -e 'const { startScriptNodeFlags } = await import(`${process.argv[1]}/bench/server-process.ts`); console.log(startScriptNodeFlags(process.argv[1]).join(" "))' "$ROOT")}
# shellcheck disable=SC2086  # NODE_ARGS and SORI_ARGS are lists of flags
nohup "$NODE" $NODE_ARGS "$ROOT/apps/server/src/main.ts" --host 127.0.0.1 --port "$PORT" --data "$RUN/data" \
  --log-level warn --connections-per-account 100000 --login-attempts-per-minute 1000000 \
  --registrations-per-minute 1000000 --claims-per-minute 1000000 --messages-per-minute 100000000 \
  --requests-in-flight 100000 --unauthenticated-per-address 1000000 \
  ${SORI_ARGS:-} >"$RUN/stdout.log" 2>"$RUN/stderr.log" &
PID=$!
echo "$PID" > "$RUN/server.pid"
for _ in $(seq 1 100); do   # bounded wait: 20 s
  if grep -q "listening on" "$RUN/stdout.log" 2>/dev/null; then echo "$PID"; exit 0; fi
  kill -0 "$PID" 2>/dev/null || { cat "$RUN/stderr.log" >&2; exit 1; }
  sleep 0.2
done
echo "sori did not start within 20 s" >&2; exit 1
