"""The Compare panel, driven as a user: two runs side by side, linked selection and hover, class rows."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.gui.panels.compare import ComparePanel
from desktop_app.workspace import Workspace

from .conftest import DEMO_RUN

OTHER_RUN = "other-run"
#: A split of our own: every other clip of each class is a test clip. Named to sort before the
#: demo's split "1" (too few test clips on the tiny workspace), so it is the panel's default.
HALVES = "0-halves"


def _add_second_run(root) -> None:
    """A second embedded run: the demo run's clips in a 12-d space (a random linear map plus noise)."""
    ws = Workspace.open(root)
    try:
        source = ws.embeddings_dir / DEMO_RUN
        clips = np.load(source / "clips.npy")
        rng = np.random.default_rng(0)
        mapped = clips @ rng.normal(size=(clips.shape[1], 12)) + rng.normal(scale=0.5, size=(len(clips), 12))
        mapped = mapped.astype(np.float32)
        index = json.loads((source / "class_means.json").read_text(encoding="utf-8"))
        labels = np.array([c.class_id if c.class_id is not None else -1 for c in ws.catalog.clips()])
        means = np.stack([np.nanmean(mapped[labels == c], axis=0) for c in index["class_ids"]])
        target = ws.embeddings_dir / OTHER_RUN
        target.mkdir()
        np.save(target / "clips.npy", mapped)
        np.save(target / "class_means.npy", means.astype(np.float32))
        (target / "class_means.json").write_text(json.dumps(index), encoding="utf-8")
        ws.catalog.add_run(OTHER_RUN, "test", "2099-01-01T00:00:00+00:00", "complete", {})
        order = np.argsort(labels, kind="stable")
        roles = [(int(c), HALVES, "test" if i % 2 else "train") for i, c in enumerate(order)]
        with ws.catalog._con:  # fixture data: the catalog has no public way to add a split
            ws.catalog._con.executemany(
                "INSERT INTO clip_splits (clip_id, split, role) VALUES (?, ?, ?)", roles
            )
    finally:
        ws.close()


@pytest.fixture
def panel(qtbot, models, workspace_copy):
    _add_second_run(workspace_copy)
    models.workspace.open(workspace_copy)
    models.workspace.set_run(DEMO_RUN)
    widget = ComparePanel(models)
    qtbot.addWidget(widget)
    widget.resize(1000, 800)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.table_model.comparison is not None, timeout=30000)
    return widget


def test_one_run_says_how_to_get_another(qtbot, models, workspace_copy):
    models.workspace.open(workspace_copy)
    widget = ComparePanel(models)
    qtbot.addWidget(widget)
    assert widget.stack.currentIndex() == 0
    assert "actionlens embed" in widget.message.text()


def test_defaults_to_the_active_run_and_another(panel):
    assert (panel.combo_a.currentText(), panel.combo_b.currentText()) == (DEMO_RUN, OTHER_RUN)
    assert DEMO_RUN in panel.map_a.title.text() and OTHER_RUN in panel.map_b.title.text()
    assert len(panel.map_a.ids) == len(panel.map_b.ids) > 0
    assert panel.proxy.rowCount() == len(panel.table_model.comparison) >= 2
    assert "chance" in panel.summary.text()


def test_clicking_a_point_in_one_map_selects_it_in_the_other(panel, models, qtbot):
    view = panel.map_a
    d = np.linalg.norm(view.coords[:, None] - view.coords[None], axis=2)
    np.fill_diagonal(d, np.inf)
    clip_id = int(view.ids[int(np.argmax(d.min(axis=1)))])  # the most isolated point
    pos = view.plot_widget.mapFromScene(view.view_position(clip_id))
    QTest.mouseClick(
        view.plot_widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos
    )
    assert models.selection.clip_ids == {clip_id}
    assert panel.map_b.outlined == [clip_id]
    assert panel.map_a.outlined == [clip_id]


def test_hover_rings_the_same_clip_in_both_maps(panel, models, qtbot):
    clip_id = int(panel.map_b.ids[3])
    panel.map_b.plot_widget.scene().sigMouseMoved.emit(panel.map_b.view_position(clip_id))
    qtbot.waitUntil(lambda: panel.map_a.ringed == clip_id, timeout=3000)
    assert panel.map_b.ringed == clip_id
    assert models.workspace.clips()[clip_id].name in panel.hover_label.text()


def test_clicking_a_class_row_selects_its_clips_everywhere(panel, models, qtbot):
    comparison = panel.table_model.comparison
    class_id = panel.class_row_ids()[1]
    rect = panel.table.visualRect(panel.proxy.index(1, 0))
    QTest.mouseClick(
        panel.table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
    )
    expected = {int(c) for c in comparison.clip_ids[comparison.clip_class_ids == class_id]}
    assert models.selection.clip_ids == expected and len(expected) >= 2
    assert {models.workspace.clips()[c].class_id for c in expected} == {class_id}
    assert set(panel.map_a.outlined) == set(panel.map_b.outlined) == expected


def test_the_table_sorts_by_a_column(panel):
    panel.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    phrases = [panel.proxy.index(r, 0).data() for r in range(panel.proxy.rowCount())]
    assert phrases == sorted(phrases)
    panel.table.sortByColumn(9, Qt.SortOrder.DescendingOrder)
    rho = [panel.proxy.index(r, 9).data(Qt.ItemDataRole.UserRole + 1) for r in range(panel.proxy.rowCount())]
    assert rho == sorted(rho, reverse=True)


def test_swapping_runs_swaps_the_maps(panel, qtbot):
    QTest.mouseClick(panel.swap_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: OTHER_RUN in panel.map_a.title.text(), timeout=30000)
    assert DEMO_RUN in panel.map_b.title.text()
    assert panel.table_model.comparison.run_a == OTHER_RUN


def _test_clips(models, split: str) -> set[int]:
    return {c for c, role in models.workspace.workspace.catalog.split(split).items() if role == "test"}


def test_the_table_is_measured_on_the_first_splits_test_clips_by_default(panel, models, qtbot):
    first = models.workspace.workspace.catalog.split_names()[0]
    assert first == HALVES
    assert panel.clips_combo.currentText() == f"test clips of split {first}"
    comparison = panel.table_model.comparison
    assert 0 < len(comparison.clip_ids) and set(comparison.clip_ids.tolist()) <= _test_clips(models, first)
    assert f"test clips of split {first}" in panel.summary.text()
    # Every shared clip is still on offer, and says that it holds the training clips.
    labels = [panel.clips_combo.itemText(i) for i in range(panel.clips_combo.count())]
    assert "all shared clips (training clips included)" in labels
    panel.clips_combo.setCurrentIndex(labels.index("all shared clips (training clips included)"))
    qtbot.waitUntil(lambda: panel.result is not None and panel.result["split"] is None, timeout=30000)
    everything = panel.table_model.comparison.clip_ids
    assert len(everything) > len(comparison.clip_ids)
    assert "training clips included" in panel.summary.text()


def test_too_few_test_clips_fall_back_to_all_clips_and_say_so(panel, models, qtbot):
    panel.choose_clips("1")  # the tiny demo's split: one test clip per class, nothing to compare
    qtbot.waitUntil(lambda: panel.result is not None and panel.result["split"] is None, timeout=30000)
    assert panel.clips_combo.currentText() == "all shared clips (training clips included)"
    assert panel.table_model.comparison is not None
    assert "On the test clips of split 1" in panel.summary.text()
    assert "training clips included" in panel.summary.text()


def test_the_table_can_be_measured_on_test_clips_only(panel, models, qtbot):
    panel.choose_clips(None)
    qtbot.waitUntil(lambda: panel.result is not None and panel.result["split"] is None, timeout=30000)
    all_clips = len(panel.table_model.comparison.clip_ids)
    assert panel.table.isColumnHidden(5)  # neither run is a zero-shot run: no zero-shot columns
    panel.clips_combo.setCurrentIndex(panel.clips_combo.findData(HALVES))
    split = panel.clips_combo.currentData()
    test_clips = _test_clips(models, split)
    qtbot.waitUntil(lambda: panel.result is not None and panel.result["split"] == split, timeout=30000)
    comparison = panel.table_model.comparison
    assert set(comparison.clip_ids.tolist()) <= test_clips
    assert 0 < len(comparison.clip_ids) < all_clips
    assert "test clips" in panel.summary.text()


def test_a_follows_the_active_run(panel, models, qtbot):
    models.workspace.set_run(OTHER_RUN)  # e.g. chosen in the Evaluation panel
    assert (panel.combo_a.currentText(), panel.combo_b.currentText()) == (OTHER_RUN, DEMO_RUN)
    qtbot.waitUntil(lambda: OTHER_RUN in panel.map_a.title.text(), timeout=30000)


def test_a_large_compare_map_is_an_image_zoomed_out_and_points_zoomed_in(qtbot):
    from desktop_app.gui.map_render import POINT_LIMIT
    from desktop_app.gui.panels.compare import CompareMap
    from desktop_app.gui.selection import ClipIdSet

    view = CompareMap()  # no task manager: the images are drawn on the spot
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    qtbot.waitExposed(view)
    n = 200_000
    rng = np.random.default_rng(0)
    ids = rng.permutation(n).astype(np.int64)  # map rows in no id order
    coords = rng.normal(size=(n, 2)).astype(np.float32)
    view.set_map("A", ids, coords, ids % 7)
    qtbot.waitUntil(lambda: view.lod.mode != "empty", timeout=10_000)
    assert view.lod.mode == "aggregate" and view.lod.image.isVisible()
    assert len(view.scatter.data) == 0  # no marker per point
    view.show_selection(ClipIdSet(np.arange(0, n, 2)))
    assert len(view.outlined) == n // 2 and view.outlined[:3] == [0, 2, 4]
    assert view.lod.overlay.isVisible()  # a selection this large is a highlight image
    # Zoomed in on a corner: real points, coloured by class, clickable.
    view.view_box.setRange(xRange=(2.5, 3.5), yRange=(2.5, 3.5), padding=0)
    view.lod.refresh()
    assert view.lod.mode == "points"
    shown = view.scatter.data["data"]
    assert 0 < len(shown) <= POINT_LIMIT
    inside = (coords[:, 0] > 2.5) & (coords[:, 0] < 3.5) & (coords[:, 1] > 2.5) & (coords[:, 1] < 3.5)
    assert set(ids[inside].tolist()) <= set(shown.tolist())
