#!/usr/bin/env bash
# The seed grown up: a 3x3 supercluster on loopback (clusters east, central and west of three
# servers each, routes within a cluster, gateways between them, the system account and
# JetStream on every server), an R3 file stream ORDERS placed in east, and a client in west
# publishing to it asynchronously while the stream leader is killed with kill -9. The client
# (examples/r3_failover_client.cpp) prints what it verified: acknowledged count, the stream
# after (new leader, message count), no acknowledged message lost, none duplicated, and how
# long until writes were accepted again. Exits non-zero if any check failed.
# Usage: scripts/run-example-r3.sh        (also: scripts/run-example.sh --r3)
# Environment: PORT_BASE (default 4222: clients 4222-4230, monitoring +4000, routes +2000,
# gateways +3000; ROUTE_BASE, GATEWAY_BASE and HTTP_BASE move one group), R3_COUNT (messages,
# default 3000), NATSCPP_SKIP_BUILD=1 to use the built binaries as they are (in NATSCPP_BIN_DIR,
# default ./build).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${NATSCPP_SKIP_BUILD:-}" = 1 ] || bash scripts/build.sh nats-server nats r3-failover-client
BIN="${NATSCPP_BIN_DIR:-$PWD/build}"
BASE=${PORT_BASE:-4222}
ROUTE_BASE=${ROUTE_BASE:-$((BASE + 2000))}
GATEWAY_BASE=${GATEWAY_BASE:-$((BASE + 3000))}
HTTP_BASE=${HTTP_BASE:-$((BASE + 4000))}
COUNT=${R3_COUNT:-3000}
source scripts/lib/example_workdir.sh
example_workdir nats-r3-example
declare -A PID   # server name -> pid, for the client that kills the leader

CLUSTERS=(east central west)
gateways() {
  for c in 0 1 2; do echo "    {name: \"${CLUSTERS[$c]}\", urls: [\"nats://127.0.0.1:$((GATEWAY_BASE + c * 3))\"]},"; done
}
routes() {  # every server of cluster $1, itself included (as the seed's config does)
  for s in 0 1 2; do echo "    \"nats-route://127.0.0.1:$((ROUTE_BASE + $1 * 3 + s))\""; done
}
for c in 0 1 2; do
  for s in 0 1 2; do
    n=$((c * 3 + s)) name="${CLUSTERS[$c]}-$((s + 1))"
    # Each server has its own gateway port; peers are reached through each cluster's first.
    cat > "$name.conf" <<CONF
port: $((BASE + n))
http_port: $((HTTP_BASE + n))
server_name: $name
include sys.conf
jetstream: { store_dir: "$WORK/storage/$name" }
cluster: {
  name: ${CLUSTERS[$c]}
  port: $((ROUTE_BASE + n))
  routes: [
$(routes $c)
  ]
}
gateway: {
  name: ${CLUSTERS[$c]}
  port: $((GATEWAY_BASE + n))
  gateways: [
$(gateways)
  ]
}
CONF
    "$BIN/nats-server" -c "$name.conf" -a 127.0.0.1 > "$name.log" 2>&1 &
    PID[$name]=$!
    EXAMPLE_PIDS+=($!)
  done
done

echo "9 servers: east-1..3, central-1..3, west-1..3 (clients on 127.0.0.1:$BASE-$((BASE + 8)))"
for n in $(seq 0 8); do
  if ! curl --fail --silent --retry 30 --retry-delay 1 --retry-connrefused --retry-all-errors \
      "http://127.0.0.1:$((HTTP_BASE + n))/healthz" > /dev/null; then
    name="${CLUSTERS[$((n / 3))]}-$((n % 3 + 1))"
    echo "$name is not healthy (http://127.0.0.1:$((HTTP_BASE + n))/healthz); the end of its log:"
    tail -n 20 "$name.log"
    exit 1
  fi
done
echo "all 9 report healthy (/healthz: JetStream meta group has a leader)"

NATS="$BIN/nats"
EAST="nats://127.0.0.1:$BASE" WEST="nats://127.0.0.1:$((BASE + 6))"
echo '$ nats --server west-1 stream add ORDERS --cluster east --replicas 3 --subjects "orders.>" --storage file --defaults'
for try in $(seq 1 20); do
  if $NATS --server "$WEST" stream add ORDERS --cluster east --replicas 3 --subjects 'orders.>' --storage file \
      --defaults > stream-add.out 2>&1; then break; fi
  sleep 1
done
cat stream-add.out
echo '$ nats --server east-1 stream info ORDERS'
$NATS --server "$EAST" stream info ORDERS

PIDARGS=()
for name in "${!PID[@]}"; do PIDARGS+=(--pid "$name=${PID[$name]}"); done
echo "\$ r3-failover-client --server west-1 --count $COUNT --kill-at $((COUNT / 3))   (kills the stream leader with kill -9)"
set +e
"$BIN/examples/r3-failover-client" --server "$WEST" --stream ORDERS --subject orders.new --count "$COUNT" \
  --kill-at $((COUNT / 3)) "${PIDARGS[@]}"
RC=$?
set -e
echo '$ nats --server west-1 stream info ORDERS'
$NATS --server "$WEST" stream info ORDERS || true
exit $RC
