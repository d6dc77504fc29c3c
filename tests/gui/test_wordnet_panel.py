"""The WordNet panel, driven as a user: the four heatmaps drawn and fitted to the dock, their
colour bars and class labels, hover a cell, click a cell, drag a cell, zoom with the wheel."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop_app.gui.dnd import operands_mime_data, parse_operands
from desktop_app.gui.panels.wordnet import WordNetPanel, choose_grid, display_levels


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


def _settle(panel: WordNetPanel, qtbot, width: int, height: int) -> None:
    panel.resize(width, height)
    qtbot.wait(50)  # the resize, the relayout and the repaint


def _panel_rect(panel: WordNetPanel, item) -> QRect:
    """Where a graphics item lies on the panel, in the panel's pixels."""
    in_view = panel.graphics.mapFromScene(item.sceneBoundingRect()).boundingRect()
    return QRect(panel.graphics.mapTo(panel, in_view.topLeft()), in_view.size())


def test_all_four_heatmaps_and_their_colour_bars_fit_the_dock(wordnet_panel, qtbot):
    panel = wordnet_panel
    # A small dock puts the four two by two, a wide one in a row, a tall narrow one in a column.
    for width, height, rows in ((400, 300, 2), (1400, 360, 1), (330, 900, 4)):
        _settle(panel, qtbot, width, height)
        assert (panel.width(), panel.height()) == (width, height), "the panel widened the dock"
        graphics = QRect(panel.graphics.mapTo(panel, QPoint(0, 0)), panel.graphics.size())
        visible = graphics.intersected(panel.rect())
        tops = set()
        image = panel.grab().toImage()
        for view_box, bar in zip(panel.view_boxes, panel.colour_bars, strict=True):
            heatmap = _panel_rect(panel, view_box)
            assert visible.contains(heatmap), f"a heatmap is cut off at {width}×{height}: {heatmap}"
            assert visible.contains(_panel_rect(panel, bar)), "a colour bar is cut off"
            assert heatmap.width() > 20 and abs(heatmap.width() - heatmap.height()) <= 2  # square
            tops.add(heatmap.top())
            colours = {
                image.pixel(x, y)
                for x in range(heatmap.left() + 2, heatmap.right() - 2, 3)
                for y in range(heatmap.top() + 2, heatmap.bottom() - 2, 3)
            }
            assert len(colours) >= 3, "a heatmap is blank"
        assert len(tops) == rows, f"{width}×{height}"


def test_the_colour_bars_show_each_matrix_range(wordnet_panel, qtbot):
    panel = wordnet_panel
    _settle(panel, qtbot, 1100, 700)
    order = panel.order
    ranges = []
    image = panel.grab().toImage()
    for k, matrix in enumerate(panel.view.matrices.values()):
        low, high = display_levels(matrix[np.ix_(order, order)])
        ranges.append((round(low, 3), round(high, 3)))
        bar = panel.colour_bars[k]
        assert bar.levels() == pytest.approx((low, high))
        assert panel.images[k].getLevels() == pytest.approx((low, high))
        assert [text for _value, text in panel.colour_bar_ticks[k]] == [f"{low:.2f}", f"{high:.2f}"]
        # The strip runs from viridis' dark purple at the bottom to its yellow at the top.
        strip = _panel_rect(panel, bar.bar)
        top = QColor(image.pixel(strip.center().x(), strip.top() + 3))
        bottom = QColor(image.pixel(strip.center().x(), strip.bottom() - 3))
        assert top.lightness() > bottom.lightness() + 60
    assert len(set(ranges)) == len(ranges), "each matrix has its own range"


def test_class_labels_show_when_there_is_room_and_hide_when_not(wordnet_panel, qtbot):
    panel = wordnet_panel
    names = [panel.view.names[int(i)] for i in panel.order]
    _settle(panel, qtbot, 400, 300)
    assert not panel.labels_shown
    assert not any(axis.isVisible() for axis in panel.row_axes + panel.column_axes)

    _settle(panel, qtbot, 1200, 900)
    assert panel.labels_shown
    rows = [axis for axis in panel.row_axes if axis.names_drawn()]
    columns = [axis for axis in panel.column_axes if axis.names_drawn()]
    assert rows and columns
    assert rows[0].names == names  # one order for all four, rows and columns
    # The names are drawn: the strip left of the first heatmap holds dark text pixels.
    image = panel.grab().toImage()
    strip = _panel_rect(panel, rows[0])
    background = QColor(image.pixel(strip.left() + 1, strip.top() + 1)).lightness()
    dark = sum(
        QColor(image.pixel(x, y)).lightness() < background - 80
        for x in range(strip.left(), strip.right())
        for y in range(strip.top(), strip.bottom())
    )
    assert dark > 50, "no class names are drawn beside the rows"

    # Zoomed in with the wheel, a small dock has room for the names of the rows in view,
    # and the four heatmaps show the same cells.
    _settle(panel, qtbot, 400, 300)
    centre = _view_point(panel, 1, 1, 0)
    for _ in range(6):
        wheel = QWheelEvent(
            QPointF(centre),
            QPointF(panel.graphics.viewport().mapToGlobal(centre)),
            QPoint(0, 0),
            QPoint(0, 120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(panel.graphics.viewport(), wheel)
    qtbot.wait(50)
    rects = [view_box.viewRect() for view_box in panel.view_boxes]
    assert rects[0].width() < len(names) / 2
    assert all(rect == rects[0] for rect in rects)
    assert panel.labels_shown
    panel.fit_button.click()
    qtbot.wait(50)
    assert not panel.labels_shown


def test_dragging_a_cell_carries_its_two_classes_as_operands(wordnet_panel):
    panel = wordnet_panel
    view = panel.view
    last = len(view.class_ids) - 1
    row_class, column_class = (view.class_ids[int(panel.order[i])] for i in (0, last))
    operands = panel.drag_operands_at(panel.cell_scene_pos(0, last, matrix=3))
    assert [(o["kind"], o["id"]) for o in operands] == [("class", row_class), ("class", column_class)]
    assert operands[0]["label"] == view.names[int(panel.order[0])]
    # What the drag carries is what the Analogy slots read.
    assert parse_operands(operands_mime_data(operands)) == operands
    # A diagonal cell carries its one class; outside the heatmaps nothing is dragged.
    diagonal = panel.drag_operands_at(panel.cell_scene_pos(0, 0, matrix=1))
    assert [o["id"] for o in diagonal] == [row_class]
    outside = panel.view_boxes[0].sceneBoundingRect().topLeft() - QPointF(5, 5)
    assert panel.drag_operands_at(outside) == []


def test_the_grid_gives_the_cells_the_most_room():
    # 42 classes, labels 100 px wide, a line of text 13 px high.
    assert choose_grid(4, 42, 1400, 360, 100, 13).columns == 4
    assert choose_grid(4, 42, 400, 300, 100, 13).columns == 2
    assert choose_grid(4, 42, 330, 900, 100, 13).columns == 1
    small = choose_grid(4, 42, 400, 300, 100, 13)
    assert not small.labels and small.cell < 13
    large = choose_grid(4, 42, 1800, 1400, 100, 13)
    assert large.labels and large.cell >= 13
    # Zoomed in on 6 of the rows, the small dock has room for their names.
    assert choose_grid(4, 6, 400, 300, 60, 13).labels
