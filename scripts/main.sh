#!/usr/bin/env bash
# The main job: set up, build, and run the most complete user-facing program
# gst-vlm has today.
#
#   bash scripts/main.sh [MODEL.gguf]
#
# Today (foundation stage: the engine that describes images is not in yet)
# it builds everything, generates a small random-weight VLM (text model +
# vision projector) with the real LLaMA tokenizer, prints its GGUF tables
# and tokenizes a chat prompt with it. Given a real GGUF model, it inspects
# and tokenizes with that one instead.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh

model=${1:-}
if [ -z "$model" ]; then
  vocab=../shared/tokenizer/ggml-vocab-llama-spm.gguf
  [ -f "$vocab" ] || vocab=tests/data/shared/tokenizer/ggml-vocab-llama-spm.gguf
  build/vlm/vlm-make-model --preset tiny-ldpv2 --seed 1 \
    --out-dir build/models --vocab "$vocab"
  model=build/models/tiny-ldpv2-text-q8_0.gguf
fi

echo
echo "== $model"
build/vlm/vlm-gguf-info --arrays 4 "$model"
prompt='USER: <image>
Describe the scene in front of me. ASSISTANT:'
echo
echo "== tokens of the prompt: $prompt"
build/vlm/vlm-tokenize --model "$model" "$prompt"
