#!/usr/bin/env bash
# A plain (non-editable) wheel install runs the demo and the app: build the wheel, install it into
# a fresh virtual environment outside the checkout, build the tiny demo workspace with the
# installed `actionlens`, and open it in the app offscreen. Run by `bootstrap.sh test` (and so by
# CI), because an editable install hides missing package data.
#
#   bash packaging/check_wheel.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# pip's notes about this machine's unused local package indexes are noise here.
pip_quiet() { "$@" 2> >(grep -v "^WARNING: Location .* is ignored" >&2); }

pip_quiet "$python" -m pip wheel -q --no-deps -w "$work/dist" . >/dev/null
"$python" -m venv "$work/venv"
pip_quiet "$work/venv/bin/python" -m pip install -q --upgrade pip
pip_quiet "$work/venv/bin/python" -m pip install -q torch==2.13.0
pip_quiet "$work/venv/bin/python" -m pip install -q "$work"/dist/actionlens-*.whl

# From a folder with no checkout in it, so nothing can be found beside the sources.
cd "$work"
export ACTIONLENS_CACHE="$work/cache" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
"$work/venv/bin/actionlens" demo --build-only --preset tiny --workspace "$work/ws" --json >"$work/demo.json"
QT_QPA_PLATFORM=offscreen "$work/venv/bin/python" - "$work/ws" 2> >(grep -v "propagateSizeHints" >&2) <<'EOF'
import sys

from PySide6.QtCore import QTimer

from desktop_app.gui.app import create_application
from desktop_app.gui.main_window import MainWindow

app = create_application(["actionlens"])
window = MainWindow()
window.show()
window.open_initial_workspace(__import__("pathlib").Path(sys.argv[1]))
QTimer.singleShot(3000, app.quit)
app.exec()
title = window.windowTitle()
if not title.startswith("ws "):
    sys.exit(f"check_wheel: the app installed from the wheel did not open the demo workspace (title {title!r})")
print(f"check_wheel: wheel install built the tiny demo and opened it ({title})")
EOF
