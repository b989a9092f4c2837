#!/usr/bin/env bash
# Builds everything and runs every test, in four stages (README "Tests" says what runs where):
#   plain  Release build (gcc): unit tests, integration tests (real server processes driven
#          by the official C client, plus differential runs against Debian's nats-server
#          2.9.10), and a replay of every fuzz corpus.
#   asan   clang build with address + undefined-behaviour sanitizers (build-san): the unit
#          tests, then a time-boxed set of integration tests against the sanitized server,
#          then each libFuzzer target (same build dir) for FUZZ_SECONDS.
#   tsan   clang build with ThreadSanitizer (build-tsan; only the server and the unit tests
#          that start threads): concurrency stress tests against the TSan server.
# Any sanitizer report, in a test binary or in a server process it started, fails the run.
# TEST_STAGES="plain asan tsan" (default: all) picks stages.
set -euo pipefail
cd "$(dirname "$0")/.."
stages=" ${TEST_STAGES:-plain asan tsan} "
source scripts/lib/sanitizer_env.sh
bash scripts/install-deps.sh --tests

stage_time() { echo "== $1 took $(( SECONDS - $2 ))s"; }
# step_time <what> <start>: the time of one step inside a stage, so CI logs show where time goes.
step_time() { echo "-- $1 took $(( SECONDS - $2 ))s"; }

source scripts/lib/background_builds.sh
sanitizer_exit_hook() { background_builds_stop; }
trap sanitizer_exit_hook EXIT
fuzz_targets=$(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
unit_targets=$(cd tests/unit && ls -d */ | sed 's#/$##; s/^/unit_/')
build_asan() {
  configure_clang build-san -DNATS_FUZZ=ON
  cmake --build build-san -j"$(nproc)" --target nats-server $unit_targets $fuzz_targets
}
build_tsan() {
  configure_clang build-tsan -DNATS_TSAN=ON
  cmake --build build-tsan -j"$(nproc)" --target nats-server unit_tsan
}
sanitizer_builds=()
[[ $stages == *" asan "* ]] && sanitizer_builds+=(asan)
[[ $stages == *" tsan "* ]] && sanitizer_builds+=(tsan)

if [[ $stages == *" plain "* ]]; then
  t0=$SECONDS
  bash scripts/build.sh
  step_time "plain build" $t0
  # The sanitizer builds start now, in the background at the lowest priority: the plain
  # stage's integration tests mostly wait on servers and leave most of both cores idle.
  background_builds_start "${sanitizer_builds[@]}"
  echo "== plain: unit and integration tests, fuzz corpus replay"
  # -j3: the integration tests run as three gtest shards side by side (tests/CMakeLists.txt);
  # they mostly wait on servers, so three fit on two cores.
  (cd build && ctest --output-on-failure --timeout 1200 -j3)
  stage_time plain $t0
else
  background_builds_start "${sanitizer_builds[@]}"
fi

# The integration tests are the plain build's binary, pointed at another server binary, run as
# <shards> gtest shards side by side (each with its own port slice, see harness.h). A failing
# shard's output is printed whole.
integration_against() {
  local server=$1 filter=$2 shards=${3:-1} i rc=0
  [ -x build/tests/integration_tests ] || bash scripts/build.sh integration_tests
  local logs pids=()
  logs=$(mktemp -d /tmp/integration-shards.XXXXXX)
  for ((i = 0; i < shards; i++)); do
    GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i NATS_TEST_SERVER_BIN="$PWD/$server" \
      ./build/tests/integration_tests --gtest_filter="$filter" --gtest_brief=1 >"$logs/$i.log" 2>&1 &
    pids+=($!)
  done
  for ((i = 0; i < shards; i++)); do
    if wait "${pids[$i]}"; then
      tail -n 3 "$logs/$i.log"
    else
      rc=1
      echo "---- shard $i of $shards failed:"
      cat "$logs/$i.log"
    fi
  done
  rm -rf "$logs"
  return $rc
}

# Fuzz targets two at a time (each is one CPU-bound process for FUZZ_SECONDS).
fuzz_all() {
  local targets=($1) i
  for ((i = 0; i < ${#targets[@]}; i += 2)); do
    FUZZ_NO_BUILD=1 bash scripts/fuzz.sh "${targets[$i]}" "${FUZZ_SECONDS:-15}" --quiet &
    local first=$!
    if ((i + 1 < ${#targets[@]})); then
      FUZZ_NO_BUILD=1 bash scripts/fuzz.sh "${targets[$((i + 1))]}" "${FUZZ_SECONDS:-15}" --quiet || { wait $first; return 1; }
    fi
    wait $first || return 1
  done
}

if [[ $stages == *" asan "* ]]; then
  t0=$SECONDS
  echo "== asan: address + undefined-behaviour sanitizers (clang, build-san)"
  background_build_wait asan
  step_time "asan build (waiting for the rest of it)" $t0
  sanitizer_reports_begin
  t1=$SECONDS
  for u in $unit_targets; do
    echo "-- $u"
    ./build-san/tests/"$u" --gtest_brief=1
  done
  step_time "asan unit tests" $t1
  echo "-- integration tests against the sanitized server"
  t1=$SECONDS
  integration_against build-san/nats-server "$(cat tests/sanitizer_integration_filter.txt | grep -v '^#' | paste -sd:)" 2
  step_time "asan integration tests" $t1
  echo "-- fuzz targets (libFuzzer, ${FUZZ_SECONDS:-15}s each, two at a time, corpus replayed first)"
  t1=$SECONDS
  # Fuzzing is time-boxed: the background build is paused so the fuzzers get the cores they
  # had before the builds overlapped (the same number of runs per target).
  background_builds_pause
  fuzz_all "$fuzz_targets"
  background_builds_resume
  step_time "fuzzing" $t1
  sanitizer_reports_end asan
  stage_time asan $t0
fi

if [[ $stages == *" tsan "* ]]; then
  t0=$SECONDS
  echo "== tsan: ThreadSanitizer (clang, build-tsan)"
  background_build_wait tsan
  step_time "tsan build (waiting for the rest of it)" $t0
  sanitizer_reports_begin
  ./build-tsan/tests/unit_tsan --gtest_filter='FileStoreIoTest.*:SubListConcurrency.*' --gtest_brief=1
  integration_against build-tsan/nats-server "$(cat tests/tsan_integration_filter.txt | grep -v '^#' | paste -sd:)"
  sanitizer_reports_end tsan
  stage_time tsan $t0
fi
echo "== all stages passed"
