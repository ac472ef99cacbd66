#!/usr/bin/env bash
# Installs the Debian packages gst-vlm needs, then configures (or
# reconfigures) and compiles the build directory `build/`.
#
#   bash scripts/build.sh [MESON OPTIONS...]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
if [ -f build/build.ninja ]; then
  meson setup --reconfigure build "$@" >/dev/null
else
  meson setup build "$@"
fi
meson compile -C build
