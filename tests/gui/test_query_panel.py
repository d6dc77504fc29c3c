"""The Query panel, driven as a user: type a query, read the three lists, fix a typo, re-run history."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.gui.dnd import parse_operands
from desktop_app.gui.panels.query import QueryPanel

WAIT_MS = 20_000  # the first query loads the word vectors (about a second, more on a busy machine)


@pytest.fixture
def query_panel(qtbot, models, tiny_workspace):
    models.workspace.open(tiny_workspace)
    panel = QueryPanel(models)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _search(qtbot, panel: QueryPanel, text: str) -> None:
    panel.search.clear()
    QTest.keyClicks(panel.search, text)
    panel._hide_popup()  # a completion popup would take the click otherwise
    QTest.mouseClick(panel.search_button, Qt.MouseButton.LeftButton)


def _column(table, column: int) -> list[str]:
    return [table.item(r, column).text() for r in range(table.rowCount())]


def test_typing_a_query_shows_clips_classes_words_and_sets_the_shared_query(query_panel, models, qtbot):
    changes: list[str] = []
    models.query.changed.connect(changes.append)
    _search(qtbot, query_panel, "spin ball")
    qtbot.waitUntil(lambda: models.query.text == "spin ball" and bool(models.query.scores), timeout=WAIT_MS)

    results = query_panel.results
    assert results.clips.rowCount() == len(models.query.scores) == 24  # every clip of the tiny workspace
    assert results.classes.rowCount() == 6
    assert results.words.rowCount() == 15
    scores = [float(s) for s in _column(results.clips, 3)]
    assert scores == sorted(scores, reverse=True)
    # The table and the shared model agree on which clips and how well they score.
    shown_ids = [results.clips.operand(r)["id"] for r in range(results.clips.rowCount())]
    assert set(shown_ids) == set(models.query.scores)
    assert models.query.scores[shown_ids[0]] == pytest.approx(scores[0], abs=1e-3)
    # The query's own words are left out of the nearest words.
    assert not {"spin", "ball"} & set(_column(results.words, 0))
    assert changes[-1] == "query"
    assert "spin ball" in query_panel.message.text()


def test_clicking_a_clip_selects_and_plays_it_and_rows_drag_as_operands(query_panel, models, qtbot):
    _search(qtbot, query_panel, "ball")
    table = query_panel.results.clips
    qtbot.waitUntil(lambda: table.rowCount() > 0, timeout=WAIT_MS)
    clip_id = table.operand(1)["id"]
    rect = table.visualItemRect(table.item(1, 2))
    QTest.mouseClick(
        table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
    )
    assert models.selection.clip_ids == {clip_id}
    assert models.current_clip.clip_id == clip_id

    operands = parse_operands(table.mimeData([table.item(0, 0), table.item(1, 0)]))
    assert [op["kind"] for op in operands] == ["clip", "clip"]
    assert operands[1]["id"] == clip_id
    words = query_panel.results.words
    word_ops = parse_operands(words.mimeData([words.item(0, 0)]))
    assert word_ops[0]["kind"] == "word" and word_ops[0]["word"] == words.item(0, 0).text()
    classes = query_panel.results.classes
    class_ops = parse_operands(classes.mimeData([classes.item(0, 0)]))
    assert class_ops[0]["kind"] == "class" and class_ops[0]["name"]


def test_an_unknown_word_shows_suggestions_and_a_suggestion_runs_the_fixed_query(query_panel, models, qtbot):
    _search(qtbot, query_panel, "baskteball")
    qtbot.waitUntil(lambda: "not in the word vectors" in query_panel.message.text(), timeout=WAIT_MS)
    message = query_panel.message.text()
    assert "baskteball" in message and "basketball" in message
    assert query_panel.results.clips.rowCount() == 0
    assert models.query.scores == {}

    query_panel.message.linkActivated.emit("suggest:baskteball:basketball")  # what clicking the link sends
    qtbot.waitUntil(lambda: models.query.text == "basketball" and bool(models.query.scores), timeout=WAIT_MS)
    assert query_panel.search.text() == "basketball"
    assert query_panel.results.clips.rowCount() > 0


def test_history_lists_queries_newest_first_and_a_click_runs_one_again(query_panel, models, qtbot):
    for text in ("spin ball", "box"):
        _search(qtbot, query_panel, text)
        qtbot.waitUntil(lambda t=text: models.query.text == t and bool(models.query.scores), timeout=WAIT_MS)
    history = query_panel.history
    assert [history.item(i).text() for i in range(history.count())] == ["box", "spin ball"]
    box_top = query_panel.results.clips.operand(0)["id"]

    rect = history.visualItemRect(history.item(1))
    QTest.mouseClick(
        history.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
    )
    qtbot.waitUntil(lambda: models.query.text == "spin ball", timeout=WAIT_MS)
    assert query_panel.search.text() == "spin ball"
    assert query_panel.history_items() == ["spin ball", "box"]
    assert set(models.query.scores) and query_panel.results.clips.operand(0)["id"] in models.query.scores
    assert box_top in models.query.scores  # all 24 clips are ranked either way


def _choose_with_keys(combo, index: int) -> None:
    """Pick a combo item with the arrow keys, as a person at the keyboard would."""
    combo.setFocus()
    key = Qt.Key.Key_Down if index > combo.currentIndex() else Qt.Key.Key_Up
    while combo.currentIndex() != index:
        before = combo.currentIndex()
        QTest.keyClick(combo, key)
        assert combo.currentIndex() != before, "the arrow key did not move the choice"


def _shown_ids(panel: QueryPanel) -> set[int]:
    table = panel.results.clips
    return {table.operand(r)["id"] for r in range(table.rowCount())}


def test_the_search_can_be_limited_to_a_splits_test_or_train_clips(query_panel, models, qtbot):
    roles = models.workspace.workspace.catalog.split("1")
    test_ids = {c for c, role in roles.items() if role == "test"}
    train_ids = {c for c, role in roles.items() if role == "train"}
    assert test_ids and train_ids
    scope = query_panel.scope
    labels = [scope.itemText(i) for i in range(scope.count())]
    assert labels[0] == "All clips"
    assert f"Split 1: test clips ({len(test_ids)})" in labels
    assert f"Split 1: train clips ({len(train_ids)})" in labels

    _choose_with_keys(scope, labels.index(f"Split 1: test clips ({len(test_ids)})"))
    _search(qtbot, query_panel, "spin ball")
    qtbot.waitUntil(lambda: "among the test clips of split 1" in query_panel.message.text(), timeout=WAIT_MS)
    assert _shown_ids(query_panel) == test_ids  # k = 25 is more than there are: all of them, no other
    assert set(models.query.scores) == test_ids

    # Changing the scope searches the same query again, now among the training clips.
    _choose_with_keys(scope, labels.index(f"Split 1: train clips ({len(train_ids)})"))
    qtbot.waitUntil(lambda: "among the train clips of split 1" in query_panel.message.text(), timeout=WAIT_MS)
    assert _shown_ids(query_panel) == train_ids

    _choose_with_keys(scope, 0)
    qtbot.waitUntil(lambda: query_panel.results.clips.rowCount() == 24, timeout=WAIT_MS)
    assert "among" not in query_panel.message.text()


def test_completion_offers_frequent_words(query_panel, qtbot):
    qtbot.waitUntil(lambda: query_panel.vocabulary.rowCount() > 10_000, timeout=WAIT_MS)
    QTest.keyClicks(query_panel.search, "spin baske")
    completer = query_panel.completer
    assert completer.completionPrefix() == "baske"
    offered = [completer.completionModel().index(r, 0).data() for r in range(completer.completionCount())]
    assert "basketball" in offered
    completer.activated.emit("basketball")  # what picking it in the popup sends
    assert query_panel.search.text() == "spin basketball"


def test_without_embeddings_the_panel_says_which_command_to_run(qtbot, models, workspace_without_embeddings):
    models.workspace.open(workspace_without_embeddings)
    panel = QueryPanel(models)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.stack.currentWidget() is panel.state
    assert "actionlens embed" in panel.state.text()
