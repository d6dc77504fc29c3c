"""The WordNet panel, driven as a user: the four heatmaps drawn, hover a cell, click a cell."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from desktop_app.gui.panels.wordnet import WordNetPanel


@pytest.fixture
def wordnet_panel(qtbot, models, tiny_workspace):
    models.workspace.open(tiny_workspace)
    panel = WordNetPanel(models)
    qtbot.addWidget(panel)
    panel.resize(1100, 420)
    panel.show()
    qtbot.waitExposed(panel)
    # WordNet loads and the matrices are computed in the background; then the heatmaps show.
    qtbot.waitUntil(lambda: panel.stack.currentIndex() == 1, timeout=60_000)
    return panel


def _view_point(panel: WordNetPanel, row: int, col: int, matrix: int) -> QPoint:
    return panel.graphics.mapFromScene(panel.cell_scene_pos(row, col, matrix))


def test_four_heatmaps_are_drawn_with_their_correlations(wordnet_panel, qtbot):
    panel = wordnet_panel
    qtbot.wait(50)
    image = panel.graphics.grab().toImage()
    assert len(panel.titles) == 4
    assert panel.titles[0].startswith("WordNet")
    for title in panel.titles[1:]:
        assert "ρ = " in title
    for item in panel.images:
        rect = panel.graphics.mapFromScene(item.sceneBoundingRect()).boundingRect()
        rect = rect.intersected(image.rect())
        assert rect.width() > 20 and rect.height() > 20
        colours = {
            image.pixel(x, y)
            for x in range(rect.left() + 2, rect.right() - 2, 3)
            for y in range(rect.top() + 2, rect.bottom() - 2, 3)
        }
        assert len(colours) >= 3, "a heatmap is blank"


def test_hovering_a_cell_names_both_classes_and_four_values(wordnet_panel, qtbot):
    panel = wordnet_panel
    view = panel.view
    row, col = 0, 1
    # A real mouse move over the model's heatmap (the second one).
    QTest.mouseMove(panel.graphics.viewport(), _view_point(panel, row, col, 1))
    qtbot.waitUntil(lambda: "×" in panel.hover_label.text(), timeout=5_000)
    text = panel.hover_label.text()
    first, second = view.names[int(panel.order[row])], view.names[int(panel.order[col])]
    assert first in text and second in text
    for name in ("WordNet", "model", "word vectors", "pooled features"):
        assert name in text
    assert text.count("<b>") >= 2 + 4


def test_clicking_a_cell_selects_both_classes_clips(wordnet_panel, models):
    panel = wordnet_panel
    view = panel.view
    row, col = 0, len(view.class_ids) - 1
    QTest.mouseClick(
        panel.graphics.viewport(), Qt.MouseButton.LeftButton, pos=_view_point(panel, row, col, 2)
    )
    classes = {view.class_ids[int(panel.order[row])], view.class_ids[int(panel.order[col])]}
    expected = {c.id for c in models.workspace.clips() if c.class_id in classes}
    assert len(expected) > 0
    assert models.selection.clip_ids == frozenset(expected)


def test_order_and_senses_are_part_of_a_saved_view(wordnet_panel):
    panel = wordnet_panel
    panel.restore_view_state({"order": "alphabetical", "senses": "best"})
    assert panel.order_combo.currentData() == "alphabetical"
    names = [panel.view.names[int(i)] for i in panel.order]
    assert names == sorted(names)
    assert panel.view_state() == {"order": "alphabetical", "senses": "best"}


def test_without_embeddings_it_says_what_to_run(qtbot, models, workspace_without_embeddings):
    models.workspace.open(workspace_without_embeddings)
    panel = WordNetPanel(models)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.stack.currentIndex() == 0
    assert "actionlens embed" in panel.message.text()
