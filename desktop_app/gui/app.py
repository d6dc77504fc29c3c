"""Running the app: :func:`run_app` is what ``actionlens app`` and ``actionlens demo`` call.

The application object itself (high DPI, palette, names, icon) is made by
:mod:`desktop_app.gui.application`; :func:`create_application` and :func:`app_icon` are
re-exported here.
"""

from __future__ import annotations

from pathlib import Path

from desktop_app.gui.application import APPLICATION, ORGANIZATION, app_icon, create_application

__all__ = ["APPLICATION", "ORGANIZATION", "app_icon", "create_application", "run_app"]


def run_app(workspace: str | Path | None = None, argv: list[str] | None = None) -> int:
    """Show the main window and run the event loop until it closes.

    Parameters
    ----------
    workspace
        A workspace to open; ``None`` opens the last one, or offers the first-run dialog.

    Returns
    -------
    int
        The event loop's exit code.
    """
    app = create_application(argv)
    from desktop_app.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    window.open_initial_workspace(Path(workspace) if workspace is not None else None)
    return int(app.exec())
