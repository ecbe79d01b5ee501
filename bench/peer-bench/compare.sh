#!/bin/bash
# Sori, ejabberd and Prosody side by side through ../shared/bench (peer-bench): one load generator,
# one pattern (random 1:1 messages of 64 bytes), the same pass rule (p99 < 100 ms, nothing lost).
# Per server: max-rate sweeps at C=100 and C=1000 (server restarted before every run), then the
# idle-memory test. The harness is copied to $WORK so ../shared/bench stays untouched; results and
# SUMMARY.md land in $WORK/harness/results.
#   bench/peer-bench/compare.sh                                   # all three, 20 s runs (~1 h)
#   SERVERS=sori DURATION=5 MAXRUNS=5 IDLE=5000 bench/peer-bench/compare.sh   # quick
#   SERVERS=sori SIZES= IDLE=19900 bench/peer-bench/compare.sh                  # idle memory only
#   SERVERS=floor SIZES=1000 DURATION=10 bench/peer-bench/compare.sh            # the machine's floor
# ejabberd and Prosody need their Debian packages (apt-get install prosody ejabberd, as root).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${PEER_BENCH:-$ROOT/../shared/bench}
WORK=${WORK:-/tmp/sori-peer-bench}
SERVERS=${SERVERS:-"sori ejabberd prosody"}
# Client counts of the max-rate sweeps; SIZES="" runs the idle-memory test alone.
SIZES=${SIZES-"100 1000"}
DURATION=${DURATION:-20}; WARMUP=${WARMUP:-3}; MAXRUNS=${MAXRUNS:-8}; IDLE=${IDLE:-5000}; P=${TAG_PREFIX:-}
PORT=${PORT:-8090}
NODE="$ROOT/node_modules/.bin/node"
export PATH="$ROOT/node_modules/.bin:$PATH"

mkdir -p "$WORK/harness"
(cd "$SRC" && tar --exclude=./results --exclude=./run --exclude=./node_modules -cf - .) | tar -xf - -C "$WORK/harness"
# The harness's own adapters need `ws`; ours resolves it from this repository.
[ -e "$WORK/harness/node_modules" ] || ln -s "$ROOT/node_modules" "$WORK/harness/node_modules"
cd "$WORK/harness"
echo "machine: $(nproc) cores, $(uptime)" | tee -a "$WORK/machine.log"

SORI_RUN="$WORK/run/sori"
SORI_OPTS=(--adapter "$ROOT/bench/peer-bench/sori-adapter.mjs" --opt "url=ws://127.0.0.1:$PORT/api/v1/ws"
  --opt "accounts=$SORI_RUN/accounts.json")
sori_start() { BENCH_RUN_DIR="$SORI_RUN" PORT=$PORT "$ROOT/bench/peer-bench/sori-start.sh" >/dev/null; }
sori_stop() { BENCH_RUN_DIR="$SORI_RUN" "$ROOT/bench/peer-bench/sori-stop.sh"; }

for S in $SERVERS; do
  case $S in
    sori)
      for C in $SIZES; do
        sori_stop
        # Every pair of the C users gets its 1:1 group up front (C·(C−1)/2 groups), so no run measures
        # group creation.
        COUNT=$C PAIRS=1 BENCH_RUN_DIR="$SORI_RUN" PORT=$PORT "$ROOT/bench/peer-bench/sori-start.sh" >/dev/null
        RESTART="BENCH_RUN_DIR=$SORI_RUN $ROOT/bench/peer-bench/sori-stop.sh; BENCH_KEEP_DATA=1 BENCH_RUN_DIR=$SORI_RUN PORT=$PORT $ROOT/bench/peer-bench/sori-start.sh >/dev/null"
        START=$([ "$C" = 100 ] && echo 8000 || echo 8000)
        timeout 1800 "$NODE" tools/sweep.mjs --tag "${P}sori-c$C" --clients "$C" --start "$START" --max-runs "$MAXRUNS" \
          --before "$RESTART" --server-pidfile "$SORI_RUN/server.pid" --duration "$DURATION" --warmup "$WARMUP" \
          "${SORI_OPTS[@]}" 2> >(grep -v '^\[bench' >&2)
      done
      sori_stop
      COUNT=$IDLE PAIRS=0 BENCH_RUN_DIR="$SORI_RUN" PORT=$PORT "$ROOT/bench/peer-bench/sori-start.sh" >/dev/null
      STEPS=$(( IDLE / 5 )),$(( IDLE / 2 )),$IDLE
      # Two generator processes: each holds at most half of the sockets (the fd limit is per process).
      timeout 900 "$NODE" bench.mjs --mode idle --workers 2 --server-pidfile "$SORI_RUN/server.pid" --clients "$IDLE" \
        --steps "$STEPS" --settle 5 --connect-timeout 300 --out "results/${P}sori-idle.json" --label "${P}sori-idle" \
        "${SORI_OPTS[@]}" | cut -c1-400
      sori_stop
      ;;
    floor)
      # Not a server: floor-relay.mjs, a Node.js relay, speaks Sori's frames and does nothing else, so
      # its sweep shows the least such a server needs of this machine (docs/BENCHMARKS.md, fifth round).
      FLOOR_RUN="$WORK/run/floor"
      MAXC=$(echo "$SIZES" | tr ' ' '\n' | sort -n | tail -1)
      COUNT=${MAXC:-1000} PAIRS=0 BENCH_RUN_DIR="$FLOOR_RUN" PORT=$PORT "$ROOT/bench/peer-bench/sori-start.sh" >/dev/null
      BENCH_RUN_DIR="$FLOOR_RUN" "$ROOT/bench/peer-bench/sori-stop.sh"
      # Restarted before every run like the servers; waits (10 s at most) until it listens, so a relay
      # that failed to start fails the run loudly instead of skewing the sweep.
      RESTART="BENCH_RUN_DIR=$FLOOR_RUN $ROOT/bench/peer-bench/sori-stop.sh; : > $FLOOR_RUN/relay.log; nohup $NODE $ROOT/bench/peer-bench/floor-relay.mjs $FLOOR_RUN/accounts.json $PORT 1800 >$FLOOR_RUN/relay.log 2>&1 & echo \$! > $FLOOR_RUN/server.pid; for _ in \$(seq 1 50); do grep -q 'floor relay on' $FLOOR_RUN/relay.log && exit 0; sleep 0.2; done; cat $FLOOR_RUN/relay.log >&2; exit 1"
      for C in $SIZES; do
        timeout 1800 "$NODE" tools/sweep.mjs --tag "${P}floor-c$C" --clients "$C" --start 16000 --max-runs "$MAXRUNS" \
          --before "$RESTART" --server-pidfile "$FLOOR_RUN/server.pid" --duration "$DURATION" --warmup "$WARMUP" \
          --adapter "$ROOT/bench/peer-bench/sori-adapter.mjs" --opt "url=ws://127.0.0.1:$PORT/" \
          --opt "accounts=$FLOOR_RUN/accounts.json" 2> >(grep -v '^\[bench' >&2)
      done
      BENCH_RUN_DIR="$FLOOR_RUN" "$ROOT/bench/peer-bench/sori-stop.sh"
      ;;
    ejabberd | prosody)
      command -v prosody >/dev/null && command -v ejabberdctl >/dev/null || {
        echo "$S: not installed (apt-get install -y prosody ejabberd); skipped" >&2; continue; }
      case $S in prosody) S100=3000; S1000=2000;; ejabberd) S100=8000; S1000=8000;; esac
      servers/stop.sh "$S" >/dev/null 2>&1 || true
      servers/"$S"/start.sh >/dev/null
      timeout 900 "$NODE" tools/register.mjs --count "$IDLE" --concurrency 20
      RESTART="servers/stop.sh $S >/dev/null; BENCH_KEEP_DATA=1 servers/$S/start.sh >/dev/null"
      for C in $SIZES; do
        START=$([ "$C" = 100 ] && echo $S100 || echo $S1000)
        timeout 1800 "$NODE" tools/sweep.mjs --tag "$P$S-c$C" --clients "$C" --start "$START" --max-runs "$MAXRUNS" \
          --before "$RESTART" --server-pidfile "run/$S/server.pid" --duration "$DURATION" --warmup "$WARMUP" \
          2> >(grep -v '^\[bench' >&2)
      done
      bash -c "$RESTART"
      STEPS=$(( IDLE / 5 )),$(( IDLE / 2 )),$IDLE
      timeout 900 "$NODE" bench.mjs --mode idle --workers 2 --server-pidfile "run/$S/server.pid" --clients "$IDLE" \
        --steps "$STEPS" --settle 5 --connect-timeout 300 --out "results/$P$S-idle.json" --label "$P$S-idle" | cut -c1-400
      servers/stop.sh "$S"
      ;;
    *) echo "unknown server $S" >&2; exit 2 ;;
  esac
done
"$NODE" tools/summarize.mjs results > results/SUMMARY.md
echo "machine after: $(uptime)" | tee -a "$WORK/machine.log"
echo "wrote $WORK/harness/results/SUMMARY.md"
