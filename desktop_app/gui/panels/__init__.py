"""The panels of the main window and their registry.

A panel is a ``QWidget`` built from :class:`~desktop_app.gui.models.AppModels` alone; it talks to
other panels only through those models. The main window makes one dock per entry of
:data:`PANELS`, in order. To add a panel, write ``panels/<name>.py`` with a ``QWidget`` subclass
taking ``(models, parent=None)`` and add one line below, e.g.::

    PanelSpec("map", "Map", _lazy("map", "MapPanel"), Qt.DockWidgetArea.RightDockWidgetArea,
              shortcut="Ctrl+3", tab_with="player", tooltip="The 2-D map of clips")

Optional hooks a panel widget may define: ``shutdown()`` (the window is closing: stop threads).

A panel whose work is costly (loading WordNet, an evaluation, a second map) does it only while it
is on screen: :func:`on_screen` and :class:`ScreenWatch`. ``isVisible()`` does not tell: a dock
tabbed behind another stays "visible" (Qt moves it off the window), so every tabbed panel would
compute at open and at every run switch.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QWidget

from desktop_app.gui.models import AppModels

PanelFactory = Callable[[AppModels], QWidget]


def on_screen(widget: QWidget) -> bool:
    """Whether any of ``widget`` can be seen: shown, and not in a dock tabbed behind another.

    A tabbed-away dock keeps ``isVisible()`` true (Qt moves it off the window); its visible
    region is empty.
    """
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


class ScreenWatch(QObject):
    """Calls ``callback`` (from the event loop) each time ``widget`` comes on screen.

    "On screen" is :func:`on_screen`: the widget is shown (its window too) and, in a dock, that
    dock is not tabbed behind another. The widget's own show events and its dock's
    ``visibilityChanged`` (a tab chosen, the dock floated or docked) are watched; the call is
    queued and made only if the widget is still on screen then, so the main window re-placing
    its docks (each shown for a moment, then tabbed away) starts nothing.

    Parameters
    ----------
    widget
        The panel (the watch is its child and ends with it).
    callback
        Called with no arguments.
    """

    def __init__(self, widget: QWidget, callback: Callable[[], object]) -> None:
        super().__init__(widget)
        self.widget = widget
        self.callback = callback
        self._docks: list[QDockWidget] = []
        self._queued = False
        widget.installEventFilter(self)
        self._watch_dock()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget:
            if event.type() == QEvent.Type.ParentChange:
                self._watch_dock()
            elif event.type() == QEvent.Type.Show:
                self._watch_dock()
                self._queue()
        return False

    def _watch_dock(self) -> None:
        parent = self.widget.parentWidget()
        while parent is not None and not isinstance(parent, QDockWidget):
            parent = parent.parentWidget()
        if parent is not None and parent not in self._docks:
            self._docks.append(parent)
            parent.visibilityChanged.connect(self._on_dock_visibility)

    def _on_dock_visibility(self, visible: bool) -> None:
        if visible:
            self._queue()

    def _queue(self) -> None:
        if not self._queued:
            self._queued = True
            QTimer.singleShot(0, self, self._fire)

    def _fire(self) -> None:
        self._queued = False
        if on_screen(self.widget):
            self.callback()


@dataclass(frozen=True)
class PanelSpec:
    """How the main window makes and places one panel.

    Attributes
    ----------
    id
        Stable identifier: the dock's object name (saved layouts refer to it) and the ``source``
        tag the panel uses on the shared models.
    title
        The dock's title and its entry in the View menu.
    factory
        ``factory(models) -> QWidget``; called once when the window is built.
    area
        Where the dock goes in the default layout.
    shortcut
        The View menu shortcut that shows/hides it.
    tab_with
        The id of a panel whose dock this one is tabbed with in the default layout.
    tooltip
        What the panel is for (View menu and dock tooltips).
    stretch
        Relative size in the default layout among docks sharing its area's orientation.
    """

    id: str
    title: str
    factory: PanelFactory
    area: Qt.DockWidgetArea
    shortcut: str | None = None
    tab_with: str | None = None
    tooltip: str = ""
    stretch: int = 1


def _lazy(module: str, class_name: str) -> PanelFactory:
    """A factory that imports ``desktop_app.gui.panels.<module>`` only when the panel is built."""

    def factory(models: AppModels) -> QWidget:
        cls = getattr(importlib.import_module(f"desktop_app.gui.panels.{module}"), class_name)
        widget: QWidget = cls(models)
        return widget

    return factory


Left = Qt.DockWidgetArea.LeftDockWidgetArea
Right = Qt.DockWidgetArea.RightDockWidgetArea

#: The registry: one line per panel, in View-menu order.
PANELS: list[PanelSpec] = [
    PanelSpec(
        "library",
        "Library",
        _lazy("library", "LibraryPanel"),
        Left,
        shortcut="Ctrl+1",
        tooltip="Browse and filter the workspace's clips",
        stretch=3,
    ),
    PanelSpec(
        "player",
        "Player",
        _lazy("player", "PlayerPanel"),
        Right,
        shortcut="Ctrl+2",
        tooltip="Play the current clip and see the model's nearest words for it",
        stretch=2,
    ),
    PanelSpec(
        "map",
        "Map",
        _lazy("map", "MapPanel"),
        Right,
        shortcut="Ctrl+3",
        tab_with="player",
        tooltip="The 2-D map (PCA, UMAP, t-SNE, semantic axes) of the clips or classes",
        stretch=2,
    ),
    PanelSpec(
        "query",
        "Query",
        _lazy("query", "QueryPanel"),
        Left,
        shortcut="Ctrl+4",
        tab_with="library",
        tooltip="Type words and get the nearest clips, classes and words",
    ),
    PanelSpec(
        "analogy",
        "Analogy",
        _lazy("analogy", "AnalogyPanel"),
        Left,
        shortcut="Ctrl+5",
        tab_with="library",
        tooltip="Drag clips, classes and words into A − B + C and see what is nearest",
    ),
    PanelSpec(
        "wordnet",
        "WordNet",
        _lazy("wordnet", "WordNetPanel"),
        Right,
        shortcut="Ctrl+6",
        tab_with="player",
        tooltip="Wu-Palmer similarity beside the model's, the word vectors' and pooled features' cosines",
        stretch=2,
    ),
    PanelSpec(
        "evaluation",
        "Evaluation",
        _lazy("evaluation", "EvaluationPanel"),
        Right,
        shortcut="Ctrl+7",
        tab_with="player",
        tooltip="Recognition, zero-shot and analogy results of the runs; choose the run every panel shows",
    ),
    PanelSpec(
        "compare",
        "Compare",
        _lazy("compare", "ComparePanel"),
        Right,
        shortcut="Ctrl+8",
        tab_with="player",
        tooltip="Two runs' maps side by side, linked, over a per-class table of their differences",
        stretch=2,
    ),
]


def panel_spec(panel_id: str) -> PanelSpec:
    """The registered panel with this id (``KeyError`` if none)."""
    for spec in PANELS:
        if spec.id == panel_id:
            return spec
    raise KeyError(panel_id)


def preview_panel(panel_class: Callable[[AppModels], QWidget], argv: list[str] | None = None) -> int:
    """Show one panel on its own, on the workspace named on the command line (``__main__`` use)."""
    from desktop_app.gui.application import create_application

    argv = sys.argv if argv is None else argv
    app = create_application(argv)
    models = AppModels.create(app)
    if len(argv) > 1:
        models.workspace.open(argv[1])
    widget = panel_class(models)
    widget.resize(900, 650)
    widget.show()
    code = app.exec()
    shutdown = getattr(widget, "shutdown", None)
    if callable(shutdown):
        shutdown()
    models.shutdown()
    return int(code)
