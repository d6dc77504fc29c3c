"""The main window: a dock per registered panel, menus, the status bar, workspace handling.

Panels come from :data:`desktop_app.gui.panels.PANELS`; the window knows nothing of any panel
beyond its :class:`~desktop_app.gui.panels.PanelSpec`. Geometry, dock layout, the last workspace
and the recent workspaces persist in ``QSettings``.

While no workspace is open the docks are hidden and a start page offers to open or build one, so
no empty panel is ever shown.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app import __version__
from desktop_app.errors import ActionLensError
from desktop_app.gc_pause import freeze as freeze_long_lived
from desktop_app.gui.models import AppModels
from desktop_app.gui.panels import PANELS, PanelSpec
from desktop_app.gui.statusbar import TaskStatusWidget
from desktop_app.workspace import Workspace

#: Bumped when the dock layout changes incompatibly; older saved layouts are then ignored.
LAYOUT_VERSION = 1
MAX_RECENT = 10
KEY_GEOMETRY = "window/geometry"
KEY_STATE = "window/state"
KEY_LAST = "workspace/last"
KEY_RECENT = "workspace/recent"


class StartPage(QWidget):
    """What the window shows while no workspace is open."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        title = QLabel("<h2>ActionLens</h2><p>Explore joint video–word embeddings of human actions.</p>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.open_button = QPushButton("Open Workspace…")
        self.open_button.setToolTip("Choose a workspace directory (Ctrl+O); you can also drop a folder here")
        self.open_button.clicked.connect(window.choose_workspace)
        self.demo_button = QPushButton("Build Demo Workspace…")
        self.demo_button.setToolTip("Generate the synthetic demo dataset, run the pipeline, and open it")
        self.demo_button.clicked.connect(window.build_demo)
        hint = QLabel("or drop a workspace folder onto this window")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setEnabled(False)
        self.recent = QLabel()
        self.recent.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.recent.setTextFormat(Qt.TextFormat.RichText)
        self.recent.setToolTip("Workspaces opened recently: click one to open it")
        self.recent.linkActivated.connect(window.open_workspace)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addLayout(buttons)
        layout.addWidget(hint)
        layout.addSpacing(16)
        layout.addWidget(self.recent)
        layout.addStretch(2)

    def set_recent(self, paths: list[str]) -> None:
        """List recent workspaces as links."""
        links = "<br>".join(
            f'<a href="{html.escape(p, quote=True)}">{html.escape(Path(p).name or p)}</a>'
            f" <small>{html.escape(str(Path(p).parent))}</small>"
            for p in paths[:5]
        )
        self.recent.setText(f"<b>Recent</b><br>{links}" if links else "")


class MainWindow(QMainWindow):
    """The ActionLens main window.

    Parameters
    ----------
    settings
        Where geometry, layout and recent workspaces persist (default: the application's
        ``QSettings()``; tests pass an INI file of their own).
    models
        The shared models (default: fresh ones).
    panels
        The panel registry to build docks from (default: :data:`~desktop_app.gui.panels.PANELS`).
    """

    def __init__(
        self,
        settings: QSettings | None = None,
        models: AppModels | None = None,
        panels: list[PanelSpec] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.models = models if models is not None else AppModels.create(self)
        self.specs = list(PANELS if panels is None else panels)
        self.docks: dict[str, QDockWidget] = {}
        self._panels: dict[str, QWidget] = {}
        self._layout_state: QByteArray | None = None  # dock layout kept while no workspace is open
        self.error_box: QMessageBox | None = None
        self._closed = False

        self.setWindowTitle("ActionLens")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )
        self.start_page = StartPage(self)
        self.setCentralWidget(self.start_page)
        self._build_docks()
        self._build_menus()
        self._build_status_bar()

        geometry = self.settings.value(KEY_GEOMETRY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = self.settings.value(KEY_STATE)
        self._layout_state = state if isinstance(state, QByteArray) and not state.isEmpty() else None

        self.models.workspace.workspaceChanged.connect(self._on_workspace)
        self.models.workspace.runChanged.connect(self._on_run_changed)
        if self.models.workspace.workspace is None:
            # The docks as just built are no layout a user arranged: the first workspace gets
            # the default one (_place_docks), not a restoreState of this, which re-lays out
            # every panel once they hold a workspace (0.1-0.26 s of the open at 100 k-1 M).
            for dock in self.docks.values():
                dock.hide()
        self._on_workspace(self.models.workspace.workspace)
        # What start-up built and imported lives as long as the window: out of every later full
        # garbage collection, which a worker's allocations would otherwise make walk it all
        # while holding the GIL (100-300 ms at a million clips; desktop_app/gc_pause.py).
        freeze_long_lived()

    # ------------------------------------------------------------ panels
    def panel(self, panel_id: str) -> QWidget:
        """The widget of a registered panel."""
        return self._panels[panel_id]

    def _build_docks(self) -> None:
        for spec in self.specs:
            widget = spec.factory(self.models)
            dock = QDockWidget(spec.title, self)
            dock.setObjectName(f"dock-{spec.id}")  # saveState/restoreState key
            dock.setWidget(widget)
            dock.setToolTip(spec.tooltip)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetClosable
                | QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            )
            self.docks[spec.id] = dock
            self._panels[spec.id] = widget
        self._place_docks()

    def _place_docks(self, default_sizes: bool = True) -> None:
        for dock in self.docks.values():
            self.removeDockWidget(dock)
        for spec in self.specs:
            dock = self.docks[spec.id]
            if spec.tab_with is not None and spec.tab_with in self.docks:
                self.tabifyDockWidget(self.docks[spec.tab_with], dock)
            else:
                self.addDockWidget(spec.area, dock)
            dock.show()
        if default_sizes:
            self._apply_default_sizes()
            # The layout settles only once the window is shown; size the docks again then.
            QTimer.singleShot(0, self, self._apply_default_sizes)
        for spec in self.specs:  # the first of a tab group is the one shown
            if spec.tab_with is None:
                self.docks[spec.id].raise_()

    def _apply_default_sizes(self) -> None:
        """Share the width between the left and right dock areas by the panels' stretch."""
        areas = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
        side = [
            next(s for s in self.specs if s.area == area and s.tab_with is None)
            for area in areas
            if any(s.area == area and s.tab_with is None for s in self.specs)
        ]
        if len(side) > 1:
            total = sum(s.stretch for s in side)
            width = max(self.width(), 800)
            self.resizeDocks(
                [self.docks[s.id] for s in side],
                [int(width * s.stretch / total) for s in side],
                Qt.Orientation.Horizontal,
            )

    def reset_layout(self) -> None:
        """Put every panel back where the registry says, all shown."""
        if self.models.workspace.workspace is None:
            self._layout_state = None
            return
        self._place_docks()

    # ------------------------------------------------------------ menus and status bar
    def _build_menus(self) -> None:
        menu_bar = self.menuBar()
        file_menu = menu_bar.addMenu("&File")
        self.open_action = self._action(
            "&Open Workspace…",
            "Open a workspace directory",
            self.choose_workspace,
            QKeySequence.StandardKey.Open,
        )
        file_menu.addAction(self.open_action)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setToolTipsVisible(True)
        file_menu.addMenu(self.recent_menu)
        self._rebuild_recent_menu()
        file_menu.addAction(
            self._action(
                "&Build Demo Workspace…", "Build (or resume building) the demo workspace", self.build_demo
            )
        )
        self.add_clips_action = self._action(
            "&Add Clips…",
            "Add video files of your own as user clips, embedded by the active run",
            self.choose_clips,
        )
        file_menu.addAction(self.add_clips_action)
        self.close_action = self._action(
            "&Close Workspace",
            "Close the open workspace",
            self.close_workspace,
            QKeySequence.StandardKey.Close,
        )
        file_menu.addAction(self.close_action)
        file_menu.addSeparator()
        quit_action = self._action("&Quit", "Quit ActionLens", self.close, QKeySequence("Ctrl+Q"))
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addAction(quit_action)

        view_menu = menu_bar.addMenu("&View")
        view_menu.setToolTipsVisible(True)
        self.panel_actions: dict[str, QAction] = {}
        for spec in self.specs:
            action = self.docks[spec.id].toggleViewAction()
            action.setToolTip(f"Show or hide the {spec.title} panel: {spec.tooltip}")
            if spec.shortcut:
                action.setShortcut(QKeySequence(spec.shortcut))
            view_menu.addAction(action)
            self.panel_actions[spec.id] = action
        view_menu.addSeparator()
        self.run_menu = QMenu("Embedding &Run", self)
        self.run_menu.setToolTipsVisible(True)
        self.run_menu.setToolTip("Which run's embeddings every panel shows")
        # Listed afresh when opened (a run embedded since shows up), not on every run switch.
        self.run_menu.aboutToShow.connect(self._rebuild_run_menu)
        view_menu.addMenu(self.run_menu)
        self.run_group = QActionGroup(self)
        view_menu.addSeparator()
        self.reset_action = self._action(
            "Reset &Layout", "Put every panel back in its default place", self.reset_layout
        )
        view_menu.addAction(self.reset_action)

        from desktop_app.gui.bookmarks import ViewManager, ViewsMenu

        self.view_manager = ViewManager(self.models, lambda: self._panels, self)
        self.views_menu = ViewsMenu(self.view_manager, self)
        menu_bar.addMenu(self.views_menu)

        help_menu = menu_bar.addMenu("&Help")
        about = self._action("&About ActionLens", "Version and credits", self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(about)
        for menu in (file_menu, help_menu):
            menu.setToolTipsVisible(True)

    def _action(
        self,
        text: str,
        tip: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        if shortcut is not None:
            action.setShortcut(shortcut if isinstance(shortcut, QKeySequence) else QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _build_status_bar(self) -> None:
        self.workspace_label = QLabel()
        self.workspace_label.setToolTip("The open workspace and its active run")
        self.statusBar().addWidget(self.workspace_label, 1)
        self.task_status = TaskStatusWidget(self.models.tasks)
        self.statusBar().addPermanentWidget(self.task_status)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_workspaces()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name or path)
            action.setToolTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_workspace(p))
        if recent:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear Menu")
            clear.setToolTip("Forget the recent workspaces")
            clear.triggered.connect(self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))
        self.start_page.set_recent(recent)

    def _rebuild_run_menu(self) -> None:
        self.run_menu.clear()
        for action in self.run_group.actions():
            self.run_group.removeAction(action)
        wm = self.models.workspace
        runs = wm.runs()
        for run_id in runs:
            action = self.run_menu.addAction(run_id)
            action.setCheckable(True)
            action.setChecked(run_id == wm.run_id)
            action.setToolTip(f"Show the embeddings of run {run_id} in every panel")
            action.triggered.connect(lambda _checked=False, r=run_id: self._set_run(r))
            self.run_group.addAction(action)
        self.run_menu.setEnabled(bool(runs))
        self._update_status()

    def _on_run_changed(self, run_id: str | None) -> None:
        """Move the Run menu's check mark (the menu is rebuilt only when a run is missing from it)."""
        action = next((a for a in self.run_group.actions() if a.text() == run_id), None)
        if action is None and run_id is not None:
            self._rebuild_run_menu()
            return
        for each in self.run_group.actions():
            each.setChecked(each is action)
        self._update_status()

    def _set_run(self, run_id: str) -> None:
        try:
            with self.models.tasks.batch():  # every panel answers: start their tasks together
                self.models.workspace.set_run(run_id)
        except ActionLensError as exc:
            self.show_error(str(exc))

    def _update_status(self) -> None:
        wm = self.models.workspace
        if wm.workspace is None:
            self.workspace_label.setText("No workspace open")
            return
        run = wm.run_id or "no embeddings yet"
        self.workspace_label.setText(
            f"{wm.workspace.root.name} — {wm.num_clips} clips, {len(wm.classes())} classes — run: {run}"
        )

    # ------------------------------------------------------------ workspaces
    def recent_workspaces(self) -> list[str]:
        """Recently opened workspaces, most recent first."""
        value = self.settings.value(KEY_RECENT, [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        if not isinstance(value, list | tuple):
            return []
        return [str(v) for v in value][:MAX_RECENT]

    def _remember(self, root: Path) -> None:
        path = str(root)
        recent = [path] + [p for p in self.recent_workspaces() if p != path]
        self.settings.setValue(KEY_RECENT, recent[:MAX_RECENT])
        self.settings.setValue(KEY_LAST, path)
        self._rebuild_recent_menu()

    def _clear_recent(self) -> None:
        self.settings.setValue(KEY_RECENT, [])
        self._rebuild_recent_menu()

    def open_workspace(self, path: str | Path) -> bool:
        """Open the workspace at ``path``; an error is shown in a dialog. Returns success.

        The tasks the panels start as they hear of it reach the workers only once every panel
        has, and the recent list is written
        (:meth:`~desktop_app.gui.tasks.TaskManager.batch`): running, they would share the
        interpreter with the rest of the open's slots and stretch the window's freeze.
        """
        with self.models.tasks.batch():
            try:
                workspace = self.models.workspace.open(path)
            except ActionLensError as exc:
                self.show_error(str(exc))
                return False
            except OSError as exc:
                self.show_error(
                    f"{path} cannot be read ({exc.strerror or exc}); check the path and permissions"
                )
                return False
            self._remember(workspace.root)
        return True

    def close_workspace(self) -> None:
        """Close the open workspace (the start page is shown)."""
        self.models.workspace.close()

    def choose_workspace(self) -> None:
        """Ask for a workspace directory with the platform's dialog and open it."""
        start = self.settings.value(KEY_LAST) or str(Path.home())
        directory = QFileDialog.getExistingDirectory(self, "Open Workspace", str(Path(str(start)).parent))
        if directory:
            self.open_workspace(directory)

    def build_demo(self) -> None:
        """Build (or resume building) the demo workspace with a progress dialog, then open it."""
        from desktop_app.gui.first_run import DemoBuildDialog

        dialog = DemoBuildDialog(self.models.tasks, parent=self)
        dialog.built.connect(self.open_workspace)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def choose_clips(self) -> None:
        """File ▸ Add Clips: ask for video files and add them (:meth:`add_clips`)."""
        from desktop_app.data.video import VIDEO_EXTENSIONS

        patterns = " ".join(f"*{ext}" for ext in sorted(VIDEO_EXTENSIONS))
        files, _ = QFileDialog.getOpenFileNames(self, "Add Clips", str(Path.home()), f"Videos ({patterns})")
        if files:
            self.add_clips(files)

    def add_clips(self, paths: list[str]) -> object | None:
        """Add video files as user clips in a worker task (progress and Cancel in the status
        bar; :func:`desktop_app.analysis.new_clips.add_clips_at` does the work). When it ends the
        workspace is reopened, so every panel shows the new clips, they are selected, and a
        dialog lists their nearest classes and words and any file that could not be read."""
        from desktop_app.analysis.new_clips import add_clips_at

        root, run_id = self.models.workspace.root, self.models.workspace.run_id
        if root is None:
            return None
        title = f"Adding {len(paths)} clip{'s' if len(paths) != 1 else ''}"
        task = self.models.tasks.start("add-clips", title, add_clips_at, root, list(paths), run_id, 5)
        task.finished.connect(lambda summary: self._clips_added(root, summary))
        task.failed.connect(lambda error: self.show_error(str(error), "Add Clips"))
        return task

    def _clips_added(self, root: Path, summary: object) -> None:
        from desktop_app.analysis.new_clips import AddClipsSummary

        if not isinstance(summary, AddClipsSummary):
            return
        if summary.clips and self.models.workspace.root == root:
            self.open_workspace(root)
            if summary.run_id in self.models.workspace.runs():
                self.models.workspace.set_run(summary.run_id)
            self.models.selection.set(
                [int(c.clip_id) for c in summary.clips if c.clip_id is not None], "add-clips"
            )
        lines = []
        for clip in summary.clips:
            classes = ", ".join(h.phrase for h in clip.neighbours.classes[:3])
            words = ", ".join(h.word for h in clip.neighbours.words[:5])
            lines.append(f"{clip.name} ({clip.status}): nearest classes {classes}; nearest words {words}")
        lines += [failed.message for failed in summary.failed]
        box = QMessageBox(
            QMessageBox.Icon.Information if summary.clips else QMessageBox.Icon.Warning,
            "Add Clips",
            "\n".join(lines) or "No video was given.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setObjectName("addClipsResult")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def open_initial_workspace(self, path: Path | None = None) -> None:
        """At start-up: open ``path``, else the last workspace, else offer the first-run dialog."""
        if path is not None:
            self.open_workspace(path)
            return
        last = self.settings.value(KEY_LAST)
        if last and (Path(str(last)) / "workspace.json").is_file() and self.open_workspace(str(last)):
            return
        QTimer.singleShot(0, self.show_first_run)

    def show_first_run(self) -> None:
        """Offer to build the demo workspace or open one."""
        from desktop_app.gui.first_run import FirstRunDialog
        from desktop_app.pipeline import default_demo_dir

        dialog = FirstRunDialog(default_demo_dir(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen() -> None:
            if dialog.choice == "demo":
                self.build_demo()
            elif dialog.choice == "open":
                self.choose_workspace()

        dialog.accepted.connect(chosen)
        dialog.open()

    def _on_workspace(self, workspace: Workspace | None) -> None:
        has_workspace = workspace is not None
        if workspace is not None:
            self.setWindowTitle(f"{workspace.root.name} — ActionLens")
            self.start_page.hide()
            if self._layout_state is not None:
                # Restore all docks first, so panels added since the layout was saved appear.
                self._place_docks(default_sizes=False)
                self.restoreState(self._layout_state, LAYOUT_VERSION)
                self._layout_state = None
            elif all(dock.isHidden() for dock in self.docks.values()):
                self._place_docks()  # first workspace, no saved layout: the default one
        else:
            self.setWindowTitle("ActionLens")
            if self._layout_state is None and any(not d.isHidden() for d in self.docks.values()):
                self._layout_state = self.saveState(LAYOUT_VERSION)
            for dock in self.docks.values():
                dock.hide()
            self.start_page.show()
        for action in self.panel_actions.values():
            action.setEnabled(has_workspace)
        self.reset_action.setEnabled(has_workspace)
        self.close_action.setEnabled(has_workspace)
        self.add_clips_action.setEnabled(has_workspace)
        self._rebuild_run_menu()

    # ------------------------------------------------------------ dialogs
    def show_error(self, message: str, title: str = "ActionLens") -> QMessageBox:
        """Show ``message`` in a warning dialog that does not block the event loop."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorDialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.error_box = box
        return box

    def show_about(self) -> None:
        """The About box."""
        box = QMessageBox(self)
        box.setWindowTitle("About ActionLens")
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.setText(
            f"<h3>ActionLens {__version__}</h3><p>Explore joint video–word embeddings: type words to "
            "find clips, map clips, compute analogies and compare the space with WordNet.</p>"
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ------------------------------------------------------------ drag and drop a folder
    @staticmethod
    def _dropped_directory(urls: list[QUrl]) -> Path | None:
        for url in urls:
            if url.isLocalFile() and Path(url.toLocalFile()).is_dir():
                return Path(url.toLocalFile())
        return None

    def _dropped_videos(self, urls: list[QUrl]) -> list[str]:
        """The video files among dropped URLs, when a workspace is open to add them to."""
        from desktop_app.data.video import is_video_path

        if self.models.workspace.root is None:
            return []
        files = [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]
        return [str(f) for f in files if f.is_file() and is_video_path(f)]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() and (
            self._dropped_directory(mime.urls()) is not None or self._dropped_videos(mime.urls())
        ):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        directory = self._dropped_directory(urls)
        videos = [] if directory is not None else self._dropped_videos(urls)
        if directory is None and not videos:
            event.ignore()
            return
        event.acceptProposedAction()
        if directory is not None:
            self.open_workspace(directory)
        else:
            self.add_clips(videos)  # video files dropped on the window: File ▸ Add Clips

    # ------------------------------------------------------------ closing
    def save_settings(self) -> None:
        """Write geometry and layout to the settings."""
        self.settings.setValue(KEY_GEOMETRY, self.saveGeometry())
        if self.models.workspace.workspace is not None:
            self.settings.setValue(KEY_STATE, self.saveState(LAYOUT_VERSION))
        elif self._layout_state is not None:
            self.settings.setValue(KEY_STATE, self._layout_state)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closed:
            self._closed = True
            self.save_settings()
            for widget in self._panels.values():
                shutdown = getattr(widget, "shutdown", None)
                if callable(shutdown):
                    shutdown()
            self.models.shutdown(timeout=2.0)
            if self.models.workspace.workspace is not None:
                self.models.workspace.workspace.close()
        event.accept()
