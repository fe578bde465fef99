#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: system packages for Xvfb, X input
# and Qt's xcb platform, Chromium (the web-page practice tasks) and what PyGObject builds
# against (the GTK 3 practice tasks), then a .venv with the pinned torch and deskmimic
# (editable).
# Quick when everything is already there. Sourced by scripts/demo.sh and scripts/test.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DESKMIMIC_VENV:-$ROOT/.venv}"
APT_PACKAGES=(xvfb xauth xdotool openbox x11-utils
  libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core
  fontconfig fonts-liberation fonts-noto-core fonts-urw-base35
  dbus at-spi2-core
  chromium
  libgirepository1.0-dev libcairo2-dev gir1.2-gtk-3.0 pkg-config python3-dev)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi
RAPIDOCR_VERSION=1.4.4
# The stamp holds a hash of pyproject.toml: re-install only when dependencies change.
stamp="$VENV/.deskmimic-installed"
want="$( (cat "$ROOT/pyproject.toml"; echo "rapidocr-onnxruntime==$RAPIDOCR_VERSION") | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing torch (pinned, from local disk) and deskmimic into $VENV (takes a few minutes the first time)"
  "$VENV/bin/pip" install -q torch==2.14.1 torchvision==0.29.1
  # New pips pass on setuptools' "Editable installation ... folders with the same name"
  # notice, a block a newcomer reads as a failure; the install is the intended one.
  PYTHONWARNINGS="ignore:Editable installation" "$VENV/bin/pip" install -q -e "$ROOT[dev]"
  # The text reader's models (docs/perception.md): without its dependencies, which
  # pyproject.toml lists, since it asks for the GUI build of OpenCV.
  "$VENV/bin/pip" install -q --no-deps "rapidocr-onnxruntime==$RAPIDOCR_VERSION"
  echo "$want" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"
