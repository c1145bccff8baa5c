#!/usr/bin/env bash
# Set up referral-viewer on a fresh Debian/Ubuntu machine: system libraries for
# Qt/VTK (and Xvfb for headless runs), a virtualenv with the package, and the
# mesh pack. Safe to re-run: every step skips work that is already done.
#
# Anatomy source, first found wins: $REFERRAL_VIEWER_SOURCE, ../shared/anatomy
# beside the checkout (development and CI), else a download of exactly the
# files ../shared/anatomy holds, from their public homes pinned by commit and
# SHA-256 (about 50 MB, resumable; see README "Anatomy data").
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3-venv xvfb xauth
  libgl1 libegl1 libosmesa6 libglib2.0-0 libdbus-1-3 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libx11-xcb1 libxrender1 libxi6
  fonts-dejavu-core poppler-utils xdotool
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

SOURCE="${REFERRAL_VIEWER_SOURCE:-}"
if [ -z "$SOURCE" ] && [ -f ../shared/anatomy/skin_bodyparts3d.obj ]; then
  SOURCE=../shared/anatomy
fi
if [ -n "$SOURCE" ]; then
  .venv/bin/referral-viewer build --source "$SOURCE"
else
  .venv/bin/referral-viewer build
fi
