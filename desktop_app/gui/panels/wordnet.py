"""The WordNet panel: seed 001's WordNet test as four heatmaps that fit the dock.

Wu-Palmer similarity of the class verbs beside the cosine similarities of the model's class
means, of the labels' word vectors and of mean-pooled features, all in one row order (by default
clustered on the Wu-Palmer matrix, so WordNet's groups of related verbs form blocks on the
diagonal), each titled with its row-wise Spearman correlation with WordNet (seed 001, section
4.2.1, Table 3). The matrices come from :func:`~desktop_app.analysis.wordnet_view.wordnet_view`
in a background task (WordNet takes about 1.5 s to load), started only while the panel is on
screen (:class:`~desktop_app.gui.panels.ScreenWatch`: not for a dock tabbed behind another, so
not at workspace open or a run switch while the user looks at another tab).

Layout. The four heatmaps are laid out in the grid (1 × 4, 2 × 2, 4 × 1 …) that gives their cells
the most room in the dock (:func:`choose_grid`), so all four are always whole. Each has a colour
bar with its own range: each matrix is stretched over the whole colormap between the 2nd and 98th
percentiles of its off-diagonal values (:func:`display_levels`; Spearman compares ranks, not
values), and the bar's ends are labelled with those two values. The class names label the rows on
the left of the grid and the columns under it (the four share one order) when a cell is tall
enough to hold a line of text; otherwise they are hidden and the hover line names the cell. The
mouse wheel (or a right-drag) zooms all four together, a middle-drag pans them, *Fit* shows the
whole matrices again; zoomed in, the labels of the rows in view appear once the cells hold text.

Interaction. Hovering a cell names the two classes and the four values. Clicking it selects both
classes' clips (the shared selection: the Library's "Selected" filter then shows them). Dragging
it (left button) carries its two classes as analogy operands, the row's class first, the column's
second (a diagonal cell carries its one class); dropped on the Analogy panel's first slot they
fill *A* and *B* of ``A − B + C``, so the analogy asks what is to *C* as the row's class is to the
column's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, QSizeF, Qt, QTimer
from PySide6.QtGui import QColor, QDrag, QFont, QFontMetrics, QPainter, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.gui.dnd import operands_mime_data
from desktop_app.gui.models import AppModels
from desktop_app.gui.panels import ScreenWatch, on_screen, preview_panel
from desktop_app.gui.widgets import MessageStack

PANEL_ID = "wordnet"
QWIDGETSIZE_MAX = float((1 << 24) - 1)  # Qt's "no maximum"
#: One colormap for all four matrices (perceptually uniform, readable on dark and light palettes).
COLORMAP = "viridis"
ORDER_LABELS = {
    "clustered": "Clustered by WordNet",
    "alphabetical": "Alphabetical",
    "dataset": "Dataset order",
}
SENSE_LABELS = {"best": "Best sense pair", "first": "First senses"}
#: Short names of the matrices in the hover line.
SHORT_NAMES = {"WordNet (Wu-Palmer)": "WordNet", "model": "model", "word vectors": "word vectors"}
#: Heatmap titles when the full one does not fit.
SHORT_TITLES = {
    "WordNet (Wu-Palmer)": "WordNet",
    "model": "Model",
    "word vectors": "Word vectors",
    "pooled features": "Pooled",
}
#: Point size of the heatmaps' titles.
TITLE_POINT_SIZE = 9
#: Point size of the class labels on the axes.
LABEL_POINT_SIZE = 8
#: Widest class label in pixels (longer names are elided; the hover line gives them whole).
MAX_LABEL_WIDTH = 150
#: Width of a colour bar's strip in pixels.
COLOUR_BAR_WIDTH = 12
#: Pixels beside each heatmap taken by its colour bar, the bar's value axis and the spacing.
COLOUR_BAR_ALLOWANCE = 70
#: Height of a heatmap's title row in pixels.
TITLE_HEIGHT = 20
#: Pixels above each heatmap taken by its title, margins and spacing.
TITLE_ALLOWANCE = TITLE_HEIGHT + 8
#: Margin of the grid of heatmaps in the graphics view, in pixels.
GRID_MARGIN = 2


def display_levels(matrix: np.ndarray) -> tuple[float, float]:
    """Colour levels of a similarity matrix: the 2nd–98th percentile of its off-diagonal values.

    Spearman compares ranks, not values, so each matrix is stretched over the whole colormap; the
    diagonal (always 1) is left out so it does not flatten the contrast.
    """
    n = matrix.shape[0]
    off = matrix[~np.eye(n, dtype=bool)] if n > 1 else matrix.ravel()
    off = off[np.isfinite(off)]
    if off.size == 0:
        return 0.0, 1.0
    low, high = (float(v) for v in np.percentile(off, [2, 98]))
    if high <= low:
        low, high = low - 0.5, low + 0.5
    return low, high


@dataclass(frozen=True)
class HeatmapGrid:
    """How :func:`choose_grid` lays the heatmaps out.

    Attributes
    ----------
    columns, rows
        Grid shape (heatmap ``k`` sits at row ``k // columns``, column ``k % columns``).
    labels
        Whether the class names label the grid's rows (left) and columns (bottom).
    cell
        Estimated side of one matrix cell in pixels.
    """

    columns: int
    rows: int
    labels: bool
    cell: float


def choose_grid(
    count: int, classes: float, width: float, height: float, label_extent: float, label_cell: float
) -> HeatmapGrid:
    """The grid that gives ``count`` heatmaps of ``classes`` rows the largest cells in a box.

    ``classes`` is the number of rows in view (fewer than the matrix's when zoomed in).

    Every shape with 1 … ``count`` columns is tried. Each heatmap takes
    :data:`COLOUR_BAR_ALLOWANCE` pixels beside it and :data:`TITLE_ALLOWANCE` above it; labels
    take ``label_extent`` pixels once on the left of the grid and once below it (the heatmaps
    share one order). Labels are shown when some shape with labels still gives cells at least
    ``label_cell`` pixels (a line of text) — then the largest such cells win; otherwise the
    shape with the largest cells without labels.
    """
    count, classes = max(count, 1), max(classes, 1)
    width, height = width - 2 * GRID_MARGIN, height - 2 * GRID_MARGIN

    def cell_of(columns: int, labels: bool) -> float:
        rows = math.ceil(count / columns)
        extra = label_extent if labels else 0.0
        side_w = (width - extra) / columns - COLOUR_BAR_ALLOWANCE
        side_h = (height - extra) / rows - TITLE_ALLOWANCE
        return max(math.floor(min(side_w, side_h)) - 1, 1) / classes  # a whole number of pixels

    shapes = [(cell_of(c, labels), c, labels) for c in range(1, count + 1) for labels in (True, False)]
    labelled = [s for s in shapes if s[2] and s[0] >= label_cell]
    cell, columns, labels = max(labelled or [s for s in shapes if not s[2]])
    return HeatmapGrid(columns, math.ceil(count / columns), labels, cell)


class ShrinkableLabel(pg.LabelItem):
    """A title that may be narrower than its text (the panel elides it), so it never widens the dock."""

    def updateMin(self) -> None:
        super().updateMin()
        self.setMinimumWidth(0)


class ClassAxis(pg.AxisItem):
    """A heatmap axis that names the class of each row (``"left"``) or column (``"bottom"``).

    Names are drawn only when a cell on screen is at least one line of text high (rows) or wide
    (columns, written upwards), and only for the cells in view, so zooming in brings them back.
    """

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.names: list[str] = []
        self.label_font = QFont()
        self.label_font.setPointSize(LABEL_POINT_SIZE)
        self.metrics = QFontMetrics(self.label_font)
        self.setStyle(showValues=False, tickLength=0)
        self.setPen(pg.mkPen(None))

    @property
    def line_height(self) -> int:
        """Pixels a cell needs to hold a name."""
        return int(self.metrics.height())

    def set_names(self, names: list[str], extent: int) -> None:
        """Names of the rows/columns in display order; ``extent``: the axis width (height)."""
        self.names = [
            self.metrics.elidedText(name, Qt.TextElideMode.ElideRight, extent - 6) for name in names
        ]
        if self.orientation == "left":
            self.setWidth(extent)
        else:
            self.setHeight(extent)
        self.update()

    def cell_pixels(self) -> float:
        """Side of one cell on screen along this axis, in pixels (0 when not linked)."""
        view = self.linkedView()
        if view is None:
            return 0.0
        origin = self.mapFromScene(view.mapViewToScene(QPointF(0.0, 0.0)))
        corner = self.mapFromScene(view.mapViewToScene(QPointF(1.0, 1.0)))
        if self.orientation == "left":
            return abs(corner.y() - origin.y())
        return abs(corner.x() - origin.x())

    def names_drawn(self) -> bool:
        """Whether the names are on screen now (axis shown and cells tall/wide enough)."""
        return bool(self.names) and self.isVisible() and self.cell_pixels() >= self.line_height - 0.01

    def paint(self, painter: QPainter, *args: Any) -> None:
        view = self.linkedView()
        if view is None or not self.names_drawn():
            return
        cell = self.cell_pixels()
        painter.setFont(self.label_font)
        painter.setPen(self.textPen())
        bounds = self.boundingRect()
        align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for i, name in enumerate(self.names):
            centre = self.mapFromScene(view.mapViewToScene(QPointF(i + 0.5, i + 0.5)))
            if self.orientation == "left":
                if not bounds.top() <= centre.y() <= bounds.bottom():
                    continue
                painter.drawText(QRectF(0, centre.y() - cell / 2, self.width() - 4, cell), align, name)
            else:
                if not bounds.left() <= centre.x() <= bounds.right():
                    continue
                # Written upwards, ending at the matrix's edge.
                painter.save()
                painter.translate(centre.x(), 4)
                painter.rotate(-90)
                painter.drawText(
                    QRectF(-(self.height() - 4), -cell / 2, self.height() - 4, cell), align, name
                )
                painter.restore()


class HeatmapViewBox(pg.ViewBox):
    """A ``ViewBox`` whose left-drag drags the cell under it out (as analogy operands).

    The wheel and a right-drag zoom, a middle-drag pans (pyqtgraph's own handling).
    """

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        #: Called with the scene position where a left drag starts; returns True when it dragged
        #: the cell there out of the panel.
        self.drag_cell: Callable[[QPointF], bool] | None = None

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            if ev.isStart() and self.drag_cell is not None:
                self.drag_cell(ev.buttonDownScenePos())
            return
        super().mouseDragEvent(ev, axis)


class WordNetPanel(QWidget):
    """Wu-Palmer and cosine-similarity heatmaps of the active run's classes, linked to the selection."""

    def __init__(self, models: AppModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self.view: Any = None  # the WordNetView shown (None until computed)
        self._dirty = True
        self._hover_cell: tuple[int, int] | None = None

        self.order_combo = QComboBox()
        for key, label in ORDER_LABELS.items():
            self.order_combo.addItem(label, key)
        self.order_combo.setToolTip(
            "Row and column order shared by all four matrices: clustered (average linkage on the "
            "Wu-Palmer matrix), alphabetical, or as in the dataset"
        )
        self.senses_combo = QComboBox()
        for key, label in SENSE_LABELS.items():
            self.senses_combo.addItem(label, key)
        self.senses_combo.setToolTip(
            "Wu-Palmer similarity of two verbs over their most similar pair of senses, or over "
            "their first (most frequent) senses"
        )
        for combo in (self.order_combo, self.senses_combo):
            # A narrow dock must not be widened by the controls.
            combo.setMinimumWidth(combo.fontMetrics().horizontalAdvance("Cluster") + 30)
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip(
            "Show the whole matrices again (the wheel or a right-drag zooms all four, a middle-drag pans)"
        )
        self.summary = QLabel()
        self.summary.setToolTip("The classes compared and those WordNet or a representation lacks")
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Order:"))
        controls.addWidget(self.order_combo)
        controls.addWidget(QLabel("Senses:"))
        controls.addWidget(self.senses_combo)
        controls.addWidget(self.fit_button)
        controls.addWidget(self.summary, 1)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setToolTip("")  # the hover line below names the cell
        self.graphics.setBackground(self.palette().color(self.backgroundRole()))
        self.graphics.setAccessibleName("WordNet and cosine similarity heatmaps")
        self.graphics.setMinimumSize(0, 0)
        self.graphics.ci.setContentsMargins(GRID_MARGIN, GRID_MARGIN, GRID_MARGIN, GRID_MARGIN)
        self.graphics.ci.setSpacing(4)
        self.plots: list[pg.PlotItem] = []
        self.view_boxes: list[HeatmapViewBox] = []
        self.images: list[pg.ImageItem] = []
        self.colour_bars: list[pg.ColorBarItem] = []
        self.row_axes: list[ClassAxis] = []
        self.column_axes: list[ClassAxis] = []
        self.markers: list[QGraphicsRectItem] = []
        #: Full title of each drawn heatmap (the drawn title is elided to its width).
        self.titles: list[str] = []
        self._compact_titles: list[str] = []  # for a narrow heatmap: "Model ρ 0.29"
        #: Per drawn heatmap: the ``(value, text)`` ticks at the ends of its colour bar.
        self.colour_bar_ticks: list[list[tuple[float, str]]] = []
        self.grid: HeatmapGrid | None = None
        self._grid_count = 0  # heatmaps the grid was filled with
        self._label_extent = 0
        self._syncing = False
        self._visible_cells = float("inf")  # matrix rows in view (fewer when zoomed in)
        self._laid_out: tuple[Any, ...] = ()  # what the last layout was made for
        marker_pen = QPen(QColor(255, 64, 64))
        marker_pen.setCosmetic(True)
        marker_pen.setWidth(2)
        colormap = pg.colormap.get(COLORMAP)
        text_colour = self.palette().color(self.foregroundRole())
        for _ in range(4):
            view_box = HeatmapViewBox()
            view_box.invertY(True)  # row 0 at the top, as a matrix is read
            view_box.drag_cell = self._drag_cell
            view_box.sigRangeChanged.connect(lambda source, _range: self._on_range_changed(source))
            view_box.sigRangeChangedManually.connect(lambda _mask, source=view_box: self._sync_ranges(source))
            row_axis, column_axis = ClassAxis("left"), ClassAxis("bottom")
            for axis in (row_axis, column_axis):
                axis.setTextPen(pg.mkPen(text_colour))
            plot = pg.PlotItem(viewBox=view_box, axisItems={"left": row_axis, "bottom": column_axis})
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            plot.setMenuEnabled(False)
            plot.hideButtons()
            # pyqtgraph's title keeps its text's width as a minimum; this one is elided instead.
            plot.layout.removeItem(plot.titleLabel)
            plot.titleLabel.setParentItem(None)
            plot.titleLabel = ShrinkableLabel(" ", size=f"{TITLE_POINT_SIZE}pt", parent=plot)
            plot.layout.addItem(plot.titleLabel, 0, 1, 1, 5)  # over the heatmap and its bar
            plot.layout.setRowFixedHeight(0, TITLE_HEIGHT)
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            bar = pg.ColorBarItem(
                values=(0.0, 1.0),
                width=COLOUR_BAR_WIDTH,
                colorMap=colormap,
                interactive=False,
                colorMapMenu=False,
            )
            bar.setImageItem(image, insert_in=plot)
            bar.axis.setStyle(hideOverlappingLabels=False)
            bar.axis.setTextPen(pg.mkPen(text_colour))
            marker = QGraphicsRectItem()
            marker.setPen(marker_pen)
            marker.setZValue(10)
            marker.hide()
            plot.addItem(marker)
            self.plots.append(plot)
            self.view_boxes.append(view_box)
            self.images.append(image)
            self.colour_bars.append(bar)
            self.row_axes.append(row_axis)
            self.column_axes.append(column_axis)
            self.markers.append(marker)
        self._relayout(4)

        self.hover_label = QLabel()
        self.hover_label.setTextFormat(Qt.TextFormat.RichText)
        self.hover_label.setWordWrap(True)
        self.hover_label.setToolTip("The cell under the mouse: its two classes and the four similarities")
        self.hover_label.setText(
            "<i>Hover a cell to compare the four matrices; click it to select both classes' clips; "
            "drag it to the Analogy panel.</i>"
        )

        heatmaps = QWidget()
        heat_layout = QVBoxLayout(heatmaps)
        heat_layout.setContentsMargins(0, 0, 0, 0)
        heat_layout.addWidget(self.graphics, 1)
        heat_layout.addWidget(self.hover_label)

        self.stack = MessageStack(heatmaps)
        self.message = self.stack.message

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.stack, 1)

        # Hover is throttled (pyqtgraph's SignalProxy), as a matrix redraw per mouse event would lag.
        self._hover_proxy = pg.SignalProxy(
            self.graphics.scene().sigMouseMoved, rateLimit=30, slot=lambda args: self.hover_at(args[0])
        )
        self.graphics.scene().sigMouseClicked.connect(self._on_scene_click)
        self.graphics.installEventFilter(self)
        self.fit_button.clicked.connect(self.fit_all)
        self.order_combo.currentIndexChanged.connect(lambda _i: self._draw())
        self.senses_combo.currentIndexChanged.connect(lambda _i: self._invalidate())
        models.workspace.workspaceChanged.connect(lambda _ws: self._invalidate())
        models.workspace.runChanged.connect(lambda _run: self._invalidate())
        # WordNet is loaded (seconds of pure Python at first use) only once the panel is on
        # screen, not for a dock tabbed behind another: not at open, not at a run switch.
        self._screen_watch = ScreenWatch(self, self._compute_if_dirty)
        self._invalidate()

    # ------------------------------------------------------------ public
    @property
    def order(self) -> np.ndarray:
        """Dataset row index of each displayed row."""
        if self.view is None:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.view.orders[self.order_combo.currentData()])

    @property
    def labels_shown(self) -> bool:
        """Whether class names label the heatmaps' rows and columns on screen now."""
        return any(axis.names_drawn() for axis in self.row_axes + self.column_axes)

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The displayed ``(row, column)`` under a scene position, ``None`` outside every heatmap."""
        if self.view is None:
            return None
        n = len(self.view.class_ids)
        for image, view_box in zip(self.images, self.view_boxes, strict=True):
            if not image.isVisible() or image.scene() is None:
                continue
            if not view_box.sceneBoundingRect().contains(scene_pos):
                continue  # zoomed in, the image reaches beyond its view box
            point = image.mapFromScene(scene_pos)
            row, col = int(np.floor(point.y())), int(np.floor(point.x()))
            if 0 <= row < n and 0 <= col < n:
                return row, col
        return None

    def cell_scene_pos(self, row: int, col: int, matrix: int = 0) -> QPointF:
        """Scene position of the centre of a displayed cell of one heatmap (for tests and tools)."""
        return self.images[matrix].mapToScene(QPointF(col + 0.5, row + 0.5))

    def hover_at(self, scene_pos: QPointF) -> None:
        """Describe the cell under ``scene_pos`` in the hover line and mark it in every heatmap."""
        cell = self.cell_at(scene_pos)
        if cell == self._hover_cell:
            return
        self._hover_cell = cell
        for marker in self.markers:
            marker.setVisible(cell is not None)
            if cell is not None:
                marker.setRect(QRectF(cell[1], cell[0], 1, 1))
        if cell is not None:
            self.hover_label.setText(self.describe_cell(*cell))

    def describe_cell(self, row: int, col: int) -> str:
        """Rich text naming a displayed cell's two classes and its value in every matrix."""
        assert self.view is not None
        i, j = int(self.order[row]), int(self.order[col])
        values = []
        for title, matrix in self.view.matrices.items():
            value = float(matrix[i, j])
            shown = "—" if not np.isfinite(value) else f"{value:.3f}"
            values.append(f"{SHORT_NAMES.get(title, title)} <b>{shown}</b>")
        a, b = self.view.names[i], self.view.names[j]
        verbs = f"({self.view.verbs[i]} × {self.view.verbs[j]})"
        return f"<b>{a}</b> × <b>{b}</b> {verbs}: " + " · ".join(values)

    def select_cell(self, row: int, col: int) -> None:
        """Select every clip of the two classes of a displayed cell."""
        assert self.view is not None
        class_ids = {self.view.class_ids[int(self.order[row])], self.view.class_ids[int(self.order[col])]}
        clip_class = self.models.workspace.clip_columns().class_id
        clip_ids = np.flatnonzero(np.isin(clip_class, list(class_ids)))
        self.models.selection.set(clip_ids, PANEL_ID)

    def cell_operands(self, row: int, col: int) -> list[dict[str, Any]]:
        """The analogy operands a displayed cell carries: its row's class, then its column's.

        A diagonal cell carries its one class. Dropped on the Analogy panel's first slot, the two
        fill ``A`` and ``B`` of ``A − B + C``.
        """
        assert self.view is not None
        rows = [int(self.order[row])] if row == col else [int(self.order[row]), int(self.order[col])]
        return [
            {"kind": "class", "id": int(self.view.class_ids[i]), "label": self.view.names[i]} for i in rows
        ]

    def drag_operands_at(self, scene_pos: QPointF) -> list[dict[str, Any]]:
        """The analogy operands a drag starting at ``scene_pos`` carries (empty off the heatmaps)."""
        cell = self.cell_at(scene_pos)
        return [] if cell is None else self.cell_operands(*cell)

    def fit_all(self) -> None:
        """Show the whole matrices in all four heatmaps (undo any zoom)."""
        n = len(self.view.class_ids) if self.view is not None else 1
        for view_box in self.view_boxes:
            view_box.setRange(QRectF(0, 0, n, n), padding=0.0)

    # ------------------------------------------------------------ saved views
    def view_state(self) -> dict[str, Any]:
        """The panel's state for a saved view."""
        return {"order": self.order_combo.currentData(), "senses": self.senses_combo.currentData()}

    def restore_view_state(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`view_state` (unknown values are ignored)."""
        for combo, key in ((self.order_combo, "order"), (self.senses_combo, "senses")):
            index = combo.findData(state.get(key))
            if index >= 0:
                combo.setCurrentIndex(index)

    # ------------------------------------------------------------ computing
    def _invalidate(self) -> None:
        self._dirty = True
        self.view = None
        wm = self.models.workspace
        if wm.workspace is None:
            self._show_message("No workspace is open.")
            self._dirty = False
            return
        if wm.run_id is None:
            root = wm.workspace.root
            self._show_message(
                "No embeddings in this workspace yet: the WordNet test compares a run's class means "
                f"with WordNet. Run <code>actionlens train --workspace {root}</code> and "
                f"<code>actionlens embed --workspace {root} --run RUN</code>."
            )
            self._dirty = False
            return
        # Computed only when the panel is on screen: WordNet is not loaded for a tabbed-away dock.
        self._show_message("Loading WordNet and computing the similarity matrices…")
        if on_screen(self):
            # Started from the event loop, not inside the run switch's fan-out to every panel.
            QTimer.singleShot(0, self, self._compute_if_dirty)

    def _compute_if_dirty(self) -> None:
        if self._dirty and on_screen(self):
            self._compute()

    def _compute(self) -> None:
        from desktop_app.analysis.wordnet_view import wordnet_view_of_run

        self._dirty = False
        wm = self.models.workspace
        if wm.workspace is None or wm.run_id is None:
            return
        # The run's embeddings are opened in the task too: not on the GUI thread at a run switch.
        task = self.models.tasks.start(
            PANEL_ID,
            "WordNet matrices",
            wordnet_view_of_run,
            wm.workspace,
            wm.run_id,
            self.senses_combo.currentData(),
            True,
        )
        task.progressChanged.connect(
            lambda fraction, message: self._show_message(
                f"Loading WordNet and computing the similarity matrices… {message} ({100 * fraction:.0f} %)"
            )
        )
        task.finished.connect(self._on_result)
        task.failed.connect(lambda exc: self._show_message(str(exc)))

    def _on_result(self, view: Any) -> None:
        if view.run_id != self.models.workspace.run_id:
            return  # a result for a run the user has left
        self.view = view
        self._hover_cell = None
        for marker in self.markers:
            marker.hide()
        dropped = f", {len(view.dropped)} left out" if view.dropped else ""
        self.summary.setText(f"{len(view.class_ids)} classes{dropped}")
        self.summary.setToolTip(
            "Classes compared, by the verb standing for each in WordNet. Left out:\n"
            + ("\n".join(view.dropped) if view.dropped else "none")
        )
        metrics = self.row_axes[0].metrics
        widest = max((metrics.horizontalAdvance(name) for name in view.names), default=0)
        self._label_extent = min(widest, MAX_LABEL_WIDTH) + 10
        self._draw()
        self.stack.show_content()

    # ------------------------------------------------------------ drawing
    def _show_message(self, text: str) -> None:
        self.stack.show_message(text)

    def _draw(self) -> None:
        if self.view is None:
            return
        order = self.order
        n = len(order)
        names = [self.view.names[int(i)] for i in order]
        items = list(self.view.matrices.items())
        self.titles, self._compact_titles, self.colour_bar_ticks = [], [], []
        for k, image in enumerate(self.images):
            if k >= len(items):
                image.clear()
                continue
            title, matrix = items[k]
            shown = np.ascontiguousarray(matrix[np.ix_(order, order)], dtype=np.float32)
            low, high = display_levels(shown)
            image.setImage(shown, levels=(low, high), autoLevels=False)
            image.setRect(QRectF(0, 0, n, n))
            self._set_colour_bar(k, title, low, high)
            rho = self.view.correlations.get(title)
            label, compact = title, SHORT_TITLES.get(title, title)
            if rho is not None:
                shown_rho = f"{rho:.3f}" if np.isfinite(rho) else "undefined"
                label = f"{title.capitalize()} — ρ = {shown_rho}"
                compact = f"{compact} ρ {rho:.2f}" if np.isfinite(rho) else f"{compact} ρ —"
            self.titles.append(label)
            self._compact_titles.append(compact)
            self.row_axes[k].set_names(names, self._label_extent)
            self.column_axes[k].set_names(names, self._label_extent)
            view_box = self.view_boxes[k]
            view_box.setLimits(xMin=0, xMax=n, yMin=0, yMax=n, minXRange=1, minYRange=1)
        # The grid is refilled only when its shape or number of heatmaps changes (not for a new
        # run of the same classes: refilling the layout took ~50 ms of the GUI thread); titles
        # and labels depend on the data and are set again below in any case.
        self._laid_out = ()
        self._visible_cells = float("inf")
        self._relayout(len(items))
        self.fit_all()

    def _set_colour_bar(self, k: int, title: str, low: float, high: float) -> None:
        bar = self.colour_bars[k]
        bar.setLevels((low, high))
        ticks = [(low, f"{low:.2f}"), (high, f"{high:.2f}")]
        middle = (low + high) / 2
        bar.axis.setTicks([ticks, [(middle, f"{middle:.2f}")]])
        self.colour_bar_ticks.append(ticks)
        bar.setToolTip(
            f"{title}: colours span {low:.3f} (dark) to {high:.3f} (bright), the 2nd to 98th "
            "percentile of its off-diagonal values; values beyond take the end colours"
        )

    def _relayout(self, count: int, size: QSize | None = None) -> None:
        """Lay ``count`` heatmaps out in the grid that fits the graphics view best (:func:`choose_grid`)."""
        classes: float = len(self.view.class_ids) if self.view is not None else 1
        size = size if size is not None else self.graphics.size()
        # Zoomed in, fewer cells share the view box: the labels may then fit.
        classes = max(min(classes, self._visible_cells), 1.0)
        grid = choose_grid(
            count,
            classes,
            size.width(),
            size.height(),
            self._label_extent,
            self.row_axes[0].line_height,
        )
        grid = HeatmapGrid(grid.columns, grid.rows, grid.labels and self.view is not None, grid.cell)
        if (
            self.grid is None
            or count != self._grid_count
            or (grid.columns, grid.labels) != (self.grid.columns, self.grid.labels)
        ):
            self._grid_count = count
            layout = self.graphics.ci
            layout.clear()
            for k in range(count):
                row, col = divmod(k, grid.columns)
                layout.addItem(self.plots[k], row=row, col=col)
                # Names on the grid's outer edges only: the four share one order.
                self.plots[k].showAxis("left", grid.labels and col == 0)
                self.plots[k].showAxis("bottom", grid.labels and k + grid.columns >= count)
                layout.layout.setAlignment(self.plots[k], Qt.AlignmentFlag.AlignCenter)
        self.grid = grid
        # Square cells: every view box is the matrix's side, the rest of the dock stays empty.
        side = max(round(grid.cell * classes), 1)
        key = (grid.columns, grid.labels, side, size.width(), size.height(), tuple(self.titles))
        if key == self._laid_out:
            return  # a zoom step that changes nothing on screen
        self._laid_out = key
        for plot, view_box in zip(self.plots, self.view_boxes, strict=True):
            view_box.setMinimumSize(side, side)
            view_box.setMaximumSize(side, side)
            plot.setMaximumSize(QSizeF(QWIDGETSIZE_MAX, QWIDGETSIZE_MAX))
            plot.updateGeometry()
            # The plot no larger than its parts, so its bar and labels stay beside the heatmap.
            plot.setMaximumSize(plot.effectiveSizeHint(Qt.SizeHint.MinimumSize))
        self._centre_grid(count, grid, size)
        self._elide_titles(count, side + COLOUR_BAR_ALLOWANCE - 10)

    def _centre_grid(self, count: int, grid: HeatmapGrid, size: QSize) -> None:
        """Share the room the square heatmaps leave as equal margins around the grid."""
        spacing = self.graphics.ci.layout.horizontalSpacing()
        used_w = sum(self.plots[k].maximumWidth() for k in range(min(grid.columns, count)))
        used_h = sum(self.plots[k].maximumHeight() for k in range(0, count, grid.columns))
        used_w += spacing * (grid.columns - 1)
        used_h += spacing * (grid.rows - 1)
        left = max((size.width() - used_w) / 2, GRID_MARGIN)
        top = max((size.height() - used_h) / 2, GRID_MARGIN)
        self.graphics.ci.setContentsMargins(left, top, GRID_MARGIN, GRID_MARGIN)

    def _elide_titles(self, count: int, width: float) -> None:
        colour = self.palette().color(self.foregroundRole())
        for k in range(min(count, len(self.titles))):
            label = self.plots[k].titleLabel
            font = QFont(label.item.font())
            font.setPointSize(TITLE_POINT_SIZE)
            metrics = QFontMetrics(font)
            # The full title, else the compact one (name and ρ), else the compact one elided.
            text = self.titles[k]
            if metrics.horizontalAdvance(text) > width:
                text = metrics.elidedText(
                    self._compact_titles[k], Qt.TextElideMode.ElideRight, max(int(width), 20)
                )
            label.setText(text, size=f"{TITLE_POINT_SIZE}pt", color=colour)
            label.setMinimumWidth(0)  # never widen the dock
            label.setToolTip(self.titles[k])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.graphics and event.type() == QEvent.Type.Resize:
            size = cast(QResizeEvent, event).size()
            self._relayout(len(self.view.matrices) if self.view is not None else 4, size)
        return super().eventFilter(watched, event)

    def _sync_ranges(self, source: HeatmapViewBox) -> None:
        """Give every heatmap the range the user just zoomed or panned one of them to."""
        if self._syncing:
            return
        self._syncing = True
        try:
            rect = source.viewRect()
            for view_box in self.view_boxes:
                if view_box is not source:
                    view_box.setRange(rect, padding=0.0)
        finally:
            self._syncing = False

    def _on_range_changed(self, source: HeatmapViewBox) -> None:
        if source is not self.view_boxes[0] or self.view is None:
            return
        rect = source.viewRect()
        visible = max(rect.width(), rect.height())
        if abs(visible - self._visible_cells) > 0.01 * max(visible, 1.0):
            self._visible_cells = visible
            self._relayout(len(self.view.matrices))

    def _on_scene_click(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            event.accept()
            self.select_cell(*cell)

    def _drag_cell(self, scene_pos: QPointF) -> bool:
        operands = self.drag_operands_at(scene_pos)
        if not operands:
            return False
        drag = QDrag(self.graphics)
        drag.setMimeData(operands_mime_data(operands))
        drag.exec(Qt.DropAction.CopyAction)
        return True

    def shutdown(self) -> None:
        """Stop the computation (the window is closing)."""
        self.models.tasks.cancel(PANEL_ID)


if __name__ == "__main__":
    raise SystemExit(preview_panel(WordNetPanel))
