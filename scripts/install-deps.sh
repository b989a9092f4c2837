#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the benchmark need.
# Idempotent: only packages that are missing are installed.
# `--tests` adds what only the test command needs: Debian's Chromium for the headless-browser
# WebSocket test (tests/integration/websocket_browser_test.cpp).
set -euo pipefail
PKGS=(
  build-essential cmake g++ clang libclang-rt-14-dev lld
  libnats-dev nats-server
  nlohmann-json3-dev libcli11-dev libfmt-dev
  libssl-dev libsodium-dev libcrypt-dev zlib1g-dev
  libgtest-dev libgmock-dev
  curl procps iproute2 openssl
)
if [ "${1:-}" = "--tests" ]; then
  PKGS+=(chromium)
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
