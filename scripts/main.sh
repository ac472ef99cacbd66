#!/usr/bin/env bash
# The main job: set up, build, and describe an image with a VLM.
#
#   bash scripts/main.sh                       demo on a generated model
#   bash scripts/main.sh --model TEXT.gguf --mmproj MMPROJ.gguf \
#        --image PHOTO.jpg [--prompt "What is in front of me?"] [...]
#
# With a real model (see README: "Getting a real model") the arguments go
# to build/vlm/vlm-describe as they are. Without any, it generates a small
# random-weight MobileVLM-style model (real LLaMA tokenizer, random
# weights: the text is meaningless, the pipeline is real), describes the
# reference test image with it and prints the timings.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh

if [ $# -gt 0 ]; then
  exec build/vlm/vlm-describe --stats "$@"
fi

shared=../shared
[ -d "$shared/golden" ] || shared=tests/data/shared
build/vlm/vlm-make-model --preset tiny-ldpv2 --seed 1 \
  --out-dir build/models --vocab "$shared/tokenizer/ggml-vocab-llama-spm.gguf"
text=build/models/tiny-ldpv2-text-q8_0.gguf
mmproj=build/models/tiny-ldpv2-mmproj-f16.gguf

echo
echo "== model: $text + $mmproj"
build/vlm/vlm-gguf-info --no-tensors --arrays 4 "$text" | sed -n '1,7p'
echo
echo "== describing $shared/golden/ldpv2-spm/image-336x336.rgb" \
  "(random weights: expect gibberish)"
build/vlm/vlm-describe --model "$text" --mmproj "$mmproj" \
  --image "$shared/golden/ldpv2-spm/image-336x336.rgb" --raw 336x336 \
  --prompt "Describe the scene in front of me." --n-predict 24 --seed 1 \
  --print-tokens --stats
