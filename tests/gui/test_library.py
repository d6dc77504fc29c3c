"""The Library panel, driven as a user: filter, select, double-click, drag."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from desktop_app.gui.dnd import OPERANDS_MIME, parse_operands
from desktop_app.gui.panels.library import CLIP_ID_ROLE, LibraryPanel


@pytest.fixture
def library(qtbot, models, tiny_workspace):
    models.workspace.open(tiny_workspace)
    panel = LibraryPanel(models)
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _center_of(panel: LibraryPanel, row: int) -> QPoint:
    return panel.view.visualRect(panel.proxy.index(row, 0)).center()


def test_shows_every_clip_and_filters_by_class_split_and_text(library, models):
    clips = models.workspace.clips()
    assert library.proxy.rowCount() == len(clips) == 24
    assert library.count_label.text() == "24 of 24 clips"

    library.class_combo.setCurrentIndex(1)
    class_id = library.class_combo.currentData()
    expected = [c.id for c in clips if c.class_id == class_id]
    assert library.visible_clip_ids() == expected
    library.class_combo.setCurrentIndex(0)

    role_index = next(
        i for i in range(library.split_combo.count()) if "test" in library.split_combo.itemText(i)
    )
    library.split_combo.setCurrentIndex(role_index)
    split, role = library.split_combo.currentData()
    assert library.visible_clip_ids() == sorted(
        cid for cid, roles in models.workspace.split_roles().items() if roles.get(split) == role
    )
    library.split_combo.setCurrentIndex(0)

    cls = models.workspace.classes()[clips[0].class_id]
    QTest.keyClicks(library.search, cls.phrase)
    assert library.visible_clip_ids() == [c.id for c in clips if c.class_id == cls.id]
    library.search.clear()
    QTest.keyClicks(library.search, "no such clip anywhere")
    assert library.proxy.rowCount() == 0
    assert library.count_label.text() == "0 of 24 clips"


def test_verb_filter_keeps_only_classes_with_that_verb(library, models):
    library.verb_combo.setCurrentIndex(1)
    verb = library.verb_combo.currentData()
    classes = models.workspace.classes()
    shown = library.visible_clip_ids()
    assert shown
    assert all(classes[models.workspace.clips()[i].class_id].verb == verb for i in shown)


def test_clicking_selects_in_the_shared_selection_and_back(library, models, qtbot):
    viewport = library.view.viewport()
    QTest.mouseClick(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _center_of(library, 0)
    )
    QTest.mouseClick(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, _center_of(library, 2)
    )
    ids = library.visible_clip_ids()
    assert models.selection.clip_ids == {ids[0], ids[2]}

    models.selection.set([ids[5], ids[6]], "map")  # another panel selects
    selected = {int(i.data(CLIP_ID_ROLE)) for i in library.view.selectionModel().selectedIndexes()}
    assert selected == {ids[5], ids[6]}

    # Filtering the selected clips out of view does not deselect them.
    QTest.keyClicks(library.search, "no such clip anywhere")
    assert models.selection.clip_ids == {ids[5], ids[6]}
    library.search.clear()
    library.selected_only.setChecked(True)
    assert library.visible_clip_ids() == [ids[5], ids[6]]


def test_double_click_plays_the_clip(library, models):
    point = _center_of(library, 3)
    # A real double-click is a click followed by a double-click event, as the window system sends it.
    QTest.mouseClick(
        library.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
    )
    QTest.mouseDClick(
        library.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
    )
    assert models.current_clip.clip_id == library.visible_clip_ids()[3]


def test_dragged_clips_carry_analogy_operands(library, models):
    indexes = [library.model.index(1), library.model.index(4)]
    mime = library.model.mimeData(indexes)
    payload = json.loads(bytes(mime.data(OPERANDS_MIME).data()).decode())
    assert [op["id"] for op in payload] == [1, 4]
    assert all(op["kind"] == "clip" for op in payload)
    assert parse_operands(mime) == payload
    assert models.workspace.clips()[1].name in mime.text()


def test_thumbnails_load_in_the_background(library, models, qtbot):
    def shown_thumbnail() -> QImage:
        return library.proxy.index(0, 0).data(Qt.ItemDataRole.DecorationRole).toImage()

    qtbot.waitUntil(lambda: models.thumbnails.pixmap(0) is not None, timeout=5000)
    image = shown_thumbnail()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 10  # a picture, not the flat placeholder


def test_a_missing_thumbnail_is_decoded_from_the_video(qtbot, models, workspace_copy):
    (workspace_copy / "thumbnails" / "2.jpg").unlink()
    models.workspace.open(workspace_copy)
    assert models.thumbnails.pixmap(2) is None
    qtbot.waitUntil(lambda: models.thumbnails.pixmap(2) is not None, timeout=10000)
    assert not models.thumbnails.pixmap(2).isNull()
