#!/usr/bin/env bash
# Rewrites src/text_order.ld: which of the server's functions the linker groups ahead of .text
# (issue 11, resident code pages; see the nats-server target in CMakeLists.txt).
#   scripts/order-text.sh            profile the default scenarios, write src/text_order.ld
#   SCENARIOS=pub-16,js-pub-file-128 scripts/order-text.sh
# Runs our server under callgrind (valgrind) in short bench runs: each server process dumps
# once it listens (start-up) and again when stopped (the run). Slow: about 5 minutes on an
# idle machine. Re-run it after large changes to the message or JetStream paths; a stale list
# only costs resident memory (functions it no longer names stay in .text).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-bench}"
SCENARIOS="${SCENARIOS:-pub-16,pub-256,pubsub-256,reqrep-libnats-16,js-pub-mem-16,js-pub-file-128,js-pull-file-16-ack,js-pull-file-128-noack,js-restart-file-128,js-pub-file-syncalways-128}"
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 2; }

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" --target nats-bench nats-server -j"${JOBS:-2}"

work=$(mktemp -d /tmp/nats-order-text-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$BUILD_DIR/nats-server" "$work/nats-server"
mkdir "$work/dumps"
# The wrapper the bench starts as "our server": the bench's SIGTERM dumps the run and stops it.
# A process that never listened (start timeout under valgrind) leaves no ".1" start-up dump
# of its own making and is marked failed: its dumps would mix start-up into the run.
cat >"$work/server.sh" <<EOF
#!/usr/bin/env bash
valgrind --tool=callgrind --callgrind-out-file=$work/dumps/cg.%p --demangle=no --dump-instr=no \\
  $work/nats-server "\$@" &
vp=\$!
port=4222; prev=
for a in "\$@"; do [ "\$prev" = -p ] && port=\$a; prev=\$a; done
(
  for _ in \$(seq 1 1200); do
    if (exec 3<>/dev/tcp/127.0.0.1/\$port) 2>/dev/null; then
      sleep 0.5; callgrind_control -d \$vp >/dev/null 2>&1; touch $work/dumps/up.\$vp; exit 0
    fi
    sleep 0.1
  done
) &
trap '[ -e $work/dumps/up.\$vp ] || touch $work/dumps/failed.\$vp; callgrind_control -d \$vp >/dev/null 2>&1; kill -TERM \$vp; wait \$vp; exit 0' TERM
wait \$vp
EOF
chmod +x "$work/server.sh"
"$BUILD_DIR/bench/nats-bench" --ours "$work/server.sh" --scenario "$SCENARIOS" --rounds 1 --msgs 20000 \
  --run-timeout 600 || echo "some runs failed (start timeout under valgrind?): their dumps are left out" >&2
for f in "$work"/dumps/failed.*; do [ -e "$f" ] && rm -f "$work/dumps/cg.${f##*.}"*; done
python3 "$ROOT/scripts/lib/text_order.py" "$work/nats-server" "$work/dumps" $(gcc -print-file-name=libcrypto.a) $(gcc -print-file-name=libssl.a) $(gcc -print-libgcc-file-name) >"$ROOT/src/text_order.ld"
head -4 "$ROOT/src/text_order.ld"
