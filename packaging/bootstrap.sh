#!/usr/bin/env bash
# Set ActionLens up on a fresh Debian/Ubuntu machine with Python 3.11, then either open the app on
# the demo workspace (no argument) or run the whole test suite (`test`).
#
#   bash packaging/bootstrap.sh         # set up, build the demo workspace, open the app
#   bash packaging/bootstrap.sh test    # set up, then ruff + mypy + pytest + a wheel-install check
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-app}"

# System packages: WordNet 3.0 data for the WordNet panel and tests, and the shared libraries
# that Qt needs on a bare machine (xvfb for screenshots and end-to-end runs).
apt_packages=(wordnet-base wordnet-sense-index libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0
    libfontconfig1 libdbus-1-3 libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
    libxcb-shape0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xinerama0 xvfb)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "bootstrap: installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "bootstrap: some system packages are missing; run this once, then run me again:"
        echo "    sudo apt-get install -y ${missing[*]}"
    fi
fi

python=""
for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        python="$candidate"
        break
    fi
done
[ -n "$python" ] || { echo "bootstrap: ActionLens needs Python >= 3.11" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned: the CPU build; a bare `torch` requirement would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q torch==2.13.0
if [ "$mode" = test ]; then
    .venv/bin/python -m pip install -q -e ".[test]"
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    .venv/bin/mypy
    QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q
    # A plain wheel install (not editable) must find its package data and run the demo and app.
    bash packaging/check_wheel.sh .venv/bin/python
else
    .venv/bin/python -m pip install -q -e .
    exec .venv/bin/actionlens demo
fi
