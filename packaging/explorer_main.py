"""Entry point of the frozen explorer (PyInstaller): the desktop app without the training stack."""

import sys

from desktop_app.gui.app import run_app

if __name__ == "__main__":
    sys.exit(run_app(sys.argv[1] if len(sys.argv) > 1 else None))
