"""The main window: panels, persistence, opening workspaces (menu, recent, drop), errors, fast import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.panels import PANELS


@pytest.fixture
def make_window(qtbot, settings):
    windows: list[MainWindow] = []

    def make() -> MainWindow:
        window = MainWindow(settings=settings)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


def test_no_workspace_shows_the_start_page_and_no_empty_panel(make_window):
    window = make_window()
    assert window.start_page.isVisible()
    assert not any(dock.isVisible() for dock in window.docks.values())
    assert window.workspace_label.text() == "No workspace open"


def test_opening_a_workspace_shows_every_registered_panel(make_window, tiny_workspace):
    window = make_window()
    assert window.open_workspace(tiny_workspace)
    assert not window.start_page.isVisible()
    assert {spec.id for spec in PANELS} <= set(window.docks)
    assert all(dock.isVisible() for dock in window.docks.values())
    assert "24 clips" in window.workspace_label.text()
    assert tiny_workspace.name in window.windowTitle()
    assert window.recent_workspaces() == [str(tiny_workspace.absolute())]


def test_panels_toggle_and_the_layout_persists_across_instances(make_window, tiny_workspace):
    window = make_window()
    window.open_workspace(tiny_workspace)
    player_action = window.panel_actions["player"]
    player_action.trigger()
    assert not window.docks["player"].isVisible()
    window.close()

    again = make_window()
    again.open_initial_workspace()  # the last workspace, at once
    assert again.models.workspace.root == tiny_workspace.absolute()
    assert not again.docks["player"].isVisible()
    assert again.docks["library"].isVisible()
    again.panel_actions["player"].trigger()
    assert again.docks["player"].isVisible()
    again.reset_action.trigger()
    assert all(dock.isVisible() for dock in again.docks.values())


def test_recent_workspaces_are_kept_most_recent_first(make_window, tiny_workspace, workspace_copy):
    window = make_window()
    window.open_workspace(tiny_workspace)
    window.open_workspace(workspace_copy)
    window.open_workspace(tiny_workspace)
    assert window.recent_workspaces() == [str(tiny_workspace.absolute()), str(workspace_copy.absolute())]
    titles = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert titles[:2] == [tiny_workspace.name, workspace_copy.name]


def _drop(window: MainWindow, path: Path) -> bool:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(
        QPoint(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, drop)
    return True


def test_dropping_a_folder_opens_it_as_a_workspace(make_window, tiny_workspace, tmp_path):
    window = make_window()
    assert _drop(window, tiny_workspace)
    assert window.models.workspace.root == tiny_workspace.absolute()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    assert not _drop(window, a_file)  # only folders are accepted


def test_a_folder_that_is_no_workspace_gives_a_clear_error(make_window, tmp_path, qtbot):
    window = make_window()
    assert _drop(window, tmp_path)
    box = window.error_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "not an ActionLens workspace" in box.text() and str(tmp_path) in box.text()
    assert window.start_page.isVisible()


def test_the_run_menu_lists_runs_with_embeddings(make_window, tiny_workspace):
    window = make_window()
    window.open_workspace(tiny_workspace)
    runs = [a.text() for a in window.run_menu.actions()]
    assert runs == ["ste-small-rec-s1"]
    assert window.run_menu.actions()[0].isChecked()


def test_every_control_has_a_tooltip(make_window, tiny_workspace):
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QSlider, QWidget

    window = make_window()
    window.open_workspace(tiny_workspace)
    missing = [
        w
        for dock in window.docks.values()
        for w in dock.widget().findChildren(QWidget)
        if isinstance(w, QAbstractButton | QComboBox | QLineEdit | QSlider)
        and not w.toolTip()
        and w.isVisible()
        and not isinstance(w.parent(), QComboBox | QLineEdit)
    ]
    assert missing == []


def test_importing_the_window_loads_no_heavy_library():
    code = (
        "import sys; import desktop_app.gui.main_window, desktop_app.gui.app; "
        "heavy = [m for m in ('torch', 'sklearn', 'umap', 'gensim', 'nltk') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_exploring_a_workspace_needs_no_torch(tiny_workspace, tmp_path):
    # Opening, selecting and browsing import no torch (1-2 s and ~300 MB). Playing a clip does, in
    # a worker: its prefix track runs the run's model on the clip's first steps (Player, Map).
    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtCore import QSettings\n"
        "from desktop_app.gui.app import create_application\n"
        "from desktop_app.gui.main_window import MainWindow\n"
        "app = create_application(['t'])\n"
        f"w = MainWindow(settings=QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat))\n"
        "w.show()\n"
        f"assert w.open_workspace({str(tiny_workspace)!r})\n"
        "w.models.selection.set([1, 2], 't')\n"
        "import time; t = time.monotonic()\n"
        "for _ in range(50): app.processEvents()\n"
        "while w.models.tasks.running() and time.monotonic() - t < 60: app.processEvents(); time.sleep(0.01)\n"
        "w.close()\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_closing_the_workspace_returns_to_the_start_page_with_recent_links(make_window, tiny_workspace):
    window = make_window()
    window.open_workspace(tiny_workspace)
    window.close_action.trigger()
    assert window.start_page.isVisible()
    assert not any(dock.isVisible() for dock in window.docks.values())
    assert tiny_workspace.name in window.start_page.recent.text()
    window.start_page.recent.linkActivated.emit(str(tiny_workspace.absolute()))
    assert window.models.workspace.root == tiny_workspace.absolute()
    assert all(dock.isVisible() for dock in window.docks.values())
