#!/usr/bin/env bash
# Builds (Release) our server and the benchmark runner, then compares our server with the
# reference server. Extra arguments go to nats-bench, e.g.:
#   scripts/bench.sh --quick                     smoke run (seconds)
#   scripts/bench.sh --scenario pubsub,reqrep    a subset
#   scripts/bench.sh --scenario route,gateway    publisher and subscriber on different servers
#   scripts/bench.sh --ours /usr/sbin/nats-server  reference against itself: the noise level
#   scripts/bench.sh --json > bench.json
# Defaults: 3 rounds of every scenario, alternating ours/reference; about 2 minutes in all.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-bench}"
JOBS="${JOBS:-2}"

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null

targets=(nats-bench)
# Our server is only needed when --ours does not point elsewhere.
if ! printf '%s\n' "$@" | grep -qx -- '--ours'; then targets+=(nats-server); fi
cmake --build "$BUILD_DIR" --target "${targets[@]}" -j"$JOBS"

exec "$BUILD_DIR/bench/nats-bench" "$@"
