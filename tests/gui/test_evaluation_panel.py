"""The Evaluation panel: the runs' tables and the run selector that every panel follows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_app.gui.panels.evaluation import EvaluationPanel
from desktop_app.pipeline import demo_zsl_run_ids

ZSL_RUN = "pooled-ridge-small-zsl50-50-f0"
REC_RUN = "ste-small-rec-s1"
#: The zero-shot runs the demo build trained and evaluated (ZSL_RUN first).
DEMO_ZSL_RUNS = demo_zsl_run_ids()


@pytest.fixture(scope="module")
def two_run_workspace(tiny_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny workspace (the demo trains and evaluates three zero-shot folds), its recognition
    run evaluated and its first zero-shot run embedded (two runs with embeddings)."""
    import shutil

    from desktop_app.cli import main

    root = tmp_path_factory.mktemp("eval") / "ws"
    shutil.copytree(tiny_workspace, root)
    ws = str(root)
    assert (
        main(["evaluate", "--workspace", ws, "--task", "recognition", "--models", "ste", "--seeds", "0"]) == 0
    )
    assert main(["embed", "--workspace", ws, "--run", ZSL_RUN]) == 0
    return root


@pytest.fixture
def evaluation(qtbot, models, two_run_workspace):
    models.workspace.open(two_run_workspace)
    panel = EvaluationPanel(models)
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _column(table, title: str) -> list[str]:
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    c = headers.index(title)
    return [table.item(r, c).text() for r in range(table.rowCount())]


def test_tables_show_the_workspace_runs(evaluation, qtbot, two_run_workspace):
    panel = evaluation
    qtbot.waitUntil(lambda: panel.analogy_table.rowCount() > 0, timeout=60_000)
    assert DEMO_ZSL_RUNS[0] == ZSL_RUN
    assert sorted(_column(panel.recognition_table, "Run")) == sorted([REC_RUN, *DEMO_ZSL_RUNS])
    tasks = dict(
        zip(_column(panel.recognition_table, "Run"), _column(panel.recognition_table, "Task"), strict=True)
    )
    assert tasks[ZSL_RUN] == "zero-shot 50/50 fold 0"
    zero_shot = dict(
        zip(
            _column(panel.recognition_table, "Run"),
            _column(panel.recognition_table, "Zero-shot"),
            strict=True,
        )
    )
    assert zero_shot[ZSL_RUN].endswith("%") and zero_shot[REC_RUN] == "—"
    # Seed 001's Table 1 shape: the model's row, one column per split, mean ± std over training
    # seeds (seeds×folds), then chance and the component oracles of the same fold.
    assert _column(panel.zsl_table, "Model") == [
        "pooled-ridge",
        "chance",
        "noun-only oracle",
        "verb-only oracle",
    ]
    cells = dict(zip(_column(panel.zsl_table, "Model"), _column(panel.zsl_table, "50/50"), strict=True))
    assert cells["pooled-ridge"].endswith(f"± 0.0 (1×{len(DEMO_ZSL_RUNS)})")
    unseen = len(
        json.loads((two_run_workspace / "runs" / ZSL_RUN / "meta.json").read_text())["zsl"][
            "unseen_class_ids"
        ]
    )
    assert cells["chance"] == f"{100 / unseen:.1f} %"
    # the demo's classes are verb + noun: an oracle that knows one component beats chance
    for oracle in ("noun-only oracle", "verb-only oracle"):
        assert float(cells[oracle].rstrip(" %")) > 100 / unseen
    assert "training seeds" in panel.notes["zsl"].text()
    # recognition over training seeds: the word space and the head, one seed here
    summary = panel.recognition_summary
    assert summary.isVisible() and _column(summary, "Model") == ["ste"]
    accuracy = _column(summary, "split 1")[0]
    assert accuracy.endswith("± 0.0 (1)") and "seed 0:" in summary.item(0, 1).toolTip()
    # The analogy test ran for both embedded runs, with the model and with the word vectors.
    assert sorted(set(_column(panel.analogy_table, "Run"))) == sorted([REC_RUN, ZSL_RUN])
    assert set(_column(panel.analogy_table, "Class vectors")) == {"model", "word vectors"}
    # Sortable: clicking a header orders the rows.
    panel.recognition_table.horizontalHeader().sectionClicked.emit(0)
    panel.recognition_table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert _column(panel.recognition_table, "Run") == sorted([REC_RUN, *DEMO_ZSL_RUNS], reverse=True)


def test_run_selector_switches_the_run_every_panel_shows(evaluation, models):
    panel = evaluation
    combo = panel.run_combo
    assert [combo.itemText(i) for i in range(combo.count())] == models.workspace.runs()
    assert combo.currentText() == models.workspace.run_id
    other = next(r for r in models.workspace.runs() if r != models.workspace.run_id)
    combo.setCurrentIndex(combo.findText(other))
    combo.activated.emit(combo.currentIndex())  # what a user's choice in the popup emits
    assert models.workspace.run_id == other
    # …and a switch made elsewhere (the View menu) shows in the selector.
    first = models.workspace.runs()[0] if other != models.workspace.runs()[0] else models.workspace.runs()[1]
    models.workspace.set_run(first)
    assert combo.currentText() == first


def test_without_runs_it_says_what_to_run(qtbot, models, workspace_without_embeddings):
    import shutil

    shutil.rmtree(workspace_without_embeddings / "runs")
    (workspace_without_embeddings / "runs").mkdir()
    models.workspace.open(workspace_without_embeddings)
    panel = EvaluationPanel(models)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.notes["recognition"].isVisible(), timeout=30_000)
    assert "actionlens train" in panel.notes["recognition"].text()
    assert "actionlens evaluate" in panel.notes["zsl"].text()
