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
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QPainter, QPixmap
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

PANEL_ID = "library"
#: The task owner that reads anomaly scores for the active run.
ANOMALY_TASK = "library:anomaly"
#: The data role holding a row's clip id.
CLIP_ID_ROLE = Qt.ItemDataRole.UserRole + 1
ICON_SIZE = QSize(128, 96)
#: Scaled thumbnails kept by the grid (the shared cache keeps the full-size ones).
ICON_CACHE_SIZE = 3000
ModelIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class LibraryItem:
    """What the grid knows of a clip: enough to draw and filter it."""

    clip_id: int
    name: str
    class_id: int | None
    class_name: str
    phrase: str
    verb: str
    noun: str
    roles: tuple[tuple[str, str], ...]  # ((split, role), ...)
    duration: float | None
    status: str
    status_reason: str | None

    @property
    def search_text(self) -> str:
        """Everything free-text filtering matches against, lower case."""
        return f"{self.name} {self.class_name} {self.phrase} {self.verb} {self.noun}".lower()


class ClipListModel(QAbstractListModel):
    """The clips of the open workspace as list rows (row = position, not clip id)."""

    def __init__(self, models: AppModels, parent: Any = None) -> None:
        super().__init__(parent)
        self._models = models
        self._items: list[LibraryItem] = []
        self._row_of: dict[int, int] = {}
        self._icons: OrderedDict[int, QPixmap] = OrderedDict()
        self._placeholder = _placeholder_pixmap(ICON_SIZE, loading=True)
        self._missing = _placeholder_pixmap(ICON_SIZE, loading=False)
        #: Per row: the anomaly score (NaN: none) and the catalog's anomaly mark ("" if none).
        self.anomaly = np.zeros(0, dtype=np.float64)
        self.anomaly_run: str | None = None
        self._marks: dict[int, str] = {}
        models.thumbnails.ready.connect(self._on_thumbnail)

    def set_anomaly_scores(self, scores: Any) -> None:
        """Show ``AnomalyScores`` (or ``None``) beside the rows: one array op, not one per clip."""
        ids = np.array([item.clip_id for item in self._items], dtype=np.int64)
        self.anomaly = (
            np.asarray(scores.of(ids), dtype=np.float64) if scores is not None else np.full(len(ids), np.nan)
        )
        self.anomaly_run = scores.run_id if scores is not None else None
        if self._items:
            self.dataChanged.emit(
                self.index(0), self.index(len(self._items) - 1), [Qt.ItemDataRole.ToolTipRole]
            )

    def reload(self) -> None:
        """Read the clips of the open workspace again."""
        self.beginResetModel()
        wm = self._models.workspace
        classes = wm.classes()
        roles = wm.split_roles()
        items = []
        for clip in wm.clips():
            cls = classes.get(clip.class_id) if clip.class_id is not None else None
            items.append(
                LibraryItem(
                    clip_id=clip.id,
                    name=clip.name,
                    class_id=clip.class_id,
                    class_name=clip.class_name or "",
                    phrase=cls.phrase if cls else "",
                    verb=(cls.verb or "") if cls else "",
                    noun=(cls.noun or "") if cls else "",
                    roles=tuple(sorted(roles.get(clip.id, {}).items())),
                    duration=clip.duration,
                    status=clip.status,
                    status_reason=clip.status_reason,
                )
            )
        self._items = items
        self.anomaly = np.full(len(items), np.nan)
        self.anomaly_run = None
        ws = wm.workspace
        marked_ids, kinds = ws.catalog.anomaly_marks() if ws is not None else (np.zeros(0, np.int64), [])
        self._marks = dict(zip(marked_ids.tolist(), kinds, strict=True))
        self._icons.clear()
        self._row_of = {item.clip_id: row for row, item in enumerate(items)}
        self.endResetModel()

    def item(self, row: int) -> LibraryItem:
        """The item of a row."""
        return self._items[row]

    def row_of(self, clip_id: int) -> int | None:
        """The row of a clip id."""
        return self._row_of.get(clip_id)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.phrase or item.class_name or item.name
        if role == Qt.ItemDataRole.DecorationRole:
            icon = self._icons.get(item.clip_id)
            if icon is not None:
                self._icons.move_to_end(item.clip_id)
                return icon
            pixmap = self._models.thumbnails.pixmap(item.clip_id)
            if pixmap is not None:
                # The delegate draws a QPixmap at its own size: scale once to the grid's icon size.
                icon = pixmap.scaled(
                    ICON_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
                self._icons[item.clip_id] = icon
                if len(self._icons) > ICON_CACHE_SIZE:
                    self._icons.popitem(last=False)
                return icon
            return self._missing if self._models.thumbnails.failed(item.clip_id) else self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"<b>{item.name}</b>", f"class: {item.class_name or '—'} ({item.phrase or '—'})"]
            if item.duration:
                lines.append(f"{item.duration:.1f} s")
            if item.roles:
                lines.append("splits: " + ", ".join(f"{split} {role}" for split, role in item.roles))
            if item.status != "ok":
                lines.append(f"<i>unusable: {item.status_reason or 'unknown reason'}</i>")
            score = self.anomaly[index.row()] if index.row() < len(self.anomaly) else np.nan
            if not np.isnan(score):
                lines.append(f"anomaly score {score:.4g} ({self.anomaly_run})")
            if item.clip_id in self._marks:
                lines.append(f"marked anomalous: {self._marks[item.clip_id]}")
            lines.append("Double-click to play; drag to the Analogy panel.")
            return "<br>".join(lines)
        if role == Qt.ItemDataRole.ForegroundRole and item.status != "ok":
            return QColor(Qt.GlobalColor.gray)
        if role == CLIP_ID_ROLE:
            return item.clip_id
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        from desktop_app.gui.dnd import OPERANDS_MIME

        return [OPERANDS_MIME, "text/plain"]

    def mimeData(self, indexes: Any) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        operands = [
            {
                "kind": "clip",
                "id": self._items[r].clip_id,
                "label": f"{self._items[r].phrase or self._items[r].class_name} · {self._items[r].name}",
            }
            for r in rows
        ]
        return operands_mime_data(operands)

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def _on_thumbnail(self, clip_id: int, kind: str) -> None:
        row = self._row_of.get(clip_id)
        if row is not None and kind == "thumb":
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class ClipFilterProxy(QSortFilterProxyModel):
    """Filters clips by class, verb, noun, split role, free text and "selected only"."""

    def __init__(self, models: AppModels, parent: Any = None) -> None:
        super().__init__(parent)
        self._models = models
        self.class_id: int | None = None
        self.verb: str | None = None
        self.noun: str | None = None
        self.split_role: tuple[str, str] | None = None
        self.words: list[str] = []
        self.selected_only = False
        #: Keep only clips whose anomaly score is at least this (``None``: no such filter) …
        self.anomaly_min: float | None = None
        #: … and only the ``anomaly_top`` highest-scored clips (``None``: all).
        self.anomaly_top: int | None = None
        self._anomaly_cut = -np.inf

    def set_filters(self, **changes: Any) -> None:
        """Change some filters (``class_id``, ``verb``, ``noun``, ``split_role``, ``text``,
        ``selected_only``) and re-filter once."""
        if "text" in changes:
            changes["words"] = str(changes.pop("text")).lower().split()
        # Qt 6.9 replaced invalidateFilter() by this begin/end pair.
        begin = getattr(self, "beginFilterChange", None)
        if begin is not None:
            begin()
        for name, value in changes.items():
            if not hasattr(self, name):
                raise AttributeError(name)
            setattr(self, name, value)
        self._anomaly_cut = self._cut()
        if begin is not None:
            self.endFilterChange()
        else:
            self.invalidateFilter()

    def _cut(self) -> float:
        """The lowest anomaly score a clip may have to pass the anomaly filters."""
        source = self.sourceModel()
        scores = source.anomaly if isinstance(source, ClipListModel) else np.zeros(0)
        cut = -np.inf if self.anomaly_min is None else float(self.anomaly_min)
        known = scores[~np.isnan(scores)]
        if self.anomaly_top is not None and len(known):
            k = min(int(self.anomaly_top), len(known))
            cut = max(cut, float(np.partition(known, len(known) - k)[len(known) - k]))
        return cut

    def lessThan(self, left: ModelIndex, right: ModelIndex) -> bool:
        """Anomaly order (the view sorts descending: most anomalous first, clips without a
        score last, ties in catalog order)."""
        source = self.sourceModel()
        assert isinstance(source, ClipListModel)

        def key(row: int) -> tuple[int, float, int]:
            score = source.anomaly[row] if row < len(source.anomaly) else np.nan
            return (0, 0.0, -row) if np.isnan(score) else (1, float(score), -row)

        return key(left.row()) < key(right.row())

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        source = self.sourceModel()
        assert isinstance(source, ClipListModel)
        item = source.item(source_row)
        if self.class_id is not None and item.class_id != self.class_id:
            return False
        if self.verb is not None and item.verb != self.verb:
            return False
        if self.noun is not None and item.noun != self.noun:
            return False
        if self.split_role is not None and self.split_role not in item.roles:
            return False
        if self.selected_only and item.clip_id not in self._models.selection:
            return False
        if self.anomaly_min is not None or self.anomaly_top is not None:
            score = source.anomaly[source_row] if source_row < len(source.anomaly) else np.nan
            if np.isnan(score) or score < self._anomaly_cut:
                return False
        text = item.search_text
        return all(word in text for word in self.words)


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

        self.search.textChanged.connect(lambda text: self._set_filters(text=text))
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
        return [int(self.proxy.index(r, 0).data(CLIP_ID_ROLE)) for r in range(self.proxy.rowCount())]

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
        splits = sorted({pair for roles in wm.split_roles().values() for pair in roles.items()})
        self._fill_combo(self.split_combo, [(f"split {s}: {r}", (s, r)) for s, r in splits])
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.selected_only.blockSignals(True)
        self.selected_only.setChecked(False)
        self.selected_only.blockSignals(False)
        self.proxy.set_filters(
            class_id=None, verb=None, noun=None, split_role=None, text="", selected_only=False
        )
        self._syncing = True
        try:
            self.model.reload()
        finally:
            self._syncing = False
        self._update_count()
        self._request_anomaly_scores()

    # ------------------------------------------------------------ filtering
    def _set_filters(self, **changes: Any) -> None:
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
        self.count_label.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()} clips")

    # ------------------------------------------------------------ selection, both ways
    def _on_view_selection(self, *_: object) -> None:
        if self._syncing:
            return
        ids = {int(i.data(CLIP_ID_ROLE)) for i in self.view.selectionModel().selectedIndexes()}
        self.models.selection.set(ids, PANEL_ID)

    def _on_shared_selection(self, clip_ids: frozenset[int], source: str) -> None:
        if self.proxy.selected_only:
            self._set_filters()  # the set of rows shown depends on the selection
        elif source != PANEL_ID:
            self._select_in_view(clip_ids)

    def _select_in_view(self, clip_ids: frozenset[int]) -> None:
        selection = QItemSelection()
        for clip_id in clip_ids:
            row = self.model.row_of(clip_id)
            if row is None:
                continue
            index = self.proxy.mapFromSource(self.model.index(row))
            if index.isValid():
                selection.select(index, index)
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
