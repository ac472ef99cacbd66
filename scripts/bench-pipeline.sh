#!/usr/bin/env bash
# Benchmark of the vlmdescribe pipeline against vlm-describe on one frame.
#
#   bash scripts/bench-pipeline.sh [BUILD_DIR] [SECONDS]
#
# Generates the mobilevlm-v2-1.7b replica (random weights, real shapes)
# into /tmp/elgen if missing, describes one 1280x720 videotestsrc frame with
# vlm-describe (cold: load + describe), then runs
#   videotestsrc is-live=true 1280x720@30 ! vlmdescribe ! fakesink sync=true
# for SECONDS (default 120) and prints dropped/late frames, captions per
# minute and frame-to-first-token / frame-to-final latencies.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
SECS=${2:-120}
OUT=/tmp/elgen
SHARED=${VLM_SHARED_DIR:-../shared}
TEXT=$OUT/mobilevlm-v2-1.7b-text-q8_0.gguf
MMPROJ=$OUT/mobilevlm-v2-1.7b-mmproj-f16.gguf

if [ ! -f "$TEXT" ] || [ ! -f "$MMPROJ" ]; then
  "$B"/vlm/vlm-make-model --preset mobilevlm-v2-1.7b --seed 1 --out-dir "$OUT" \
      --vocab "$SHARED"/tokenizer/ggml-vocab-llama-spm.gguf
fi
export GST_PLUGIN_PATH=$PWD/$B/elements

FRAME=$(mktemp /tmp/frame-XXXXXX.rgb)
trap 'rm -f "$FRAME"' EXIT
gst-launch-1.0 -q videotestsrc num-buffers=1 ! \
    video/x-raw,format=RGB,width=1280,height=720 ! filesink location="$FRAME"

echo "== vlm-describe, one 1280x720 frame (cold: load + describe) =="
start=$(date +%s.%N)
"$B"/vlm/vlm-describe --model "$TEXT" --mmproj "$MMPROJ" --image "$FRAME" \
    --raw 1280x720 --stats \
    --prompt "Describe the scene in front of me in one or two short sentences." \
    > /dev/null
end=$(date +%s.%N)
echo "wall (load + describe): $(echo "$end - $start" | bc) s"
echo
"$B"/elements/vlm-bench-pipeline --model "$TEXT" --mmproj "$MMPROJ" \
    --seconds "$SECS"
