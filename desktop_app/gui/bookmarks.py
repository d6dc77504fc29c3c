"""Saved views ("bookmarks"): capture and restore what the panels show, kept in the workspace.

The protocol is two methods a panel may define::

    def view_state(self) -> dict: ...            # JSON-able: the map's method and colouring, …
    def restore_view_state(self, state: dict) -> None: ...

:class:`ViewManager` collects ``view_state()`` from every panel that has it (keyed by panel id),
adds the active run and the shared selection, and stores them with
:class:`~desktop_app.views.ViewStore` in ``WS/views.json``; restoring sets the run, hands each
panel its state back, then sets the selection. :class:`ViewsMenu` is the "Views" menu: Save View…
(Ctrl+B), one entry per saved view, Manage Views… (rename, delete).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.errors import ActionLensError
from desktop_app.gui.models import AppModels
from desktop_app.views import SavedView, ViewStore
from desktop_app.workspace import Workspace

SOURCE = "views"
SAVE_SHORTCUT = "Ctrl+B"


@runtime_checkable
class ViewStateProvider(Protocol):
    """A panel whose state can be saved in a view."""

    def view_state(self) -> dict[str, Any]:
        """The panel's state, JSON-able."""
        ...

    def restore_view_state(self, state: dict[str, Any]) -> None:
        """Show the state :meth:`view_state` returned."""
        ...


class ViewManager(QObject):
    """Saves and restores views of the open workspace.

    Parameters
    ----------
    models
        The shared models (the workspace, the run, the selection).
    panels
        Returns the panels by id (called at every save and restore, so panels added later count).

    Signals
    -------
    viewsChanged()
        The list of saved views changed (saved, renamed, deleted, another workspace opened).
    failed(str)
        A view could not be read or written; a one-line message.
    """

    viewsChanged = Signal()
    failed = Signal(str)

    def __init__(
        self, models: AppModels, panels: Callable[[], Mapping[str, QWidget]], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.models = models
        self._panels = panels
        self.store: ViewStore | None = None
        models.workspace.workspaceChanged.connect(self._on_workspace)
        self._on_workspace(models.workspace.workspace)

    def names(self) -> list[str]:
        """Names of the saved views, oldest first."""
        return self.store.names() if self.store is not None else []

    def capture(self, name: str) -> SavedView:
        """The current state as a view called ``name`` (not saved)."""
        states: dict[str, dict[str, Any]] = {}
        for panel_id, panel in self._panels().items():
            if isinstance(panel, ViewStateProvider):
                state = panel.view_state()
                if state:
                    states[panel_id] = dict(state)
        return SavedView(
            name,
            run_id=self.models.workspace.run_id,
            panels=states,
            selection=self.models.selection.ids.tolist(),
        )

    def save_view(self, name: str) -> SavedView:
        """Save the current state as ``name`` (replacing a view of that name)."""
        if self.store is None:
            raise ActionLensError("open a workspace before saving a view")
        view = self.store.put(self.capture(name))
        self.viewsChanged.emit()
        return view

    def restore(self, name: str) -> SavedView:
        """Show the view called ``name``: its run, each panel's state, then its selection."""
        if self.store is None:
            raise ActionLensError("open a workspace before restoring a view")
        view = self.store.get(name)
        wm = self.models.workspace
        if view.run_id is not None and view.run_id != wm.run_id and view.run_id in wm.runs():
            wm.set_run(view.run_id)
        panels = self._panels()
        for panel_id, state in view.panels.items():
            panel = panels.get(panel_id)
            if isinstance(panel, ViewStateProvider):
                panel.restore_view_state(dict(state))
        count = wm.num_clips
        ids = np.asarray(view.selection, dtype=np.int64)
        self.models.selection.set(ids[(ids >= 0) & (ids < count)], SOURCE)
        return view

    def rename(self, old: str, new: str) -> None:
        """Rename a saved view."""
        if self.store is not None:
            self.store.rename(old, new)
            self.viewsChanged.emit()

    def delete(self, name: str) -> None:
        """Delete a saved view."""
        if self.store is not None:
            self.store.delete(name)
            self.viewsChanged.emit()

    def _on_workspace(self, workspace: Workspace | None) -> None:
        self.store = None
        if workspace is not None:
            try:
                self.store = ViewStore(workspace.root)
            except ActionLensError as exc:
                self.failed.emit(str(exc))
        self.viewsChanged.emit()


class ViewsMenu(QMenu):
    """The "Views" menu: Save View… (Ctrl+B), the saved views, Manage Views…."""

    def __init__(self, manager: ViewManager, parent: QWidget | None = None) -> None:
        super().__init__("V&iews", parent)
        self.manager = manager
        self.setToolTipsVisible(True)
        self.save_action = QAction("&Save View…", self)
        self.save_action.setShortcut(QKeySequence(SAVE_SHORTCUT))
        self.save_action.setToolTip(
            "Bookmark the current map, colouring, query, analogy, filters and selection in the workspace"
        )
        self.save_action.setStatusTip(self.save_action.toolTip())
        self.save_action.triggered.connect(self.ask_save)
        self.manage_action = QAction("&Manage Views…", self)
        self.manage_action.setToolTip("Rename or delete saved views")
        self.manage_action.setStatusTip(self.manage_action.toolTip())
        self.manage_action.triggered.connect(self.show_manager)
        self.view_actions: list[QAction] = []
        self.dialog: QDialog | None = None
        # Static entries stay; only the saved views' entries between the separators are rebuilt
        # (QMenu.clear() would delete the actions the menu owns).
        self.addAction(self.save_action)
        self.addSeparator()
        self.empty_action = self.addAction("No saved views")
        self.empty_action.setEnabled(False)
        self.empty_action.setToolTip(f"Save one with Save View… ({SAVE_SHORTCUT})")
        self._end = self.addSeparator()
        self.addAction(self.manage_action)
        manager.viewsChanged.connect(self.rebuild)
        manager.failed.connect(self._show_error)
        self.rebuild()

    def rebuild(self) -> None:
        """List the saved views again."""
        for action in self.view_actions:
            self.removeAction(action)
            action.deleteLater()
        self.view_actions = []
        names = self.manager.names()
        for name in names:
            action = QAction(name, self)
            action.setToolTip(f"Restore the view {name!r}")
            action.triggered.connect(lambda _checked=False, n=name: self.restore(n))
            self.insertAction(self._end, action)
            self.view_actions.append(action)
        self.empty_action.setVisible(not names)
        self.save_action.setEnabled(self.manager.store is not None)
        self.manage_action.setEnabled(bool(names))

    def restore(self, name: str) -> None:
        """Restore a view; an error is shown in a dialog."""
        try:
            self.manager.restore(name)
        except ActionLensError as exc:
            self._show_error(str(exc))

    def ask_save(self) -> None:
        """Ask for a name (a non-blocking dialog) and save the current view under it."""
        if self.manager.store is None:
            return
        dialog = QInputDialog(self.parentWidget())
        dialog.setObjectName("saveViewDialog")
        dialog.setWindowTitle("Save View")
        dialog.setLabelText("Name of the view (saved in the workspace):")
        dialog.setTextValue(f"View {len(self.manager.names()) + 1}")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(self._save_named)
        self.dialog = dialog
        dialog.open()

    def _save_named(self, name: str) -> None:
        if name.strip() in self.manager.names():
            answer = QMessageBox.question(
                self.parentWidget(), "Save View", f"Replace the saved view {name.strip()!r}?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        try:
            self.manager.save_view(name)
        except (ActionLensError, OSError) as exc:
            self._show_error(str(exc))

    def show_manager(self) -> None:
        """Open the Manage Views dialog."""
        dialog = ManageViewsDialog(self.manager, self.parentWidget())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.open()

    def _show_error(self, message: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Saved Views",
            message,
            QMessageBox.StandardButton.Ok,
            self.parentWidget(),
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()


class ManageViewsDialog(QDialog):
    """Rename, delete or restore saved views."""

    def __init__(self, manager: ViewManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.setWindowTitle("Manage Views")
        self.list = QListWidget()
        self.list.setToolTip("The views saved in this workspace; double-click one to rename it")
        self.list.setEditTriggers(
            QListWidget.EditTrigger.DoubleClicked | QListWidget.EditTrigger.EditKeyPressed
        )
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip("Show the selected view")
        self.rename_button = QPushButton("Rename")
        self.rename_button.setToolTip("Rename the selected view")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected view from the workspace")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QVBoxLayout()
        for button in (self.restore_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(close)

        self.restore_button.clicked.connect(self._restore)
        self.rename_button.clicked.connect(lambda: self.list.editItem(self.list.currentItem()))
        self.delete_button.clicked.connect(self._delete)
        self.list.itemChanged.connect(self._renamed)
        self.list.currentRowChanged.connect(lambda _r: self._update_buttons())
        manager.viewsChanged.connect(self._fill)
        self._fill()

    def _fill(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for name in self.manager.names():
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self.list.blockSignals(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.list.currentItem() is not None
        for button in (self.restore_button, self.rename_button, self.delete_button):
            button.setEnabled(has)

    def _current_name(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def _report(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))

    def _restore(self) -> None:
        name = self._current_name()
        if name is not None:
            try:
                self.manager.restore(name)
                self._report(None)
            except ActionLensError as exc:
                self._report(str(exc))

    def _renamed(self, item: QListWidgetItem) -> None:
        old = str(item.data(Qt.ItemDataRole.UserRole))
        try:
            self.manager.rename(old, item.text())
            self._report(None)
        except ActionLensError as exc:
            self._report(str(exc))
            self._fill()

    def rename_view(self, old: str, new: str) -> None:
        """Rename a view as the user would by editing its row."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == old:
                item.setText(new)  # emits itemChanged → _renamed
                return

    def _delete(self) -> None:
        name = self._current_name()
        if name is not None:
            self.manager.delete(name)
