#!/usr/bin/env bash
# Builds gst-vlm and runs every test, from a fresh clone or an old tree.
#
#   bash scripts/test.sh            unit tests, then the same under valgrind
#   VALGRIND=0 bash scripts/test.sh  skip the valgrind pass
#
# Installs what it needs from Debian first (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh

rm -f build/testlog-*.json
status=0
meson test -C build --print-errorlogs --num-processes 2 || status=1
cp build/meson-logs/testlog.json build/testlog-plain.json
if [ "${VALGRIND:-1}" != 0 ]; then
  # every test, except those in suite 'novalgrind' (e.g. GL drivers)
  meson test -C build --setup valgrind --no-suite novalgrind \
    --print-errorlogs --num-processes 2 || status=1
  cp build/meson-logs/testlog-valgrind.json build/testlog-valgrind.json
fi

python3 scripts/test-summary.py build/testlog-*.json
exit $status
