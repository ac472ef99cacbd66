#!/usr/bin/env bash
# Installs every Debian package gst-vlm needs to build, run and test.
# Idempotent and non-interactive; talks to Debian's archive only.
set -euo pipefail

packages=(
  # toolchain and build system
  build-essential meson ninja-build pkg-config git
  # GStreamer 1.22: core, base (incl. GL), good, tools, libcamera source
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-gl gstreamer1.0-libcamera
  # text rendering
  libfreetype-dev libfontconfig-dev fonts-dejavu-core
  # scanner app: window, gamepad, speech
  libsdl2-dev espeak-ng libespeak-ng-dev
  # image decoding for the command-line tools
  libpng-dev libjpeg-dev
  # Unicode character database: the BPE pre-tokenizer tables are generated from it
  unicode-data
  # tests: unit tests, leak checks, headless GL/SDL, fuzzing (clang's libFuzzer)
  libcmocka-dev valgrind xvfb xauth
  libgl1-mesa-dri libegl-mesa0 libgles2 mesa-utils
  clang libclang-rt-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
