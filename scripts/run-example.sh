#!/usr/bin/env bash
# The main job: the "Supercluster with JetStream" example (natsbyexample topologies/
# supercluster-jetstream/cli) on loopback with our nats-server and our nats tool: three
# single-node clusters (east, central, west) joined by gateways, the system account, then
# `nats server list`, `nats server report jetstream`, and a request in the west cluster
# answered by a service in the east cluster. Then clustered JetStream: a stream placed in
# east from a west connection, published to from central, read in east, and its
# `nats stream info` with the cluster it lives in.
# Usage: scripts/run-example.sh [--serve]   (--serve: leave the servers running until Ctrl-C)
#        scripts/run-example.sh --r3        (the grown-up example: scripts/run-example-r3.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--r3" ] && exec bash scripts/run-example-r3.sh
bash scripts/build.sh nats-server nats
BIN="$PWD/build"
source scripts/lib/example_workdir.sh
example_workdir nats-supercluster

i=0
for spec in "n1 east 4222" "n2 central 4223" "n3 west 4224"; do
  set -- $spec
  name=$1 cluster=$2 port=$3
  off=$((port - 4222))
  cat > "$cluster.conf" <<CONF
port: $port
http_port: $((8222 + off))
server_name: $name

include sys.conf

jetstream: {
  store_dir: "$WORK/storage/$name"
}

cluster: {
  name: $cluster,
  port: $((6222 + off)),
  routes: [
    "nats-route://127.0.0.1:$((6222 + off))"
  ],
}

gateway: {
  name: "$cluster",
  port: $((7222 + off)),
  gateways: [
    {name: "east", urls: ["nats://127.0.0.1:7222"]},
    {name: "central", urls: ["nats://127.0.0.1:7223"]},
    {name: "west", urls: ["nats://127.0.0.1:7224"]},
  ]
}
CONF
  "$BIN/nats-server" -c "$cluster.conf" -a 127.0.0.1 > "$name.log" 2>&1 &
  EXAMPLE_PIDS+=($!)
  i=$((i + 1))
done

sleep 3
for port in 8222 8223 8224; do
  curl --fail --silent --retry 5 --retry-delay 1 --retry-connrefused "http://127.0.0.1:$port/healthz"; echo
done

NATS="$BIN/nats"
$NATS context save east --server "nats://127.0.0.1:4222"
$NATS context save east-sys --server "nats://127.0.0.1:4222" --user sys --password pass
$NATS context save west --server "nats://127.0.0.1:4224"
$NATS context save central --server "nats://127.0.0.1:4223"

echo '$ nats --context east-sys server list'
$NATS --context east-sys server list
echo '$ nats --context east-sys server report jetstream'
$NATS --context east-sys server report jetstream

echo "\$ nats --context east reply greet 'hello from east' &"
$NATS --context east reply greet 'hello from east' --count 1 &
REPLY=$!
sleep 1
echo "\$ nats --context west request greet ''"
$NATS --context west request greet ''
wait $REPLY || true

echo '$ nats --context west stream add ORDERS --cluster east --subjects "orders.>" --defaults'
$NATS --context west stream add ORDERS --cluster east --subjects 'orders.>' --storage file --defaults
for i in 1 2 3; do
  echo "\$ nats --context central pub orders.new 'order $i'"
  $NATS --context central pub orders.new "order $i"
done
echo '$ nats --context east stream get ORDERS 3'
$NATS --context east stream get ORDERS 3
echo '$ nats --context east stream info ORDERS'
$NATS --context east stream info ORDERS

if [ "${1:-}" = "--serve" ]; then
  echo "servers running on 4222-4224 (monitoring 8222-8224); Ctrl-C to stop"
  wait
fi
