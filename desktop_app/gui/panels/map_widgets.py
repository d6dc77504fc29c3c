"""The Map panel's widgets: the view box that draws a lasso, the legend list, the hover card.

Split out of :mod:`desktop_app.gui.panels.map` (issue 12); they hold no map state of their own:
the panel connects to their signals and fills them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPathItem,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.gui.dnd import operands_mime_data

LEGEND_ROLE = Qt.ItemDataRole.UserRole + 1  # the legend entry's group index
OPERAND_ROLE = Qt.ItemDataRole.UserRole + 2  # the operand a legend entry drags, or None


class MapViewBox(pg.ViewBox):
    """A ``ViewBox`` whose left-drag draws a lasso or a rectangle when a selection tool is on.

    The path is kept in view (data) coordinates; when the drag ends :attr:`regionSelected` is
    emitted with the ``(m, 2)`` polygon and whether Shift/Ctrl was held (add to the selection).
    """

    regionSelected = Signal(object, bool)
    #: A left click: its scene position and the keyboard modifiers held.
    clicked = Signal(object, object)

    def __init__(self) -> None:
        super().__init__()
        self.tool = "pan"  # "pan", "lasso" or "rect"
        #: Called with the scene position where a pan-mode left drag starts; returns True when it
        #: dragged the points there out of the map (as analogy operands) instead of panning.
        self.drag_points: Callable[[QPointF], bool] | None = None
        self._path: list[tuple[float, float]] = []
        self._outline = QGraphicsPathItem()
        pen = QPen(QColor(30, 30, 30), 0)
        pen.setCosmetic(True)
        pen.setWidthF(1.5)
        pen.setStyle(Qt.PenStyle.DashLine)
        self._outline.setPen(pen)
        self._outline.setBrush(QBrush(QColor(120, 160, 255, 40)))
        self._outline.setZValue(1e6)
        self._outline.hide()
        self.addItem(self._outline, ignoreBounds=True)

    # Driven by mouseDragEvent; public so a script can draw a lasso the way the mouse does.
    def begin_region(self, point: QPointF) -> None:
        """Start a lasso/rectangle at ``point`` (view coordinates)."""
        self._path = [(point.x(), point.y())]
        self._update_outline()
        self._outline.show()

    def extend_region(self, point: QPointF) -> None:
        """Add a vertex (lasso) or move the far corner (rectangle)."""
        if self.tool == "rect":
            self._path = [self._path[0], (point.x(), point.y())]
        else:
            self._path.append((point.x(), point.y()))
        self._update_outline()

    def finish_region(self, additive: bool = False) -> None:
        """Close the region and emit :attr:`regionSelected`."""
        polygon = self.region_polygon()
        self._path = []
        self._outline.hide()
        self.regionSelected.emit(polygon, additive)

    def region_polygon(self) -> np.ndarray:
        """The current region as a polygon (a rectangle's four corners)."""
        if self.tool == "rect" and len(self._path) >= 2:
            (x0, y0), (x1, y1) = self._path[0], self._path[-1]
            return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=np.float64)
        return np.asarray(self._path, dtype=np.float64).reshape(-1, 2)

    def _update_outline(self) -> None:
        polygon = self.region_polygon()
        path = QPainterPath()
        if len(polygon):
            path.moveTo(*polygon[0])
            for x, y in polygon[1:]:
                path.lineTo(x, y)
            path.closeSubpath()
        self._outline.setPath(path)

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        left = ev.button() == Qt.MouseButton.LeftButton
        if self.tool == "pan" and left and ev.isStart() and self.drag_points is not None:
            if self.drag_points(ev.buttonDownScenePos()):
                ev.accept()
                return
        if self.tool == "pan" or not left:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        point = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            self.begin_region(self.mapSceneToView(ev.buttonDownScenePos()))
        self.extend_region(point)
        if ev.isFinish():
            modifiers = ev.modifiers()
            additive = bool(
                modifiers & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier)
            )
            self.finish_region(additive)

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(ev.scenePos(), ev.modifiers())
            return
        super().mouseClickEvent(ev)


# ------------------------------------------------------------------------------ the legend
class LegendList(QListWidget):
    """The colour legend; class entries (and verb/noun words) drag out as analogy operands."""

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        operands = [item.data(OPERAND_ROLE) for item in items if item.data(OPERAND_ROLE)]
        return operands_mime_data(operands)

    def mimeTypes(self) -> list[str]:
        from desktop_app.gui.dnd import OPERANDS_MIME

        return [OPERANDS_MIME, "text/plain"]

    #: The legend never takes more than this share of the panel's width to show whole names.
    MAX_SHARE = 0.4

    def needed_width(self) -> int:
        """The width that shows every entry's swatch and whole text without cutting it."""
        metrics = self.fontMetrics()
        text = max((metrics.horizontalAdvance(self.item(i).text()) for i in range(self.count())), default=0)
        frame = 2 * self.frameWidth() + self.verticalScrollBar().sizeHint().width()
        return text + self.iconSize().width() + 6 * self.spacing() + frame + 16


class HoverCard(QFrame):
    """A tooltip-like card over the plot: the hovered clip's thumbnail and label."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel()
        self.text.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.image)
        layout.addWidget(self.text)
        self.point_id: int | None = None
        self.hide()

    def show_at(self, pos: QPoint, point_id: int, text: str, pixmap: QPixmap | None) -> None:
        """Show ``text`` (and ``pixmap``) next to ``pos`` (parent coordinates), kept inside it."""
        self.point_id = point_id
        self.text.setText(text)
        self.set_pixmap(pixmap)
        self.adjustSize()
        parent = self.parentWidget()
        x, y = pos.x() + 16, pos.y() + 16
        if parent is not None:
            x = min(x, max(0, parent.width() - self.width() - 2))
            y = min(y, max(0, parent.height() - self.height() - 2))
            if x <= pos.x() < x + self.width() and y <= pos.y() < y + self.height():
                y = max(0, pos.y() - self.height() - 12)  # never under the cursor
        self.move(x, y)
        self.show()
        self.raise_()

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        """Set (or clear) the thumbnail."""
        if pixmap is None or pixmap.isNull():
            self.image.clear()
            self.image.hide()
        else:
            self.image.setPixmap(
                pixmap.scaled(
                    QSize(160, 120),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            self.image.show()
        self.adjustSize()
