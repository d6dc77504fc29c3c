"""The Compare panel: two runs' maps side by side, linked, over a per-class difference table.

Choose run A and run B (default: the active run and another). One task, never the GUI thread,
reads (or computes and caches, as PCA) each run's clip map with
:func:`~desktop_app.analysis.maps.first_map` and measures the per-class table with
:func:`~desktop_app.analysis.compare.compare_runs`. The maps are linked through the shared
models: clicking a point in either selects the clip in every panel, and the selection is outlined
in both; hovering a point rings the same clip in both maps. Clicking a class row in the table
selects that class's clips everywhere. The table sorts by any column.

The table is measured on the test clips of the workspace's first split by default
(:func:`~desktop_app.analysis.compare.default_report_split`), the clips neither run was fitted
on; the Clips box offers every split's test clips and all shared clips (training clips
included, labelled so), over which a run scores what it fitted.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.analysis.compare import default_report_split
from desktop_app.errors import ActionLensError
from desktop_app.gui.map_render import LevelOfDetail
from desktop_app.gui.models import AppModels
from desktop_app.gui.panels import ScreenWatch, on_screen
from desktop_app.gui.panels.map_colours import categorical_colour, warm_palette
from desktop_app.gui.selection import ClipIdSet
from desktop_app.gui.widgets import MessageStack

PANEL_ID = "compare"
#: The Clips box's entry that measures on every clip both runs embedded.
ALL_CLIPS_LABEL = "all shared clips (training clips included)"
#: (header, column of RunComparison.columns(), format) of the table, in order.
TABLE_COLUMNS = (
    ("Class", "phrase", "{}"),
    ("Clips", "clips", "{}"),
    ("Recognition A", "recognition_a", "{:.0%}"),
    ("Recognition B", "recognition_b", "{:.0%}"),
    ("Δ recognition", "recognition_delta", "{:+.0%}"),
    ("Zero-shot A", "zero_shot_a", "{:.0%}"),
    ("Zero-shot B", "zero_shot_b", "{:.0%}"),
    ("Δ zero-shot", "zero_shot_delta", "{:+.0%}"),
    ("Neighbour overlap", "neighbour_overlap", "{:.2f}"),
    ("Neighbour ρ", "neighbour_rho", "{:.2f}"),
)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
CLASS_ROLE = Qt.ItemDataRole.UserRole + 2


def _compare(ws: Any, run_a: str, run_b: str, split: str | None, progress: Any) -> dict[str, Any]:
    """Both runs' maps and their comparison (the table is ``None`` with a reason if it fails);
    ``split``: measure the table on that split's test clips only (``None``: every shared clip)."""
    from desktop_app.analysis.compare import compare_runs, split_test_clip_ids
    from desktop_app.analysis.maps import first_map
    from desktop_app.progress import SubProgress

    progress.set_progress(0.0, f"map of {run_a}")
    map_a = first_map(ws, run_a, "clips")
    progress.check_cancelled()
    progress.set_progress(0.3, f"map of {run_b}")
    map_b = first_map(ws, run_b, "clips")
    progress.check_cancelled()
    table, error, note = None, "", ""
    sub = SubProgress(progress, 0.6, 1.0, "comparing")
    if split is not None:
        try:
            table = compare_runs(ws, run_a, run_b, clip_ids=split_test_clip_ids(ws, split), progress=sub)
        except ActionLensError as exc:
            # Too few test clips (a tiny workspace): say so, and measure on every clip instead.
            note = f"On the test clips of split {split}: {exc}. Measured on {ALL_CLIPS_LABEL} instead."
            split = None
    if table is None:
        try:
            table = compare_runs(ws, run_a, run_b, progress=sub)
        except ActionLensError as exc:
            error = f"{note} {exc}" if note else str(exc)
    return {
        "run_a": run_a,
        "run_b": run_b,
        "split": split,
        "map_a": map_a,
        "map_b": map_b,
        "table": table,
        "error": error,
        "note": note,
    }


class ComparisonTableModel(QAbstractTableModel):
    """The per-class rows of a :class:`~desktop_app.analysis.compare.RunComparison` (columns held
    as arrays; Qt asks only for the cells on screen)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison: Any = None
        self._columns: dict[str, Any] = {}

    def set_comparison(self, comparison: Any) -> None:
        self.beginResetModel()
        self.comparison = comparison
        self._columns = comparison.columns() if comparison is not None else {}
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.comparison is None else len(self.comparison)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(TABLE_COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return TABLE_COLUMNS[section][0]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return _HEADER_TIPS.get(TABLE_COLUMNS[section][1], "")
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or self.comparison is None:
            return None
        _, key, fmt = TABLE_COLUMNS[index.column()]
        value = self._columns[key][index.row()]
        if role == CLASS_ROLE:
            return int(self.comparison.class_ids[index.row()])
        if role == SORT_ROLE:
            if isinstance(value, str):
                return value
            number = float(value)
            return number if np.isfinite(number) else float("-inf")
        if role == Qt.ItemDataRole.DisplayRole:
            if isinstance(value, str):
                return value
            if not np.isfinite(float(value)):
                return "—"
            return fmt.format(int(value) if key == "clips" else float(value))
        if role == Qt.ItemDataRole.TextAlignmentRole and key != "phrase":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


_HEADER_TIPS = {
    "recognition_a": "Leave-one-out nearest class mean (cosine) over the clips both runs embedded",
    "recognition_b": "Leave-one-out nearest class mean (cosine) over the clips both runs embedded",
    "zero_shot_a": "Nearest unseen label vector; only when both runs were trained for the same fold",
    "zero_shot_b": "Nearest unseen label vector; only when both runs were trained for the same fold",
    "neighbour_overlap": "Jaccard overlap of the class's nearest other classes in A and in B (1: unchanged)",
    "neighbour_rho": "Spearman correlation of the class's cosines to the other classes, A vs B (1: unchanged)",
}


class CompareMap(QWidget):
    """One run's map: clips coloured by class, the shared selection outlined, a hover ring.

    Signals
    -------
    pointClicked(int, object)
        The clip id clicked and the keyboard modifiers.
    hovered(object)
        The clip id under the mouse, or ``None``.
    """

    pointClicked = Signal(int, object)
    hovered = Signal(object)

    def __init__(self, parent: QWidget | None = None, tasks: Any = None, owner: str = "compare") -> None:
        super().__init__(parent)
        palette = self.palette()
        self.title = QLabel()
        self.plot_widget = pg.PlotWidget(background=palette.color(QPalette.ColorRole.Base))
        self.plot_item = self.plot_widget.getPlotItem()
        self.plot_item.hideButtons()
        self.plot_item.setMenuEnabled(False)
        self.view_box = self.plot_item.getViewBox()
        self.scatter = pg.ScatterPlotItem(pxMode=True, symbol="o", size=7, pen=None)
        self.outline = pg.ScatterPlotItem(pxMode=True, symbol="o", size=11, brush=None)
        self.outline.setZValue(5)
        self.ring = pg.ScatterPlotItem(pxMode=True, symbol="o", size=18, brush=None)
        self.ring.setZValue(10)
        for item in (self.scatter, self.outline, self.ring):
            self.view_box.addItem(item)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        self._selection_pen = pg.mkPen(highlight, width=2.5)
        self._ring_pen = pg.mkPen(QColor(230, 30, 30), width=2.5)
        # Drawn as the Map panel draws: an image of per-pixel counts zoomed out, real points
        # zoomed in (a million pyqtgraph markers took 3.9 s to set and 0.9 s a paint).
        self.lod = LevelOfDetail(
            self.view_box,
            self._draw_points,
            self._draw_outline,
            (highlight.red(), highlight.green(), highlight.blue()),
            tasks,
            owner,
        )
        self.ids = np.zeros(0, dtype=np.int64)
        self.coords = np.zeros((0, 2), dtype=np.float32)
        self._codes = np.zeros(0, dtype=np.int64)  # per point: its class's colour group
        self._brushes = np.array([None])
        # Clip id -> row by binary search in the sorted ids (no dict of a million entries).
        self._id_order = np.zeros(0, dtype=np.int64)
        self._sorted_ids = np.zeros(0, dtype=np.int64)
        self._outlined_rows = np.zeros(0, dtype=np.int64)
        self.ringed: int | None = None
        self.scatter.sigClicked.connect(self._on_clicked)
        self._hover_proxy = pg.SignalProxy(
            self.plot_widget.scene().sigMouseMoved, rateLimit=30, slot=self._on_moved
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot_widget, 1)

    def set_map(self, title: str, ids: np.ndarray, coords: np.ndarray, class_ids: np.ndarray) -> None:
        """Show a map; ``class_ids`` (per point, -1 unlabelled) colours the points."""
        self.title.setText(title)
        self.ids = np.asarray(ids, dtype=np.int64)
        self.coords = np.asarray(coords, dtype=np.float32)
        self._id_order = np.argsort(self.ids, kind="stable")
        self._sorted_ids = self.ids[self._id_order]
        self._outlined_rows = np.zeros(0, dtype=np.int64)
        classes, codes = np.unique(np.asarray(class_ids, dtype=np.int64), return_inverse=True)
        self._codes = codes.reshape(-1).astype(np.int64)
        colours = [categorical_colour(i) for i in range(len(classes))]
        # One brush object per class (pyqtgraph's symbol atlas caches by identity), picked per
        # point by an array lookup.
        self._brushes = np.array([pg.mkBrush(c.red(), c.green(), c.blue(), 200) for c in colours] or [None])
        group_rgb = np.array([(c.red(), c.green(), c.blue()) for c in colours], dtype=np.float64).reshape(
            -1, 3
        )
        self.lod.set_points(self.coords)
        if len(self.ids):
            self.view_box.setRange(self.lod.data_rect(), padding=0.02)
        self.lod.set_style(self._codes, group_rgb, None)  # drawn for the view just set

    def _draw_points(self, rows: np.ndarray | None) -> None:
        """The level of detail's real points (a zoomed-in view); ``None``: the image shows them."""
        if rows is None or not len(rows):
            self.scatter.clear()
            return
        self.scatter.setData(
            pos=self.coords[rows], data=self.ids[rows], brush=self._brushes[self._codes[rows]]
        )

    def _draw_outline(self, rows: np.ndarray | None) -> None:
        """Outline these selected rows (``None``: the selection is drawn as a highlight image)."""
        if rows is None or not len(rows):
            self.outline.clear()
            return
        self.outline.setData(pos=self.coords[rows], pen=self._selection_pen)

    def rows_of(self, clip_ids: np.ndarray) -> np.ndarray:
        """The map rows of those of ``clip_ids`` (sorted, unique) that are on the map, in id order."""
        clip_ids = np.asarray(clip_ids, dtype=np.int64)
        if not len(clip_ids) or not len(self._sorted_ids):
            return np.zeros(0, dtype=np.int64)
        at = np.searchsorted(self._sorted_ids, clip_ids)
        found = at < len(self._sorted_ids)
        found[found] = self._sorted_ids[at[found]] == clip_ids[found]
        return self._id_order[at[found]]

    @property
    def outlined(self) -> list[int]:
        """The clip ids outlined as selected, in increasing order."""
        return [int(i) for i in self.ids[self._outlined_rows]]

    def show_selection(self, clip_ids: Set[int]) -> None:
        """Outline the selected clips that are on this map (a ``ClipIdSet`` or any set of ids)."""
        rows = self.rows_of(ClipIdSet(clip_ids).ids)  # sorted ids, no copy of a ClipIdSet's
        self._outlined_rows = rows
        mask = None
        if len(rows):
            mask = np.zeros(len(self.ids), dtype=bool)
            mask[rows] = True
        self.lod.set_selected(mask)

    def show_hover(self, clip_id: int | None) -> None:
        """Ring ``clip_id`` (``None``: no ring)."""
        rows = self.rows_of(np.array([clip_id])) if clip_id is not None else ()
        self.ringed = clip_id if len(rows) else None
        self.ring.setData(pos=self.coords[rows[:1]] if len(rows) else np.zeros((0, 2)), pen=self._ring_pen)

    def view_position(self, clip_id: int) -> QPointF:
        """Where a clip is, in scene coordinates (for tests and hover); ``KeyError`` when not on the map."""
        rows = self.rows_of(np.array([clip_id]))
        if not len(rows):
            raise KeyError(clip_id)
        x, y = self.coords[rows[0]]
        return self.view_box.mapViewToScene(QPointF(float(x), float(y)))

    def _nearest(self, scene_pos: QPointF, radius_px: float = 8.0) -> int | None:
        if not len(self.ids) or not self.view_box.sceneBoundingRect().contains(scene_pos):
            return None
        view = self.view_box.mapSceneToView(scene_pos)
        px, py = self.view_box.viewPixelSize()
        if px <= 0 or py <= 0:
            return None
        d2 = ((self.coords[:, 0] - view.x()) / px) ** 2 + ((self.coords[:, 1] - view.y()) / py) ** 2
        row = int(np.argmin(d2))
        return int(self.ids[row]) if d2[row] <= radius_px**2 else None

    def leaveEvent(self, event: Any) -> None:
        self.hovered.emit(None)
        super().leaveEvent(event)

    def _on_moved(self, args: tuple[Any, ...]) -> None:
        self.hovered.emit(self._nearest(args[0]))

    def _on_clicked(self, _item: object, points: Any, ev: Any) -> None:
        if len(points):
            ev.accept()
            self.pointClicked.emit(int(points[0].data()), ev.modifiers())


class ComparePanel(QWidget):
    """Two runs side by side: linked maps and the per-class difference table."""

    def __init__(self, models: AppModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self.result: dict[str, Any] | None = None
        self._task: Any = None
        self._pending = False
        self._start_queued = False  # a comparison is to start from the event loop
        self._selection_stale = False  # the selection changed while the panel was off screen

        self.combo_a, self.combo_b = QComboBox(), QComboBox()
        for combo, tip in ((self.combo_a, "Run A (left map)"), (self.combo_b, "Run B (right map)")):
            combo.setToolTip(tip)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._on_runs_chosen)
        self.clips_combo = QComboBox()
        self.clips_combo.setToolTip(
            "The clips the table is measured on: a split's test clips (the default: the first "
            "split's), or every clip both runs embedded, training clips included"
        )
        self.clips_combo.currentIndexChanged.connect(self._on_runs_chosen)
        self.swap_button = QPushButton("Swap")
        self.swap_button.setToolTip("Swap runs A and B")
        self.swap_button.clicked.connect(self._swap)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(160)
        self.progress_bar.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(lambda: self.models.tasks.cancel(PANEL_ID))
        controls = QHBoxLayout()
        controls.addWidget(QLabel("A:"))
        controls.addWidget(self.combo_a)
        controls.addWidget(self.swap_button)
        controls.addWidget(QLabel("B:"))
        controls.addWidget(self.combo_b)
        controls.addWidget(QLabel("Clips:"))
        controls.addWidget(self.clips_combo)
        self.hover_label = QLabel()
        controls.addWidget(self.hover_label, 1)
        controls.addWidget(self.progress_bar)
        controls.addWidget(self.cancel_button)

        self.map_a = CompareMap(tasks=models.tasks, owner="compare:a")
        self.map_b = CompareMap(tasks=models.tasks, owner="compare:b")
        maps = QSplitter(Qt.Orientation.Horizontal)
        maps.addWidget(self.map_a)
        maps.addWidget(self.map_b)

        self.table_model = ComparisonTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.clicked.connect(self._on_row_clicked)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.summary)
        bottom_layout.addWidget(self.table, 1)

        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(maps)
        body.addWidget(bottom)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 2)
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addLayout(controls)
        content_layout.addWidget(body, 1)
        self.stack = MessageStack(content)
        self.message = self.stack.message
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        for view in (self.map_a, self.map_b):
            view.pointClicked.connect(self._on_point_clicked)
            view.hovered.connect(self._on_hovered)
        models.workspace.workspaceChanged.connect(lambda _ws: self._fill_runs())
        models.workspace.runChanged.connect(self._on_active_run)
        models.selection.changed.connect(self._on_selection)
        # Nothing is computed or drawn for a dock tabbed behind another: coming on screen starts
        # the pending comparison and outlines the selection made meanwhile.
        self._screen_watch = ScreenWatch(self, self._on_shown)
        self._fill_runs()

    # ------------------------------------------------------------ public
    def choose_runs(self, run_a: str, run_b: str) -> None:
        """Compare ``run_a`` (left) with ``run_b`` (right)."""
        for combo, run in ((self.combo_a, run_a), (self.combo_b, run_b)):
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.findText(run))
            combo.blockSignals(False)
        self._on_runs_chosen()

    def choose_clips(self, split: str | None) -> None:
        """Measure the table on ``split``'s test clips (``None``: on all shared clips)."""
        index = self.clips_combo.findData(split)
        if index < 0:
            raise ActionLensError(f"the workspace has no split {split!r} to compare on")
        self.clips_combo.setCurrentIndex(index)

    def class_row_ids(self) -> list[int]:
        """The class ids of the table's rows, in the order shown."""
        return [int(self.proxy.index(r, 0).data(CLASS_ROLE)) for r in range(self.proxy.rowCount())]

    def _on_shown(self) -> None:
        if self._selection_stale:
            self._on_selection(self.models.selection.clip_ids, "")
        if self._pending:
            self._on_runs_chosen()

    def shutdown(self) -> None:
        """Stop the panel's task (the window is closing)."""
        self.models.tasks.cancel(PANEL_ID)

    # ------------------------------------------------------------ runs
    def _fill_runs(self) -> None:
        self.result = None
        self.table_model.set_comparison(None)
        self.summary.setText("")
        for view in (self.map_a, self.map_b):
            view.set_map("", np.zeros(0, dtype=np.int64), np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
        runs = self.models.workspace.runs()
        if self.models.workspace.workspace is None:
            self.stack.show_message("Open a workspace to compare its runs.")
            return
        if len(runs) < 2:
            root = self.models.workspace.root
            self.stack.show_message(
                "Comparing needs two runs with embeddings; this workspace has "
                f"{len(runs)}. Train and embed another: <tt>actionlens embed --workspace {root} --run RUN</tt>"
            )
            return
        active = self.models.workspace.run_id or runs[-1]
        other = next(r for r in reversed(runs) if r != active)
        for combo, chosen in ((self.combo_a, active), (self.combo_b, other)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(runs)
            combo.setCurrentIndex(runs.index(chosen))
            combo.blockSignals(False)
        self.clips_combo.blockSignals(True)
        self.clips_combo.clear()
        ws = self.models.workspace.workspace
        splits = ws.catalog.split_names()
        for split in splits:
            self.clips_combo.addItem(f"test clips of split {split}", split)
        self.clips_combo.addItem(ALL_CLIPS_LABEL, None)
        # Held-out clips by default: over all clips a run scores what it was fitted on.
        self.clips_combo.setCurrentIndex(self.clips_combo.findData(default_report_split(splits)))
        self.clips_combo.blockSignals(False)
        self.stack.show_content()
        self._on_runs_chosen()

    def _on_active_run(self, run_id: str | None) -> None:
        """Run A follows the active run (B takes A's place when it was the active run). The
        comparison starts from the event loop, not inside the run switch's fan-out to every panel."""
        if run_id is None or self.combo_a.findText(run_id) < 0 or run_id == self.combo_a.currentText():
            return
        a, b = self.combo_a.currentText(), self.combo_b.currentText()
        for combo, run in ((self.combo_a, run_id), (self.combo_b, a if run_id == b else b)):
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.findText(run))
            combo.blockSignals(False)
        if not self._start_queued:
            self._start_queued = True
            QTimer.singleShot(0, self, self._start_queued_comparison)

    def _start_queued_comparison(self) -> None:
        self._start_queued = False
        self._on_runs_chosen()

    def _swap(self) -> None:
        a, b = self.combo_a.currentText(), self.combo_b.currentText()
        if a and b:
            self.choose_runs(b, a)

    def _on_runs_chosen(self) -> None:
        ws = self.models.workspace.workspace
        run_a, run_b = self.combo_a.currentText(), self.combo_b.currentText()
        split = self.clips_combo.currentData()
        if ws is None or not run_a or not run_b:
            return
        if self.result is not None and (self.result["run_a"], self.result["run_b"], self.result["split"]) == (
            run_a,
            run_b,
            split,
        ):
            return
        if not on_screen(self):
            # A hidden (tabbed-away) dock computes nothing; showing it starts the comparison.
            self._pending = True
            return
        self._pending = False
        self.summary.setText(f"Comparing {run_a} with {run_b} …")
        warm_palette()  # the maps' class colours, imported while the comparison runs
        task = self.models.tasks.start(
            PANEL_ID, f"Comparing {run_a} and {run_b}", _compare, ws, run_a, run_b, split
        )
        self._task = task
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.cancel_button.show()
        task.progressChanged.connect(self._on_progress)  # a bound method: dropped with the panel
        task.finished.connect(self._on_result)
        task.failed.connect(lambda exc: self.summary.setText(f"Could not compare the runs: {exc}"))
        task.cancelled.connect(lambda: self.summary.setText("Comparison cancelled."))
        task.done.connect(self._on_task_done)

    def _on_task_done(self) -> None:
        if self.models.tasks.task(PANEL_ID) is None:
            self.progress_bar.hide()
            self.cancel_button.hide()

    def _on_progress(self, fraction: float, _message: str) -> None:
        self.progress_bar.setValue(int(fraction * 1000))

    def _on_result(self, result: dict[str, Any]) -> None:
        self.result = result
        index = self.clips_combo.findData(result["split"])
        if index >= 0 and index != self.clips_combo.currentIndex():  # fell back to all clips
            self.clips_combo.blockSignals(True)
            self.clips_combo.setCurrentIndex(index)
            self.clips_combo.blockSignals(False)
        clip_classes = self.models.workspace.clip_columns().class_id
        for view, key, run in ((self.map_a, "map_a", "run_a"), (self.map_b, "map_b", "run_b")):
            layout = result[key]
            view.set_map(
                f"{'A' if key == 'map_a' else 'B'}: {result[run]} · {layout.method.upper()}",
                layout.ids,
                layout.coords,
                clip_classes[layout.ids] if len(clip_classes) else np.full(len(layout.ids), -1),
            )
            view.show_selection(self.models.selection.clip_ids)
        table = result["table"]
        self.table_model.set_comparison(table)
        if table is None:
            self.summary.setText(result["error"])
            return
        self.table.sortByColumn(4, Qt.SortOrder.AscendingOrder)
        self.table.setColumnHidden(5, not table.has_zero_shot)
        self.table.setColumnHidden(6, not table.has_zero_shot)
        self.table.setColumnHidden(7, not table.has_zero_shot)
        parts = [
            f"{len(table)} classes over {len(table.clip_ids)} clips both runs embedded,"
            f" measured on {self.clips_combo.currentText()}.",
            f"Recognition A {np.mean(table.recognition_a):.0%}, B {np.mean(table.recognition_b):.0%} "
            f"(chance {table.recognition_chance:.0%}).",
        ]
        if table.has_zero_shot:
            parts.append(
                f"Zero-shot A {np.nanmean(table.zero_shot_a):.0%}, B {np.nanmean(table.zero_shot_b):.0%} "
                f"(chance {table.zero_shot_chance:.0%})."
            )
        parts.append(
            f"Neighbour overlap of the {table.neighbours} nearest classes: {np.nanmean(table.neighbour_overlap):.2f}."
        )
        parts += table.notes
        if result.get("note"):
            parts.append(result["note"])
        self.summary.setText(" ".join(parts) + " Click a class to select its clips.")

    # ------------------------------------------------------------ linking
    def _on_selection(self, clip_ids: Set[int], _source: str) -> None:
        if not on_screen(self):
            # A lasso of half a million clips is outlined only when someone can see it.
            self._selection_stale = True
            return
        self._selection_stale = False
        self.map_a.show_selection(clip_ids)
        self.map_b.show_selection(clip_ids)

    def _on_hovered(self, clip_id: int | None) -> None:
        self.map_a.show_hover(clip_id)
        self.map_b.show_hover(clip_id)
        self.hover_label.setText(self.models.workspace.clip_label(clip_id) if clip_id is not None else "")

    def _on_point_clicked(self, clip_id: int, modifiers: Any) -> None:
        selection = self.models.selection
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            if clip_id in selection:
                selection.remove([clip_id], PANEL_ID)
            else:
                selection.add([clip_id], PANEL_ID)
            return
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            selection.add([clip_id], PANEL_ID)
        else:
            selection.set([clip_id], PANEL_ID)
        self.models.current_clip.set(clip_id, PANEL_ID)

    def _on_row_clicked(self, index: QModelIndex) -> None:
        table = self.table_model.comparison
        class_id = index.data(CLASS_ROLE)
        if table is not None and class_id is not None:
            self.models.selection.set(table.clips_of(int(class_id)), PANEL_ID)


if __name__ == "__main__":
    from desktop_app.gui.panels import preview_panel

    raise SystemExit(preview_panel(ComparePanel))
