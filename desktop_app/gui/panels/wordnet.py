"""The WordNet panel: seed 001's WordNet test as four heatmaps side by side.

Wu-Palmer similarity of the class verbs beside the cosine similarities of the model's class
means, of the labels' word vectors and of mean-pooled features, all in one row order (by default
clustered on the Wu-Palmer matrix, so WordNet's groups of related verbs form blocks on the
diagonal), each titled with its row-wise Spearman correlation with WordNet (seed 001, section
4.2.1, Table 3). The matrices come from :func:`~desktop_app.analysis.wordnet_view.wordnet_view`
in a background task (WordNet takes about 1.5 s to load).

Hovering a cell names the two classes and the four values; clicking it selects both classes'
clips (the shared selection: the Library's "Selected" filter then shows them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop_app.errors import ActionLensError
from desktop_app.gui.models import AppModels
from desktop_app.gui.panels import preview_panel
from desktop_app.gui.widgets import MessageStack

PANEL_ID = "wordnet"
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
        self.summary = QLabel()
        self.summary.setToolTip("The classes compared and those WordNet or a representation lacks")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Order:"))
        controls.addWidget(self.order_combo)
        controls.addWidget(QLabel("Senses:"))
        controls.addWidget(self.senses_combo)
        controls.addWidget(self.summary, 1)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setToolTip("")  # the hover line below names the cell
        self.graphics.setBackground(self.palette().color(self.backgroundRole()))
        self.graphics.setAccessibleName("WordNet and cosine similarity heatmaps")
        self.plots: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        self.markers: list[QGraphicsRectItem] = []
        self.titles: list[str] = []
        self._columns = 0
        marker_pen = QPen(QColor(255, 64, 64))
        marker_pen.setCosmetic(True)
        marker_pen.setWidth(2)
        colormap = pg.colormap.get(COLORMAP)
        self._lut = colormap.getLookupTable(nPts=256)
        for _ in range(4):
            plot = pg.PlotItem()
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            plot.getViewBox().setAspectLocked(True)
            plot.getViewBox().invertY(True)  # row 0 at the top, as a matrix is read
            image = pg.ImageItem(axisOrder="row-major")
            image.setLookupTable(self._lut)
            plot.addItem(image)
            marker = QGraphicsRectItem()
            marker.setPen(marker_pen)
            marker.setZValue(10)
            marker.hide()
            plot.addItem(marker)
            self.plots.append(plot)
            self.images.append(image)
            self.markers.append(marker)
        self._relayout(4)

        self.hover_label = QLabel()
        self.hover_label.setTextFormat(Qt.TextFormat.RichText)
        self.hover_label.setWordWrap(True)
        self.hover_label.setToolTip("The cell under the mouse: its two classes and the four similarities")
        self.hover_label.setText(
            "<i>Hover a cell to compare the four matrices; click it to select both classes' clips.</i>"
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
        self.order_combo.currentIndexChanged.connect(lambda _i: self._draw())
        self.senses_combo.currentIndexChanged.connect(lambda _i: self._invalidate())
        models.workspace.workspaceChanged.connect(lambda _ws: self._invalidate())
        models.workspace.runChanged.connect(lambda _run: self._invalidate())
        self._invalidate()

    # ------------------------------------------------------------ public
    @property
    def order(self) -> np.ndarray:
        """Dataset row index of each displayed row."""
        if self.view is None:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.view.orders[self.order_combo.currentData()])

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The displayed ``(row, column)`` under a scene position, ``None`` outside every heatmap."""
        if self.view is None:
            return None
        n = len(self.view.class_ids)
        for image in self.images:
            if not image.isVisible() or not image.sceneBoundingRect().contains(scene_pos):
                continue
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
        clip_ids = [c.id for c in self.models.workspace.clips() if c.class_id in class_ids]
        self.models.selection.set(clip_ids, PANEL_ID)

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
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self._compute()

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
        # Computed only when the panel is on screen: WordNet is not loaded for a hidden tab.
        self._show_message("Loading WordNet and computing the similarity matrices…")
        if self.isVisible():
            self._compute()

    def _compute(self) -> None:
        from desktop_app.analysis.wordnet_view import wordnet_view

        self._dirty = False
        try:
            space = self.models.workspace.space()
        except ActionLensError as exc:
            self._show_message(str(exc))
            return
        if space is None:
            return
        task = self.models.tasks.start(
            PANEL_ID, "WordNet matrices", wordnet_view, space, self.senses_combo.currentData(), True
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
        self._draw()
        self.stack.show_content()

    # ------------------------------------------------------------ drawing
    def _show_message(self, text: str) -> None:
        self.stack.show_message(text)

    def _draw(self) -> None:
        if self.view is None:
            return
        order = self.order
        items = list(self.view.matrices.items())
        self._relayout(len(items))
        for k, (image, plot) in enumerate(zip(self.images, self.plots, strict=True)):
            if k >= len(items):
                image.clear()
                continue
            title, matrix = items[k]
            shown = np.ascontiguousarray(matrix[np.ix_(order, order)], dtype=np.float32)
            image.setImage(shown, levels=display_levels(shown), autoLevels=False)
            image.setRect(QRectF(0, 0, shown.shape[1], shown.shape[0]))
            rho = self.view.correlations.get(title)
            label = title
            if rho is not None:
                shown_rho = f"{rho:.3f}" if np.isfinite(rho) else "undefined"
                label = f"{title.capitalize()} — ρ = {shown_rho}"
            plot.setTitle(label, color=self.palette().color(self.foregroundRole()))
            plot.getViewBox().autoRange(padding=0.02)
        self.titles = [self.plots[k].titleLabel.text for k in range(len(items))]

    def _relayout(self, count: int) -> None:
        """Put ``count`` heatmaps in one row when the panel is wide, else two by two."""
        columns = count if self.width() >= 1.6 * max(self.height(), 1) else min(count, 2)
        if columns == self._columns and all(p.scene() is not None for p in self.plots[:count]):
            return
        layout = self.graphics.ci
        layout.clear()
        for k in range(count):
            layout.addItem(self.plots[k], row=k // columns, col=k % columns)
        self._columns = columns

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.view is not None:
            self._relayout(len(self.view.matrices))

    def _on_scene_click(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            event.accept()
            self.select_cell(*cell)

    def shutdown(self) -> None:
        """Stop the computation (the window is closing)."""
        self.models.tasks.cancel(PANEL_ID)


if __name__ == "__main__":
    raise SystemExit(preview_panel(WordNetPanel))
