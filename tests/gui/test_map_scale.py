"""The Map panel on a 100 000-clip workspace: level of detail, lasso, class colours, hover.

The workspace comes from :func:`desktop_app.data.scale.build_scale_workspace` (built from the tiny
demo, so its clips are named and classed like an imported dataset); the panel computes its first
map as the app does. Assertions are on behaviour, never on time.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.path import Path as MplPath
from PySide6.QtCore import QPointF, QRectF

from desktop_app.gui.panels.map import MapPanel

N_CLIPS = 100_000


@pytest.fixture(scope="module")
def scale_workspace(tiny_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from desktop_app.data.scale import build_scale_workspace

    return build_scale_workspace(
        tmp_path_factory.mktemp("map-scale") / "ws", N_CLIPS, n_classes=60, source=tiny_workspace
    )


@pytest.fixture
def big_map(qtbot, models, scale_workspace):
    models.workspace.open(scale_workspace)
    panel = MapPanel(models)
    qtbot.addWidget(panel)
    panel.resize(900, 650)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.map is not None, timeout=120000)
    qtbot.waitUntil(lambda: models.tasks.task("map") is None, timeout=120000)
    qtbot.waitUntil(lambda: not panel.lod.pending, timeout=20000)  # the view's image swapped in
    return panel


def _legend_colours(panel: MapPanel) -> dict[str, tuple[int, int, int]]:
    """Legend label (without its count) -> the RGB of its swatch, as drawn."""
    out = {}
    for i in range(panel.legend.count()):
        item = panel.legend.item(i)
        colour = item.icon().pixmap(12, 12).toImage().pixelColor(6, 6)
        out[item.text().rsplit(" (", 1)[0]] = (colour.red(), colour.green(), colour.blue())
    return out


def _point_phrases(panel: MapPanel, models) -> np.ndarray:
    ws = models.workspace.workspace
    class_of_clip = ws.catalog.clip_columns().class_id
    phrases = {c.id: c.phrase or c.name for c in models.workspace.classes().values()}
    return np.array([phrases[int(c)] for c in class_of_clip[panel.ids]], dtype=object)


def _zoom_to(panel: MapPanel, qtbot, rect: QRectF, mode: str) -> None:
    panel.view_box.setRange(rect, padding=0)
    qtbot.waitUntil(
        lambda: panel.render_mode() == mode and not panel.lod.needs_refresh() and not panel.lod.pending,
        timeout=5000,
    )


def test_every_clip_is_on_the_map_and_it_is_drawn_as_an_aggregate(big_map, models):
    assert len(big_map.ids) == N_CLIPS
    assert f"{N_CLIPS:,} clips" in big_map.info_label.text()
    assert not re.search(r"\d of [\d,]+ clips", big_map.info_label.text())  # no "N of M": all are on it
    assert big_map.render_mode() == "aggregate"
    assert len(big_map.scatter.points()) == 0


def test_lasso_selects_exactly_what_matplotlib_says_is_inside(big_map, models):
    coords = big_map.coords
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    centre, span = (lo + hi) / 2, hi - lo
    # A star-shaped freehand outline (concave, 90 vertices) over the middle of the map.
    t = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    radius = 0.3 + 0.12 * np.sin(5 * t)
    polygon = np.c_[centre[0] + radius * span[0] * np.cos(t), centre[1] + radius * span[1] * np.sin(t)]
    expected = set(big_map.ids[MplPath(polygon).contains_points(coords.astype(np.float64))].tolist())
    assert 1000 < len(expected) < N_CLIPS - 1000
    big_map.select_region(polygon)
    assert models.selection.clip_ids == expected


def test_class_colours_per_aggregated_pixel_and_per_point(big_map, models, qtbot):
    colours = _legend_colours(big_map)
    phrases = _point_phrases(big_map, models)
    assert set(phrases) <= set(colours)
    image = big_map.aggregate_image()
    raster = big_map.lod.raster
    assert image is not None and image.shape == (raster.height, raster.width, 4)
    # Pixels whose 3 x 3 neighbourhood (the spread of a point) holds points of a single class
    # show that class's legend colour; pixels with no point near them are transparent.
    from desktop_app.analysis.density import pixel_of_points

    rows, pixels = pixel_of_points(big_map.coords, raster)
    labels = {p: i for i, p in enumerate(sorted(colours))}
    code = np.array([labels[p] for p in phrases[rows]])
    size = raster.width * raster.height
    low, high = np.full(size, 10**6), np.full(size, -1)
    np.minimum.at(low, pixels, code)
    np.maximum.at(high, pixels, code)
    low, high = low.reshape(raster.height, raster.width), high.reshape(raster.height, raster.width)
    near_low, near_high = low.copy(), high.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near_low = np.minimum(near_low, np.roll(np.roll(low, dy, 0), dx, 1))
            near_high = np.maximum(near_high, np.roll(np.roll(high, dy, 0), dx, 1))
    pure = (near_high >= 0) & (near_low == near_high)
    pure[[0, -1], :] = pure[:, [0, -1]] = False  # np.roll wraps around at the edges
    assert pure.sum() > 1000
    by_code = np.array([colours[p] for p in sorted(colours)])
    np.testing.assert_allclose(image[pure][:, :3], by_code[near_low[pure]], atol=1)
    empty = near_high < 0
    empty[[0, -1], :] = empty[:, [0, -1]] = False
    assert empty.any() and (image[empty][:, 3] == 0).all()

    # Zoomed in: real points, each brushed in its class's colour.
    row = int(rows[len(rows) // 2])
    x, y = big_map.coords[row]
    w, h = raster.pixel_size[0] * 25, raster.pixel_size[1] * 25
    _zoom_to(big_map, qtbot, QRectF(float(x) - w / 2, float(y) - h / 2, w, h), "points")
    points = big_map.scatter.points()
    assert 0 < len(points)
    row_of = {int(i): r for r, i in enumerate(big_map.ids.tolist())}
    for point in points[:500]:
        colour = point.brush().color()
        assert (colour.red(), colour.green(), colour.blue()) == colours[phrases[row_of[int(point.data())]]]


def test_zooming_in_switches_to_points_and_back(big_map, models, qtbot):
    coords = big_map.coords
    assert big_map.render_mode() == "aggregate"
    x, y = coords[1234]
    view = big_map.view_box.viewRect()
    w, h = view.width() / 80, view.height() / 80
    rect = QRectF(float(x) - w / 2, float(y) - h / 2, w, h)
    _zoom_to(big_map, qtbot, rect, "points")
    assert big_map.aggregate_image() is None
    drawn = {int(p.data()) for p in big_map.scatter.points()}
    in_view = (coords[:, 0] >= rect.left()) & (coords[:, 0] <= rect.right())
    in_view &= (coords[:, 1] >= rect.top()) & (coords[:, 1] <= rect.bottom())
    assert 0 < in_view.sum() and set(big_map.ids[in_view].tolist()) <= drawn  # every point in view
    assert len(drawn) < N_CLIPS // 10

    big_map.fit_view()
    qtbot.waitUntil(lambda: big_map.render_mode() == "aggregate" and not big_map.lod.pending, timeout=5000)
    assert len(big_map.scatter.points()) == 0 and big_map.aggregate_image() is not None


def test_the_aggregate_is_drawn_by_a_task_and_swapped_in_with_the_new_colours(big_map, models, qtbot):
    before = big_map.aggregate_image().copy()
    big_map.set_colouring("score")  # no query: every point is "no score", one grey
    assert big_map.render_mode() == "aggregate"
    qtbot.waitUntil(lambda: not big_map.lod.pending, timeout=20000)
    image = big_map.aggregate_image()
    opaque = image[..., 3] > 0
    assert opaque.sum() > 1000
    assert (image[opaque][:, :3] == (150, 150, 150)).all()  # the grey of "no score", nothing else
    was = before[before[..., 3] > 0][:, :3]
    assert len(np.unique(was, axis=0)) > 10  # the class colours before
    assert big_map.legend_labels()[-1].startswith("no score")


def test_hover_names_the_nearest_clip(big_map, models, qtbot):
    coords = big_map.coords
    ws = models.workspace.workspace
    px, py = (abs(v) for v in big_map.view_box.viewPixelSize())
    rng = np.random.default_rng(3)
    for row in rng.choice(len(coords), 5, replace=False).tolist():
        target = QPointF(float(coords[row, 0]) + 0.3 * px, float(coords[row, 1]))
        scene = big_map.view_box.mapViewToScene(target)
        big_map.plot_widget.scene().sigMouseMoved.emit(scene)
        view = big_map.view_box.mapSceneToView(scene)
        d2 = ((coords[:, 0] - view.x()) / px) ** 2 + ((coords[:, 1] - view.y()) / py) ** 2
        nearest = int(big_map.ids[int(np.argmin(d2))])
        name = ws.catalog.clip_names([nearest])[0]
        qtbot.waitUntil(
            lambda name=name: big_map.hover_card.isVisible() and name in big_map.hover_card.text.text(),
            timeout=3000,
        )


def test_a_query_hit_not_on_the_map_gets_a_note(big_map, models):
    outside = int(big_map.ids.max()) + 1  # a clip the map does not hold
    models.query.set("spin", {outside: 0.9, int(big_map.ids[0]): 0.5}, "query")
    assert big_map.missing_label.isVisible()
    assert "1 of the query's 2 best hits are not on this map" in big_map.missing_label.text()
    models.query.clear("query")
    assert not big_map.missing_label.isVisible()


def test_colouring_by_split_reads_its_roles_in_a_task_then_shows_them(big_map, models, qtbot):
    split = models.workspace.workspace.catalog.split_names()[0]
    assert split not in big_map._prepared.split_codes  # not read when the map loaded
    big_map.set_colouring(f"split:{split}")
    qtbot.waitUntil(lambda: split in big_map._prepared.split_codes, timeout=20000)
    qtbot.waitUntil(
        lambda: any(label.startswith("train") for label in big_map.legend_labels()), timeout=20000
    )
    counts = {
        label.rsplit(" (", 1)[0]: int(label.rsplit("(", 1)[1].rstrip(")"))
        for label in big_map.legend_labels()
    }
    codes = models.workspace.workspace.catalog.split_role_codes(split)
    from desktop_app.workspace.catalog import ROLE_CODES

    expected = np.bincount(codes[big_map.ids], minlength=len(ROLE_CODES))
    assert counts == {ROLE_CODES[c]: int(expected[c]) for c in np.flatnonzero(expected)}
    assert sum(counts.values()) == N_CLIPS


def test_a_large_selection_is_a_highlight_image_that_a_recolour_keeps(big_map, models, qtbot):
    coords = big_map.coords
    lo, hi = coords.min(axis=0) - 1.0, coords.max(axis=0) + 1.0
    polygon = np.array([lo, [hi[0], lo[1]], hi, [lo[0], hi[1]]], dtype=np.float64)  # everything
    big_map.select_region(polygon)
    assert len(models.selection) == N_CLIPS
    qtbot.waitUntil(lambda: not big_map.lod.pending, timeout=20000)
    assert big_map.lod.overlay.isVisible() and (big_map.lod.overlay.image[..., 3] > 0).sum() > 1000
    big_map.set_colouring("verb")
    qtbot.waitUntil(lambda: not big_map.lod.pending, timeout=20000)
    assert big_map.lod.overlay.isVisible() and (big_map.lod.overlay.image[..., 3] > 0).sum() > 1000
    assert len(models.selection) == N_CLIPS


def test_the_map_task_hands_the_map_over_before_its_point_index(scale_workspace):
    from desktop_app.analysis.space import default_run
    from desktop_app.gui.panels.map_tasks import load_first_map
    from desktop_app.progress import ProgressBase
    from desktop_app.workspace import Workspace

    seen: list[tuple[object, object]] = []

    class Recording(ProgressBase):
        def set_partial_result(self, result: object) -> None:
            seen.append((result, result.index))  # type: ignore[attr-defined]

    ws = Workspace.open(scale_workspace)
    prepared = load_first_map(ws, default_run(ws), "clips", None, Recording())
    assert [handed for handed, _ in seen] == [prepared, prepared]
    assert seen[0][1] is None  # drawable before the index is built…
    assert seen[1][1] is prepared.index and prepared.index.size == N_CLIPS  # …then with it
    assert len(prepared.map.ids) == N_CLIPS and prepared.split_codes == {}
