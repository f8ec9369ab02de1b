#!/usr/bin/env bash
# The serving measurement in README.md ("Serving"): the release rnnkit serving the small LSTM
# fixture on 127.0.0.1, 64 wrk connections for DURATION seconds (default 20), then a check that
# the server's memory stayed flat, that its answers are still Keras's numbers, and that SIGTERM
# under load loses no accepted request.
#
#   docs/deploy/load-test.sh [DURATION]      needs wrk (apt-get install wrk) and python3
#
# Loopback only; wrk stops by itself after DURATION seconds, and the server is ended by its pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-20}
port=${PORT:-18501}
swift build -c release --product rnnkit >&2
bin=$(swift build -c release --show-bin-path)/rnnkit

"$bin" serve lstm=Fixtures/lstm_sequences/keras3.keras --port "$port" --log-level "${LOG_LEVEL:-info}" \
    2> .build/serve-load.log &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/models/lstm" >/dev/null && break; sleep 0.1; done

rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
# A short warm-up, so that the memory measured is the steady state's.
wrk -t2 -c64 -d2s -s docs/deploy/wrk-predict.lua "http://127.0.0.1:$port/v1/models/lstm:predict" >/dev/null
before=$(rss)
wrk -t2 -c64 -d"${duration}s" --latency -s docs/deploy/wrk-predict.lua \
    "http://127.0.0.1:$port/v1/models/lstm:predict"
after=$(rss)
echo "server RSS: ${before} KiB before, ${after} KiB after the ${duration} s run"

# Answers after the load are still Keras's numbers (every fixture, row and columnar formats).
python3 docs/deploy/check_tf_serving_client.py --url "http://127.0.0.1:$port" --fixture lstm_sequences --name lstm

# SIGTERM under load: the server answers what it accepted and exits 0. Every response the server
# logged must have reached wrk complete (wrk's count of finished requests).
logged_before=$(grep -c "status=200" .build/serve-load.log)
(sleep 2; kill -TERM $server) &
completed=$(wrk -t2 -c64 -d4s -s docs/deploy/wrk-predict.lua "http://127.0.0.1:$port/v1/models/lstm:predict" \
    | awk '/requests in/ {print $1}')
wait $server && echo "server exited 0 after SIGTERM under load"
trap - EXIT
logged=$(( $(grep -c "status=200" .build/serve-load.log) - logged_before ))
echo "during SIGTERM: $completed responses received by wrk, $logged answered by the server"
[ "$completed" -eq "$logged" ]
