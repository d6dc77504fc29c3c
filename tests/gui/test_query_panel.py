"""The Query panel, driven as a user: type a query, read the lists, fix a typo, re-run history.

Also: Enter searches with the completion list open, the nearest verbs and nouns beside the
nearest words (or a message without WordNet), and the history surviving a restart.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from desktop_app.gui.dnd import parse_operands
from desktop_app.gui.panels.query import HISTORY_SIZE, KEY_HISTORY, NEAREST_POS_WORDS, QueryPanel
from desktop_app.words import pos as pos_module
from desktop_app.words.wordnet import WordNet

WAIT_MS = 20_000  # the first query loads the word vectors (about a second, more on a busy machine)


def _make_panel(qtbot, models, settings) -> QueryPanel:
    panel = QueryPanel(models, settings=settings)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.fixture
def query_panel(qtbot, models, tiny_workspace, settings):
    models.workspace.open(tiny_workspace)
    return _make_panel(qtbot, models, settings)


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


def test_without_embeddings_the_panel_says_which_command_to_run(
    qtbot, models, workspace_without_embeddings, settings
):
    models.workspace.open(workspace_without_embeddings)
    panel = QueryPanel(models, settings=settings)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.stack.currentWidget() is panel.state
    assert "actionlens embed" in panel.state.text()


# ----------------------------------------------------------- Enter with the completion list open
def _type_with_completions(qtbot, panel: QueryPanel, text: str) -> None:
    qtbot.waitUntil(lambda: panel.vocabulary.rowCount() > 10_000, timeout=WAIT_MS)
    panel.search.setFocus()
    QTest.keyClicks(panel.search, text)
    popup = panel.completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=5000)


def test_enter_on_the_open_completion_list_searches_the_highlighted_completion(query_panel, models, qtbot):
    _type_with_completions(qtbot, query_panel, "spin baske")
    popup = query_panel.completer.popup()
    QTest.keyClick(popup, Qt.Key.Key_Down)  # highlight the first completion
    highlighted = popup.currentIndex().data()
    assert highlighted.startswith("baske") and highlighted != "baske"
    QTest.keyClick(popup, Qt.Key.Key_Return)  # the open list has the keyboard: Enter goes to it
    wanted = f"spin {highlighted}"
    qtbot.waitUntil(lambda: models.query.text == wanted and bool(models.query.scores), timeout=WAIT_MS)
    assert not popup.isVisible()
    assert query_panel.search.text() == wanted
    assert query_panel.results.clips.rowCount() == 24
    assert query_panel.history_items()[0] == wanted
    assert wanted in query_panel.message.text()


@pytest.mark.parametrize("target", ["line edit", "completion list"])
def test_enter_with_nothing_highlighted_searches_the_text_as_typed(query_panel, models, qtbot, target):
    _type_with_completions(qtbot, query_panel, "spin box")  # "box" offers box, boxing, boxes …
    popup = query_panel.completer.popup()
    assert not popup.currentIndex().isValid()
    QTest.keyClick(query_panel.search if target == "line edit" else popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: models.query.text == "spin box" and bool(models.query.scores), timeout=WAIT_MS)
    assert not popup.isVisible()
    assert query_panel.search.text() == "spin box"
    assert query_panel.results.clips.rowCount() == 24
    assert query_panel.results.classes.rowCount() == 6


def test_a_completion_taken_mid_text_replaces_only_the_word_being_typed(query_panel, models, qtbot):
    qtbot.waitUntil(lambda: query_panel.vocabulary.rowCount() > 10_000, timeout=WAIT_MS)
    query_panel.search.setFocus()
    QTest.keyClicks(query_panel.search, "spin  ball")
    for _ in range(len(" ball")):
        QTest.keyClick(query_panel.search, Qt.Key.Key_Left)
    QTest.keyClicks(query_panel.search, "baske")  # "spin baske ball", the cursor after "baske"
    popup = query_panel.completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=5000)
    QTest.keyClick(popup, Qt.Key.Key_Down)
    highlighted = popup.currentIndex().data()
    QTest.keyClick(popup, Qt.Key.Key_Return)
    wanted = f"spin {highlighted} ball"
    qtbot.waitUntil(lambda: models.query.text == wanted, timeout=WAIT_MS)
    qtbot.wait(50)  # the completer's own activation of the same completion has come and gone
    assert query_panel.search.text() == wanted


# ------------------------------------------------------------------ nearest verbs and nouns
def _column_words(table) -> list[str]:
    return [table.item(r, 0).text() for r in range(table.rowCount())]


def test_nearest_verbs_and_nouns_stand_beside_the_nearest_words(query_panel, models, qtbot):
    _search(qtbot, query_panel, "swing star")
    results = query_panel.results
    qtbot.waitUntil(lambda: results.verbs.rowCount() > 0, timeout=60_000)  # the first run tags WordNet
    assert results.verbs.rowCount() == results.nouns.rowCount() == NEAREST_POS_WORDS
    assert results.verbs_box.isVisible() and results.nouns_box.isVisible()
    assert not results.pos_message.isVisible()
    verbs, nouns, words = (
        _column_words(results.verbs),
        _column_words(results.nouns),
        _column_words(results.words),
    )
    assert not {"swing", "star"} & (set(verbs) | set(nouns))
    # Each list is WordNet's verbs (nouns) of the vocabulary, in cosine order.
    space = models.workspace.space()
    word_pos = pos_module.word_pos_of(space.word_vectors)
    index = space.word_vectors.key_to_index
    assert all(word_pos.mask("verb")[index[w]] for w in verbs)
    assert all(word_pos.mask("noun")[index[w]] for w in nouns)
    for table in (results.verbs, results.nouns):
        scores = [float(table.item(r, 1).text()) for r in range(table.rowCount())]
        assert scores == sorted(scores, reverse=True)
    assert set(verbs) != set(words[: len(verbs)])  # the filter changes what is shown
    # A verb row drags out as a word operand for the Analogy panel.
    assert parse_operands(results.verbs.mimeData([results.verbs.item(0, 0)]))[0]["word"] == verbs[0]


def test_without_wordnet_the_panel_says_so_in_place_of_verbs_and_nouns(
    models, qtbot, tiny_workspace, settings, tmp_path, monkeypatch
):
    empty = tmp_path / "no-wordnet"
    empty.mkdir()
    # No WordNet and nothing cached, from before the panel starts tagging its vocabulary (the
    # panel tags it as soon as the workspace is open; an entry tagged earlier in this process
    # or cached by another run would hide the missing WordNet).
    monkeypatch.setattr(pos_module, "default_cache_dir", lambda: tmp_path / "pos-cache")
    monkeypatch.setattr(pos_module, "_shared", pos_module.weakref.WeakKeyDictionary())
    monkeypatch.setattr(
        pos_module,
        "_load_wordnet",
        lambda: WordNet.load([empty], default_paths=False, cache_dir=tmp_path / "wn-cache"),
    )
    models.workspace.open(tiny_workspace)
    query_panel = _make_panel(qtbot, models, settings)
    _search(qtbot, query_panel, "spin ball")
    results = query_panel.results
    qtbot.waitUntil(results.pos_message.isVisible, timeout=WAIT_MS)
    assert "need WordNet" in results.pos_message.text()
    assert "apt-get install wordnet-base" in results.pos_message.text()
    assert not results.verbs_box.isVisible() and not results.nouns_box.isVisible()
    assert results.words.rowCount() == 15  # the unfiltered list is still there
    assert results.clips.rowCount() == 24


# ------------------------------------------------------------------------- history on restart
def test_the_history_survives_a_restart(query_panel, models, qtbot, settings, tmp_path):
    for text in ("spin ball", "box", "spin ball"):
        _search(qtbot, query_panel, text)
        qtbot.waitUntil(lambda t=text: models.query.text == t and bool(models.query.scores), timeout=WAIT_MS)
    assert query_panel.history_items() == ["spin ball", "box"]  # a repeat moves up, once
    query_panel.close()

    # "Restart": new settings object on the same file, a new panel.
    reopened = QSettings(settings.fileName(), QSettings.Format.IniFormat)
    panel = _make_panel(qtbot, models, reopened)
    history = panel.history
    assert [history.item(i).text() for i in range(history.count())] == ["spin ball", "box"]
    rect = history.visualItemRect(history.item(1))
    QTest.mouseClick(
        history.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
    )
    qtbot.waitUntil(lambda: models.query.text == "box" and bool(models.query.scores), timeout=WAIT_MS)
    assert panel.results.clips.rowCount() == 24
    panel.clear_history()
    assert QSettings(settings.fileName(), QSettings.Format.IniFormat).value(KEY_HISTORY, []) in ([], None)


def test_a_saved_history_is_read_capped_and_without_repeats(qtbot, models, tiny_workspace, settings):
    saved = [f"query {i % 70}" for i in range(90)] + ["  spaced   out "]
    settings.setValue(KEY_HISTORY, saved)
    settings.sync()
    models.workspace.open(tiny_workspace)
    panel = _make_panel(qtbot, models, QSettings(settings.fileName(), QSettings.Format.IniFormat))
    shown = [panel.history.item(i).text() for i in range(panel.history.count())]
    assert shown == [f"query {i}" for i in range(HISTORY_SIZE)]
    # One remembered query comes back as a one-item list, not as its characters.
    settings.setValue(KEY_HISTORY, ["spin ball"])
    settings.sync()
    one = _make_panel(qtbot, models, QSettings(settings.fileName(), QSettings.Format.IniFormat))
    assert one.history_items() == ["spin ball"]


def test_an_answer_from_an_approximate_index_says_so(models, qtbot, tiny_workspace, settings, monkeypatch):
    # At a million clips the panel's index is FAISS IVF; here the threshold is lowered so the
    # tiny workspace gets one, and the answer says it is approximate (an exact one does not).
    from desktop_app.analysis import retrieval

    models.workspace.open(tiny_workspace)
    exact_panel = _make_panel(qtbot, models, settings)
    _search(qtbot, exact_panel, "spin ball")
    qtbot.waitUntil(lambda: "best cosine" in exact_panel.message.text(), timeout=WAIT_MS)
    assert "approximate" not in exact_panel.message.text()

    monkeypatch.setattr(retrieval, "APPROXIMATE_MIN_CLIPS", 1)
    panel = _make_panel(qtbot, models, settings)
    _search(qtbot, panel, "spin ball")
    qtbot.waitUntil(lambda: "best cosine" in panel.message.text(), timeout=WAIT_MS)
    assert "approximate search (FAISS IVF index)" in panel.message.text()
    # One IVF list probed whole: the same clips as the exact search.
    assert _column(panel.results.clips, 2) == _column(exact_panel.results.clips, 2)


def test_the_clip_index_is_built_in_a_low_priority_thread():
    import os
    import sys
    import threading

    from desktop_app.gui.panels.query import at_low_priority

    def niceness() -> tuple[str, int]:
        return threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    _, before = niceness()
    name, nice = at_low_priority(niceness)
    if sys.platform.startswith("linux"):
        assert name == "actionlens-query-index" and nice == 19
        assert niceness()[1] == before  # the caller keeps its own priority
    with pytest.raises(ZeroDivisionError):
        at_low_priority(lambda: 1 / 0)


def test_opening_a_workspace_builds_one_clip_index(models, qtbot, tiny_workspace, settings, monkeypatch):
    # Opening announces a new workspace and a new run; the panel prepares its index for both,
    # but builds it once (at a million clips a second build cost seconds and 400 MB).
    from desktop_app.analysis import retrieval

    built: list[object] = []
    original = retrieval.Retriever.__init__

    def counting(self, space, *args, **kwargs):
        built.append(space)
        original(self, space, *args, **kwargs)

    monkeypatch.setattr(retrieval.Retriever, "__init__", counting)
    panel = _make_panel(qtbot, models, settings)
    models.workspace.open(tiny_workspace)
    qtbot.waitUntil(lambda: bool(built) and not models.tasks.running(), timeout=WAIT_MS)
    _search(qtbot, panel, "spin ball")
    qtbot.waitUntil(lambda: "best cosine" in panel.message.text(), timeout=WAIT_MS)
    assert len(built) == 1
