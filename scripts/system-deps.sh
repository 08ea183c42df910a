#!/usr/bin/env bash
# System packages the test suite needs beyond Python: a virtual X server, an input driver and a
# screen grabber for the editor's real-window tests (Xvfb, xdotool, ImageMagick's `import`), Mesa's
# software OpenGL for DearPyGui, EGL for skia-python (ShapesToMatte), Node.js (the .jsx export is run)
# and a font. Installs what is missing with apt-get when run as root (or through sudo); otherwise
# says exactly what to install. `make test` and `make setup` run it; it is quick when all is there.
set -euo pipefail
pkgs=()
need() { command -v "$1" >/dev/null 2>&1 || pkgs+=("$2"); }
need Xvfb xvfb
need xdotool xdotool
need import imagemagick
need node nodejs  # runs the After Effects export against a model of AE's scripting API
if command -v dpkg >/dev/null 2>&1; then
    for p in libgl1-mesa-dri libgl1 libegl1 fonts-dejavu-core; do
        dpkg -s "$p" >/dev/null 2>&1 || pkgs+=("$p")
    done
fi
[ ${#pkgs[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "rotograph tests need: ${pkgs[*]} (Xvfb, xdotool, ImageMagick, Node.js, Mesa OpenGL) — install them with your package manager" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "run as root: apt-get install -y ${pkgs[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "installing system packages: ${pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
