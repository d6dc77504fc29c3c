"""The Library panel: a virtualised grid of clip thumbnails with filters.

Where the workspace has anomaly scores for the active run (seed 003 §VII's autoencoder,
:mod:`desktop_app.training.anomaly`), a row of anomaly controls appears: show the most anomalous
clips first, only the top *k*, or only those scoring above a threshold. The scores are one
column array beside the rows, read off the GUI thread.

The grid is a ``QListView`` in icon mode over :class:`ClipListModel`; with uniform item sizes it
only ever asks for the rows on screen, so thousands of clips scroll smoothly, and thumbnails come
from the shared :class:`~desktop_app.gui.thumbnails.ThumbnailCache` off the GUI thread.

Its selection *is* the shared :class:`~desktop_app.gui.models.SelectionModel`; double-click (or
Enter) plays a clip; clips dragged out carry analogy operands
(:data:`~desktop_app.gui.dnd.OPERANDS_MIME`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelection,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QBrush, QColor, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.gui.dnd import operands_mime_data
from desktop_app.gui.models import AppModels
from desktop_app.workspace import Workspace
from desktop_app.workspace.clip_filter import ClipFilter, anomaly_order, filter_mask

PANEL_ID = "library"
#: The task owner that reads anomaly scores for the active run.
ANOMALY_TASK = "library:anomaly"
#: The data role holding a row's clip id.
CLIP_ID_ROLE = Qt.ItemDataRole.UserRole + 1
ICON_SIZE = QSize(128, 96)
#: Scaled thumbnails kept by the grid (the shared cache keeps the full-size ones).
ICON_CACHE_SIZE = 3000
ModelIndex = QModelIndex | QPersistentModelIndex


#: From this many clips, typed filter text is applied once typing pauses
#: (:data:`FILTER_DEBOUNCE_MS`) rather than on every keystroke.
DEBOUNCE_MIN_CLIPS = 20_000
FILTER_DEBOUNCE_MS = 150
#: A shared selection that falls into more runs of shown rows than this is shown by tinting its
#: rows (a data role read only for the rows on screen) instead of as the view's own selection:
#: Qt's ``QItemSelectionModel.select`` asks the model's ``rowCount`` about thirty times per range,
#: 2.4 s for a lasso of 576 k clips scattered over 65 k runs of a million-clip Library.
MAX_VIEW_RANGES = 2_000


class ClipListModel(QAbstractListModel):
    """The clips of the open workspace as list rows, row = clip id, over the shared column
    arrays (:meth:`~desktop_app.gui.models.WorkspaceModel.clip_table`).

    Nothing here holds an object per clip: the grid asks only for the rows on screen, and a
    row's name, class and status are array lookups; its tooltip reads that one clip's row from
    the catalog.
    """

    def __init__(self, models: AppModels, parent: Any = None) -> None:
        super().__init__(parent)
        self._models = models
        self._n = 0
        self._class_id = np.zeros(0, dtype=np.int64)
        self._ok = np.zeros(0, dtype=bool)
        self._names: Any = None
        self._class_text: dict[int, str] = {}
        self._icons: OrderedDict[int, QPixmap] = OrderedDict()
        self._placeholder = _placeholder_pixmap(ICON_SIZE, loading=True)
        self._missing = _placeholder_pixmap(ICON_SIZE, loading=False)
        #: Per row (= clip id): the anomaly score (NaN: none).
        self.anomaly = np.zeros(0, dtype=np.float64)
        self.anomaly_run: str | None = None
        self._scores: Any = None
        self._marks: dict[int, str] = {}
        models.thumbnails.ready.connect(self._on_thumbnail)

    def set_anomaly_scores(self, scores: Any) -> None:
        """Show ``AnomalyScores`` (or ``None``) beside the rows: one array op, not one per clip."""
        self._scores = scores
        self._apply_scores()
        if self._n:
            self.dataChanged.emit(self.index(0), self.index(self._n - 1), [Qt.ItemDataRole.ToolTipRole])

    def _apply_scores(self) -> None:
        ids = np.arange(self._n, dtype=np.int64)
        scores = self._scores
        self.anomaly = (
            np.asarray(scores.of(ids), dtype=np.float64) if scores is not None else np.full(self._n, np.nan)
        )
        self.anomaly_run = scores.run_id if scores is not None else None

    def reload(self) -> None:
        """Show the clips of the open workspace (none until its columns are read)."""
        self.beginResetModel()
        wm = self._models.workspace
        ws = wm.workspace
        if ws is not None and wm.columns_loaded:
            table = wm.clip_table()
            self._n = len(table)
            self._class_id, self._ok, self._names = table.columns.class_id, table.columns.ok, table.names
        else:
            self._n, self._names = 0, None
            self._class_id, self._ok = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
        self._class_text = {cid: c.phrase or c.name for cid, c in wm.classes().items()}
        self._apply_scores()
        marked_ids, kinds = ws.catalog.anomaly_marks() if ws is not None else (np.zeros(0, np.int64), [])
        self._marks = dict(zip(marked_ids.tolist(), kinds, strict=True))
        self._icons.clear()
        self.endResetModel()

    def name(self, row: int) -> str:
        """The name of the clip of a row."""
        return str(self._names[row].as_py()) if self._names is not None else ""

    def label(self, row: int) -> str:
        """``phrase · name`` of the clip of a row (its name alone without a class)."""
        phrase = self._class_text.get(int(self._class_id[row]))
        return f"{phrase} · {self.name(row)}" if phrase else self.name(row)

    def row_of(self, clip_id: int) -> int | None:
        """The row of a clip id."""
        return int(clip_id) if 0 <= clip_id < self._n else None

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else self._n

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._n:
            return None
        clip_id = index.row()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._class_text.get(int(self._class_id[clip_id])) or self.name(clip_id)
        if role == Qt.ItemDataRole.DecorationRole:
            icon = self._icons.get(clip_id)
            if icon is not None:
                self._icons.move_to_end(clip_id)
                return icon
            pixmap = self._models.thumbnails.pixmap(clip_id)
            if pixmap is not None:
                # The delegate draws a QPixmap at its own size: scale once to the grid's icon size.
                icon = pixmap.scaled(
                    ICON_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
                self._icons[clip_id] = icon
                if len(self._icons) > ICON_CACHE_SIZE:
                    self._icons.popitem(last=False)
                return icon
            return self._missing if self._models.thumbnails.failed(clip_id) else self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(clip_id)
        if role == Qt.ItemDataRole.ForegroundRole and not self._ok[clip_id]:
            return QColor(Qt.GlobalColor.gray)
        if role == CLIP_ID_ROLE:
            return clip_id
        return None

    def _tooltip(self, clip_id: int) -> str:
        ws = self._models.workspace.workspace
        if ws is None:
            return ""
        clip = ws.catalog.clip(clip_id)  # one row, for the one clip under the pointer
        cls = self._models.workspace.classes().get(clip.class_id) if clip.class_id is not None else None
        phrase = cls.phrase if cls is not None else ""
        lines = [f"<b>{clip.name}</b>", f"class: {clip.class_name or '—'} ({phrase or '—'})"]
        if clip.duration:
            lines.append(f"{clip.duration:.1f} s")
        roles = ws.catalog.clip_split_roles(clip_id)
        if roles:
            lines.append("splits: " + ", ".join(f"{split} {role}" for split, role in roles))
        if clip.status != "ok":
            lines.append(f"<i>unusable: {clip.status_reason or 'unknown reason'}</i>")
        score = self.anomaly[clip_id] if clip_id < len(self.anomaly) else np.nan
        if not np.isnan(score):
            lines.append(f"anomaly score {score:.4g} ({self.anomaly_run})")
        if clip_id in self._marks:
            lines.append(f"marked anomalous: {self._marks[clip_id]}")
        lines.append("Double-click to play; drag to the Analogy panel.")
        return "<br>".join(lines)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        from desktop_app.gui.dnd import OPERANDS_MIME

        return [OPERANDS_MIME, "text/plain"]

    def mimeData(self, indexes: Any) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        return operands_mime_data([{"kind": "clip", "id": r, "label": self.label(r)} for r in rows])

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def _on_thumbnail(self, clip_id: int, kind: str) -> None:
        if 0 <= clip_id < self._n and kind == "thumb":
            index = self.index(clip_id)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class ClipFilterProxy(QAbstractListModel):
    """The clips the filters let through, in order: a list model over an array of clip ids.

    Filtering is one vectorised pass (:func:`~desktop_app.workspace.clip_filter.filter_mask`)
    and a model reset, not a Python ``filterAcceptsRow`` per clip as ``QSortFilterProxyModel``
    would make it; rows map to and from the source by two arrays.
    """

    def __init__(self, models: AppModels, parent: Any = None) -> None:
        super().__init__(parent)
        self._models = models
        self.spec = ClipFilter()
        self._source: ClipListModel | None = None
        self._rows = np.zeros(0, dtype=np.int64)  # proxy row → clip id
        self._pos = np.zeros(0, dtype=np.int64)  # clip id → proxy row, -1 where filtered out
        self._by_anomaly = False
        self._tinted: np.ndarray | None = None  # bool by clip id: a large outside selection
        self._tint = QBrush()

    def __getattr__(self, name: str) -> Any:
        # the filter values read as the proxy's attributes (``proxy.selected_only`` …)
        spec = self.__dict__.get("spec")
        if spec is not None and name in ClipFilter.__dataclass_fields__:
            return getattr(spec, name)
        raise AttributeError(name)

    # ------------------------------------------------------------ the source
    def setSourceModel(self, source: ClipListModel) -> None:
        """Filter ``source``; a reset of it re-filters, a changed row is passed on."""
        self._source = source
        source.modelReset.connect(self.refilter)
        source.dataChanged.connect(self._on_source_data)
        self.refilter()

    def sourceModel(self) -> ClipListModel | None:
        return self._source

    def mapFromSource(self, index: ModelIndex) -> QModelIndex:
        """The proxy index of a source index (invalid where the row is filtered out)."""
        row = index.row() if index.isValid() else -1
        if not 0 <= row < len(self._pos) or self._pos[row] < 0:
            return QModelIndex()
        return self.index(int(self._pos[row]))

    def mapToSource(self, index: ModelIndex) -> QModelIndex:
        """The source index of a proxy index."""
        if self._source is None or not index.isValid() or not 0 <= index.row() < len(self._rows):
            return QModelIndex()
        return self._source.index(int(self._rows[index.row()]))

    def clip_ids(self) -> np.ndarray:
        """The clip ids shown, in order (``int64``)."""
        return self._rows

    def rows_of(self, clip_ids: Any) -> np.ndarray:
        """The proxy rows of ``clip_ids`` that are shown, sorted."""
        ids = np.asarray(clip_ids, dtype=np.int64).reshape(-1)
        ids = ids[(ids >= 0) & (ids < len(self._pos))]
        rows = self._pos[ids]
        return np.sort(rows[rows >= 0])

    # ------------------------------------------------------------ filtering
    def set_filters(self, **changes: Any) -> None:
        """Change some filters (``class_id``, ``verb``, ``noun``, ``split_role``, ``text``,
        ``selected_only``, ``anomaly_min``, ``anomaly_top``) and re-filter once."""
        if "text" in changes:
            changes["words"] = str(changes.pop("text")).lower().split()
        for name, value in changes.items():
            if name not in ClipFilter.__dataclass_fields__:
                raise AttributeError(name)
            setattr(self.spec, name, value)
        self.refilter()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """``column`` 0: most anomalous first (clips without a score last); -1: catalog order."""
        self._by_anomaly = column == 0
        self.refilter()

    def refilter(self) -> None:
        """Apply the filters to the source's rows (one pass over the column arrays)."""
        source = self._source
        wm = self._models.workspace
        n = source.rowCount() if source is not None else 0
        if n == 0 or source is None:
            rows = np.zeros(0, dtype=np.int64)
        else:
            table = wm.clip_table()
            split_role = self.spec.split_role
            mask = filter_mask(
                self.spec,
                class_id=table.columns.class_id[:n],
                names_lower=table.names_lower[:n],
                classes=wm.classes(),
                role_codes=wm.split_role_codes(split_role[0]) if split_role is not None else None,
                selected=self._models.selection.clip_ids,
                anomaly=source.anomaly,
            )
            rows = np.flatnonzero(mask).astype(np.int64)
            if self._by_anomaly:
                rows = anomaly_order(rows, source.anomaly)
        pos = np.full(n, -1, dtype=np.int64)
        pos[rows] = np.arange(len(rows), dtype=np.int64)
        self.beginResetModel()
        self._rows, self._pos = rows, pos
        self.endResetModel()

    # ------------------------------------------------------------ the list
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole and self._tinted is not None and index.isValid():
            clip_id = int(self._rows[index.row()])
            return self._tint if clip_id < len(self._tinted) and self._tinted[clip_id] else None
        source = self.mapToSource(index)
        return self._source.data(source, role) if self._source is not None and source.isValid() else None

    def set_tinted(self, clip_ids: np.ndarray | None, brush: QBrush | None = None) -> None:
        """Tint the rows of ``clip_ids`` (``None``: tint nothing): how a selection too scattered
        for the view's own selection model is shown (see :data:`MAX_VIEW_RANGES`); repaint the
        view to show it."""
        if clip_ids is None:
            if self._tinted is None:
                return
            self._tinted = None
        else:
            size = max(len(self._pos), int(clip_ids.max()) + 1 if len(clip_ids) else 0)
            tinted = np.zeros(size, dtype=bool)
            tinted[clip_ids] = True
            self._tinted = tinted
            if brush is not None:
                self._tint = brush
        # No dataChanged over every row (Qt would ask rowCount per row): the tint is read when a
        # row is painted, so the view's repaint (the caller's) shows it.

    @property
    def tinted_count(self) -> int:
        """How many clips are tinted (0 when the selection is the view's own)."""
        return int(self._tinted.sum()) if self._tinted is not None else 0

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        source = self.mapToSource(index)
        return self._source.flags(source) if self._source is not None else super().flags(index)

    def mimeTypes(self) -> list[str]:
        return self._source.mimeTypes() if self._source is not None else []

    def mimeData(self, indexes: Any) -> QMimeData:
        assert self._source is not None
        return self._source.mimeData([self.mapToSource(i) for i in indexes])

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def _on_source_data(self, top: QModelIndex, bottom: QModelIndex, roles: Any = ()) -> None:
        if top.row() == bottom.row():  # a thumbnail arrived
            index = self.mapFromSource(top)
            if index.isValid():
                self.dataChanged.emit(index, index, roles)
        elif len(self._rows):
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1), roles)


def row_runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """Sorted rows as ``(first, last)`` runs of consecutive rows: what a selection of them is
    handed to Qt as (one ``QItemSelectionRange`` per run, not one per row)."""
    if not len(rows):
        return []
    breaks = np.flatnonzero(np.diff(rows) != 1)
    firsts = np.concatenate(([rows[0]], rows[breaks + 1]))
    lasts = np.concatenate((rows[breaks], [rows[-1]]))
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


class LibraryPanel(QWidget):
    """Browse, filter, select, play and drag the workspace's clips."""

    def __init__(self, models: AppModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self._syncing = False  # true while the view's selection is being set from the model

        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter clips by name, class, verb or noun…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Show only clips whose name or class contains every typed word")
        self.class_combo = self._combo("All classes", "Show only the clips of one class")
        self.verb_combo = self._combo("All verbs", "Show only the clips whose class has this verb")
        self.noun_combo = self._combo("All nouns", "Show only the clips whose class has this noun")
        self.split_combo = self._combo("All splits", "Show only the clips in one split's train or test part")
        self.selected_only = QCheckBox("Selected")
        self.selected_only.setToolTip("Show only the selected clips (the selection is shared by all panels)")
        self.count_label = QLabel()
        self.count_label.setToolTip("Clips shown / clips in the workspace")
        # Anomaly controls (seed 003 §VII): shown only where the active run has scores.
        self.anomaly_sort = QCheckBox("Most anomalous first")
        self.anomaly_sort.setToolTip(
            "Order the clips by their anomaly score (autoencoder reconstruction error)"
        )
        self.anomaly_top = QSpinBox()
        self.anomaly_top.setRange(0, 1_000_000)
        self.anomaly_top.setSpecialValueText("all")
        self.anomaly_top.setPrefix("top ")
        self.anomaly_top.setToolTip("Show only the k clips with the highest anomaly scores (all: no limit)")
        self.anomaly_min = QDoubleSpinBox()
        self.anomaly_min.setDecimals(6)  # reconstruction errors are small numbers
        self.anomaly_min.setRange(-1.0, 1e6)
        self.anomaly_min.setSingleStep(0.001)
        self.anomaly_min.setSpecialValueText("any score")
        self.anomaly_min.setValue(-1.0)
        self.anomaly_min.setPrefix("score ≥ ")
        self.anomaly_min.setToolTip("Show only clips whose anomaly score is at least this")
        self.anomaly_label = QLabel()
        self.anomaly_row = QWidget()
        anomaly_layout = QHBoxLayout(self.anomaly_row)
        anomaly_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.anomaly_sort, self.anomaly_top, self.anomaly_min):
            anomaly_layout.addWidget(widget)
        anomaly_layout.addWidget(self.anomaly_label, 1)
        self.anomaly_row.hide()

        self.model = ClipListModel(models, self)
        self.proxy = ClipFilterProxy(models, self)
        self.proxy.setSourceModel(self.model)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setIconSize(ICON_SIZE)
        self.view.setGridSize(QSize(ICON_SIZE.width() + 20, ICON_SIZE.height() + 36))
        self.view.setUniformItemSizes(True)  # what makes the view virtualised
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(200)
        self.view.setWordWrap(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setDragEnabled(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Icon mode re-flows the grid to the width, so a horizontal bar would only flicker.
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setToolTip("")  # items carry their own tooltips
        self.view.setAccessibleName("Clip thumbnails")

        filters = QHBoxLayout()
        filters.setSpacing(4)
        for combo in (self.class_combo, self.verb_combo, self.noun_combo, self.split_combo):
            filters.addWidget(combo, 1)
        filters.addWidget(self.selected_only)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.anomaly_row)
        layout.addWidget(self.view, 1)

        # Typed text filters at once in a small workspace, and once typing pauses in a large one.
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(FILTER_DEBOUNCE_MS)
        self._text_timer.timeout.connect(self._apply_text)
        self.search.textChanged.connect(self._on_text)
        self.class_combo.currentIndexChanged.connect(
            lambda: self._set_filters(class_id=self.class_combo.currentData())
        )
        self.verb_combo.currentIndexChanged.connect(
            lambda: self._set_filters(verb=self.verb_combo.currentData())
        )
        self.noun_combo.currentIndexChanged.connect(
            lambda: self._set_filters(noun=self.noun_combo.currentData())
        )
        self.split_combo.currentIndexChanged.connect(
            lambda: self._set_filters(split_role=self.split_combo.currentData())
        )
        self.selected_only.toggled.connect(lambda on: self._set_filters(selected_only=on))
        self.anomaly_sort.toggled.connect(self._sort_by_anomaly)
        self.anomaly_top.valueChanged.connect(lambda k: self._set_filters(anomaly_top=k or None))
        self.anomaly_min.valueChanged.connect(
            lambda v: self._set_filters(anomaly_min=None if v <= self.anomaly_min.minimum() else v)
        )
        models.workspace.runChanged.connect(self._request_anomaly_scores)
        sel_model = self.view.selectionModel()
        sel_model.selectionChanged.connect(self._on_view_selection)
        self.view.activated.connect(self._play)
        self.view.doubleClicked.connect(self._play)
        models.selection.changed.connect(self._on_shared_selection)
        models.current_clip.changed.connect(self._on_current_clip)
        models.workspace.workspaceChanged.connect(self._on_workspace)
        models.workspace.columnsReady.connect(self._on_columns)
        self._on_workspace(models.workspace.workspace)

    # ------------------------------------------------------------ anomaly scores
    def _request_anomaly_scores(self, *_: object) -> None:
        """Read the anomaly scores beside the active run on a worker (none: hide the controls)."""
        self.models.tasks.cancel(ANOMALY_TASK)
        self._show_anomaly_scores(None)
        ws, run_id = self.models.workspace.workspace, self.models.workspace.run_id
        if ws is None or run_id is None:
            return
        task = self.models.tasks.start(
            ANOMALY_TASK, "Reading anomaly scores", _load_anomaly_scores, ws, run_id, quiet=True
        )
        task.finished.connect(self._show_anomaly_scores)

    def _show_anomaly_scores(self, scores: Any) -> None:
        self.model.set_anomaly_scores(scores)
        has = scores is not None
        if not has:
            # back to no anomaly order or filter, without a signal per control
            for widget in (self.anomaly_sort, self.anomaly_top, self.anomaly_min):
                widget.blockSignals(True)
            self.anomaly_sort.setChecked(False)
            self.anomaly_top.setValue(0)
            self.anomaly_min.setValue(self.anomaly_min.minimum())
            for widget in (self.anomaly_sort, self.anomaly_top, self.anomaly_min):
                widget.blockSignals(False)
            self.proxy.sort(-1)
            self._set_filters(anomaly_top=None, anomaly_min=None)
        else:
            known = self.model.anomaly[~np.isnan(self.model.anomaly)]
            self.anomaly_label.setText(f"anomaly scores of {scores.run_id}")
            self.anomaly_label.setToolTip(
                f"Reconstruction error of an autoencoder over the embeddings of {scores.source_run} "
                f"(seed 003 §VII), {len(known)} clips"
            )
            if len(known):
                self.anomaly_min.setSingleStep(max(float(np.ptp(known)) / 100, 1e-6))
            self._set_filters()
        self.anomaly_row.setVisible(has)

    def _sort_by_anomaly(self, on: bool) -> None:
        if on:
            self.proxy.sort(0, Qt.SortOrder.DescendingOrder)
        else:
            self.proxy.sort(-1)  # back to catalog order
        self._select_in_view(self.models.selection.clip_ids)

    # ------------------------------------------------------------ public, for users of the panel
    def visible_clip_ids(self) -> list[int]:
        """Clip ids of the rows the filters let through, in order."""
        return self.proxy.clip_ids().tolist()

    def view_state(self) -> dict[str, Any]:
        """The filters, for a saved view (:mod:`desktop_app.gui.bookmarks`)."""
        split_role = self.split_combo.currentData()
        return {
            "text": self.search.text(),
            "class_id": self.class_combo.currentData(),
            "verb": self.verb_combo.currentData(),
            "noun": self.noun_combo.currentData(),
            "split_role": list(split_role) if split_role is not None else None,
            "selected_only": self.selected_only.isChecked(),
        }

    def restore_view_state(self, state: dict[str, Any]) -> None:
        """Show the filters of a saved view (values this workspace lacks fall back to "All")."""
        split_role = state.get("split_role")
        for combo, value in (
            (self.class_combo, state.get("class_id")),
            (self.verb_combo, state.get("verb")),
            (self.noun_combo, state.get("noun")),
            (self.split_combo, tuple(split_role) if split_role is not None else None),
        ):
            # By comparison in Python: findData() does not match tuples held as Python objects.
            match = [i for i in range(combo.count()) if combo.itemData(i) == value]
            combo.setCurrentIndex(match[0] if match else 0)
        self.search.setText(str(state.get("text") or ""))
        self.selected_only.setChecked(bool(state.get("selected_only")))

    # ------------------------------------------------------------ building
    def _combo(self, all_text: str, tooltip: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem(all_text, None)
        combo.setToolTip(tooltip)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(6)
        return combo

    def _fill_combo(self, combo: QComboBox, entries: list[tuple[str, Any]]) -> None:
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        combo.setCurrentIndex(0)
        for text, data in entries:
            combo.addItem(text, data)
        combo.blockSignals(False)

    def _on_workspace(self, workspace: Workspace | None) -> None:
        wm = self.models.workspace
        classes = sorted(wm.classes().values(), key=lambda c: c.phrase or c.name)
        self._fill_combo(self.class_combo, [(c.phrase or c.name, c.id) for c in classes])
        verbs = sorted({c.verb for c in classes if c.verb})
        nouns = sorted({c.noun for c in classes if c.noun})
        self._fill_combo(self.verb_combo, [(v, v) for v in verbs])
        self._fill_combo(self.noun_combo, [(n, n) for n in nouns])
        splits = wm.split_role_pairs()
        self._fill_combo(self.split_combo, [(f"split {s}: {r}", (s, r)) for s, r in splits])
        self._text_timer.stop()
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.selected_only.blockSignals(True)
        self.selected_only.setChecked(False)
        self.selected_only.blockSignals(False)
        self.proxy.spec = ClipFilter()
        self._on_columns()
        self._request_anomaly_scores()

    def _on_columns(self) -> None:
        """Show the clips once the workspace's columns are read (at once when it is small)."""
        self._syncing = True
        try:
            self.model.reload()
        finally:
            self._syncing = False
        self._select_in_view(self.models.selection.clip_ids)
        self._update_count()

    # ------------------------------------------------------------ filtering
    def _on_text(self, text: str) -> None:
        if self.model.rowCount() >= DEBOUNCE_MIN_CLIPS:
            self._text_timer.start()  # restarts: the filter runs once typing pauses
        else:
            self._set_filters(text=text)

    def _apply_text(self) -> None:
        self._set_filters(text=self.search.text())

    def _set_filters(self, **changes: Any) -> None:
        if self._text_timer.isActive():  # text still waiting for the pause goes with this change
            self._text_timer.stop()
            changes.setdefault("text", self.search.text())
        # Rows leaving the view drop out of the view's selection; that is not the user
        # deselecting them, so the shared selection is restored, not shrunk.
        self._syncing = True
        try:
            self.proxy.set_filters(**changes)
        finally:
            self._syncing = False
        self._select_in_view(self.models.selection.clip_ids)
        self._update_count()

    def _update_count(self) -> None:
        wm = self.models.workspace
        if wm.workspace is not None and not wm.columns_loaded:
            self.count_label.setText(f"reading {wm.num_clips:,} clips…")
            return
        text = f"{self.proxy.rowCount()} of {self.model.rowCount()} clips"
        if self.proxy.tinted_count:
            text += f" · {self.proxy.tinted_count:,} selected elsewhere (tinted)"
        self.count_label.setText(text)

    # ------------------------------------------------------------ selection, both ways
    def _on_view_selection(self, *_: object) -> None:
        if self._syncing:
            return
        # The view's selection as row ranges (one per shift-click or Ctrl+A), mapped by array.
        if self.proxy.tinted_count:  # a selection made here replaces a tinted one
            self.proxy.set_tinted(None)
            self.view.viewport().update()
        ranges = self.view.selectionModel().selection()
        spans = [np.arange(ranges.at(i).top(), ranges.at(i).bottom() + 1) for i in range(ranges.count())]
        rows = np.unique(np.concatenate(spans)) if spans else np.zeros(0, dtype=np.int64)
        shown = self.proxy.clip_ids()
        self.models.selection.set(shown[rows[rows < len(shown)]].tolist(), PANEL_ID)

    def _on_shared_selection(self, clip_ids: frozenset[int], source: str) -> None:
        if self.proxy.selected_only:
            self._set_filters()  # the set of rows shown depends on the selection
        elif source != PANEL_ID:
            self._select_in_view(clip_ids)
            self._update_count()

    def _select_in_view(self, clip_ids: frozenset[int]) -> None:
        """Select the shown rows of ``clip_ids`` in the view: one range per run of rows."""
        ids = np.fromiter(clip_ids, dtype=np.int64, count=len(clip_ids))
        rows = self.proxy.rows_of(ids)
        runs = row_runs(rows)
        selection = QItemSelection()
        if len(runs) > MAX_VIEW_RANGES:
            highlight = QColor(self.view.palette().color(QPalette.ColorRole.Highlight))
            highlight.setAlpha(110)
            self.proxy.set_tinted(ids, QBrush(highlight))
            self.view.viewport().update()
        else:
            self.proxy.set_tinted(None)
            self.view.viewport().update()
            for first, last in runs:
                selection.select(self.proxy.index(first), self.proxy.index(last))
        self._syncing = True
        try:
            self.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        finally:
            self._syncing = False

    # ------------------------------------------------------------ playing
    def _play(self, index: QModelIndex) -> None:
        if index.isValid():
            self.models.current_clip.set(int(index.data(CLIP_ID_ROLE)), PANEL_ID)

    def _on_current_clip(self, clip_id: int | None, source: str) -> None:
        if clip_id is None or source == PANEL_ID:
            return
        row = self.model.row_of(clip_id)
        if row is not None:
            index = self.proxy.mapFromSource(self.model.index(row))
            if index.isValid():
                self.view.scrollTo(index)


def _load_anomaly_scores(ws: Any, run_id: str, progress: Any) -> Any:
    """The anomaly scores to show beside ``run_id`` (a worker's job), or ``None``."""
    from desktop_app.training.anomaly import scores_for_run

    return scores_for_run(ws, run_id)


def _placeholder_pixmap(size: QSize, loading: bool) -> QPixmap:
    """A neutral tile shown while a thumbnail loads (or where there is none)."""
    pixmap = QPixmap(size)
    pixmap.fill(QColor(128, 128, 128, 40))
    if not loading:
        painter = QPainter(pixmap)
        painter.setPen(QColor(128, 128, 128))
        painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "no preview")
        painter.end()
    return pixmap


if __name__ == "__main__":  # preview: python -m desktop_app.gui.panels.library WORKSPACE
    from desktop_app.gui.panels import preview_panel

    preview_panel(LibraryPanel)
