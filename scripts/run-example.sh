#!/usr/bin/env bash
# The main job: builds the server and runs it on the default ports (clients 4222,
# monitoring 8222), printing the start-up banner, until Ctrl-C.
# (The supercluster example of the mission grows here as routes, gateways, $SYS and
# JetStream land; see README "Status".)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh nats-server
exec ./build/nats-server -m 8222 "$@"
