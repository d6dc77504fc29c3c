"""The Evaluation panel: the workspace's recognition, zero-shot and analogy tables, and the run
whose embeddings every panel shows.

The tables come from :func:`~desktop_app.evaluation.overview.evaluation_overview` in a background
task: the metrics already in the runs' ``meta.json`` arrive at once (a partial result), the
systematic analogy test of every embedded run (it loads the word vectors) follows. Every table is
sortable by clicking a column header, except the summary tables, whose chance and oracle rows stay
under the models. Summary cells are mean ± std over training seeds (each
seed's value its mean over the reported test folds), shown as ``mean ± std (seeds×folds)``; the
zero-shot table ends with the chance and noun-only / verb-only oracle rows of the same folds.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.errors import ActionLensError
from desktop_app.gui.models import AppModels
from desktop_app.gui.panels import preview_panel

PANEL_ID = "evaluation"
RECOGNITION_COLUMNS = ("Run", "Model", "Task", "Validation", "Recognition", "Chance", "Zero-shot", "Embedded")
#: Reference rows under the zero-shot table: (row label, key in the table's ``reference``).
REFERENCE_ROWS = (
    ("chance", "chance"),
    ("noun-only oracle", "noun_oracle"),
    ("verb-only oracle", "verb_oracle"),
)
SPREAD_NOTE = (
    "Mean ± std over training seeds; each seed's value is its mean over the reported test folds "
    "(seeds×folds)."
)
ANALOGY_COLUMNS = ("Run", "Class vectors", "Comparisons", "Passed", "Pass rate")


class NumericItem(QTableWidgetItem):
    """A table cell that shows text but sorts by a number (missing values sort first)."""

    def __init__(self, text: str, value: float | None) -> None:
        super().__init__(text)
        self.value = float("-inf") if value is None else float(value)
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, NumericItem):
            return self.value < other.value
        return super().__lt__(other)


def percent(value: float | None) -> str:
    """A fraction as a percentage with one decimal, ``—`` when missing."""
    return "—" if value is None else f"{100 * value:.1f} %"


def seed_cell_item(cell: dict[str, Any]) -> QTableWidgetItem:
    """A summary cell: ``mean ± std (seeds×folds)`` in percent, the per-seed values as tooltip."""
    if cell.get("mean") is None:
        return NumericItem("—", None)
    counts = f"{cell.get('seeds', 1)}×{cell['folds']}" if cell.get("folds") else f"{cell.get('seeds', 1)}"
    item = NumericItem(f"{100 * cell['mean']:.1f} ± {100 * cell['std']:.1f} ({counts})", cell["mean"])
    per_seed = ", ".join(
        f"seed {seed}: {100 * value['mean']:.1f} %" for seed, value in (cell.get("per_seed") or {}).items()
    )
    tips = [per_seed] if per_seed else []
    if cell.get("chance") is not None:
        tips.append(f"chance {100 * cell['chance']:.1f} %")
    item.setToolTip("; ".join(tips))
    return item


def _table(columns: tuple[str, ...] | list[str], tooltip: str) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setToolTip(tooltip)
    return table


def _fill(table: QTableWidget, rows: list[list[QTableWidgetItem]], sortable: bool = True) -> None:
    table.setSortingEnabled(False)  # rows inserted while sorting is on land in the wrong place
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, item in enumerate(row):
            table.setItem(r, c, item)
    table.setSortingEnabled(sortable)


class EvaluationPanel(QWidget):
    """The workspace's evaluation tables and the run selector."""

    def __init__(self, models: AppModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self.overview: Any = None
        self._dirty = True

        self.run_combo = QComboBox()
        self.run_combo.setToolTip(
            "The run whose embeddings every panel shows (the map, queries, analogies, WordNet)"
        )
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip(
            "Read the runs' metrics again (after `actionlens evaluate`) and rerun the analogy test"
        )
        self.status = QLabel()
        self.status.setToolTip("What the tables show, or what is being computed")
        top = QHBoxLayout()
        top.addWidget(QLabel("Embeddings shown:"))
        top.addWidget(self.run_combo)
        top.addWidget(self.refresh_button)
        top.addWidget(self.status, 1)

        self.recognition_table = _table(
            RECOGNITION_COLUMNS,
            "Every run of the workspace: validation accuracy during training, test recognition "
            "accuracy and its chance level, zero-shot accuracy of zero-shot runs (click a header to sort)",
        )
        self.recognition_summary = _table(
            ["Model"],
            "Recognition accuracy per model: mean ± standard deviation over training seeds, in the "
            "word space (nearest label vector) and by the classifier head",
        )
        self.recognition_summary.setMaximumHeight(170)
        self.zsl_table = _table(
            ["Model"],
            "Zero-shot accuracy per class split, as seed 001's Table 1: mean ± standard deviation "
            "over training seeds (seeds×folds), then chance and the noun-only / verb-only oracles "
            "of the same folds",
        )
        self.analogy_table = _table(
            ANALOGY_COLUMNS,
            "Seed 001's systematic analogy test (verb_noun1 − noun1 + noun2 → nearest class should "
            "be verb_noun2), with the model's class means and with the word vectors alone",
        )
        self.notes: dict[str, QLabel] = {}
        self.tabs = QTabWidget()
        self.tabs.setToolTip("")
        for key, title, table in (
            ("recognition", "Recognition", self.recognition_table),
            ("zsl", "Zero-shot", self.zsl_table),
            ("analogy", "Analogy", self.analogy_table),
        ):
            note = QLabel()
            note.setWordWrap(True)
            note.setTextFormat(Qt.TextFormat.RichText)
            note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            note.hide()
            self.notes[key] = note
            page = QWidget()
            page_layout = QVBoxLayout(page)
            page_layout.setContentsMargins(2, 2, 2, 2)
            page_layout.addWidget(note)
            if key == "recognition":
                page_layout.addWidget(self.recognition_summary)
            page_layout.addWidget(table, 1)
            self.tabs.addTab(page, title)
        self.tabs.setTabToolTip(0, "Recognition and validation accuracy of every run")
        self.tabs.setTabToolTip(1, "Zero-shot accuracy per model and class split (seed 001, Table 1)")
        self.tabs.setTabToolTip(
            2, "The systematic analogy test of every run with embeddings (seed 001, Table 4)"
        )

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)

        self.run_combo.activated.connect(self._on_run_chosen)
        self.refresh_button.clicked.connect(self.refresh)
        models.workspace.workspaceChanged.connect(lambda _ws: self._on_workspace())
        models.workspace.runChanged.connect(lambda _run: self._sync_run_combo())
        self._on_workspace()

    # ------------------------------------------------------------ public
    def refresh(self) -> None:
        """Read the metrics again and recompute the analogy table (in the background)."""
        from desktop_app.evaluation.overview import evaluation_overview

        self._dirty = False
        ws = self.models.workspace.workspace
        if ws is None:
            return
        self.status.setText("Reading the runs' metrics…")
        task = self.models.tasks.start(PANEL_ID, "Evaluation tables", evaluation_overview, ws, True)
        task.partialResult.connect(self._show_overview)
        task.finished.connect(self._show_overview)
        task.progressChanged.connect(lambda _f, message: self.status.setText(f"{message}…"))
        task.failed.connect(lambda exc: self.status.setText(f"Could not read the evaluation results: {exc}"))

    # ------------------------------------------------------------ run selector
    def _sync_run_combo(self) -> None:
        wm = self.models.workspace
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for run_id in wm.runs():
            self.run_combo.addItem(run_id, run_id)
            self.run_combo.setItemData(
                self.run_combo.count() - 1,
                f"Show the embeddings of {run_id} in every panel",
                Qt.ItemDataRole.ToolTipRole,
            )
        self.run_combo.setCurrentIndex(self.run_combo.findData(wm.run_id))
        self.run_combo.setEnabled(self.run_combo.count() > 1)
        if self.run_combo.count() == 0:
            self.run_combo.addItem("no embeddings yet", None)
        self.run_combo.blockSignals(False)

    def _on_run_chosen(self, index: int) -> None:
        run_id = self.run_combo.itemData(index)
        if run_id is None:
            return
        try:
            self.models.workspace.set_run(run_id)
        except ActionLensError as exc:
            self.status.setText(str(exc))
            self._sync_run_combo()

    # ------------------------------------------------------------ tables
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def _on_workspace(self) -> None:
        self.overview = None
        for table in (self.recognition_table, self.recognition_summary, self.zsl_table, self.analogy_table):
            _fill(table, [])
        self._sync_run_combo()
        ws = self.models.workspace.workspace
        self.refresh_button.setEnabled(ws is not None)
        if ws is None:
            self.status.setText("No workspace is open.")
            self._dirty = False
            return
        self._dirty = True
        # The analogy test loads the word vectors: done only once the panel is on screen.
        if self.isVisible():
            self.refresh()

    def _note(self, key: str, text: str | None) -> None:
        self.notes[key].setText(text or "")
        self.notes[key].setVisible(bool(text))

    def _show_overview(self, overview: Any) -> None:
        ws = self.models.workspace.workspace
        if ws is None:
            return
        self.overview = overview
        root = ws.root
        self._fill_recognition(overview.runs)
        self._fill_summary(self.recognition_summary, getattr(overview, "recognition", None))
        self.recognition_summary.setVisible(getattr(overview, "recognition", None) is not None)
        self._note(
            "recognition",
            (SPREAD_NOTE if getattr(overview, "recognition", None) else None)
            if overview.runs
            else f"No trained runs yet: run <code>actionlens train --workspace {root} --model MODEL</code>.",
        )
        self._fill_summary(self.zsl_table, overview.zsl)
        self._note(
            "zsl",
            self._zsl_note(overview.zsl)
            if overview.zsl
            else "No zero-shot runs yet: run <code>actionlens evaluate --workspace "
            f"{root} --task zsl --train-missing</code> to train and evaluate them.",
        )
        if overview.analogy is None:
            self._note("analogy", "Running the systematic analogy test…")
            self.status.setText(f"{len(overview.runs)} runs")
            return
        self._fill_analogy(overview.analogy)
        errors = "<br>".join(overview.analogy_errors)
        if not overview.analogy and not errors:
            errors = (
                "No analogy can be tested: it needs runs with embeddings and classes sharing a verb "
                f"with different nouns (run <code>actionlens embed --workspace {root} --run RUN</code>)."
            )
        self._note("analogy", errors or None)
        self.status.setText(
            f"{len(overview.runs)} runs, {len({r.run_id for r in overview.analogy})} with embeddings"
        )

    def _fill_recognition(self, runs: list[Any]) -> None:
        rows = []
        for run in runs:
            task = run.task if run.zsl_split is None else f"zero-shot {run.zsl_split} fold {run.fold}"
            name = QTableWidgetItem(run.run_id)
            name.setToolTip(f"{run.run_id} ({run.status})")
            rows.append(
                [
                    name,
                    QTableWidgetItem(run.model),
                    QTableWidgetItem(task),
                    NumericItem(percent(run.validation), run.validation),
                    NumericItem(percent(run.recognition), run.recognition),
                    NumericItem(
                        percent(run.recognition_chance or run.zsl_chance),
                        run.recognition_chance or run.zsl_chance,
                    ),
                    NumericItem(percent(run.zsl), run.zsl),
                    QTableWidgetItem("yes" if run.embedded else "no"),
                ]
            )
        _fill(self.recognition_table, rows)

    @staticmethod
    def _zsl_note(table: dict[str, Any]) -> str:
        notes = [
            f"{column}: {ref['oracle_note']}"
            for column, ref in (table.get("reference") or {}).items()
            if ref.get("oracle_note")
        ]
        return "<br>".join([SPREAD_NOTE, *notes])

    def _fill_summary(self, widget: QTableWidget, table: dict[str, Any] | None) -> None:
        """Models × columns of seed cells, then (zero-shot) the chance and oracle rows."""
        columns = list(table["columns"]) if table else []
        widget.setColumnCount(1 + len(columns))
        widget.setHorizontalHeaderLabels(["Model", *columns])
        rows = []
        for row in table["rows"] if table else []:
            items: list[QTableWidgetItem] = [QTableWidgetItem(row["model"])]
            items += [seed_cell_item(row["cells"][column]) for column in columns]
            rows.append(items)
        reference = (table or {}).get("reference")
        if reference is not None:
            for label, key in REFERENCE_ROWS:
                items = [QTableWidgetItem(label)]
                for column in columns:
                    value = reference[column].get(key)
                    item = NumericItem(percent(value), value)
                    if value is None and reference[column].get("oracle_note"):
                        item.setToolTip(reference[column]["oracle_note"])
                    items.append(item)
                rows.append(items)
        _fill(widget, rows, sortable=False)

    def _fill_analogy(self, rows_in: list[Any]) -> None:
        rows = [
            [
                QTableWidgetItem(row.run_id),
                QTableWidgetItem(row.vectors),
                NumericItem(str(row.comparisons), row.comparisons),
                NumericItem(str(row.passed), row.passed),
                NumericItem(percent(row.fraction), row.fraction),
            ]
            for row in rows_in
        ]
        _fill(self.analogy_table, rows)

    def shutdown(self) -> None:
        """Stop the background computation (the window is closing)."""
        self.models.tasks.cancel(PANEL_ID)


if __name__ == "__main__":
    raise SystemExit(preview_panel(EvaluationPanel))
