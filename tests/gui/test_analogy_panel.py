"""The Analogy panel, driven as a user: real drops into the slots, the systematic test, the controls."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.analysis.analogy import space_analogy_tests, space_heldout_tests
from desktop_app.gui.dnd import operands_mime_data
from desktop_app.gui.panels.analogy import AnalogyPanel

WAIT_MS = 20_000  # the first solve loads the word vectors


@pytest.fixture
def analogy(qtbot, models, tiny_workspace):
    models.workspace.open(tiny_workspace)
    panel = AnalogyPanel(models)
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _drop(widget: QWidget, operands: list[dict]) -> bool:
    """Deliver a drag-enter and a drop of ``operands`` to ``widget``, as a real drag would."""
    mime = operands_mime_data(operands)
    pos = widget.rect().center()
    enter = QDragEnterEvent(
        pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        QPointF(pos),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def _column(table, column: int) -> list[str]:
    return [table.item(r, column).text() for r in range(table.rowCount())]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # QDragEnterEvent's QPoint constructor
def test_dropping_two_clips_and_a_word_solves_the_analogy(analogy, models, qtbot):
    clips = models.workspace.clips()
    a, b = clips[0], clips[5]
    label_a, label_b = models.workspace.clip_label(a.id), models.workspace.clip_label(b.id)
    assert _drop(analogy.slots[0].edit, [{"kind": "clip", "id": a.id, "label": label_a}])
    assert _drop(analogy.slots[1].edit, [{"kind": "clip", "id": b.id, "label": label_b}])
    assert _drop(analogy.slots[2].edit, [{"kind": "word", "word": "box", "label": "box"}])

    assert [s.edit.text() for s in analogy.slots] == [label_a, label_b, "box"]
    assert [s.sign_button.text() for s in analogy.slots] == ["+", "−", "+"]
    results = analogy.results
    qtbot.waitUntil(lambda: results.clips.rowCount() > 0 and results.words.rowCount() > 0, timeout=WAIT_MS)
    assert f"clip:{a.id} − clip:{b.id} + word:box" in analogy.expression_label.text()
    shown = {results.clips.operand(r)["id"] for r in range(results.clips.rowCount())}
    assert shown and not {a.id, b.id} & shown  # operands are left out
    assert len(shown) == 20 or len(shown) == len(clips) - 2
    assert "box" not in _column(results.words, 0)
    assert results.classes.rowCount() > 0


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_dropping_several_operands_at_once_fills_the_following_slots(analogy, models, qtbot):
    classes = sorted(models.workspace.classes().values(), key=lambda c: c.id)
    operands = [
        {
            "kind": "class",
            "id": classes[0].id,
            "label": classes[0].phrase,
        },  # by id only, as a legend may send
        {"kind": "word", "text": "ball", "label": "ball"},
        {"kind": "word", "word": "box", "label": "box"},
        {"kind": "word", "word": "star", "label": "star"},
    ]
    assert _drop(analogy.slots[0].edit, operands)
    assert len(analogy.slots) == 4
    assert [s.edit.text() for s in analogy.slots] == [classes[0].phrase, "ball", "box", "star"]
    qtbot.waitUntil(lambda: analogy.results.classes.rowCount() > 0, timeout=WAIT_MS)
    assert f"class:{classes[0].name}" in analogy.expression_label.text()
    assert classes[0].phrase not in _column(analogy.results.classes, 0)


def test_clicking_an_analogy_test_row_loads_it_into_the_slots(analogy, models, qtbot):
    QTest.mouseClick(analogy.test_toggle, Qt.MouseButton.LeftButton)
    assert analogy.test_box.isVisible()
    details = analogy.test_details
    qtbot.waitUntil(lambda: details.rowCount() > 0, timeout=WAIT_MS)
    summary = analogy.test_summary
    assert [summary.item(r, 0).text() for r in range(summary.rowCount())] == ["model", "word vectors"]
    assert int(summary.item(0, 1).text()) == details.rowCount()
    # The panel shows the core's unit-scale test, number for number.
    core = space_analogy_tests(models.workspace.space())
    assert [(int(summary.item(r, 1).text()), int(summary.item(r, 2).text())) for r in range(2)] == [
        (t.count, t.passed) for t in core
    ]
    assert "held-out test needs a zero-shot run" in analogy.test_status.text()

    row = details.rowCount() - 1
    source, source_label, noun1, noun2 = details.item(row, 0).data(Qt.ItemDataRole.UserRole)
    rect = details.visualItemRect(details.item(row, 0))
    details.scrollToItem(details.item(row, 0))
    rect = details.visualItemRect(details.item(row, 0))
    QTest.mouseClick(
        details.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
    )

    assert [s.edit.text() for s in analogy.slots] == [source_label, noun1, noun2]
    assert [s.sign_button.text() for s in analogy.slots] == ["+", "−", "+"]
    qtbot.waitUntil(lambda: analogy.results.classes.rowCount() > 0, timeout=WAIT_MS)
    assert f"class:{source} − word:{noun1} + word:{noun2}" in analogy.expression_label.text()
    assert source_label not in _column(analogy.results.classes, 0)  # the operand class is left out


def test_typing_signs_terms_and_metric(analogy, qtbot):
    QTest.keyClicks(analogy.slots[0].edit, "spin ball")
    QTest.keyClicks(analogy.slots[1].edit, "ball")
    QTest.keyClicks(analogy.slots[2].edit, "box")
    qtbot.waitUntil(lambda: analogy.results.words.rowCount() > 0, timeout=WAIT_MS)
    assert "word:spin ball − word:ball + word:box" in analogy.expression_label.text()

    QTest.mouseClick(analogy.slots[1].sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "word:spin ball + word:ball + word:box" in analogy.expression_label.text(), timeout=WAIT_MS
    )

    QTest.mouseClick(analogy.add_button, Qt.MouseButton.LeftButton)
    assert len(analogy.slots) == 4 and analogy.slots[3].is_empty()
    QTest.mouseClick(analogy.slots[0].remove_button, Qt.MouseButton.LeftButton)
    assert [s.edit.text() for s in analogy.slots] == ["ball", "box", ""]

    analogy.metric_combo.setCurrentIndex(analogy.metric_combo.findData("euclidean"))
    qtbot.waitUntil(
        lambda: analogy.results.clips.horizontalHeaderItem(3).text() == "Distance", timeout=WAIT_MS
    )
    distances = [float(s) for s in _column(analogy.results.clips, 3)]
    assert distances == sorted(distances)  # nearest first, smallest distance

    analogy.slots[0].edit.clear()
    QTest.keyClicks(analogy.slots[0].edit, "baskteball")
    qtbot.waitUntil(lambda: "not in the word vectors" in analogy.expression_label.text(), timeout=WAIT_MS)
    assert "basketball" in analogy.expression_label.text()
    assert analogy.results.clips.rowCount() == 0


def test_on_a_zero_shot_run_the_held_out_test_is_listed_beside_the_seeds(qtbot, models, workspace_copy):
    from desktop_app.evaluation.embed import embed_workspace
    from desktop_app.training.experiment import train_in_workspace
    from desktop_app.workspace import Workspace

    with Workspace.open(workspace_copy) as ws:
        train_in_workspace(ws, "pooled-ridge", zsl_split="50/50", run_id="ridge-zsl")
        embed_workspace(ws, "ridge-zsl")
    models.workspace.open(workspace_copy)
    models.workspace.set_run("ridge-zsl")
    panel = AnalogyPanel(models)
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    QTest.mouseClick(panel.test_toggle, Qt.MouseButton.LeftButton)
    summary = panel.test_summary
    qtbot.waitUntil(lambda: summary.rowCount() > 2, timeout=WAIT_MS)
    assert _column(summary, 0) == [
        "model",
        "word vectors",
        "held-out: model",
        "held-out: word vectors",
        "held-out: noun only (model)",
        "held-out: noun only (word vectors)",
    ]
    core = space_heldout_tests(models.workspace.space())
    shown = list(zip(map(int, _column(summary, 1)[2:]), map(int, _column(summary, 2)[2:]), strict=True))
    assert shown == [(t.count, t.passed) for t in core] and core[0].count > 0
    assert f"held-out test: {core[0].count} seen → unseen analogies" in panel.test_status.text()


def test_without_embeddings_the_panel_says_which_command_to_run(qtbot, models, workspace_without_embeddings):
    models.workspace.open(workspace_without_embeddings)
    panel = AnalogyPanel(models)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.stack.currentWidget() is panel.state
    assert "actionlens embed" in panel.state.text()
