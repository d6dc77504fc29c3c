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

import copy
import sys
from collections import OrderedDict
from collections.abc import Set
from dataclasses import dataclass
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
    Signal,
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
from desktop_app.workspace import ClassRow, Workspace
from desktop_app.workspace.clip_filter import ClipFilter, filter_rows, id_array, is_open, narrows

PANEL_ID = "library"
#: The task owner that reads anomaly scores for the active run.
ANOMALY_TASK = "library:anomaly"
#: The task owner that filters a large workspace's clips.
FILTER_TASK = "library:filter"
#: The data role holding a row's clip id.
CLIP_ID_ROLE = Qt.ItemDataRole.UserRole + 1
ICON_SIZE = QSize(128, 96)
#: Scaled thumbnails kept by the grid (the shared cache keeps the full-size ones).
ICON_CACHE_SIZE = 3000
ModelIndex = QModelIndex | QPersistentModelIndex


#: From this many clips, typed filter text is applied once typing pauses
#: (:data:`FILTER_DEBOUNCE_MS`) rather than on every keystroke.
DEBOUNCE_MIN_CLIPS = 20_000
#: The pause: the pass itself runs in a worker, so this only saves passes a faster typist
#: would throw away (it is part of every keystroke's wait for its rows).
FILTER_DEBOUNCE_MS = 100
#: From this many clips a filter pass runs in a worker, not on the GUI thread (60-100 ms at a
#: million clips alone, several times that beside the other panels' first tasks).
ASYNC_FILTER_MIN_CLIPS = 20_000
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

    #: The anomaly scores beside the rows changed (:attr:`anomaly`).
    scoresChanged = Signal()

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
        #: Per row (= clip id): the anomaly score (NaN: none); empty while there are no scores
        #: (no array of a million NaNs on the GUI thread).
        self.anomaly = np.zeros(0, dtype=np.float64)
        self.anomaly_run: str | None = None
        self._scores: Any = None
        self._marks: dict[int, str] = {}
        models.thumbnails.ready.connect(self._on_thumbnail)

    def set_anomaly_scores(self, scores: Any, per_clip: np.ndarray | None = None) -> None:
        """Show ``AnomalyScores`` (or ``None``) beside the rows: one array op, not one per clip.

        ``per_clip`` is ``scores.of`` every clip id, when a worker has made it already (it is
        made here otherwise). Tooltips, the only place a row shows its score, are read on
        hover, so no ``dataChanged`` goes out over every row.
        """
        self._scores = scores
        if scores is None:
            self.anomaly = np.zeros(0, dtype=np.float64)
        elif per_clip is not None:
            self.anomaly = np.asarray(per_clip, dtype=np.float64)
        else:
            self.anomaly = np.asarray(scores.of(np.arange(self._n, dtype=np.int64)), dtype=np.float64)
        self.anomaly_run = scores.run_id if scores is not None else None
        self.scoresChanged.emit()

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
        if len(self.anomaly) != self._n:  # scores of another workspace (the task reads them anew)
            self.anomaly = np.zeros(0, dtype=np.float64)
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

    Filtering is one vectorised pass (:func:`~desktop_app.workspace.clip_filter.filter_rows`)
    and a model reset, not a Python ``filterAcceptsRow`` per clip as ``QSortFilterProxyModel``
    would make it; rows map to and from the source through the array of shown ids (a binary
    search where they are in catalog order). With no filter on, the rows *are* the source's:
    no array at all, so showing a million clips costs nothing on the GUI thread.

    From :data:`ASYNC_FILTER_MIN_CLIPS` clips the pass runs in a task (one slot,
    :data:`FILTER_TASK`: a newer change cancels an older one) and the view keeps the rows it
    shows until the new ones are swapped in; ``filtered`` says they are.

    Signals
    -------
    filtered()
        New rows are shown (after every filter change, at once or from the worker), or a
        pass ended without them (:attr:`pending` is false again).
    """

    filtered = Signal()

    def __init__(self, models: AppModels, parent: Any = None) -> None:
        super().__init__(parent)
        self._models = models
        self.spec = ClipFilter()
        self._source: ClipListModel | None = None
        self._n = 0  # the source's rows
        self._rows: np.ndarray | None = None  # proxy row → clip id; None: every clip, in order
        self._pos: np.ndarray | None = None  # clip id → proxy row (-1: out), for a non-sorted order
        self._all_ids: np.ndarray | None = None  # arange(n), made only when someone asks
        self._by_anomaly = False
        #: (spec, by_anomaly, source generation) of the rows shown, to narrow the next pass.
        self._shown_for: tuple[ClipFilter, bool, int] | None = None
        self._generation = 0  # bumped when the source's rows or scores change
        self._source_reset = False
        self._task: Any = None  # the filter pass running in a worker, if any
        #: True while new rows are being swapped in (the view's selection empties then; that is
        #: not the user deselecting).
        self.applying = False
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
        source.modelReset.connect(self._on_source_reset)
        source.dataChanged.connect(self._on_source_data)
        source.scoresChanged.connect(self._on_scores)
        self.refilter()

    def sourceModel(self) -> ClipListModel | None:
        return self._source

    def _on_source_reset(self) -> None:
        self._generation += 1
        self._source_reset = True  # the next rows are swapped in even if equal: indexes changed
        self.refilter()

    def _on_scores(self) -> None:
        self._generation += 1  # rows read with the old scores no longer narrow a pass
        self.refilter()

    def mapFromSource(self, index: ModelIndex) -> QModelIndex:
        """The proxy index of a source index (invalid where the row is filtered out)."""
        row = index.row() if index.isValid() else -1
        if not 0 <= row < self._n:
            return QModelIndex()
        found = self.rows_of(np.array([row], dtype=np.int64))
        return self.index(int(found[0])) if len(found) else QModelIndex()

    def mapToSource(self, index: ModelIndex) -> QModelIndex:
        """The source index of a proxy index."""
        if self._source is None or not index.isValid() or not 0 <= index.row() < self.rowCount():
            return QModelIndex()
        return self._source.index(self._clip_id(index.row()))

    def _clip_id(self, row: int) -> int:
        return row if self._rows is None else int(self._rows[row])

    def clip_ids(self) -> np.ndarray:
        """The clip ids shown, in order (``int64``)."""
        if self._rows is not None:
            return self._rows
        if self._all_ids is None or len(self._all_ids) != self._n:
            self._all_ids = np.arange(self._n, dtype=np.int64)
        return self._all_ids

    def clip_ids_at(self, rows: np.ndarray) -> np.ndarray:
        """The clip ids of proxy ``rows`` (rows past the end are left out)."""
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[(rows >= 0) & (rows < self.rowCount())]
        return rows if self._rows is None else self._rows[rows]

    def rows_of(self, clip_ids: Any) -> np.ndarray:
        """The proxy rows of ``clip_ids`` that are shown, sorted."""
        ids = np.asarray(clip_ids, dtype=np.int64).reshape(-1)
        ids = ids[(ids >= 0) & (ids < self._n)]
        if self._rows is None:  # every clip, row = id
            return _sorted_unique(ids)
        if self._pos is not None:
            rows = self._pos[ids]
            return np.sort(rows[rows >= 0])
        at = np.searchsorted(self._rows, ids)
        hit = at < len(self._rows)
        hit[hit] = self._rows[at[hit]] == ids[hit]
        return _sorted_unique(at[hit])

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

    @property
    def pending(self) -> bool:
        """Whether a filter pass is running in a worker (the rows shown are the previous ones)."""
        return self._task is not None

    def refilter(self) -> None:
        """Apply the filters to the source's rows: at once in a small workspace, in a worker
        in a large one (the rows shown stay until the new ones are ready)."""
        source = self._source
        wm = self._models.workspace
        n = source.rowCount() if source is not None else 0
        if wm.workspace is not None and not wm.columns_loaded:
            n = 0  # a workspace just opened: nothing to show until its columns are read
        spec, by_anomaly, generation = copy.deepcopy(self.spec), self._by_anomaly, self._generation
        tasks = self._models.tasks
        tasks.cancel(FILTER_TASK)
        self._task = None
        if n == 0 or source is None or (is_open(spec) and not by_anomaly):
            self._show(None if n else np.zeros(0, dtype=np.int64), n, spec, by_anomaly, generation)
            return
        table = wm.clip_table()
        split = spec.split_role[0] if spec.split_role is not None else None
        role_codes = wm.cached_split_role_codes(split) if split is not None else None
        within = None
        shown_for = self._shown_for
        if (
            shown_for is not None
            and shown_for[1:] == (by_anomaly, generation)
            and narrows(spec, shown_for[0])
        ):
            within = self.clip_ids()
        inputs = _FilterInputs(
            spec=spec,
            class_id=table.columns.class_id[:n],
            names_lower=table.names_lower[:n],
            classes=wm.classes(),
            catalog=wm.workspace.catalog if wm.workspace is not None else None,
            split=split,
            role_codes=role_codes,
            selected=self._models.selection.clip_ids,
            anomaly=source.anomaly,
            by_anomaly=by_anomaly,
            within=within,
        )
        if n < ASYNC_FILTER_MIN_CLIPS:
            rows, codes = _run_filter(inputs)
            if codes is not None and split is not None:
                wm.remember_split_role_codes(split, codes)
            self._show(rows, n, spec, by_anomaly, generation)
            return
        workspace = wm.workspace
        # urgent: the user waits for these rows, so the pass must not queue behind background
        # tasks (an index build, word vectors) that hold the shared workers for seconds
        task = tasks.start(
            FILTER_TASK, f"Filtering {n:,} clips", _filter_task, inputs, quiet=True, urgent=True
        )
        self._task = task

        def finished(result: Any) -> None:
            if self._task is not task or wm.workspace is not workspace:
                return
            self._task = None
            rows, codes = result
            if codes is not None and split is not None:
                wm.remember_split_role_codes(split, codes)
            if generation == self._generation and n == source.rowCount():
                self._show(rows, n, spec, by_anomaly, generation)
            else:
                self.filtered.emit()

        def done() -> None:  # failed (a bug): the last rows stay, the traceback goes to stderr
            if self._task is task:
                self._task = None
                if task.state == "failed":
                    print(f"the Library's filter failed:\n{task.traceback_text}", file=sys.stderr)
                self.filtered.emit()

        task.finished.connect(finished)
        task.done.connect(done)

    def _show(
        self, rows: np.ndarray | None, n: int, spec: ClipFilter, by_anomaly: bool, generation: int
    ) -> None:
        """Swap in new rows (a reset: the view asks again only for the rows on screen).

        Rows equal to those shown are left as they are: no reset, no repaint of the grid (a run
        switch clears the anomaly filters and order three times over, each a reset whose
        repaint asks ``data`` for every role of every tile on screen, under a GIL the switch's
        tasks share).
        """
        same = (
            not self._source_reset
            and n == self._n
            and (
                (rows is None and self._rows is None)
                or (rows is not None and self._rows is not None and np.array_equal(rows, self._rows))
            )
        )
        if same:
            self._shown_for = (spec, by_anomaly, generation)
            return
        pos = None
        if rows is not None and len(rows) > 1 and (np.diff(rows) < 0).any():  # not in id order
            pos = np.full(n, -1, dtype=np.int64)
            pos[rows] = np.arange(len(rows), dtype=np.int64)
        self._source_reset = False
        self.applying = True
        try:
            self.beginResetModel()
            self._rows, self._pos, self._n = rows, pos, n
            self._shown_for = (spec, by_anomaly, generation)
            self.endResetModel()
        finally:
            self.applying = False
        self.filtered.emit()

    # ------------------------------------------------------------ the list
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        if parent.isValid():
            return 0
        return self._n if self._rows is None else len(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole and self._tinted is not None and index.isValid():
            clip_id = self._clip_id(index.row())
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
            size = max(self._n, int(clip_ids.max()) + 1 if len(clip_ids) else 0)
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
        elif self.rowCount():
            self.dataChanged.emit(self.index(0), self.index(self.rowCount() - 1), roles)


@dataclass(frozen=True)
class _FilterInputs:
    """What one filter pass reads: immutable column arrays and a copy of the spec, so that a
    worker can run it while the GUI thread goes on."""

    spec: ClipFilter
    class_id: np.ndarray
    names_lower: Any
    classes: dict[int, ClassRow]
    catalog: Any
    split: str | None
    role_codes: np.ndarray | None
    selected: Any
    anomaly: np.ndarray
    by_anomaly: bool
    within: np.ndarray | None


def _run_filter(inputs: _FilterInputs) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(rows, role codes read here or None)``: one pass of
    :func:`~desktop_app.workspace.clip_filter.filter_rows` (and the split's role codes, read
    from the catalog when the workspace model had none cached)."""
    codes, read = inputs.role_codes, None
    if inputs.split is not None and codes is None and inputs.catalog is not None:
        codes = read = inputs.catalog.split_role_codes(inputs.split, size=len(inputs.class_id))
    rows = filter_rows(
        inputs.spec,
        class_id=inputs.class_id,
        names_lower=inputs.names_lower,
        classes=inputs.classes,
        role_codes=codes,
        selected=inputs.selected,
        anomaly=inputs.anomaly,
        by_anomaly=inputs.by_anomaly,
        within=inputs.within,
    )
    return rows, read


def _filter_task(inputs: _FilterInputs, progress: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """:func:`_run_filter` as a task (a worker's job for a large workspace)."""
    progress.check_cancelled()
    return _run_filter(inputs)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``values`` sorted without repeats; as they are when they already are (a selection's
    ids: one comparison pass instead of a sort)."""
    if len(values) < 2 or bool((values[1:] > values[:-1]).all()):
        return values
    return np.unique(values)


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
        self.proxy.filtered.connect(self._on_filtered)
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
        n = self.models.workspace.num_clips
        task = self.models.tasks.start(
            ANOMALY_TASK, "Reading anomaly scores", _load_anomaly_scores, ws, run_id, n, quiet=True
        )
        task.finished.connect(lambda found: self._show_anomaly_scores(*(found or (None, None))))

    def _show_anomaly_scores(self, scores: Any, per_clip: np.ndarray | None = None) -> None:
        self.model.set_anomaly_scores(scores, per_clip)  # the order follows from the re-filter
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
            known = np.asarray(scores.scores, dtype=np.float64)
            known = known[~np.isnan(known)]
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
        self._request_anomaly_scores()  # clears the last workspace's scores and order first
        self._on_columns()

    def _on_columns(self) -> None:
        """Show the clips once the workspace's columns are read (at once when it is small).

        Every clip passes the cleared filters, so the rows are the model's own: no array is
        made and no pass runs here; the view asks only for the rows on screen.
        """
        self._syncing = True
        try:
            self.model.reload()  # the proxy re-filters on the reset: ``_on_filtered`` follows
        finally:
            self._syncing = False

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
        # deselecting them, so the shared selection is restored, not shrunk (_on_filtered,
        # at once or when a worker's pass is swapped in).
        self._syncing = True
        try:
            self.proxy.set_filters(**changes)
        finally:
            self._syncing = False
        self._update_count()

    def _on_filtered(self) -> None:
        """New rows are shown: select the shared selection's among them, count them."""
        self._select_in_view(self.models.selection.clip_ids)
        self._update_count()

    def _update_count(self) -> None:
        wm = self.models.workspace
        if wm.workspace is not None and not wm.columns_loaded:
            self.count_label.setText(f"reading {wm.num_clips:,} clips…")
            return
        text = f"{self.proxy.rowCount()} of {self.model.rowCount()} clips"
        if self.proxy.pending:
            text += " · filtering…"
        if self.proxy.tinted_count:
            text += f" · {self.proxy.tinted_count:,} selected elsewhere (tinted)"
        self.count_label.setText(text)

    # ------------------------------------------------------------ selection, both ways
    def _on_view_selection(self, *_: object) -> None:
        if self._syncing or self.proxy.applying:
            return
        # The view's selection as row ranges (one per shift-click or Ctrl+A), mapped by array.
        if self.proxy.tinted_count:  # a selection made here replaces a tinted one
            self.proxy.set_tinted(None)
            self.view.viewport().update()
        ranges = self.view.selectionModel().selection()
        spans = [np.arange(ranges.at(i).top(), ranges.at(i).bottom() + 1) for i in range(ranges.count())]
        rows = np.unique(np.concatenate(spans)) if spans else np.zeros(0, dtype=np.int64)
        self.models.selection.set(self.proxy.clip_ids_at(rows), PANEL_ID)

    def _on_shared_selection(self, clip_ids: Set[int], source: str) -> None:
        if self.proxy.selected_only:
            self._set_filters()  # the set of rows shown depends on the selection
        elif source != PANEL_ID:
            self._select_in_view(clip_ids)
            self._update_count()

    def _select_in_view(self, clip_ids: Set[int]) -> None:
        """Select the shown rows of ``clip_ids`` in the view: one range per run of rows."""
        ids = id_array(clip_ids)
        rows = self.proxy.rows_of(ids)
        # counted first: a lasso's 65 k runs are not made into Python tuples only to be tinted
        many = len(rows) > 0 and int(np.count_nonzero(np.diff(rows) != 1)) + 1 > MAX_VIEW_RANGES
        selection = QItemSelection()
        if many:
            highlight = QColor(self.view.palette().color(QPalette.ColorRole.Highlight))
            highlight.setAlpha(110)
            self.proxy.set_tinted(ids, QBrush(highlight))
            self.view.viewport().update()
        else:
            self.proxy.set_tinted(None)
            self.view.viewport().update()
            for first, last in row_runs(rows):
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


def _load_anomaly_scores(ws: Any, run_id: str, n: int, progress: Any) -> Any:
    """``(scores, score of every clip id below n)`` to show beside ``run_id``, or ``None``
    (a worker's job: the per-clip array is a sort and a search over every clip)."""
    from desktop_app.training.anomaly import scores_for_run

    scores = scores_for_run(ws, run_id)
    if scores is None:
        return None
    return scores, np.asarray(scores.of(np.arange(n, dtype=np.int64)), dtype=np.float64)


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
