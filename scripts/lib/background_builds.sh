# Sourced by scripts/test.sh: the sanitizer builds run in the background while earlier stages
# test. The plain stage's integration tests mostly wait on servers, so on two cores most CPU
# time would stay idle; the builds, at the lowest priority (nice 19), take it without slowing
# the tests much (CFS gives a nice-0 process about 98% of a core against a nice-19 one).
# The builds run one after the other (asan, then tsan) in a process group of their own, so
# they can be paused (fuzzing is time-boxed and must keep its cores) and stopped at exit.
# Each build's output goes to a log that is printed whole if the build fails.
# A caller defines build_<name> for each name it passes to background_builds_start.

BG_BUILDS_DIR=""
BG_BUILDS_PGID=""

# background_builds_start <name>...: runs build_<name> for each, in order, in the background.
background_builds_start() {
  [ $# -gt 0 ] || return 0
  BG_BUILDS_DIR=$(mktemp -d /tmp/ci-builds.XXXXXX)
  export -f configure_clang "${@/#/build_}"
  export unit_targets fuzz_targets CMAKE_EXTRA_ARGS
  # setsid: a new process group whose id is the runner's pid ($! is not a group leader, so
  # setsid does not fork again).
  setsid bash -c '
    renice -n 19 -p $$ >/dev/null
    dir=$1
    shift
    for name in "$@"; do
      start=$SECONDS
      rc=0
      "build_$name" >"$dir/$name.log" 2>&1 || rc=$?
      echo "$rc $((SECONDS - start))" >"$dir/$name.rc.tmp"
      mv "$dir/$name.rc.tmp" "$dir/$name.rc"
      [ "$rc" -eq 0 ] || exit "$rc"
    done' background-builds "$BG_BUILDS_DIR" "$@" </dev/null &
  BG_BUILDS_PGID=$!
  echo "-- started in the background (nice 19): $* sanitizer build(s)"
}

# background_build_wait <name>: waits for build_<name>; prints its log and exits if it failed.
background_build_wait() {
  local name=$1 rc secs
  while [ ! -f "$BG_BUILDS_DIR/$name.rc" ]; do
    if ! kill -0 "$BG_BUILDS_PGID" 2>/dev/null && [ ! -f "$BG_BUILDS_DIR/$name.rc" ]; then
      echo "$name build: the background build runner stopped without a result"
      cat "$BG_BUILDS_DIR/$name.log" 2>/dev/null || true
      exit 1
    fi
    sleep 1
  done
  read -r rc secs <"$BG_BUILDS_DIR/$name.rc"
  if [ "$rc" -ne 0 ]; then
    echo "---- $name build failed (exit $rc); its output:"
    cat "$BG_BUILDS_DIR/$name.log"
    exit 1
  fi
  echo "-- $name build took ${secs}s in the background"
}

background_builds_pause() {
  [ -n "$BG_BUILDS_PGID" ] && kill -STOP -- "-$BG_BUILDS_PGID" 2>/dev/null || true
}
background_builds_resume() {
  [ -n "$BG_BUILDS_PGID" ] && kill -CONT -- "-$BG_BUILDS_PGID" 2>/dev/null || true
}

# At exit (a failed stage, or the end): stops whatever still builds, removes the logs.
background_builds_stop() {
  if [ -n "$BG_BUILDS_PGID" ]; then
    kill -TERM -- "-$BG_BUILDS_PGID" 2>/dev/null || true
    kill -CONT -- "-$BG_BUILDS_PGID" 2>/dev/null || true
    BG_BUILDS_PGID=""
  fi
  [ -z "$BG_BUILDS_DIR" ] || rm -rf "$BG_BUILDS_DIR"
}
