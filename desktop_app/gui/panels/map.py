"""The Map panel: a pyqtgraph scatter of a run's clips (or class means) on a 2-D map.

The layouts come from :mod:`desktop_app.analysis.maps` (PCA, UMAP, t-SNE, semantic axes, imported
layouts), always through the :class:`~desktop_app.gui.tasks.TaskManager`: opening a workspace
shows :func:`~desktop_app.analysis.maps.first_map` (cached, or a PCA computed on the spot) from a
quiet task, and switching to a method that is not cached computes it in the background with
progress; t-SNE streams partial layouts (Orange3's habit), so the map animates as it converges.

Drawing has a level of detail (:mod:`desktop_app.gui.map_render`, issue 12): zoomed out, the
points are aggregated into one image of per-pixel counts and mixed class colours at the screen's
resolution (:mod:`desktop_app.analysis.density`); zoomed in to a few thousand points, they are
real pyqtgraph markers (one ``ScatterPlotItem``, ``pxMode=True``, one ``QBrush`` object per
colour). Colours are arrays (a group per point), the lasso and the hover look-ups use a
:class:`~desktop_app.gui.panels.map_points.PointIndex` built in the task that loads the map, and
clips are named by id look-ups in the catalog, so a map of a million clips pans, hovers, lassos
and recolours without freezing the window. Categorical colours are colorcet's Glasbey palette.

The map says how many clips it shows and how they were placed ("N of M clips" when it does not
hold every embedded clip, and the map's ``placement``: fitted on a sample, the rest placed by the
method's transform), and a query hit or the playing clip that is not on it gets a note.

Linking goes only through the shared models: click selects and plays, lasso and rectangle select,
the selection and the current query's results are outlined, and the clip being played is marked
(and the mark follows the Player when another panel changes the clip).

The panel is this module and four beside it, none importing this one: ``map_tasks`` (what runs
in tasks: load or compute a map and hand it over, read split roles, place the track),
``map_colours`` (the palette, colour groups and the legend), ``map_widgets`` (the lasso's view
box, the legend list, the hover card) and ``map_points`` (Qt-free: the point index, the prepared
map, the CSV). The first map is handed over as soon as it can be drawn, then again with its point
index and quality figure (``docs/map_render.md``).

The model's view over time (issue 13): the Player's clip's prefix track
(:class:`~desktop_app.gui.models.TrackModel`) is placed on the current map without recomputing it
(:func:`~desktop_app.analysis.temporal.track_map_positions`, in a task) and drawn as a line that
ends at the clip's point, with a marker at the prefix of the playhead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QDrag, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QCompleter,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.atomic import atomic_path
from desktop_app.gui.dnd import operands_mime_data
from desktop_app.gui.map_render import LevelOfDetail
from desktop_app.gui.models import AppModels
from desktop_app.gui.panels.map_colours import (
    SCORE_LEVELS,
    ColourGroup,
    categorical_colour,
    class_groups,
    dimmed,
    fill_legend,
    level_groups,
    split_groups,
)
from desktop_app.gui.panels.map_points import (
    PreparedMap,
    density_image,
    nearest_point,
    points_in_polygon,
    row_lookup,
    write_map_csv,
)
from desktop_app.gui.panels.map_tasks import (
    compute_axes,
    load_anomaly_scores,
    load_first_map,
    load_or_compute,
    place_track,
    read_split_codes,
)
from desktop_app.gui.panels.map_widgets import LEGEND_ROLE, HoverCard, LegendList, MapViewBox
from desktop_app.gui.widgets import MessageStack

__all__ = [
    "METHODS",
    "METHOD_NAMES",
    "SCORE_LEVELS",
    "ColourGroup",
    "HoverCard",
    "LegendList",
    "MapPanel",
    "MapViewBox",
    "PreparedMap",
    "categorical_colour",
]

PANEL_ID = "map"
#: The task owner that reads the anomaly scores beside the active run (apart from the map's own).
ANOMALY_TASK = "map:anomaly"
#: The task owner that reads a split's roles for colouring by it.
SPLIT_TASK = "map:split"
#: The task owner that places the Player's prefix track on the map.
TRACK_TASK = "map:track"
#: (combo text, method id) of the layouts the panel offers.
METHODS = (("PCA", "pca"), ("UMAP", "umap"), ("t-SNE", "tsne"), ("Semantic axes", "axes"))
METHOD_NAMES = {
    "pca": "PCA",
    "umap": "UMAP",
    "tsne": "t-SNE",
    "axes": "Semantic axes",
    "imported": "Imported",
}
#: The query's best results that are outlined on the map.
QUERY_HIGHLIGHT = 50
DEFAULT_AXES = ("slow", "fast", "down", "up")


# ------------------------------------------------------------------------------ the panel
class MapPanel(QWidget):
    """The 2-D map of the active run's clips or class means, linked to every other panel."""

    def __init__(self, models: AppModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self.map: Any = None  # the Map2D shown (None before one arrives)
        self.ids = np.zeros(0, dtype=np.int64)
        self.coords = np.zeros((0, 2), dtype=np.float32)
        self.of = "clips"
        self._indexed_of = ""  # what _point_classes/_clips_of_class describe
        self._point_classes = np.zeros(0, dtype=np.int64)  # class id per point (-1: none)
        #: On a class-means map, the embedded clips of each class; None on a map of clips.
        self._clips_of_class: dict[int, np.ndarray] | None = None
        self._row_of_id = np.zeros(0, dtype=np.int64)  # point id -> row (-1: not on the map)
        self._ids_sorted = True  # the map's ids increase row by row (then clip ids need no sort)
        self._prepared: PreparedMap | None = None  # the map's index and columns (from its task)
        self._query_rows = np.zeros(0, dtype=np.int64)  # rows of the query's best hits
        self._groups: list[ColourGroup] = []
        self._group_of_point = np.zeros(0, dtype=np.int64)
        self._emphasis: np.ndarray | None = None  # points drawn at full strength (others dimmed)
        self._legend_group: int | None = None
        self._brushes: dict[tuple[int, int, int, int], QBrush] = {}
        self._mask_cache: tuple[object, np.ndarray, np.ndarray] | None = None  # see _selected_mask
        #: The active run's anomaly scores (``AnomalyScores``, seed 003 §VII) or ``None``.
        self._anomaly: Any = None
        self._computing = False

        self._build_controls()
        self._build_plot()
        self._build_layout()
        self._connect()
        self._on_run(models.workspace.run_id)

    # ------------------------------------------------------------ building
    def _build_controls(self) -> None:
        self.method_combo = QComboBox()
        for text, method in METHODS:
            self.method_combo.addItem(text, method)
        self.method_combo.setToolTip(
            "How the clips are placed: PCA (instant), UMAP or t-SNE (computed in the background and "
            "cached), or semantic axes defined by four words"
        )
        self.of_combo = QComboBox()
        self.of_combo.addItem("Clips", "clips")
        self.of_combo.addItem("Classes", "classes")
        self.of_combo.setToolTip("Place every embedded clip, or one point per class (the class mean)")
        self.colour_combo = QComboBox()
        self.colour_combo.setToolTip("What the colours of the points show; the legend names them")
        self.find_edit = QLineEdit()
        self.find_edit.setPlaceholderText("Find class…")
        self.find_edit.setClearButtonEnabled(True)
        self.find_edit.setToolTip(
            "Highlight the classes whose name contains this text; other points are dimmed"
        )
        self.density_button = QToolButton()
        self.density_button.setText("Density")
        self.density_button.setCheckable(True)
        self.density_button.setToolTip(
            "Draw where points are dense as shading under them (helps when zoomed out)"
        )
        self.pan_button = self._tool_button(
            "Pan",
            "Drag the background to pan, wheel to zoom, click a point to select and play it; "
            "drag a point (or the selection) into the Analogy panel",
        )
        self.lasso_button = self._tool_button(
            "Lasso", "Drag a freehand outline to select the points inside it (Shift or Ctrl adds)"
        )
        self.rect_button = self._tool_button(
            "Rectangle", "Drag a rectangle to select the points inside it (Shift or Ctrl adds)"
        )
        self.pan_button.setChecked(True)
        self.tool_group = QButtonGroup(self)
        self.tool_group.setExclusive(True)
        for button in (self.pan_button, self.lasso_button, self.rect_button):
            self.tool_group.addButton(button)
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Zoom to show every point")
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolTip(
            "Save the map as PNG or SVG, or its coordinates or the selection as CSV"
        )
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Image (PNG)…", lambda: self._export_dialog("png"))
        menu.addAction("Vector image (SVG)…", lambda: self._export_dialog("svg"))
        menu.addAction("Coordinates (CSV)…", lambda: self._export_dialog("csv"))
        menu.addAction("Selection (CSV)…", lambda: self._export_dialog("selection"))
        self.export_button.setMenu(menu)

        self.axis_edits = []
        for placeholder, tip, word in zip(
            ("x from", "x to", "y from", "y to"),
            (
                "Word or phrase at the left end of the x axis",
                "Word or phrase at the right end of the x axis",
                "Word or phrase at the bottom of the y axis",
                "Word or phrase at the top of the y axis",
            ),
            DEFAULT_AXES,
            strict=True,
        ):
            edit = QLineEdit(word)
            edit.setPlaceholderText(placeholder)
            edit.setToolTip(tip)
            edit.setMaximumWidth(110)
            edit.returnPressed.connect(self.apply_axes)
            self.axis_edits.append(edit)
        self.axes_apply = QPushButton("Apply")
        self.axes_apply.setToolTip("Place the points by their similarity to the four words (x: A→B, y: C→D)")
        self.axes_error = QLabel()
        self.axes_error.setWordWrap(True)
        self.axes_error.setToolTip("Why the axes could not be used")
        self.axes_error.setForegroundRole(QPalette.ColorRole.Link)

        self.info_label = QLabel()
        self.info_label.setWordWrap(True)
        self.info_label.setTextFormat(Qt.TextFormat.RichText)
        self.info_label.setToolTip(
            "The map's method and size, and how well it keeps the neighbourhoods of the full space "
            "(trustworthiness and the share of 10 nearest neighbours kept)"
        )
        self.missing_label = QLabel()
        self.missing_label.setWordWrap(True)
        self.missing_label.setToolTip(
            "Clips that the Player or the Query panel names but that have no position on this map"
        )
        self.missing_label.hide()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setToolTip("Progress of the map being computed")
        self.progress_bar.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop computing this map (the map shown stays)")
        self.cancel_button.hide()

        self.legend = LegendList()
        self.legend.setToolTip(
            "Colours of the map. Click an entry to highlight its points, double-click to select its clips; "
            "drag a class to the Analogy panel"
        )
        self.legend.setDragEnabled(True)
        self.legend.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.legend.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.legend.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.legend.setUniformItemSizes(True)
        self.legend.setMinimumWidth(120)

    def _tool_button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setCheckable(True)
        button.setAutoRaise(False)
        button.setToolTip(tip)
        return button

    def _build_plot(self) -> None:
        palette = self.palette()
        self.view_box = MapViewBox()
        self.view_box.drag_points = self._drag_points
        self.plot_widget = pg.PlotWidget(
            viewBox=self.view_box, background=palette.color(QPalette.ColorRole.Base)
        )
        self.plot_widget.setToolTip("")
        self.plot_item = self.plot_widget.getPlotItem()
        text_pen = pg.mkPen(palette.color(QPalette.ColorRole.Text))
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(text_pen)
            axis.setTextPen(text_pen)
        self.plot_item.hideButtons()
        self.plot_item.setMenuEnabled(False)
        self.view_box.setAspectLocked(False)

        self.density = pg.ImageItem()
        self.density.setZValue(-10)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        lut = np.zeros((256, 4), dtype=np.ubyte)
        lut[:, 0], lut[:, 1], lut[:, 2] = highlight.red(), highlight.green(), highlight.blue()
        lut[:, 3] = np.linspace(0, 170, 256).astype(np.ubyte)
        self.density.setLookupTable(lut)
        self.density.hide()
        self.view_box.addItem(self.density, ignoreBounds=True)

        self.scatter = pg.ScatterPlotItem(pxMode=True, symbol="o", size=7, pen=None, hoverable=False)
        self.scatter.setZValue(0)
        self.outline = pg.ScatterPlotItem(pxMode=True, symbol="o", brush=None)
        self.outline.setZValue(5)
        self.marker = pg.ScatterPlotItem(pxMode=True, brush=None)
        self.marker.setZValue(10)
        # The Player's clip's prefix track: a line to the clip's point and the playhead's prefix.
        self.track_line = pg.PlotCurveItem(pen=pg.mkPen(QColor(230, 30, 30), width=2))
        self.track_line.setZValue(8)
        self.track_head = pg.ScatterPlotItem(
            pxMode=True,
            symbol="d",
            size=13,
            pen=pg.mkPen(QColor(255, 255, 255), width=1.5),
            brush=pg.mkBrush(QColor(230, 30, 30)),
        )
        self.track_head.setZValue(11)
        self.track_coords = np.zeros((0, 2), dtype=np.float32)  # the track's points on this map
        self._track_drawn_for: tuple[int, str, int] | None = None  # (clip, run, length) drawn
        self.track_label = QLabel()
        self.track_label.setWordWrap(True)
        self.track_label.hide()
        self.track_label.setToolTip(
            "The red line is what the run's encoder has seen of the clip being played, prefix by "
            "prefix, ending at the clip's point; the diamond follows the Player's playhead"
        )
        # No item sets the range (the scatter holds a region, not the map): "Fit" shows the map's
        # bounds, and pyqtgraph's auto-range stays off so a re-render never moves the view.
        self.view_box.disableAutoRange()
        for item in (self.scatter, self.outline, self.marker, self.track_line, self.track_head):
            self.view_box.addItem(item, ignoreBounds=True)
        self._no_pen = pg.mkPen(None)
        self._selection_pen = pg.mkPen(palette.color(QPalette.ColorRole.Highlight), width=2.5)
        self._query_pen = pg.mkPen(QColor(255, 140, 0), width=2.0)
        text = palette.color(QPalette.ColorRole.Text)
        self._marker_pens = (pg.mkPen(text, width=3), pg.mkPen(QColor(230, 30, 30), width=2))
        highlight = palette.color(QPalette.ColorRole.Highlight)
        self.lod = LevelOfDetail(
            self.view_box,
            self._draw_scatter,
            self._draw_outline,
            (highlight.red(), highlight.green(), highlight.blue()),
            self.models.tasks,
        )

        self.hover_card = HoverCard(self.plot_widget)
        # Hover is throttled: at most 30 look-ups a second, however fast the mouse moves.
        self._hover_proxy = pg.SignalProxy(
            self.plot_widget.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved
        )

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.setSpacing(4)
        top.addWidget(self.method_combo)
        top.addWidget(self.of_combo)
        top.addWidget(self.colour_combo)
        top.addWidget(self.find_edit, 1)
        tools = QHBoxLayout()
        tools.setSpacing(4)
        for button in (self.pan_button, self.lasso_button, self.rect_button):
            tools.addWidget(button)
        tools.addSpacing(8)
        tools.addWidget(self.density_button)
        tools.addWidget(self.fit_button)
        tools.addStretch(1)
        tools.addWidget(self.export_button)

        self.axes_row = QWidget()
        axes = QHBoxLayout(self.axes_row)
        axes.setContentsMargins(0, 0, 0, 0)
        axes.setSpacing(4)
        axes.addWidget(QLabel("x:"))
        axes.addWidget(self.axis_edits[0])
        axes.addWidget(QLabel("→"))
        axes.addWidget(self.axis_edits[1])
        axes.addSpacing(8)
        axes.addWidget(QLabel("y:"))
        axes.addWidget(self.axis_edits[2])
        axes.addWidget(QLabel("→"))
        axes.addWidget(self.axis_edits[3])
        axes.addWidget(self.axes_apply)
        axes.addWidget(self.axes_error, 1)
        self.axes_row.hide()

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.plot_widget)
        splitter.addWidget(self.legend)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([600, 150])
        self._splitter = splitter

        bottom = QHBoxLayout()
        bottom.addWidget(self.info_label, 1)
        bottom.addWidget(self.progress_bar)
        bottom.addWidget(self.cancel_button)

        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.setSpacing(4)
        content_layout.addLayout(top)
        content_layout.addLayout(tools)
        content_layout.addWidget(self.axes_row)
        content_layout.addWidget(splitter, 1)
        content_layout.addWidget(self.track_label)
        content_layout.addWidget(self.missing_label)
        content_layout.addLayout(bottom)

        self.stack = MessageStack(content)
        self.message = self.stack.message
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.stack)

    def _connect(self) -> None:
        models = self.models
        self.method_combo.activated.connect(self._on_method_chosen)
        self.of_combo.activated.connect(self._on_of_chosen)
        self.colour_combo.currentIndexChanged.connect(self._recolour)
        self.find_edit.textChanged.connect(self._on_find)
        self.density_button.toggled.connect(self._update_density)
        self.tool_group.buttonToggled.connect(self._on_tool)
        self.fit_button.clicked.connect(lambda: self.fit_view())
        self.axes_apply.clicked.connect(self.apply_axes)
        self.cancel_button.clicked.connect(lambda: models.tasks.cancel(PANEL_ID))
        self.legend.itemClicked.connect(self._on_legend_clicked)
        self.legend.itemDoubleClicked.connect(self._on_legend_double_clicked)
        self.view_box.regionSelected.connect(self.select_region)
        self.view_box.clicked.connect(self._on_clicked)
        # A click on a real point (zoomed in) reaches the scatter first: same handling, which
        # finds the point under the cursor in either level of detail.
        self.scatter.sigClicked.connect(
            lambda _item, _points, ev: self._on_clicked(ev.scenePos(), ev.modifiers())
        )
        self.view_box.sigRangeChanged.connect(lambda *_: self.hover_card.hide())
        models.workspace.runChanged.connect(self._on_run)
        models.selection.changed.connect(lambda *_: self._update_outline())
        models.current_clip.changed.connect(lambda *_: self._on_current_clip())
        models.track.trackChanged.connect(lambda *_: self._update_track())
        models.track.stepChanged.connect(lambda *_: self._update_track_head())
        models.query.changed.connect(self._on_query)
        models.thumbnails.ready.connect(self._on_thumbnail)

    # ------------------------------------------------------------ public API
    def point_index(self, point_id: int) -> int | None:
        """The row of a point (clip or class id) on the current map."""
        if not 0 <= point_id < len(self._row_of_id):
            return None
        row = int(self._row_of_id[point_id])
        return row if row >= 0 else None

    def fit_view(self) -> None:
        """Zoom to show every point."""
        if len(self.ids):
            self.view_box.setRange(self.lod.data_rect(), padding=0.04)
            if self.lod.needs_refresh():
                self.lod.refresh()

    def render_mode(self) -> str:
        """How the map is drawn now: ``"points"`` (real markers), ``"aggregate"`` (an image of
        per-pixel counts and colours) or ``"empty"``."""
        return self.lod.mode

    def aggregate_image(self) -> np.ndarray | None:
        """The RGBA image shown in aggregate mode (row 0 at the bottom), else ``None``."""
        image = self.lod.image.image
        return None if self.lod.mode != "aggregate" or image is None else np.asarray(image)

    def legend_labels(self) -> list[str]:
        """The legend's entries as shown."""
        return [self.legend.item(i).text() for i in range(self.legend.count())]

    def set_colouring(self, key: str) -> None:
        """Colour by ``"class"``, ``"verb"``, ``"noun"``, ``"split:<name>"``, ``"score"`` or
        ``"anomaly"`` (offered only where the active run has anomaly scores)."""
        index = self.colour_combo.findData(key)
        if index < 0:
            raise KeyError(key)
        self.colour_combo.setCurrentIndex(index)

    def select_region(self, polygon: np.ndarray, additive: bool = False) -> None:
        """Select the clips of the points inside ``polygon`` (view coordinates)."""
        index = self._prepared.index if self._prepared is not None else None
        if index is not None and index.size == len(self.coords):
            inside = index.inside(polygon)
        else:  # a map streamed while it converges has no index yet
            inside = points_in_polygon(self.coords, polygon)
        clip_ids = self._clips_of_rows(np.flatnonzero(inside))  # sorted int64: taken as is
        if additive:
            self.models.selection.add(clip_ids, PANEL_ID)
        else:
            self.models.selection.set(clip_ids, PANEL_ID)

    def apply_axes(self) -> None:
        """Compute the semantic-axes map from the four words in the axis boxes."""
        words = [edit.text().strip() for edit in self.axis_edits]
        if not all(words):
            self.axes_error.setText("Give a word or phrase for each of the four axis ends.")
            return
        space = self._space()
        if space is None:
            return
        self.axes_error.clear()
        self._select_method_in_combo("axes")
        task = self.models.tasks.start(
            PANEL_ID, "Placing clips on semantic axes", compute_axes, space, self.of, tuple(words)
        )
        self._watch(task, axes=True)

    def export_image(self, path: str | Path) -> None:
        """Save the plot as PNG, or as SVG when ``path`` ends with ``.svg``."""
        path = Path(path)
        if path.suffix.lower() == ".svg":
            # Qt's own SVG generator: pyqtgraph's SVGExporter cannot parse the paths Qt 6.12 writes.
            from PySide6.QtGui import QPainter
            from PySide6.QtSvg import QSvgGenerator

            size = self.plot_widget.size()
            with atomic_path(path, suffix=".svg") as tmp:
                generator = QSvgGenerator()
                generator.setFileName(str(tmp))
                generator.setSize(size)
                generator.setViewBox(self.plot_widget.rect())
                generator.setTitle("ActionLens map")
                painter = QPainter(generator)
                try:
                    self.plot_widget.render(painter)
                finally:
                    painter.end()
        else:
            import pyqtgraph.exporters as exporters

            exporter = exporters.ImageExporter(self.plot_item)
            exporter.parameters()["width"] = max(
                1200, int(self.plot_widget.width() * self.devicePixelRatioF())
            )
            with atomic_path(path, suffix=path.suffix or ".png") as tmp:
                exporter.export(str(tmp))

    def export_csv(self, path: str | Path, only_selected: bool = False) -> int:
        """Write the map's coordinates (or only the selected points) as CSV; returns the rows."""
        selected_rows = self._selected_rows()
        wm = self.models.workspace
        all_classes = wm.classes()
        phrase_of = {cid: (c.phrase or c.name) for cid, c in all_classes.items()}
        classes = [phrase_of.get(c, "") for c in self._point_classes.tolist()]
        ws = wm.workspace
        if self.of == "clips" and ws is not None:
            names = ws.catalog.clip_names(self.ids)
        else:
            names = list(classes)
        return write_map_csv(
            path, self.ids, self.coords, names, classes, self.ids[selected_rows].tolist(), only_selected
        )

    def shutdown(self) -> None:
        """Stop a map being computed (the window is closing)."""
        self.models.tasks.cancel(PANEL_ID)
        self.models.tasks.cancel(TRACK_TASK)

    # ------------------------------------------------------------ workspace and maps
    def _space(self) -> Any:
        try:
            return self.models.workspace.space()
        except Exception as exc:  # damaged embeddings: say so in the panel
            self._show_message(f"Cannot read this run's embeddings: {exc}")
            return None

    def _show_message(self, text: str) -> None:
        self.stack.show_message(text)

    def _on_run(self, run_id: str | None) -> None:
        self.models.tasks.cancel(PANEL_ID)
        self.models.tasks.cancel(ANOMALY_TASK)
        self._anomaly = None
        self._clear_points()
        ws = self.models.workspace.workspace
        if ws is None:
            self._show_message("Open a workspace (File ▸ Open) to see its clips on a map.")
            return
        if run_id is None:
            self._show_message(
                "No embeddings in this workspace yet, so there is nothing to place on a map. Run\n"
                f"actionlens train --workspace {ws.root}\nactionlens embed --workspace {ws.root} --run RUN"
            )
            return
        self._fill_colour_combo()
        anomaly_task = self.models.tasks.start(
            ANOMALY_TASK, "Reading anomaly scores", load_anomaly_scores, ws, run_id, quiet=True
        )
        anomaly_task.finished.connect(self._on_anomaly_scores)
        phrases = sorted(
            {c.phrase or c.name for c in self.models.workspace.classes().values()}, key=str.lower
        )
        completer = QCompleter(phrases, self.find_edit)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.find_edit.setCompleter(completer)
        self._show_message("Loading the map…")
        task = self.models.tasks.start(
            PANEL_ID,
            "Loading the map",
            load_first_map,
            ws,
            run_id,
            self.of,
            self._space(),
            quiet=True,
            urgent=True,  # what the user waits for: never behind the other panels' tasks
        )
        self._watch(task)

    def _request_map(self, method: str) -> None:
        ws, run_id = self.models.workspace.workspace, self.models.workspace.run_id
        if ws is None or run_id is None:
            return
        if method == "axes":
            self.apply_axes()
            return
        title = f"Computing the {METHOD_NAMES.get(method, method)} map of the {self.of}"
        task = self.models.tasks.start(
            PANEL_ID, title, load_or_compute, ws, run_id, method, self.of, quiet=method == "pca"
        )
        self._watch(task)

    def _watch(self, task: Any, axes: bool = False) -> None:
        self._computing = True
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.cancel_button.show()
        self._set_info_busy(task.title)
        task.progressChanged.connect(self._on_progress)
        task.partialResult.connect(self._on_partial)
        task.finished.connect(self._on_map)
        task.failed.connect(lambda exc: self._on_failed(exc, axes))
        task.done.connect(self._on_task_done)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(int(fraction * 1000))
        self.progress_bar.setToolTip(f"{message} ({fraction:.0%})")

    def _on_task_done(self) -> None:
        if self.models.tasks.task(PANEL_ID) is None:
            self._computing = False
            self.progress_bar.hide()
            self.cancel_button.hide()
            if self.map is not None:
                self._update_info()

    def _on_partial(self, partial: PreparedMap | tuple[np.ndarray, np.ndarray]) -> None:
        if isinstance(partial, PreparedMap):  # the map, ready to draw (its index follows)
            self._on_map(partial)
            return
        ids, coords = partial
        self._set_points(np.asarray(ids), np.asarray(coords), self.of, fit=True)

    def _on_map(self, prepared: PreparedMap) -> None:
        if prepared is self._prepared:
            # The map drawn from a partial result, again: now with its point index (the lasso
            # and hover use it), or its quality figure (the info line shows it).
            self.map = prepared.map
            self._refresh_info()
            return
        result = prepared.map
        self.map = result
        self._select_method_in_combo(result.method)
        of_index = self.of_combo.findData(result.of)
        self.of_combo.setCurrentIndex(of_index)
        self._set_points(result.ids, result.coords, result.of, prepared, fit=True)
        self._set_axis_labels(result)
        self._refresh_info()
        self._update_track()
        self.axes_row.setVisible(result.method == "axes" or self.method_combo.currentData() == "axes")

    def _on_failed(self, exc: BaseException, axes: bool) -> None:
        if axes:
            self.axes_error.setText(str(exc))
        if self.map is None:
            self._show_message(f"Cannot show a map: {exc}")
        else:
            self.info_label.setText(f"<b>Cannot compute that map:</b> {exc}")
            self._select_method_in_combo(self.map.method)
            if not axes:
                self.axes_row.setVisible(self.map.method == "axes")

    def _on_method_chosen(self) -> None:
        method = self.method_combo.currentData()
        self.axes_row.setVisible(method == "axes")
        if method == "axes" and (self.map is None or self.map.method != "axes"):
            self.axes_error.setText("Enter four words, then Apply.")
            return
        if method != "axes":
            self._request_map(method)

    def _on_of_chosen(self) -> None:
        self.of = self.of_combo.currentData()
        self._fill_colour_combo()
        method = self.method_combo.currentData()
        self._request_map(method or "pca")

    def _select_method_in_combo(self, method: str) -> None:
        index = self.method_combo.findData(method)
        if index < 0:
            self.method_combo.addItem(METHOD_NAMES.get(method, method), method)
            index = self.method_combo.count() - 1
        self.method_combo.setCurrentIndex(index)

    def _set_info_busy(self, title: str) -> None:
        if self.map is not None:
            self.info_label.setText(f"{self._describe_map()} · <i>{title}…</i>")

    def _describe_map(self) -> str:
        result = self.map
        if result is None:
            return ""
        what = "clips" if result.of == "clips" else "classes"
        shown = len(result)
        total = self._prepared.embedded if self._prepared is not None else shown
        size = f"{shown:,} {what}" if shown >= total else f"{shown:,} of {total:,} {what}"
        parts = [f"<b>{METHOD_NAMES.get(result.method, result.method)}</b> of {size}"]
        placement = getattr(result, "placement", None)
        if placement:
            fitted, placed = placement.get("fitted"), placement.get("placed")
            if placed:
                parts.append(
                    f"fitted on {fitted:,} random {what}, the other {placed:,} placed by "
                    f"{placement.get('placed_by', 'the layout')}"
                )
        quality = result.quality or {}
        if "trustworthiness" in quality:
            sampled = f", on {quality.get('sampled_points')} sampled points" if quality.get("sampled") else ""
            parts.append(
                f"trustworthiness {quality['trustworthiness']:.2f}, "
                f"{quality.get('knn_preservation', 0.0):.0%} of {quality.get('k', 10)} nearest neighbours kept{sampled}"
            )
        elif quality.get("note"):
            parts.append(str(quality["note"]))
        if "explained_variance_ratio" in quality:
            ratios = quality["explained_variance_ratio"]
            parts.append(f"variance explained {sum(ratios):.0%}")
        if "axes_cosine" in quality:
            parts.append(f"cosine between the axes {quality['axes_cosine']:.2f}")
        text = " · ".join(parts)
        if shown < total:
            reason = (result.subsampled or {}).get("reason")
            text += (
                f"<br><b>Not every {what[:-1]} is on this map:</b> it shows {shown:,} of {total:,}"
                + (f" ({reason})" if reason else "")
                + "; the others have no position on it"
            )
        return text

    def _update_info(self) -> None:
        self.info_label.setText(self._describe_map())

    def _refresh_info(self) -> None:
        """The map's description, marked busy while its task still runs (its index or quality
        figure to come)."""
        task = self.models.tasks.task(PANEL_ID)
        if task is not None:
            self._set_info_busy(task.title)
        else:
            self._update_info()

    def _set_axis_labels(self, result: Any) -> None:
        if result.method == "axes":
            a, b, c, d = (result.params.get("axes") or DEFAULT_AXES)[:4]
            for edit, word in zip(self.axis_edits, (a, b, c, d), strict=True):
                edit.setText(word)
            self.plot_item.setLabel("bottom", f"{a} → {b}")
            self.plot_item.setLabel("left", f"{c} → {d}")
        else:
            name = METHOD_NAMES.get(result.method, result.method)
            ratios = (result.quality or {}).get("explained_variance_ratio")
            if ratios:
                self.plot_item.setLabel("bottom", f"{name} 1 ({ratios[0]:.0%})")
                self.plot_item.setLabel("left", f"{name} 2 ({ratios[1]:.0%})")
            else:
                self.plot_item.setLabel("bottom", f"{name} 1")
                self.plot_item.setLabel("left", f"{name} 2")

    # ------------------------------------------------------------ points
    def _clear_points(self) -> None:
        self.map = None
        self._prepared = None
        self.ids = np.zeros(0, dtype=np.int64)
        self.coords = np.zeros((0, 2), dtype=np.float32)
        self._point_classes = np.zeros(0, dtype=np.int64)
        self._clips_of_class = None
        self._row_of_id = np.zeros(0, dtype=np.int64)
        self._query_rows = np.zeros(0, dtype=np.int64)
        self._indexed_of = ""
        self.lod.set_points(self.coords)
        self.lod.refresh()
        self.scatter.clear()
        self.outline.clear()
        self.marker.clear()
        self.models.tasks.cancel(TRACK_TASK)
        self.track_coords = np.zeros((0, 2), dtype=np.float32)
        self._track_drawn_for = None
        self.track_line.setData([], [])
        self.track_head.clear()
        self.density.hide()
        self.legend.clear()
        self.hover_card.hide()
        self.info_label.clear()
        self.missing_label.hide()

    def _set_points(
        self,
        ids: np.ndarray,
        coords: np.ndarray,
        of: str,
        prepared: PreparedMap | None = None,
        fit: bool = False,
    ) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        same_points = (
            of == self._indexed_of and len(ids) == len(self.ids) and bool(np.array_equal(ids, self.ids))
        )
        self.of = self._indexed_of = of
        self.ids = ids
        self.coords = np.ascontiguousarray(coords, dtype=np.float32).reshape(-1, 2)
        if prepared is not None:
            self._prepared = prepared
        elif not same_points:
            self._prepared = None  # a streamed layout of other points: the old index does not fit
        if not same_points or prepared is not None:
            self._index_points()
        self.lod.set_points(self.coords)
        if fit and len(self.ids):  # before colouring, so the map is rendered once, for the new view
            self.view_box.setRange(self.lod.data_rect(), padding=0.04)
        self.stack.show_content()
        self._recolour()
        self._update_density()

    def _index_points(self) -> None:
        """Per point: its class; by point id: its row; on a class-means map, each class's clips."""
        ids = self.ids
        prepared = self._prepared
        if prepared is not None and len(prepared.class_of_point) == len(ids):
            self._row_of_id, self._ids_sorted = prepared.row_of_id, prepared.ids_sorted
            self._point_classes = prepared.class_of_point
            self._clips_of_class = prepared.clips_of_class
            return
        self._row_of_id, self._ids_sorted = row_lookup(ids)
        if self.of == "clips":
            class_id = self._clip_class()
            known = (ids >= 0) & (ids < len(class_id))
            self._point_classes = np.full(len(ids), -1, dtype=np.int64)
            self._point_classes[known] = class_id[ids[known]]
            self._clips_of_class = None
        else:
            self._point_classes = ids.copy()
            space = self._space()
            class_id = self._clip_class()
            embedded = space.embedded_clip_ids if space is not None else np.arange(len(class_id))
            of_clip = class_id[embedded]
            self._clips_of_class = {int(c): embedded[of_clip == c] for c in ids.tolist()}

    def _clips_of_rows(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """The clip ids the points of ``rows`` stand for (sorted, without repeats)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros(0, dtype=np.int64)
        # A map's point ids are distinct and a clip is in one class only: sorting is enough
        # (np.unique of half a million ids took 1.3 s here, a sort 40 ms).
        if self._clips_of_class is None:
            clip_ids = self.ids[_distinct(rows, len(self.ids))]
            return clip_ids if self._ids_sorted else np.sort(clip_ids)
        parts = [
            self._clips_of_class.get(int(c), np.zeros(0, dtype=np.int64)) for c in self.ids[rows].tolist()
        ]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def _clip_class(self) -> np.ndarray:
        """int64 by clip id: each clip's class (-1: none), read in the map's task when it can be."""
        if self._prepared is not None:
            return self._prepared.clip_class
        return self.models.workspace.clip_columns().class_id

    def _clip_rows(self, clip_ids: np.ndarray) -> np.ndarray:
        """Rows of the points that stand for any of ``clip_ids`` (a clip's point, or its class's)."""
        clip_ids = np.asarray(clip_ids, dtype=np.int64)
        if self._clips_of_class is not None:
            class_id = self._clip_class()
            clip_ids = clip_ids[(clip_ids >= 0) & (clip_ids < len(class_id))]
            classes = class_id[clip_ids]
            point_ids = _distinct(classes[classes >= 0], int(classes.max(initial=-1)) + 1)
        else:
            point_ids = clip_ids
        point_ids = point_ids[(point_ids >= 0) & (point_ids < len(self._row_of_id))]
        rows = self._row_of_id[point_ids]
        return _distinct(rows[rows >= 0], len(self.ids))

    def _selected_mask(self) -> np.ndarray:
        """A bool mask over the points: those of the selected clips. The same array while
        neither the selection nor the map changes (a recolour reuses it, and the level of detail
        then keeps the highlight it drew for it)."""
        key = (self.models.selection.clip_ids, self.ids)
        cached = self._mask_cache
        if cached is not None and cached[0] is key[0] and cached[1] is key[1]:
            return cached[2]
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[self._selected_rows()] = True
        self._mask_cache = (key[0], key[1], mask)
        return mask

    def _selected_rows(self) -> np.ndarray:
        selected = self.models.selection.ids  # a sorted int64 array: no Python int per clip
        if not len(selected) or not len(self.ids):
            return np.zeros(0, dtype=np.int64)
        return self._clip_rows(selected)

    # ------------------------------------------------------------ colouring
    def _fill_colour_combo(self) -> None:
        current = self.colour_combo.currentData() or "class"
        self.colour_combo.blockSignals(True)
        self.colour_combo.clear()
        self.colour_combo.addItem("Colour by class", "class")
        self.colour_combo.addItem("Colour by verb", "verb")
        self.colour_combo.addItem("Colour by noun", "noun")
        ws = self.models.workspace.workspace
        splits = ws.catalog.split_names() if ws is not None else []
        for split in splits:
            self.colour_combo.addItem(f"Colour by split {split}", f"split:{split}")
        self.colour_combo.addItem("Colour by query score", "score")
        if self._anomaly is not None:  # only where the workspace has scores for this run
            self.colour_combo.addItem("Colour by anomaly score", "anomaly")
        index = self.colour_combo.findData(current)
        self.colour_combo.setCurrentIndex(max(0, index))
        self.colour_combo.blockSignals(False)

    def _brush(self, colour: QColor) -> QBrush:
        key = (colour.red(), colour.green(), colour.blue(), colour.alpha())
        brush = self._brushes.get(key)
        if brush is None:
            brush = self._brushes[key] = QBrush(colour)
        return brush

    def _categorical_groups(self, key: str) -> tuple[list[ColourGroup], np.ndarray] | None:
        """Legend groups and each point's group, as arrays (one label per class, not per point);
        ``None`` while a split's roles are being read (a task recolours when they arrive)."""
        if key.startswith("split:"):
            split = key.split(":", 1)[1]
            codes = self._split_codes(split)
            if codes is None:
                return None
            return split_groups(self.ids, codes, self._clips_of_class)
        return class_groups(key, self._point_classes, self.models.workspace.classes())

    def _split_codes(self, split: str) -> np.ndarray | None:
        """``split``'s role codes by clip id, or ``None`` after starting the task that reads
        them (a second at a million clips: never on the GUI thread)."""
        prepared = self._prepared
        if prepared is None:  # a streamed layout before its map: the model's cache, read once
            return self.models.workspace.split_role_codes(split)
        codes = prepared.split_codes.get(split)
        if codes is None:
            running = self.models.tasks.task(SPLIT_TASK)
            if running is None or running.title != split:
                task = self.models.tasks.start(
                    SPLIT_TASK, split, read_split_codes, prepared, split, quiet=True
                )
                task.finished.connect(lambda _codes, p=prepared: self._on_split_codes(p))
            self.info_label.setText(f"{self._describe_map()} · <i>reading the roles of split {split}…</i>")
        return codes

    def _on_split_codes(self, prepared: PreparedMap) -> None:
        if prepared is self._prepared and (self.colour_combo.currentData() or "").startswith("split:"):
            self._recolour()
            self._update_info()

    def _query_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The query's scored clip ids and their scores, as arrays."""
        scores = self.models.query.scores
        clip_ids = np.fromiter(scores.keys(), dtype=np.int64, count=len(scores))
        values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
        return clip_ids, values

    def _point_scores_of(self, clip_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Each point's score: its clip's, or the highest of a class point's clips (NaN: none)."""
        point_scores = np.full(len(self.ids), np.nan)
        if not len(clip_ids) or not len(self.ids):
            return point_scores
        if self._clips_of_class is None:
            inside = (clip_ids >= 0) & (clip_ids < len(self._row_of_id))
            rows = np.full(len(clip_ids), -1, dtype=np.int64)
            rows[inside] = self._row_of_id[clip_ids[inside]]
            on_map = rows >= 0
            point_scores[rows[on_map]] = values[on_map]
            return point_scores
        class_id = self._clip_class()
        known = (clip_ids >= 0) & (clip_ids < len(class_id))
        classes = class_id[clip_ids[known]]
        inside = (classes >= 0) & (classes < len(self._row_of_id))
        rows = np.full(len(classes), -1, dtype=np.int64)
        rows[inside] = self._row_of_id[classes[inside]]
        on_map = rows >= 0
        best = np.full(len(self.ids), -np.inf)
        np.maximum.at(best, rows[on_map], values[known][on_map])
        point_scores[np.isfinite(best)] = best[np.isfinite(best)]
        return point_scores

    def _score_groups(self) -> tuple[list[ColourGroup], np.ndarray]:
        return level_groups(self._point_scores_of(*self._query_arrays()), "score", "viridis", ".3f")

    def _on_anomaly_scores(self, scores: Any) -> None:
        if self.models.workspace.run_id is None:
            return
        self._anomaly = scores
        self._fill_colour_combo()
        if self.colour_combo.currentData() == "anomaly" or scores is None:
            self._recolour()

    def _anomaly_point_scores(self) -> np.ndarray:
        """Each point's anomaly score: its clip's, or the highest of a class point's clips."""
        if self._anomaly is None:
            return np.full(len(self.ids), np.nan)
        if self._clips_of_class is None:
            return np.asarray(self._anomaly.of(self.ids), dtype=np.float64)
        clip_ids = np.asarray(self._anomaly.clip_ids, dtype=np.int64)
        values = np.asarray(self._anomaly.of(clip_ids), dtype=np.float64)
        known = ~np.isnan(values)
        return self._point_scores_of(clip_ids[known], values[known])

    def _recolour(self) -> None:
        key = self.colour_combo.currentData() or "class"
        if key == "score":
            self._groups, self._group_of_point = self._score_groups()
        elif key == "anomaly":
            self._groups, self._group_of_point = level_groups(
                self._anomaly_point_scores(), "anomaly", "inferno", ".4g"
            )
        else:
            groups = self._categorical_groups(key)
            if groups is None:  # a split's roles are being read: the colours stay until then
                return
            self._groups, self._group_of_point = groups
        self._legend_group = None
        self._fill_legend(key)
        self._compute_emphasis()
        self._draw_points()

    def _fill_legend(self, key: str) -> None:
        fill_legend(
            self.legend,
            self._groups,
            key,
            self.devicePixelRatioF(),
            bool(self.models.query.scores),
            self._anomaly,
        )
        self._fit_legend()

    def _fit_legend(self) -> None:
        """Widen the legend to its longest name (up to a share of the panel; longer ones scroll)."""
        total = sum(self._splitter.sizes())
        if total <= 0:
            return
        width = min(self.legend.needed_width(), int(total * LegendList.MAX_SHARE))
        if self._splitter.sizes()[1] < width:
            self._splitter.setSizes([total - width, width])

    def _compute_emphasis(self) -> None:
        text = self.find_edit.text().strip().lower()
        if text:
            classes = self.models.workspace.classes()
            matching = {
                cid
                for cid, c in classes.items()
                if text in (c.phrase or "").lower() or text in c.name.lower()
            }
            self._emphasis = np.isin(
                self._point_classes, np.fromiter(matching, dtype=np.int64, count=len(matching))
            )
        elif self._legend_group is not None:
            self._emphasis = self._group_of_point == self._legend_group
        else:
            self._emphasis = None

    def _point_size(self) -> int:
        return 6 if len(self.ids) > 3000 else 8 if self.of == "clips" else 14

    def _draw_points(self) -> None:
        """Hand the colours to the level-of-detail layer, which draws the view (points or image)."""
        rgb = np.array(
            [(g.colour.red(), g.colour.green(), g.colour.blue()) for g in self._groups], dtype=np.float64
        ).reshape(-1, 3)
        self._full_brushes = [self._brush(g.colour) for g in self._groups]
        self._dim_brushes = [self._brush(dimmed(g.colour)) for g in self._groups]
        self.lod.set_style(self._group_of_point, rgb, self._emphasis)
        self._update_outline()
        self._update_marker()

    def _draw_scatter(self, rows: np.ndarray | None) -> None:
        """Draw these rows as real points (the zoomed-in level of detail); ``None``: none."""
        if rows is None or not len(rows) or not len(self._group_of_point):
            self.scatter.clear()
            return
        groups = self._group_of_point[rows]
        size = self._point_size()
        sizes = np.full(len(rows), size, dtype=np.float32)
        if self._emphasis is not None:
            keep = self._emphasis[rows]
            # Emphasised points are drawn last, so the dimmed ones never cover them.
            order = np.argsort(keep, kind="stable")
            rows, groups, keep = rows[order], groups[order], keep[order]
            brushes = [
                (self._full_brushes if k else self._dim_brushes)[g]
                for g, k in zip(groups.tolist(), keep.tolist(), strict=True)
            ]
            sizes[keep] = size + 3
        else:
            brushes = [self._full_brushes[g] for g in groups.tolist()]
        self.scatter.setData(
            x=self.coords[rows, 0],
            y=self.coords[rows, 1],
            data=self.ids[rows],
            brush=brushes,
            size=sizes,
            pen=self._no_pen,
        )

    def _update_outline(self) -> None:
        """Outline the selected points (a highlight image when there are many in view) and the
        query's best results, and say which of those are not on this map."""
        if not len(self.ids):
            self.lod.set_selected(None)
            self.outline.clear()
            return
        mask = self._selected_mask()
        clip_ids, values = self._query_arrays()
        best = clip_ids[np.argsort(-values, kind="stable")[:QUERY_HIGHLIGHT]]
        self._query_rows = self._clip_rows(best)
        self.lod.set_selected(mask)  # calls _draw_outline with the selected rows in view
        if not mask.any():
            self._draw_outline(None)
        self._update_missing()

    def _draw_outline(self, selected_rows: np.ndarray | None) -> None:
        """Outline ``selected_rows`` (``None``: the selection is drawn as an image, or is empty)
        and the query's best results."""
        selected = np.zeros(0, dtype=np.int64) if selected_rows is None else np.asarray(selected_rows)
        query = np.setdiff1d(self._query_rows, selected)
        if not len(selected) and not len(query):
            self.outline.clear()
            return
        rows = np.concatenate([selected, query])
        base = self._point_size()
        n = len(selected)
        self.outline.setData(
            x=self.coords[rows, 0],
            y=self.coords[rows, 1],
            pen=[self._selection_pen] * n + [self._query_pen] * len(query),
            brush=None,
            size=[base + 6] * n + [base + 4] * len(query),
            symbol=["o"] * n + ["s"] * len(query),
        )

    def _current_row(self) -> int | None:
        """The row of the point of the clip being played (its class's on a class-means map)."""
        clip_id = self.models.current_clip.clip_id
        if clip_id is None or not len(self.ids):
            return None
        rows = self._clip_rows(np.array([clip_id], dtype=np.int64))
        return int(rows[0]) if len(rows) else None

    def _on_current_clip(self) -> None:
        self._update_marker()
        self._update_missing()

    def _update_marker(self) -> None:
        """Mark the point of the clip being played (a ring with a cross)."""
        row = self._current_row()
        if row is None:
            self.marker.clear()
            return
        x, y = float(self.coords[row, 0]), float(self.coords[row, 1])
        self.marker.setData(
            x=[x, x], y=[y, y], symbol=["o", "+"], size=[22, 14], pen=list(self._marker_pens), brush=None
        )

    def _update_missing(self) -> None:
        """A note when the clip being played or some of the query's best hits are not on the map."""
        notes = []
        if self.map is not None and len(self.ids):
            clip_id = self.models.current_clip.clip_id
            if clip_id is not None and self._current_row() is None:
                notes.append(f"The clip being played ({self._clip_label(clip_id)}) is not on this map.")
            clip_ids, values = self._query_arrays()
            if len(clip_ids):
                best = clip_ids[np.argsort(-values, kind="stable")[:QUERY_HIGHLIGHT]]
                off = [int(c) for c in best if not len(self._clip_rows(np.array([c], dtype=np.int64)))]
                if off:
                    notes.append(
                        f"{len(off)} of the query's {len(best)} best hits are not on this map "
                        f"(the best of them: {self._clip_label(off[0])})."
                    )
        self.missing_label.setText(" ".join(notes))
        self.missing_label.setVisible(bool(notes))

    def _clip_label(self, clip_id: int) -> str:
        """A clip's class phrase and name, by id look-ups (never the whole catalog)."""
        ws = self.models.workspace.workspace
        if ws is None:
            return f"clip {clip_id}"
        try:
            name = ws.catalog.clip_names([int(clip_id)])[0]
        except KeyError:
            return f"clip {clip_id}"
        class_id = self._clip_class()
        cls = (
            self.models.workspace.classes().get(int(class_id[clip_id]))
            if 0 <= clip_id < len(class_id)
            else None
        )
        return f"{cls.phrase} · {name}" if cls is not None else name

    def _update_track(self) -> None:
        """Place the Player's prefix track on this map (in a task), or say why there is none."""
        from desktop_app.analysis.temporal import ClipTrack

        self.models.tasks.cancel(TRACK_TASK)
        track = self.models.track.track
        drawn = self._track_drawn_for
        if not (isinstance(track, ClipTrack) and drawn == (track.clip_id, track.run_id, len(track))):
            # Another clip: clear the old line (the same clip's track, recomputed with its verbs,
            # stays drawn until it is placed again).
            self.track_coords = np.zeros((0, 2), dtype=np.float32)
            self.track_line.setData([], [])
            self.track_head.clear()
            self._track_drawn_for = None
        self.track_label.setVisible(track is not None)
        if isinstance(track, str):
            self.track_label.setText(f"No track over time: {track}")
            return
        space = self._space() if isinstance(track, ClipTrack) else None
        if not isinstance(track, ClipTrack) or space is None or self.map is None or not len(self.ids):
            self.track_label.setText("")
            return
        if track.run_id != space.run_id:
            return
        self.track_label.setText("Placing the track on the map…")
        task = self.models.tasks.start(
            TRACK_TASK,
            "Placing the track",
            place_track,
            space,
            self.of,
            self.ids,
            self.coords,
            track,
            quiet=True,
        )
        task.finished.connect(lambda placed: self._on_track_placed(track, placed))
        task.failed.connect(lambda exc: self.track_label.setText(f"The track cannot be placed: {exc}"))

    def _on_track_placed(self, track: Any, placed: Any) -> None:
        shown: Any = self.models.track.track
        if track is not shown:  # the Player moved on to another clip meanwhile
            return
        self.track_coords = np.ascontiguousarray(placed.coords, dtype=np.float32)
        self._track_drawn_for = (track.clip_id, track.run_id, len(track))
        self.track_line.setData(self.track_coords[:, 0], self.track_coords[:, 1])
        how = (
            "projected with the map's linear map"
            if placed.method == "linear"
            else "placed among its nearest points"
        )
        self.track_label.setText(
            f"Track: {len(track)} prefixes of the clip ({track.how}), {how}; the diamond follows the playhead"
        )
        self._update_track_head()

    def _update_track_head(self) -> None:
        step = self.models.track.step
        if not 0 <= step < len(self.track_coords):
            self.track_head.clear()
            return
        x, y = float(self.track_coords[step, 0]), float(self.track_coords[step, 1])
        self.track_head.setData(x=[x], y=[y])

    def track_head_position(self) -> tuple[float, float] | None:
        """Where the marker of the playhead's prefix is (view coordinates), or ``None``."""
        x, y = self.track_head.getData()
        return (float(x[0]), float(y[0])) if len(x) else None

    def marker_position(self) -> tuple[float, float] | None:
        """Where the mark of the clip being played is (view coordinates), or ``None``."""
        x, y = self.marker.getData()
        return (float(x[0]), float(y[0])) if len(x) else None

    def _update_density(self) -> None:
        if not self.density_button.isChecked() or not len(self.ids):
            self.density.hide()
            return
        image, (x0, y0, w, h) = density_image(self.coords, bins=128 if len(self.ids) > 2000 else 64)
        self.density.setImage(image, levels=(0.0, max(float(image.max()), 1e-6)), autoLevels=False)
        self.density.setRect(QRectF(x0, y0, w, h))
        self.density.show()

    # ------------------------------------------------------------ interaction
    def _on_find(self) -> None:
        self._legend_group = None
        self._compute_emphasis()
        self._draw_points()

    def _on_tool(self) -> None:
        button = self.tool_group.checkedButton()
        self.view_box.tool = (
            "lasso" if button is self.lasso_button else "rect" if button is self.rect_button else "pan"
        )

    def _on_legend_clicked(self, item: QListWidgetItem) -> None:
        group = item.data(LEGEND_ROLE)
        if group is None:
            return
        self._legend_group = None if self._legend_group == group else int(group)
        if self._legend_group is None:
            self.legend.clearSelection()
        if self.find_edit.text():
            self.find_edit.blockSignals(True)
            self.find_edit.clear()
            self.find_edit.blockSignals(False)
        self._compute_emphasis()
        self._draw_points()

    def _on_legend_double_clicked(self, item: QListWidgetItem) -> None:
        group = item.data(LEGEND_ROLE)
        if group is not None:
            self.models.selection.set(
                self._clips_of_rows(np.flatnonzero(self._group_of_point == group)), PANEL_ID
            )

    def drag_operands_at(self, scene_pos: QPointF) -> list[dict[str, Any]]:
        """The analogy operands a drag starting at ``scene_pos`` carries: the point under it, or
        every selected point when it is one of them (clips, or classes on a class-means map)."""
        row = self._nearest_row(scene_pos)
        if row is None:
            return []
        selected = self._selected_rows()
        rows = selected.tolist() if bool(np.isin(row, selected)) else [row]
        if self.of == "classes":
            by_id = self.models.workspace.classes()
            return [
                {"kind": "class", "id": int(self.ids[r]), "label": by_id[int(self.ids[r])].phrase}
                for r in rows
                if int(self.ids[r]) in by_id
            ]
        return [
            {"kind": "clip", "id": int(self.ids[r]), "label": self._clip_label(int(self.ids[r]))}
            for r in rows
        ]

    def _drag_points(self, scene_pos: QPointF) -> bool:
        operands = self.drag_operands_at(scene_pos)
        if not operands:
            return False
        drag = QDrag(self.plot_widget)
        drag.setMimeData(operands_mime_data(operands))
        drag.exec(Qt.DropAction.CopyAction)
        return True

    def _on_clicked(self, scene_pos: QPointF, modifiers: Any) -> None:
        """A click selects (and plays) the point under it, or clears the selection in empty space."""
        row = self._nearest_row(scene_pos)
        if row is None:
            self.models.selection.clear(PANEL_ID)
            return
        point_id = int(self.ids[row])
        clip_ids = self._clips_of_rows([row])
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            current = self.models.selection.clip_ids
            if bool(np.all(current.contains(clip_ids))):
                self.models.selection.remove(clip_ids, PANEL_ID)
            else:
                self.models.selection.add(clip_ids, PANEL_ID)
            return
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            self.models.selection.add(clip_ids, PANEL_ID)
        else:
            self.models.selection.set(clip_ids, PANEL_ID)
        if self.of == "clips":
            self.models.current_clip.set(point_id, PANEL_ID)
        elif len(clip_ids):
            self.models.current_clip.set(int(clip_ids[0]), PANEL_ID)

    def _on_query(self, _source: str) -> None:
        if self.colour_combo.currentData() == "score":
            self._recolour()
        else:
            self._update_outline()

    def _nearest_row(self, scene_pos: QPointF, radius_px: float = 8.0) -> int | None:
        if not len(self.ids) or not self.view_box.sceneBoundingRect().contains(scene_pos):
            return None
        view = self.view_box.mapSceneToView(scene_pos)
        pixel = self.view_box.viewPixelSize()
        index = self._prepared.index if self._prepared is not None else None
        if index is not None and index.size == len(self.coords):
            return index.nearest(view.x(), view.y(), pixel, radius_px)
        return nearest_point(self.coords, view.x(), view.y(), pixel, radius_px)

    def _on_mouse_moved(self, args: tuple[Any, ...]) -> None:
        scene_pos = args[0]
        row = self._nearest_row(scene_pos)
        if row is None:
            self.hover_card.hide()
            return
        point_id = int(self.ids[row])
        widget_pos = self.plot_widget.mapFromScene(scene_pos)
        self.hover_card.show_at(widget_pos, point_id, self._hover_text(row), self._hover_pixmap(row))

    def _hover_text(self, row: int) -> str:
        wm = self.models.workspace
        point_id = int(self.ids[row])
        clips = self._clips_of_rows([row])
        if self.of == "clips":
            text = f"<b>{self._clip_label(point_id)}</b>"
        else:
            cls = wm.classes().get(point_id)
            text = f"<b>{cls.phrase if cls else point_id}</b><br>class mean of {len(clips)} clips"
        scores = self.models.query.scores
        values = [scores[int(c)] for c in clips if int(c) in scores]
        if values:
            text += f"<br>query score {max(values):.3f}"
        if self._anomaly is not None:
            anomaly = self._anomaly.of(clips)
            if len(anomaly) and not np.isnan(anomaly).all():
                text += f"<br>anomaly score {float(np.nanmax(anomaly)):.4g}"
        return text

    def _hover_pixmap(self, row: int) -> QPixmap | None:
        clips = self._clips_of_rows([row])
        return self.models.thumbnails.pixmap(int(clips[0])) if len(clips) else None

    def _on_thumbnail(self, clip_id: int, kind: str) -> None:
        card = self.hover_card
        if kind != "thumb" or not card.isVisible() or card.point_id is None:
            return
        row = self.point_index(card.point_id)
        clips = self._clips_of_rows([row]) if row is not None else np.zeros(0, dtype=np.int64)
        if len(clips) and int(clips[0]) == clip_id:
            card.set_pixmap(self.models.thumbnails.pixmap(clip_id))

    def leaveEvent(self, event: Any) -> None:
        self.hover_card.hide()
        super().leaveEvent(event)

    def _export_dialog(self, kind: str) -> None:
        filters = {
            "png": ("Save the map as PNG", "map.png", "PNG image (*.png)"),
            "svg": ("Save the map as SVG", "map.svg", "SVG image (*.svg)"),
            "csv": ("Save the map's coordinates", "map.csv", "CSV file (*.csv)"),
            "selection": ("Save the selected points", "selection.csv", "CSV file (*.csv)"),
        }
        title, name, file_filter = filters[kind]
        start = str((self.models.workspace.root or Path.home()) / name)
        path, _ = QFileDialog.getSaveFileName(self, title, start, file_filter)
        if not path:
            return
        try:
            if kind in ("png", "svg"):
                self.export_image(path)
                self.info_label.setText(f"Saved {path}")
            else:
                rows = self.export_csv(path, only_selected=kind == "selection")
                self.info_label.setText(f"Saved {rows} rows to {path}")
        except OSError as exc:
            self.info_label.setText(f"<b>Cannot save {path}:</b> {exc}")


def _distinct(values: np.ndarray, size: int) -> np.ndarray:
    """The distinct values of ``values`` (each in ``0 … size - 1``), sorted, by a mask: O(n + size)."""
    mask = np.zeros(size, dtype=bool)
    mask[values] = True
    return np.flatnonzero(mask)


if __name__ == "__main__":  # preview: python -m desktop_app.gui.panels.map WORKSPACE
    from desktop_app.gui.panels import preview_panel

    preview_panel(MapPanel)
