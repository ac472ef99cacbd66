#!/usr/bin/env bash
# Renders the sample clip of the demo: a synthetic "room" (a grey wall
# getting lighter towards the floor, a brown door, a red ball rolling on
# the floor), VP8 in WebM, with GStreamer elements from Debian's
# gstreamer1.0-plugins-base/-good only. Our own content, no download.
#
#   bash scripts/make-sample-clip.sh [OUT.webm [SECONDS [WIDTHxHEIGHT [FPS]]]]
#
# Defaults: build/sample-scene.webm, 10 s, 640x360, 15 fps.
set -euo pipefail

out=${1:-build/sample-scene.webm}
seconds=${2:-10}
size=${3:-640x360}
fps=${4:-15}
w=${size%x*}
h=${size#*x}
case "$seconds$w$h$fps" in
  *[!0-9]*|'') echo "make-sample-clip: bad arguments (SECONDS WIDTHxHEIGHT FPS are numbers)" >&2; exit 2 ;;
esac
n=$((seconds * fps))
raw="video/x-raw,framerate=$fps/1"

mkdir -p "$(dirname "$out")"
# the door: 3/16 of the width, 7/12 of the height; the ball rolls in the
# bottom quarter
dw=$((w * 3 / 16)); dh=$((h * 7 / 12)); dx=$((w * 21 / 32)); dy=$((h * 7 / 36))
bh=$((h * 5 / 18)); by=$((h - bh))
gst-launch-1.0 -q -e \
  compositor name=c background=black \
    sink_1::xpos=$dx sink_1::ypos=$dy sink_2::ypos=$by ! \
    "$raw,width=$w,height=$h" ! videoconvert ! \
    vp8enc deadline=1 target-bitrate=800000 keyframe-max-dist=30 ! \
    webmmux ! filesink location="$out" \
  videotestsrc num-buffers=$n pattern=gradient ! "$raw,width=$w,height=$h" ! c.sink_0 \
  videotestsrc num-buffers=$n pattern=solid-color foreground-color=0xff7a4a22 ! \
    "$raw,width=$dw,height=$dh" ! c.sink_1 \
  videotestsrc num-buffers=$n pattern=ball motion=wavy \
    background-color=0x00000000 foreground-color=0xffd02020 ! \
    "$raw,format=AYUV,width=$w,height=$bh" ! c.sink_2
echo "make-sample-clip: wrote $out ($seconds s, ${w}x$h, $fps fps)"
