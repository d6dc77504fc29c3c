"""Take the README's screenshot from the real program: the main window on a workspace, after a
query, with a clip playing. Run it under a display (``xvfb-run``) or ``QT_QPA_PLATFORM=offscreen``:

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python packaging/screenshot.py WS resources/screenshot.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer

from desktop_app.gui.app import create_application


def wait(ms: int) -> None:
    """Let the event loop (and the workers' results) run for ``ms`` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main(workspace: str, out: str, query: str = "basketball") -> int:
    create_application(sys.argv[:1])
    from desktop_app.gui.main_window import MainWindow

    settings = QSettings(str(Path(out).with_suffix(".ini")), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1600, 960)
    window.show()
    window.open_initial_workspace(Path(workspace))
    wait(3000)
    window.docks["query"].raise_()
    window.panel("query").run_query(query)
    wait(4000)
    window.docks["map"].raise_()
    scores = window.models.query.scores
    first = max(scores, key=scores.__getitem__, default=None)
    if first is not None:
        window.models.selection.set({first}, "screenshot")
        window.models.current_clip.set(first, "screenshot")
    wait(3000)
    window.grab().save(out)
    window.close()  # stops the workers and the player's decoder thread
    wait(500)
    settings.clear()
    Path(settings.fileName()).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
