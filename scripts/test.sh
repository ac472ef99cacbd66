#!/usr/bin/env bash
# Builds gst-vlm and runs every test, from a fresh clone or an old tree.
#
#   bash scripts/test.sh            unit tests, then the same under valgrind
#   VALGRIND=0 bash scripts/test.sh  skip the valgrind pass
#
# Installs what it needs from Debian first (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

if [ -f build/build.ninja ]; then
  meson setup --reconfigure build >/dev/null
else
  meson setup build
fi
meson compile -C build

status=0
meson test -C build --print-errorlogs --num-processes 2 || status=1
cp build/meson-logs/testlog.json build/testlog-plain.json
if [ "${VALGRIND:-1}" != 0 ]; then
  meson test -C build --setup valgrind --suite unit --suite tokenizer \
    --suite generator --print-errorlogs --num-processes 2 || status=1
  cp build/meson-logs/testlog-valgrind.json build/testlog-valgrind.json
fi

python3 scripts/test-summary.py build/testlog-*.json
exit $status
