#!/usr/bin/env bash
# Fuzz campaigns on demand: scripts/fuzz.sh [target] [seconds] [--merge|--quiet]
#   target   fuzz_client_parser or client_parser (tests/fuzz/fuzz_*.cpp); default: every target
#   seconds  per target (default 600)
#   --merge  afterwards, add the inputs that reached new coverage to the repository's corpus
#            (tests/fuzz/corpus/<name>/, minimized by libFuzzer's -merge=1): commit them
#   --quiet  one summary line per target (scripts/test.sh)
# Builds the libFuzzer targets in build-san (clang, address + undefined-behaviour
# sanitizers: the same dir scripts/test.sh uses). The corpus is replayed first, then new
# inputs are explored; a crash leaves its input in tests/fuzz/crashes/, and the run fails.
# Runs at low priority (nice) so it can share the machine. FUZZ_JOBS=n runs n processes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/sanitizer_env.sh

target=${1:-all}
seconds=${2:-600}
mode=${3:-}
if [ "$target" = all ]; then
  targets=$(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
else
  targets=fuzz_${target#fuzz_}
  [ -f "tests/fuzz/$targets.cpp" ] || { echo "no such fuzz target: $target" >&2; exit 2; }
fi

[ -f build-san/CMakeCache.txt ] && grep -q '^NATS_FUZZ:BOOL=ON' build-san/CMakeCache.txt || configure_clang build-san -DNATS_FUZZ=ON
# FUZZ_NO_BUILD=1: the caller (scripts/test.sh) built the targets and runs several fuzz.sh at once.
[ -n "${FUZZ_NO_BUILD:-}" ] || cmake --build build-san -j"$(nproc)" --target $targets >/dev/null

mkdir -p tests/fuzz/crashes
for t in $targets; do
  name=${t#fuzz_}
  seeds=tests/fuzz/corpus/$name
  mkdir -p "$seeds"
  work=$(mktemp -d "/tmp/fuzz-$name.XXXXXX")
  start=$SECONDS
  # New inputs go to $work (the first dir); the repository corpus is only read.
  jobs=()
  [ "${FUZZ_JOBS:-1}" -gt 1 ] && jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
  set +e
  mkdir -p "$work.tmp"
  TMPDIR="$work.tmp" nice -n 19 ./build-san/tests/"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    "${jobs[@]}" -print_final_stats=1 \
    -artifact_prefix="tests/fuzz/crashes/$name-" "$work" "$seeds" >"$work.log" 2>&1
  rc=$?
  set -e
  cpu=$(awk '/stat::number_of_executed_units/ {n+=$2} END {print n+0}' "$work.log")
  if [ $rc -ne 0 ]; then
    tail -n 60 "$work.log"
    echo "$t: CRASH after $(( SECONDS - start ))s; input saved in tests/fuzz/crashes/ (add it to $seeds once fixed)"
    exit 1
  fi
  echo "$t: ${seconds}s, $cpu runs, no crash ($(ls "$seeds" | wc -l) corpus files)"
  [ "$mode" = --quiet ] || grep -E '^#[0-9]+.*(DONE|cov:)' "$work.log" | tail -n 1
  if [ "$mode" = --merge ]; then
    nice -n 19 ./build-san/tests/"$t" -merge=1 -use_counters=0 "$seeds" "$work" >"$work.merge.log" 2>&1 || { tail "$work.merge.log"; exit 1; }
    echo "$t: corpus now $(ls "$seeds" | wc -l) files"
  fi
  rm -rf "$work" "$work.tmp" "$work.log" "$work.merge.log"
done
