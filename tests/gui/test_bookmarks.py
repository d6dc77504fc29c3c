"""Saved views: bookmark the library's filters and the selection, change them, restore them,
and find the views again after reopening the workspace."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QInputDialog

from desktop_app.gui.bookmarks import ManageViewsDialog
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.models import AppModels
from desktop_app.gui.panels import panel_spec
from desktop_app.gui.panels.library import LibraryPanel


def _window(qtbot, settings, models, workspace) -> MainWindow:
    # Only the library: it is the panel whose view state this test drives.
    window = MainWindow(settings=settings, models=models, panels=[panel_spec("library")])
    qtbot.addWidget(window)
    window.show()
    assert window.open_workspace(workspace)
    return window


def _menu_names(window: MainWindow) -> list[str]:
    return [a.text() for a in window.views_menu.view_actions]


@pytest.fixture
def window(qtbot, settings, models, workspace_copy):
    return _window(qtbot, settings, models, workspace_copy)


def test_save_change_restore_and_reopen(qtbot, window, models, settings, workspace_copy):
    library = window.panel("library")
    assert window.views_menu.save_action.shortcut().toString() == "Ctrl+B"
    assert _menu_names(window) == []

    # The state to bookmark: a class filter, a search word, and two selected clips.
    library.class_combo.setCurrentIndex(2)
    class_id = library.class_combo.currentData()
    shown = library.visible_clip_ids()
    models.selection.set(shown[:2], "test")
    saved_state = library.view_state()

    # Views ▸ Save View…, type a name, OK.
    window.views_menu.save_action.trigger()
    dialog = window.views_menu.dialog
    assert isinstance(dialog, QInputDialog)
    dialog.setTextValue("two clips")
    dialog.accept()
    assert _menu_names(window) == ["two clips"]
    views_file = workspace_copy / "views.json"
    stored = json.loads(views_file.read_text(encoding="utf-8"))["views"][0]
    assert stored["selection"] == sorted(shown[:2]) and stored["panels"]["library"]["class_id"] == class_id

    # Change everything, then pick the view from the menu.
    library.class_combo.setCurrentIndex(0)
    library.search.setText("nothing matches this")
    models.selection.clear("test")
    assert library.visible_clip_ids() == []
    window.views_menu.view_actions[0].trigger()
    assert library.view_state() == saved_state
    assert library.visible_clip_ids() == shown
    assert models.selection.clip_ids == frozenset(shown[:2])

    # The view travels with the workspace: close it, open it in a fresh window, restore.
    window.close()
    models2 = AppModels.create()
    try:
        window2 = _window(qtbot, settings, models2, workspace_copy)
        assert _menu_names(window2) == ["two clips"]
        window2.views_menu.view_actions[0].trigger()
        library2 = window2.panel("library")
        assert isinstance(library2, LibraryPanel)
        assert library2.visible_clip_ids() == shown
        assert models2.selection.clip_ids == frozenset(shown[:2])
        window2.close()
    finally:
        models2.shutdown(timeout=5.0)


def test_selected_only_filter_and_selection_restore_together(window, models):
    library = window.panel("library")
    models.selection.set([3, 7, 11], "test")
    library.selected_only.setChecked(True)
    library.split_combo.setCurrentIndex(library.split_combo.count() - 1)
    split_role = library.split_combo.currentData()
    window.view_manager.save_view("selected")
    library.selected_only.setChecked(False)
    library.split_combo.setCurrentIndex(0)
    models.selection.set([0], "test")
    window.view_manager.restore("selected")
    assert library.selected_only.isChecked()
    assert library.split_combo.currentData() == split_role
    roles = models.workspace.split_roles()
    assert library.visible_clip_ids() == [
        i for i in (3, 7, 11) if roles.get(i, {}).get(split_role[0]) == split_role[1]
    ]


def test_manage_views_renames_and_deletes(qtbot, window, workspace_copy):
    manager = window.view_manager
    manager.save_view("first")
    manager.save_view("second")
    dialog = ManageViewsDialog(manager, window)
    qtbot.addWidget(dialog)
    dialog.rename_view("first", "renamed")
    assert _menu_names(window) == ["renamed", "second"]
    dialog.list.setCurrentRow(1)
    dialog.delete_button.click()
    assert _menu_names(window) == ["renamed"]
    stored = json.loads((workspace_copy / "views.json").read_text(encoding="utf-8"))
    assert [v["name"] for v in stored["views"]] == ["renamed"]
    # A name already taken is refused, with the reason shown.
    manager.save_view("other")
    dialog.rename_view("other", "renamed")
    assert not dialog.error.isHidden() and "already exists" in dialog.error.text()
    assert _menu_names(window) == ["renamed", "other"]


def test_without_a_workspace_saving_is_disabled(qtbot, settings, models):
    window = MainWindow(settings=settings, models=models, panels=[panel_spec("library")])
    qtbot.addWidget(window)
    assert not window.views_menu.save_action.isEnabled()
