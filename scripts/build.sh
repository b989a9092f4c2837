#!/usr/bin/env bash
# Configures and builds (Release) into build/. Usage: scripts/build.sh [cmake target...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${CMAKE_EXTRA_ARGS:-} >/dev/null
if [ $# -gt 0 ]; then
  for t in "$@"; do cmake --build build --target "$t" -j"$(nproc)"; done
else
  cmake --build build -j"$(nproc)"
fi
