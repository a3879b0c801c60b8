#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium for the console's browser tests, GStreamer's
# RTSP server (run by Debian's own python3) to serve test video, opencv-doc for the vtest.avi
# sample footage, and the ffmpeg CLI (the decode baseline of bench/video.py).
# With --if-missing, does nothing when every package is already installed.
set -euo pipefail
PACKAGES=(chromium fonts-dejavu-core python3-gi gir1.2-gst-rtsp-server-1.0
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools opencv-doc ffmpeg)
if [ "${1:-}" = "--if-missing" ]; then
  missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && exit 0
fi
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
