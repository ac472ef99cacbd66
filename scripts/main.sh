#!/usr/bin/env bash
# The main job: set up, build, and run the scene narrator (vlm-scanner).
#
#   bash scripts/main.sh
#       With a display (DISPLAY or WAYLAND_DISPLAY) and a camera: the
#       scanner's window on the camera, captions spoken (H or Start: help,
#       Q or Esc: quit). Otherwise: headless on a sample clip the project
#       renders itself (build/sample-scene.webm), captions printed and
#       written to build/sample-scene.vtt.
#   bash scripts/main.sh [VLM-SCANNER OPTIONS...]
#       vlm-scanner with these options, e.g. --headless --input clip.webm
#       --output clip.vtt, or --test-pattern (see vlm-scanner --help).
#   bash scripts/main.sh --model TEXT.gguf --mmproj MMPROJ.gguf \
#        --image PHOTO.jpg [--prompt "What is in front of me?"] [...]
#       describes one photo with build/vlm/vlm-describe (any --image or
#       --raw argument selects it; the arguments go to it as they are).
#
# The model of the no-argument run: the scanner config's ([model] text and
# mmproj in ~/.config/gst-vlm/scanner.conf, see README "Getting a real
# model") when both files exist; otherwise a generated random-weight
# replica of SmolVLM-256M (real shapes, GPT-2 vocabulary, random weights:
# the captions are meaningless words; the pipeline is real).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh

export GST_PLUGIN_PATH=$PWD/build/elements${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}
scanner=build/app/vlm-scanner

# A photo: vlm-describe, as before.
for arg in "$@"; do
  case $arg in
    --image|--image=*|--raw|--raw=*) exec build/vlm/vlm-describe --stats "$@" ;;
  esac
done
if [ $# -gt 0 ]; then
  exec "$scanner" "$@"
fi

# -- the model ------------------------------------------------------------------
config_value () {               # config_value GROUP KEY
  "$scanner" --print-config | awk -v g="[$1]" -v k="$2" -F ' = ' \
    '/^\[/ { in_group = ($0 == g) } in_group && $1 == k { print $2 }'
}
text=$(config_value model text)
mmproj=$(config_value model mmproj)
model_args=()
if [ -n "$text" ] && [ -f "$text" ] && [ -n "$mmproj" ] && [ -f "$mmproj" ]; then
  echo "== model: $text + $mmproj (from the scanner config)"
else
  shared=../shared
  [ -d "$shared/tokenizer" ] || shared=tests/data/shared
  text=build/models/smolvlm-256m-text-q8_0.gguf
  mmproj=build/models/smolvlm-256m-mmproj-f16.gguf
  if [ ! -f "$text" ] || [ ! -f "$mmproj" ]; then
    build/vlm/vlm-make-model --preset smolvlm-256m --seed 1 \
      --out-dir build/models --vocab "$shared/tokenizer/ggml-vocab-gpt-2.gguf"
  fi
  # short captions: the words are random anyway
  model_args=(--model "$text" --mmproj "$mmproj" --set model.max-tokens=24)
  echo "== NOTE: no real model configured ([model] text/mmproj of"
  echo "   ${XDG_CONFIG_HOME:-$HOME/.config}/gst-vlm/scanner.conf)."
  echo "   Using a generated SmolVLM-256M replica with RANDOM weights:"
  echo "   the captions below are meaningless words. See README, 'Getting a real model'."
fi

# -- camera and display: the window ----------------------------------------------
if { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; } \
    && "$scanner" --list-cameras >/dev/null 2>&1; then
  echo "== camera and display found: vlm-scanner"
  echo "   (Space or A: describe now; H or Start: help; Q or Esc: quit)"
  exec "$scanner" --set source.kind=camera "${model_args[@]}"
fi

# -- otherwise: headless on the sample clip ----------------------------------------
clip=build/sample-scene.webm
vtt=build/sample-scene.vtt
[ -f "$clip" ] || bash scripts/make-sample-clip.sh "$clip"
echo "== no camera or no display: headless on $clip (a rendered room: a door,"
echo "   a rolling ball), a caption for every 3 s of the clip:"
# the rendered room barely changes: describe it even so (scene-change=0)
"$scanner" --headless --input "$clip" --output "$vtt" \
  --set describe.scene-change=0 "${model_args[@]}"
echo
echo "== $vtt"
cat "$vtt"
