# Shared set-up of the example scripts: a temporary work directory (its `nats` contexts kept
# out of the user's own), the seed's sys.conf in it, and clean-up on exit of every server the
# script started (appended to EXAMPLE_PIDS) and of the directory.
# Usage: source scripts/lib/example_workdir.sh; example_workdir <name>   (then cwd is $WORK)

EXAMPLE_PIDS=()

example_cleanup() {
  for p in "${EXAMPLE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${EXAMPLE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  # NATSCPP_KEEP_WORKDIR=1 keeps the servers' logs and stores for a look afterwards.
  if [ "${NATSCPP_KEEP_WORKDIR:-}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}

example_workdir() {
  WORK=$(mktemp -d "/tmp/$1-XXXXXX")
  export XDG_CONFIG_HOME="$WORK/config"
  trap example_cleanup EXIT
  cd "$WORK"
  cat > sys.conf <<'CONF'
accounts: {
  $SYS: {
    users: [{user: sys, password: pass}]
  }
}
CONF
}
