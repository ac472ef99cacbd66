#!/usr/bin/env bash
# Fuzzes the GGUF reader with clang's libFuzzer (ASan + UBSan).
#
#   bash scripts/fuzz.sh [SECONDS] [JOBS]     (default 600 s, 1 job)
#
# The working corpus grows in build-fuzz/corpus (seeded from
# tests/fuzz/corpus); crash reproducers land in build-fuzz/ as crash-*.
# Copy any reproducer into tests/fuzz/corpus so it stays a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
jobs=${2:-1}
out=build-fuzz
mkdir -p "$out/corpus"

clang -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Ivlm vlm/types.c vlm/gguf.c tests/fuzz/fuzz-gguf.c -o "$out/fuzz-gguf"

cp -n tests/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
cd "$out"
start=$(date +%s)
./fuzz-gguf -max_total_time="$seconds" -jobs="$jobs" -workers="$jobs" \
  -max_len=8192 -dict=../tests/fuzz/gguf.dict -print_final_stats=1 \
  corpus 2>&1 | tee fuzz.log | grep -E "^#[0-9]+ +(pulse|DONE)|ERROR|stat::" || true
end=$(date +%s)
crashes=$(find . -maxdepth 1 \( -name "crash-*" -o -name "leak-*" -o -name "timeout-*" -o -name "oom-*" \) | wc -l)
execs=$(sed -n "s/^stat::number_of_executed_units: *//p" fuzz.log | tail -1)
echo "fuzz: $((end - start)) s, ${execs:-0} execs ($(( ${execs:-0} / (end - start + 1) )) /s), corpus $(ls corpus | wc -l) inputs, $crashes crashes"
[ "$crashes" -eq 0 ]
