#!/usr/bin/env bash
# Builds everything and runs every test: unit tests, integration tests (real server
# processes driven by the official C client, plus differential runs against Debian's
# nats-server 2.9.10), and each fuzz target for a short time under libFuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
echo "== unit and integration tests"
(cd build && ctest --output-on-failure --timeout 600 -j1)

echo "== fuzzing (libFuzzer, clang, ${FUZZ_SECONDS:-20}s per target)"
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DNATS_FUZZ=ON -DNATS_TESTS=ON >/dev/null
targets=$(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
for t in $targets; do
  cmake --build build-fuzz --target "$t" -j"$(nproc)" >/dev/null
done
for t in $targets; do
  corpus_seed="tests/fuzz/corpus/${t#fuzz_}"
  work=$(mktemp -d)
  [ -d "$corpus_seed" ] && cp -r "$corpus_seed"/. "$work"/ 2>/dev/null || true
  echo "-- $t"
  ./build-fuzz/tests/"$t" -max_total_time="${FUZZ_SECONDS:-20}" -print_final_stats=0 "$work" 2>&1 | tail -n 2
  rm -rf "$work"
done
echo "fuzz: all targets ran without crashes"
