#!/usr/bin/env bash
# The server's grouped code (issue 11, src/text_order.ld): the output section .text.nats_run
# must hold at least half of the code the list was written for. Less means the list went
# stale (functions renamed or moved), or the link script was not applied: the server then runs
# as before, only with more code pages resident. Fix: scripts/order-text.sh.
set -euo pipefail
server=$1 script=$2
want_kb=$(sed -n 's/^ *(\([0-9]*\) KB) ran after start-up, [0-9]* more (\([0-9]*\) KB).*/\1 \2/p' "$script" |
  awk '{print $1 + $2}')
[ -n "$want_kb" ] || { echo "no size in the header of $script" >&2; exit 1; }
size_hex=$(readelf -SW "$server" | awk '$2 == ".text.nats_run" {print $6}')
[ -n "$size_hex" ] || { echo "$server has no .text.nats_run section: $script was not applied" >&2; exit 1; }
have_kb=$(( 16#$size_hex / 1024 ))
echo ".text.nats_run: $have_kb KB of the $want_kb KB listed"
if (( have_kb * 2 < want_kb )); then
  echo "src/text_order.ld matches under half of its functions: regenerate it (scripts/order-text.sh)" >&2
  exit 1
fi
