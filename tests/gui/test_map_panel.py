"""The Map panel, driven as a user: see the map, click, lasso, recolour, follow the player, export."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop_app.gui.dnd import parse_operands
from desktop_app.gui.panels.library import LibraryPanel
from desktop_app.gui.panels.map import METHOD_NAMES, MapPanel
from desktop_app.gui.panels.map_points import density_image, points_in_polygon, write_map_csv
from desktop_app.gui.panels.player import PlayerPanel


@pytest.fixture
def map_panel(qtbot, models, workspace_copy):
    models.workspace.open(workspace_copy)
    panel = MapPanel(models)
    qtbot.addWidget(panel)
    panel.resize(900, 650)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.map is not None, timeout=20000)
    qtbot.waitUntil(lambda: models.tasks.task("map") is None, timeout=20000)
    return panel


def _widget_pos(panel: MapPanel, x: float, y: float) -> QPoint:
    """Where the view point (x, y) is on the plot widget's viewport."""
    scene = panel.view_box.mapViewToScene(QPointF(float(x), float(y)))
    return panel.plot_widget.mapFromScene(scene)


def _view_per_pixel(panel: MapPanel) -> tuple[float, float]:
    """The size of one screen pixel in view (map) units, along x and y."""
    width, height = panel.view_box.viewPixelSize()
    return float(width), float(height)


def _drag(panel: MapPanel, points: list[QPoint], modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Press, move through ``points`` and release, as a hand does (pyqtgraph drops mouse moves
    closer together than a screen refresh, so the moves are spaced out)."""
    viewport = panel.plot_widget.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind: QEvent.Type, pos: QPoint, button: Qt.MouseButton, buttons: Qt.MouseButton) -> None:
        event = QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button, buttons, modifier)
        QApplication.sendEvent(viewport, event)

    send(QEvent.Type.MouseButtonPress, points[0], left, left)
    for point in points[1:]:
        QTest.qWait(20)
        send(QEvent.Type.MouseMove, point, none, left)
    send(QEvent.Type.MouseButtonRelease, points[-1], left, none)


def _foreground_pixels(panel: MapPanel) -> int:
    image = panel.plot_widget.grab().toImage()
    background = panel.palette().color(QPalette.ColorRole.Base).rgb()
    return sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if image.pixel(x, y) != background
    )


# ------------------------------------------------------------------------------ pure helpers
def test_points_in_polygon_follows_the_even_odd_rule():
    points = np.array([[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [3.0, 3.0], [0.25, 0.75]])
    # An L-shaped polygon: the unit square plus the square above it, without the one to the right.
    polygon = np.array([[0, 0], [1, 0], [1, 2], [0, 2]])
    assert points_in_polygon(points, polygon).tolist() == [True, False, True, False, True]
    l_shape = np.array([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]])
    assert points_in_polygon(points, l_shape).tolist() == [True, True, True, False, True]
    assert not points_in_polygon(points, polygon[:2]).any()  # two vertices enclose nothing


def test_density_image_counts_every_point_in_its_bin():
    coords = np.array([[0.0, 0.0]] * 9 + [[1.0, 1.0]], dtype=np.float32)
    image, (x0, y0, w, h) = density_image(coords, bins=4, smooth=0)
    assert image.shape == (4, 4) and image.dtype == np.float32 and image.flags.c_contiguous
    assert np.expm1(image).sum() == pytest.approx(10)
    assert np.expm1(image[0, 0]) == pytest.approx(9) and np.expm1(image[3, 3]) == pytest.approx(1)
    assert x0 < 0 < 1 < x0 + w and y0 < 0 < 1 < y0 + h


def test_write_map_csv_writes_every_point_or_only_the_selection(tmp_path):
    path = tmp_path / "map.csv"
    coords = np.array([[0.5, -1.0], [2.0, 3.25], [4.0, 5.0]])
    rows = write_map_csv(path, [7, 8, 9], coords, ["a", "b", "c"], ["ca", "cb", "cc"], selected=[8])
    assert rows == 3
    lines = list(csv.reader(path.open()))
    assert lines[0] == ["id", "name", "class", "x", "y", "selected"]
    assert lines[2] == ["8", "b", "cb", "2", "3.25", "1"]
    assert write_map_csv(path, [7, 8, 9], coords, ["a", "b", "c"], ["ca", "cb", "cc"], [8, 9], True) == 2
    assert [line[0] for line in csv.reader(path.open())][1:] == ["8", "9"]


# ------------------------------------------------------------------------------ the panel
def test_opening_a_workspace_draws_its_map(map_panel, models):
    assert map_panel.stack.currentIndex() == 1
    assert len(map_panel.ids) == 24  # every embedded clip of the tiny workspace
    # The newest cached map of the run (the demo build precomputes some), or a fresh PCA.
    assert METHOD_NAMES[map_panel.map.method] in map_panel.info_label.text()
    assert "trustworthiness" in map_panel.info_label.text()
    assert _foreground_pixels(map_panel) > 500
    before = _foreground_pixels(map_panel)
    map_panel.density_button.setChecked(True)
    assert _foreground_pixels(map_panel) > before  # the density shading is drawn under the points


def test_no_embeddings_shows_how_to_make_them(qtbot, models, workspace_without_embeddings):
    models.workspace.open(workspace_without_embeddings)
    panel = MapPanel(models)
    qtbot.addWidget(panel)
    assert panel.stack.currentIndex() == 0
    assert "actionlens embed" in panel.message.text()


def test_clicking_a_point_selects_and_plays_it(map_panel, models, qtbot, request):
    player = PlayerPanel(models)
    qtbot.addWidget(player)
    request.addfinalizer(player.shutdown)  # its decoder thread must stop before the widget goes
    # The most isolated point, so the click cannot land on a neighbour.
    d = np.linalg.norm(map_panel.coords[:, None] - map_panel.coords[None], axis=2)
    np.fill_diagonal(d, np.inf)
    row = int(np.argmax(d.min(axis=1)))
    clip_id = int(map_panel.ids[row])
    pos = _widget_pos(map_panel, *map_panel.coords[row])
    QTest.mouseClick(
        map_panel.plot_widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos
    )
    assert models.selection.clip_ids == {clip_id}
    assert models.current_clip.clip_id == clip_id
    assert models.workspace.clips()[clip_id].name in player.title.text()


def test_lasso_selects_the_points_inside_and_the_library_shows_only_them(map_panel, models, qtbot):
    library = LibraryPanel(models)
    qtbot.addWidget(library)
    coords = map_panel.coords
    (x_lo, x_hi), (y_lo, y_hi) = np.percentile(coords[:, 0], [10, 60]), np.percentile(coords[:, 1], [5, 70])
    inside = (coords[:, 0] > x_lo) & (coords[:, 0] < x_hi) & (coords[:, 1] > y_lo) & (coords[:, 1] < y_hi)
    expected = sorted(int(i) for i in map_panel.ids[inside])
    assert 0 < len(expected) < len(coords)
    # The outline is drawn in whole pixels: leave out points within two pixels of it.
    px = np.abs(np.array([[*_view_per_pixel(map_panel)]]))
    near_x = np.minimum(np.abs(coords[:, 0] - x_lo), np.abs(coords[:, 0] - x_hi)) < 2 * px[0, 0]
    near_y = np.minimum(np.abs(coords[:, 1] - y_lo), np.abs(coords[:, 1] - y_hi)) < 2 * px[0, 1]
    ambiguous = {int(i) for i in map_panel.ids[near_x | near_y]}

    QTest.mouseClick(map_panel.lasso_button, Qt.MouseButton.LeftButton)
    # A freehand outline along the rectangle's edges, many small steps, as a hand draws it.
    corners = [(x_lo, y_lo), (x_hi, y_lo), (x_hi, y_hi), (x_lo, y_hi), (x_lo, y_lo)]
    path = []
    for (ax, ay), (bx, by) in itertools.pairwise(corners):
        path += [_widget_pos(map_panel, ax + (bx - ax) * t, ay + (by - ay) * t) for t in np.linspace(0, 1, 8)]
    _drag(map_panel, path)
    selected = sorted(models.selection.clip_ids)
    assert set(selected) - ambiguous == set(expected) - ambiguous

    library.selected_only.setChecked(True)
    assert library.visible_clip_ids() == selected


def test_rectangle_selects_and_shift_adds(map_panel, models):
    coords, ids = map_panel.coords, map_panel.ids
    QTest.mouseClick(map_panel.rect_button, Qt.MouseButton.LeftButton)
    mid_x, mid_y = np.median(coords[:, 0]), np.median(coords[:, 1])
    span = coords.max(axis=0) - coords.min(axis=0)
    lo = coords.min(axis=0) - 0.02 * span  # just outside the points, inside the view
    left_bottom = [int(i) for i in ids[(coords[:, 0] < mid_x) & (coords[:, 1] < mid_y)]]
    _drag(map_panel, [_widget_pos(map_panel, *lo), _widget_pos(map_panel, mid_x, (lo[1] + mid_y) / 2),
                      _widget_pos(map_panel, mid_x, mid_y)])  # fmt: skip
    assert models.selection.clip_ids == set(left_bottom)

    hi = coords.max(axis=0) + 0.02 * span
    right_top = [int(i) for i in ids[(coords[:, 0] > mid_x) & (coords[:, 1] > mid_y)]]
    _drag(map_panel, [_widget_pos(map_panel, *hi), _widget_pos(map_panel, mid_x, mid_y)],
          Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    assert models.selection.clip_ids == set(left_bottom) | set(right_top)


def test_switching_the_colouring_updates_the_legend(map_panel, models):
    classes = models.workspace.classes()
    assert map_panel.legend_labels() == sorted(
        (f"{c.phrase} (4)" for c in classes.values()), key=str.lower
    )  # 6 classes × 4 clips
    operands = parse_operands(map_panel.legend.mimeData([map_panel.legend.item(0)]))
    assert (
        operands[0]["kind"] == "class" and classes[operands[0]["id"]].phrase in map_panel.legend_labels()[0]
    )

    map_panel.set_colouring("verb")
    verbs = {c.verb for c in classes.values()}
    assert {label.rsplit(" (", 1)[0] for label in map_panel.legend_labels()} == verbs

    map_panel.set_colouring("score")
    assert "query" in map_panel.legend_labels()[0].lower()  # says how to get scores
    models.query.set("spin", {int(i): float(k) for k, i in enumerate(map_panel.ids[:10])}, "query")
    labels = map_panel.legend_labels()
    assert labels[0].startswith("score 9.000") and labels[-1] == "no score"


def test_typing_a_class_name_highlights_its_points(map_panel, models):
    cls = next(iter(models.workspace.classes().values()))
    QTest.keyClicks(map_panel.find_edit, cls.phrase)
    sizes = {int(p.data()): p.size() for p in map_panel.scatter.points()}
    clips = models.workspace.clips()
    big = {i for i, s in sizes.items() if s > min(sizes.values())}
    assert big == {i for i in sizes if clips[i].class_id == cls.id}


def test_the_playing_clip_is_marked_and_the_mark_follows_the_player(map_panel, models):
    assert map_panel.marker_position() is None
    for row in (2, 7):
        models.current_clip.set(int(map_panel.ids[row]), "player")
        assert map_panel.marker_position() == pytest.approx(tuple(map_panel.coords[row]))
    models.current_clip.set(None, "player")
    assert map_panel.marker_position() is None


def test_export_csv_writes_the_coordinates_and_the_selection(map_panel, models, tmp_path):
    models.selection.set([int(map_panel.ids[1]), int(map_panel.ids[4])], "library")
    path = tmp_path / "coords.csv"
    assert map_panel.export_csv(path) == 24
    rows = list(csv.DictReader(path.open()))
    by_id = {int(r["id"]): r for r in rows}
    clip = models.workspace.clips()[int(map_panel.ids[4])]
    row = by_id[clip.id]
    assert row["name"] == clip.name and row["selected"] == "1"
    assert (float(row["x"]), float(row["y"])) == pytest.approx(tuple(map_panel.coords[4]), abs=1e-4)
    assert sum(r["selected"] == "1" for r in rows) == 2
    assert map_panel.export_csv(tmp_path / "sel.csv", only_selected=True) == 2

    map_panel.export_image(tmp_path / "map.png")
    map_panel.export_image(tmp_path / "map.svg")
    assert (tmp_path / "map.png").stat().st_size > 1000
    assert "<svg" in (tmp_path / "map.svg").read_text()


def test_tsne_streams_partial_layouts_then_caches(map_panel, models, qtbot):
    maps_dir = models.workspace.root / "maps"
    for cached in maps_dir.glob("*.tsne.*"):  # the demo build may have computed it already
        cached.unlink()
    partials = []
    map_panel.method_combo.setCurrentIndex(map_panel.method_combo.findData("tsne"))
    map_panel.method_combo.activated.emit(map_panel.method_combo.currentIndex())
    task = models.tasks.task("map")
    assert task is not None
    task.partialResult.connect(lambda result: partials.append(result))
    qtbot.waitUntil(lambda: map_panel.map.method == "tsne", timeout=60000)
    assert len(partials) >= 2  # the map moved while it converged
    assert "t-SNE" in map_panel.info_label.text()
    coords_files = [p for p in maps_dir.glob("*.clips.tsne.*.npy") if not p.name.endswith(".ids.npy")]
    assert len(coords_files) == 1  # cached for next time (map version 2 keeps its ids beside it)


def test_class_means_map_and_semantic_axes(map_panel, models, qtbot):
    map_panel.method_combo.setCurrentIndex(map_panel.method_combo.findData("pca"))
    map_panel.method_combo.activated.emit(map_panel.method_combo.currentIndex())
    qtbot.waitUntil(lambda: map_panel.map.method == "pca", timeout=20000)
    map_panel.of_combo.setCurrentIndex(map_panel.of_combo.findData("classes"))
    map_panel.of_combo.activated.emit(map_panel.of_combo.currentIndex())
    qtbot.waitUntil(lambda: map_panel.map.of == "classes", timeout=20000)
    assert len(map_panel.ids) == 6

    map_panel.method_combo.setCurrentIndex(map_panel.method_combo.findData("axes"))
    map_panel.method_combo.activated.emit(map_panel.method_combo.currentIndex())
    assert map_panel.axes_row.isVisible()
    map_panel.axis_edits[1].setText("qzxqzxq")
    QTest.mouseClick(map_panel.axes_apply, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "not in the word vectors" in map_panel.axes_error.text(), timeout=30000)

    map_panel.axis_edits[1].setText("fast")
    QTest.mouseClick(map_panel.axes_apply, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: map_panel.map.method == "axes", timeout=30000)
    assert map_panel.axes_error.text() == ""
    assert map_panel.plot_item.getAxis("bottom").labelText == "slow → fast"


def test_hover_shows_the_clip_label(map_panel, models, qtbot):
    row = 5
    scene = map_panel.view_box.mapViewToScene(QPointF(*map(float, map_panel.coords[row])))
    map_panel.plot_widget.scene().sigMouseMoved.emit(scene)
    qtbot.waitUntil(lambda: map_panel.hover_card.isVisible(), timeout=3000)
    assert models.workspace.clips()[int(map_panel.ids[row])].name in map_panel.hover_card.text.text()


def test_the_palette_tells_dozens_of_classes_apart():
    from desktop_app.gui.panels.map import categorical_colour

    colours = [categorical_colour(i) for i in range(42)]
    assert len({c.name() for c in colours}) == 42
    # Neighbouring classes differ clearly, not by a shade.
    for a, b in itertools.pairwise(colours):
        assert abs(a.hueF() - b.hueF()) > 0.1 or abs(a.valueF() - b.valueF()) > 0.05


def test_dragging_a_point_carries_it_or_the_selection_as_operands(map_panel, models):
    from desktop_app.gui.dnd import operands_mime_data, parse_operands

    coords, ids = map_panel.coords, map_panel.ids
    scene = map_panel.view_box.mapViewToScene(QPointF(*map(float, coords[0])))
    alone = map_panel.drag_operands_at(scene)
    assert [(o["kind"], o["id"]) for o in alone] == [("clip", int(ids[0]))]

    models.selection.set({int(ids[0]), int(ids[1])}, "test")
    together = map_panel.drag_operands_at(scene)
    assert sorted(o["id"] for o in together) == sorted([int(ids[0]), int(ids[1])])
    # What the drag carries is what the Analogy slots read.
    assert [o["id"] for o in parse_operands(operands_mime_data(together))] == [o["id"] for o in together]

    far = map_panel.view_box.mapViewToScene(QPointF(*map(float, coords.max(axis=0) * 10)))
    assert map_panel.drag_operands_at(far) == []  # empty space pans instead


def test_the_legend_shows_whole_class_names(map_panel, models, qtbot):
    # A narrow dock and a large font: the legend's default share would cut the names.
    map_panel.resize(500, 500)
    font = map_panel.legend.font()
    font.setPointSize(2 * max(font.pointSize(), 6))
    map_panel.legend.setFont(font)
    qtbot.wait(50)
    map_panel.colour_combo.setCurrentIndex(map_panel.colour_combo.findData("noun"))
    map_panel.colour_combo.setCurrentIndex(map_panel.colour_combo.findData("class"))
    legend = map_panel.legend
    metrics = legend.fontMetrics()
    room = legend.viewport().width() - legend.iconSize().width()
    longest = max(map_panel.legend_labels(), key=metrics.horizontalAdvance)
    assert "(" in longest and longest.endswith(")")  # "name (count)", as the user reads it
    assert metrics.horizontalAdvance(longest) < room
