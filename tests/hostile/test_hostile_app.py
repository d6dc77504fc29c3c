"""The app on a workspace whose ``workspace.json`` is nested 100 000 deep (issue 11).

Before: ``RecursionError`` in every command, and ``actionlens app`` aborted with rc 134. After:
the window shows the one-line message in its error dialog and stays on its start page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from desktop_app.gui.main_window import MainWindow


def test_app_shows_a_dialog_for_a_deeply_nested_manifest(
    folder_workspace: Path, tmp_path: Path, qtbot
) -> None:
    (folder_workspace / "workspace.json").write_text("[" * 100_000 + "]" * 100_000)
    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_workspace(folder_workspace) is False
    box = window.error_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "workspace.json is damaged (nested too deeply" in box.text()
    assert window.start_page.isVisible()
    window.close()
