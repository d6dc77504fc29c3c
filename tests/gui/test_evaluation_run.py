"""Zero-shot evaluation run from the Evaluation panel: start, cancel, resume, finish; a cell's
confusion matrix; a confusion cell selecting its clips in every panel."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from PySide6.QtCore import Qt

from desktop_app.gui.panels.evaluation import RUN_OWNER, EvaluationPanel

#: The demo build evaluates seed 0's folds (pipeline.DEMO_ZSL_*); the panel trains seed 1's.
FOLD0 = "pooled-ridge-small-zsl50-50-f0-seed1"
FOLD1 = "pooled-ridge-small-zsl50-50-f1-seed1"


def _meta(root: Path, run_id: str) -> dict:
    path = root / "runs" / run_id / "meta.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _ticked(widget) -> list[str]:
    """The ticked entries of a checkable list, as a person sees them."""
    items = [widget.item(i) for i in range(widget.count())]
    return [item.text() for item in items if item.checkState() == Qt.CheckState.Checked]


def _click_cell(qtbot, table, row: int, column: int) -> None:
    table.scrollToItem(table.item(row, column))
    rect = table.visualItemRect(table.item(row, column))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_run_cancel_resume_finish_then_confusion_selects_clips(qtbot, models, workspace_copy):
    models.workspace.open(workspace_copy)
    panel = EvaluationPanel(models)
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    qtbot.waitExposed(panel)
    # small defaults: one quick model, 50/50, one fold, seed 0
    qtbot.waitUntil(lambda: panel.model_list.count() > 0, timeout=60_000)
    assert _ticked(panel.model_list) == ["pooled-ridge"]
    assert _ticked(panel.split_list) == ["50/50"]
    assert (panel.folds_spin.value(), panel.seeds_edit.text()) == (1, "0")
    panel.folds_spin.setValue(2)
    panel.seeds_edit.setText("1")  # seed 0's folds come with the demo
    panel.epochs_spin.setValue(1)
    panel.tabs.setCurrentIndex(1)

    # Run; hold the worker just after fold 0's partial table, so Cancel lands between folds
    # (a person pressing Cancel while fold 1 has yet to start).
    release = threading.Event()
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    task = models.tasks.task(RUN_OWNER)
    assert task is not None and panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    forward = task.progress.set_partial_result

    def hold(table):
        forward(table)
        release.wait(60)

    task.progress.set_partial_result = hold  # type: ignore[method-assign]

    # the table fills in as fold 0 finishes: a value in the model's 50/50 cell, chance beside it
    def fold0_shown() -> None:
        assert panel.zsl_table.rowCount() == 4, panel.run_status.text()
        assert "(1×1)" in panel.zsl_table.item(0, 1).text(), panel.run_status.text()

    qtbot.waitUntil(fold0_shown, timeout=90_000)
    assert [panel.zsl_table.item(r, 0).text() for r in range(4)] == [
        "pooled-ridge",
        "chance",
        "noun-only oracle",
        "verb-only oracle",
    ]
    assert panel.zsl_table.item(1, 1).text().endswith("%")
    with qtbot.waitSignal(task.cancelled, timeout=60_000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
        release.set()
    assert "Cancelled" in panel.run_status.text() and panel.run_button.isEnabled()
    # the runs on disk are the state: fold 0 finished and evaluated, fold 1 not trained
    first = _meta(workspace_copy, FOLD0)
    assert first["status"] == "complete" and first["metrics"]["zsl"]["accuracy"] is not None
    assert _meta(workspace_copy, FOLD1).get("status") != "complete"

    # Run again: resumes (fold 0 reused, not retrained) and finishes fold 1
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    task = models.tasks.task(RUN_OWNER)
    assert task is not None
    with qtbot.waitSignal(task.done, timeout=120_000):
        pass
    assert task.state == "finished", panel.run_status.text()
    assert "Finished" in panel.run_status.text()
    assert _meta(workspace_copy, FOLD0)["created"] == first["created"]
    assert _meta(workspace_copy, FOLD1)["status"] == "complete"
    assert "(1×2)" in panel.zsl_table.item(0, 1).text()
    saved = json.loads((workspace_copy / "runs" / "_tables" / "zsl.json").read_text())
    assert saved["rows"][0]["cells"]["50/50"]["folds"] == 2

    # click the model's cell: a fold's confusion matrix over its unseen classes
    _click_cell(qtbot, panel.zsl_table, 0, 1)
    assert panel.confusion_fold.count() == 2 and panel.confusion_fold.isVisible()
    qtbot.waitUntil(lambda: panel.confusion is not None, timeout=60_000)
    confusion = panel.confusion
    unseen = _meta(workspace_copy, FOLD0)["zsl"]["unseen_class_ids"]
    assert confusion.run_id == FOLD0 and confusion.class_ids.tolist() == sorted(unseen)
    table = panel.confusion_table
    assert table.rowCount() == table.columnCount() == len(unseen)
    shown = [[int(table.item(r, c).text()) for c in range(len(unseen))] for r in range(len(unseen))]
    assert shown == confusion.counts.tolist()
    # the same rule as evaluate_run: the diagonal's share is the run's reported accuracy
    metrics = _meta(workspace_copy, FOLD0)["metrics"]["zsl"]
    assert sum(map(sum, shown)) == metrics["test_clips"]
    assert abs(confusion.accuracy - metrics["accuracy"]) < 1e-9
    # every clip shown belongs to the unseen class of its row
    classes = {c.id: c.class_id for c in models.workspace.clips()}

    # click a non-empty confusion cell (an off-diagonal one if there is one): its clips selected
    cells = [(r, c) for r in range(len(unseen)) for c in range(len(unseen)) if shown[r][c]]
    row, column = next(((r, c) for r, c in cells if r != c), cells[0])
    _click_cell(qtbot, table, row, column)
    expected = confusion.cell_clip_ids(row, column).tolist()
    assert len(expected) == shown[row][column]
    assert sorted(models.selection.clip_ids) == expected
    assert {classes[c] for c in expected} == {int(confusion.class_ids[row])}

    # the other fold of the cell
    panel.confusion_fold.setCurrentIndex(1)
    panel.confusion_fold.activated.emit(1)
    qtbot.waitUntil(lambda: panel.confusion.run_id == FOLD1, timeout=60_000)


def test_the_demos_evaluation_shows_on_the_first_launch(qtbot, models, workspace_copy):
    from desktop_app.pipeline import DEMO_ZSL_FOLDS, DEMO_ZSL_MODEL, DEMO_ZSL_SPLIT

    # The tiny demo as `actionlens demo` builds it: nothing run in this process.
    models.workspace.open(workspace_copy)
    panel = EvaluationPanel(models)
    qtbot.addWidget(panel)
    panel.show()
    panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.zsl_table.rowCount() == 4, timeout=60_000)
    headers = [panel.zsl_table.horizontalHeaderItem(c).text() for c in range(panel.zsl_table.columnCount())]
    assert headers == ["Model", DEMO_ZSL_SPLIT]
    rows = [panel.zsl_table.item(r, 0).text() for r in range(4)]
    assert rows == [DEMO_ZSL_MODEL, "chance", "noun-only oracle", "verb-only oracle"]
    assert f"(1×{DEMO_ZSL_FOLDS})" in panel.zsl_table.item(0, 1).text()
    assert all(panel.zsl_table.item(r, 1).text().endswith("%") for r in range(1, 3))
    assert not panel.notes["zsl"].text().startswith("No zero-shot runs")
    saved = json.loads((workspace_copy / "runs" / "_tables" / "zsl.json").read_text())
    assert saved["rows"][0]["cells"][DEMO_ZSL_SPLIT]["folds"] == DEMO_ZSL_FOLDS


def test_bad_seeds_are_named(qtbot, models, workspace_copy):
    models.workspace.open(workspace_copy)
    panel = EvaluationPanel(models)
    qtbot.addWidget(panel)
    panel.seeds_edit.setText("0 x")
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert "'0 x'" in panel.run_status.text() and models.tasks.task(RUN_OWNER) is None
