# Shared by scripts/test.sh and scripts/fuzz.sh: configuring the clang sanitizer build dirs,
# and collecting sanitizer reports from every process (test binaries and the server
# processes the integration tests start) so that any report fails the run.

# configure_clang <build dir> <cmake args...>: RelWithDebInfo at -O1 with line tables only,
# enough for symbolized reports and quicker to build than -O2 -g.
configure_clang() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    ${CMAKE_EXTRA_ARGS:-} "$@" >/dev/null
}

# Every sanitizer writes its reports to files under $SANITIZER_REPORTS (one per process), so
# a report from a server process is seen even if the test that started it passed.
sanitizer_reports_begin() {
  SANITIZER_REPORTS=$(mktemp -d /tmp/sanitizer-reports.XXXXXX)
  local common="log_path=$SANITIZER_REPORTS/report:halt_on_error=1:print_stacktrace=1"
  export ASAN_OPTIONS="$common:abort_on_error=1:detect_leaks=1:strict_string_checks=1"
  export UBSAN_OPTIONS="$common"
  export LSAN_OPTIONS="$common"
  # TSan goes on after a report (still failing the run) so one run shows every race.
  export TSAN_OPTIONS="${common/halt_on_error=1/halt_on_error=0}:second_deadlock_stack=1"
  trap 'sanitizer_reports_dump; sanitizer_exit_hook' EXIT
}

# Run at exit as well (after the reports): scripts/test.sh stops its background builds there.
declare -F sanitizer_exit_hook >/dev/null || sanitizer_exit_hook() { :; }

sanitizer_reports_dump() {
  [ -n "${SANITIZER_REPORTS:-}" ] || return 0
  local files
  files=$(find "$SANITIZER_REPORTS" -type f 2>/dev/null)
  if [ -n "$files" ]; then
    for f in $files; do
      echo "---- sanitizer report $f"
      cat "$f"
    done
    return 1
  fi
  return 0
}

# sanitizer_reports_end <stage>: fails if any process wrote a report since _begin.
sanitizer_reports_end() {
  trap sanitizer_exit_hook EXIT
  if ! sanitizer_reports_dump; then
    echo "$1: sanitizer reports found (above)"
    exit 1
  fi
  rm -rf "$SANITIZER_REPORTS"
  unset SANITIZER_REPORTS ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS
  echo "$1: no sanitizer reports"
}
