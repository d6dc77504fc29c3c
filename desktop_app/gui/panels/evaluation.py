"""The Evaluation panel: the workspace's recognition, zero-shot and analogy tables, and the run
whose embeddings every panel shows.

The tables come from :func:`~desktop_app.evaluation.overview.evaluation_overview` in a background
task: the metrics already in the runs' ``meta.json`` arrive at once (a partial result), the
systematic analogy test of every embedded run (it loads the word vectors) follows. They are
read, and the model list of the run controls filled, only while the panel is on screen
(:class:`~desktop_app.gui.panels.ScreenWatch`), not for a dock tabbed behind another. Every table is
sortable by clicking a column header, except the summary tables, whose chance and oracle rows stay
under the models. Summary cells are mean ± std over training seeds (each
seed's value its mean over the reported test folds), shown as ``mean ± std (seeds×folds)``; the
zero-shot table ends with the chance and noun-only / verb-only oracle rows of the same folds.

The Zero-shot tab also runs an evaluation itself: choose models, splits, folds, seeds (and
epochs) and press Run; :func:`~desktop_app.evaluation.confusion.run_zsl_evaluation` trains the
missing runs and evaluates them in a worker, and the table fills in as folds finish. Cancel keeps
the finished runs (the runs on disk are the state) and a second Run resumes. Clicking a model's
cell shows the confusion matrix of one of its folds over the fold's unseen classes
(:func:`~desktop_app.evaluation.confusion.cell_confusion`); clicking a confusion cell selects
its clips in every panel.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.errors import ActionLensError
from desktop_app.gui.models import AppModels
from desktop_app.gui.panels import ScreenWatch, on_screen, preview_panel

PANEL_ID = "evaluation"
#: Task owners of the panel's other workers (a new start cancels only the same owner's task).
RUN_OWNER = "evaluation-run"
CONFUSION_OWNER = "evaluation-confusion"
MODELS_OWNER = "evaluation-models"
#: What the run controls start with: one quick model, one split, one fold, one seed.
DEFAULT_MODEL = "pooled-ridge"
DEFAULT_SPLIT = "50/50"
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


def _joint_embedding_models(progress: Any) -> list[str]:
    """The joint-embedding model names (a worker task: listing them imports torch)."""
    from desktop_app.models.registry import JOINT_EMBEDDING, model_names

    return model_names(JOINT_EMBEDDING)


class EvaluationPanel(QWidget):
    """The workspace's evaluation tables and the run selector."""

    def __init__(self, models: AppModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self.overview: Any = None
        self._dirty = True
        #: The zero-shot table on screen (the overview's, or a running evaluation's partial one).
        self._zsl_shown: dict[str, Any] | None = None

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
        self._build_run_controls()
        self._build_confusion_view()
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
            if key == "zsl":
                page_layout.addLayout(self.run_controls)
                splitter = QSplitter(Qt.Orientation.Vertical)
                splitter.addWidget(table)
                splitter.addWidget(self.confusion_box)
                page_layout.addWidget(splitter, 1)
            else:
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
        self.run_button.clicked.connect(self.run_evaluation)
        self.cancel_button.clicked.connect(self.cancel_evaluation)
        self.zsl_table.cellClicked.connect(self._on_zsl_cell)
        self.confusion_fold.activated.connect(lambda _i: self._show_fold_confusion())
        self.confusion_table.cellClicked.connect(self._on_confusion_cell)
        models.workspace.workspaceChanged.connect(lambda _ws: self._on_workspace())
        models.workspace.runChanged.connect(self._on_active_run)
        # The tables (the analogy test loads the word vectors and every run's class means) and
        # the model list (it imports every model module, torch with them) are read only once the
        # panel is on screen, not for a dock tabbed behind another.
        self._screen_watch = ScreenWatch(self, self._on_shown)
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
        # Bound methods, not lambdas: Qt drops a connection to a panel that is gone, so a task
        # still reporting when the panel closes reaches no deleted label.
        task.progressChanged.connect(self._overview_progress)
        task.failed.connect(self._overview_failed)

    def _overview_progress(self, _fraction: float, message: str) -> None:
        self.status.setText(f"{message}…")

    def _overview_failed(self, exc: BaseException) -> None:
        self.status.setText(f"Could not read the evaluation results: {exc}")

    def run_evaluation(self) -> None:
        """Train and evaluate the chosen zero-shot runs in a worker (missing runs only)."""
        from desktop_app.evaluation.confusion import run_zsl_evaluation

        ws = self.models.workspace.workspace
        if ws is None:
            return
        models = self._checked(self.model_list)
        splits = self._checked(self.split_list)
        try:
            seeds = self._seeds()
        except ActionLensError as exc:
            self.run_status.setText(str(exc))
            return
        if not models or not splits:
            self.run_status.setText("Choose at least one model and one split.")
            return
        epochs = self.epochs_spin.value() or None
        task = self.models.tasks.start(
            RUN_OWNER,
            "Zero-shot evaluation",
            run_zsl_evaluation,
            ws,
            models,
            splits,
            self.folds_spin.value(),
            seeds,
            epochs,
        )
        self.run_progress.setValue(0)
        self.run_progress.show()
        self._set_running(True)
        self.run_status.setText("Starting…")
        self.tabs.setCurrentIndex(1)
        task.progressChanged.connect(self._on_run_progress)
        task.partialResult.connect(self._show_run_table)
        task.finished.connect(self._on_run_finished)
        task.failed.connect(lambda exc: self._on_run_ended(f"The evaluation failed: {exc}"))
        task.cancelled.connect(
            lambda: self._on_run_ended("Cancelled: finished runs are kept; Run resumes from them.")
        )

    def cancel_evaluation(self) -> None:
        """Stop the running evaluation; the runs it finished stay in the workspace."""
        self.models.tasks.cancel(RUN_OWNER)

    # ------------------------------------------------------------ run controls
    def _build_run_controls(self) -> None:
        from desktop_app.evaluation.zsl import all_splits

        self.model_list = QListWidget()
        self.model_list.setToolTip("Models to evaluate (the list fills in once the models are loaded)")
        self.split_list = QListWidget()
        self.split_list.setToolTip("Zero-shot class splits to evaluate")
        for split in all_splits():
            item = QListWidgetItem(split)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if split == DEFAULT_SPLIT else Qt.CheckState.Unchecked)
            self.split_list.addItem(item)
        for widget in (self.model_list, self.split_list):
            widget.setMaximumHeight(80)
        self.folds_spin = QSpinBox()
        self.folds_spin.setRange(1, 10)
        self.folds_spin.setValue(1)
        self.folds_spin.setToolTip("Test folds per split (folds 0 … N−1; seed 001 reports 10)")
        self.seeds_edit = QLineEdit("0")
        self.seeds_edit.setMaximumWidth(90)
        self.seeds_edit.setToolTip("Training seeds, separated by spaces (cells are mean ± std over them)")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(0, 10_000)
        self.epochs_spin.setSpecialValueText("preset")
        self.epochs_spin.setToolTip("Training epochs of a new run (preset: the model's small preset)")
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Train the missing runs and evaluate them; finished runs are reused")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop; finished runs are kept and Run resumes")
        self.cancel_button.setEnabled(False)
        self.run_progress = QProgressBar()
        self.run_progress.setRange(0, 1000)
        self.run_progress.setTextVisible(False)
        self.run_progress.hide()
        self.run_status = QLabel()
        self.run_status.setWordWrap(True)
        self.run_controls = QHBoxLayout()
        for label, widget in (("Models", self.model_list), ("Splits", self.split_list)):
            column = QVBoxLayout()
            column.addWidget(QLabel(label))
            column.addWidget(widget)
            self.run_controls.addLayout(column)
        form = QVBoxLayout()
        option: QWidget
        for label, option in (
            ("Folds", self.folds_spin),
            ("Seeds", self.seeds_edit),
            ("Epochs", self.epochs_spin),
        ):
            row = QHBoxLayout()
            row.addWidget(QLabel(label))
            row.addWidget(option)
            form.addLayout(row)
        self.run_controls.addLayout(form)
        actions = QVBoxLayout()
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        actions.addLayout(buttons)
        actions.addWidget(self.run_progress)
        actions.addWidget(self.run_status, 1)
        self.run_controls.addLayout(actions, 1)

    def _build_confusion_view(self) -> None:
        self.confusion_title = QLabel("Click a model's cell to see a fold's confusion matrix.")
        self.confusion_title.setWordWrap(True)
        self.confusion_fold = QComboBox()
        self.confusion_fold.setToolTip(
            "The run (training seed and test fold) whose confusion matrix is shown"
        )
        self.confusion_fold.hide()
        self.confusion_table = _table(
            [],
            "Rows: true unseen class; columns: the nearest unseen label. Click a cell to select its clips "
            "in every panel",
        )
        self.confusion_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.confusion_table.verticalHeader().setVisible(True)
        self.confusion_table.horizontalHeader().setStretchLastSection(False)
        self.confusion_table.verticalHeader().setDefaultSectionSize(22)
        self.confusion = None
        self.confusion_box = QWidget()
        box = QVBoxLayout(self.confusion_box)
        box.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.confusion_fold)
        head.addWidget(self.confusion_title, 1)
        box.addLayout(head)
        box.addWidget(self.confusion_table, 1)

    def _load_model_choices(self) -> None:
        if self.model_list.count():
            return
        task = self.models.tasks.start(MODELS_OWNER, "Listing models", _joint_embedding_models, quiet=True)
        task.finished.connect(self._fill_model_choices)

    def _fill_model_choices(self, names: list[str]) -> None:
        self.model_list.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            default = DEFAULT_MODEL if DEFAULT_MODEL in names else names[0]
            item.setCheckState(Qt.CheckState.Checked if name == default else Qt.CheckState.Unchecked)
            self.model_list.addItem(item)

    @staticmethod
    def _checked(widget: QListWidget) -> list[str]:
        return [
            widget.item(i).text()
            for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked
        ]

    def _seeds(self) -> list[int]:
        words = self.seeds_edit.text().replace(",", " ").split()
        try:
            seeds = [int(w) for w in words]
        except ValueError:
            raise ActionLensError(
                f"seeds {self.seeds_edit.text()!r} are not whole numbers; type e.g. 0 1 2"
            ) from None
        if not seeds or any(s < 0 for s in seeds):
            raise ActionLensError("type at least one training seed of 0 or more, e.g. 0 1 2")
        return sorted(set(seeds))

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running and self.models.workspace.workspace is not None)
        self.cancel_button.setEnabled(running)

    def _on_run_progress(self, fraction: float, message: str) -> None:
        self.run_progress.setValue(int(1000 * fraction))
        self.run_status.setText(message)

    def _show_run_table(self, table: dict[str, Any]) -> None:
        self._zsl_shown = table
        self._fill_summary(self.zsl_table, table)
        self._note("zsl", self._zsl_note(table))

    def _on_run_finished(self, table: dict[str, Any]) -> None:
        self._show_run_table(table)
        self._on_run_ended("Finished: saved in the runs' metrics and runs/_tables/zsl.json.")

    def _on_run_ended(self, message: str) -> None:
        self._set_running(False)
        self.run_progress.hide()
        self.run_status.setText(message)
        # The runs on disk changed: read every table again (the Recognition tab lists new runs).
        self._dirty = True
        if on_screen(self):
            self.refresh()

    # ------------------------------------------------------------ confusion
    def _on_zsl_cell(self, row: int, column: int) -> None:
        from desktop_app.evaluation.confusion import cell_folds

        table = self._zsl_shown
        if not table or column == 0 or row >= len(table["rows"]):
            return  # the model names, or the chance / oracle rows: no run behind them
        model = table["rows"][row]["model"]
        split = table["columns"][column - 1]
        runs = cell_folds(table["rows"][row]["cells"][split])
        self.confusion_fold.clear()
        if not runs:
            self.confusion_fold.hide()
            self.confusion_title.setText(f"{model} has no evaluated run on {split} yet.")
            _fill(self.confusion_table, [])
            return
        preset = table.get("preset", "small")
        for seed, fold in runs:
            self.confusion_fold.addItem(f"seed {seed} · fold {fold}", (model, split, fold, seed, preset))
        self.confusion_fold.setVisible(len(runs) > 1)
        self._show_fold_confusion()

    def _show_fold_confusion(self) -> None:
        from desktop_app.evaluation.confusion import cell_confusion

        ws = self.models.workspace.workspace
        key = self.confusion_fold.currentData()
        if ws is None or key is None:
            return
        model, split, fold, seed, preset = key
        self.confusion_title.setText(
            f"Computing the confusion matrix of {model} {split} fold {fold} seed {seed}…"
        )
        task = self.models.tasks.start(
            CONFUSION_OWNER, "Confusion matrix", cell_confusion, ws, model, split, fold, seed, preset
        )
        task.finished.connect(self._show_confusion)
        task.failed.connect(lambda exc: self.confusion_title.setText(f"No confusion matrix: {exc}"))

    def _show_confusion(self, confusion: Any) -> None:
        self.confusion = confusion
        names = confusion.class_names
        table = self.confusion_table
        table.setColumnCount(len(names))
        table.setHorizontalHeaderLabels(names)
        rows = []
        peak = max(int(confusion.counts.max()), 1) if confusion.counts.size else 1
        for i, name in enumerate(names):
            items: list[QTableWidgetItem] = []
            for j, other in enumerate(names):
                count = int(confusion.counts[i, j])
                item = NumericItem(str(count), count)
                item.setToolTip(
                    f"{count} clip{'s' if count != 1 else ''} of {name} assigned {other}; click to select"
                    if count
                    else f"no clip of {name} assigned {other}"
                )
                if count:
                    # a heat shade: green on the diagonal (right), red off it (confused)
                    alpha = 40 + int(160 * count / peak)
                    colour = QColor(40, 160, 60, alpha) if i == j else QColor(210, 60, 40, alpha)
                    item.setBackground(QBrush(colour))
                items.append(item)
            rows.append(items)
        _fill(table, rows, sortable=False)
        table.setVerticalHeaderLabels(names)
        self.confusion_title.setText(
            f"{confusion.run_id}: {int(confusion.counts.sum())} clips of {len(names)} unseen classes, "
            f"{100 * confusion.accuracy:.1f} % on the diagonal (chance {100 / max(len(names), 1):.1f} %). "
            "Rows: true class; columns: nearest unseen label."
        )

    def _on_confusion_cell(self, row: int, column: int) -> None:
        if self.confusion is None:
            return
        clip_ids = self.confusion.cell_clip_ids(row, column)
        self.models.selection.set(clip_ids, PANEL_ID)
        true, assigned = self.confusion.class_names[row], self.confusion.class_names[column]
        self.status.setText(
            f"Selected {len(clip_ids)} clip{'s' if len(clip_ids) != 1 else ''} of {true} assigned {assigned}"
            if len(clip_ids)
            else f"No clip of {true} was assigned {assigned}: selection cleared"
        )

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

    def _on_active_run(self, run_id: str | None) -> None:
        """Show the run chosen elsewhere; the list is read again only for a run not in it."""
        index = self.run_combo.findData(run_id) if run_id is not None else -1
        if index < 0:
            self._sync_run_combo()
            return
        self.run_combo.blockSignals(True)
        self.run_combo.setCurrentIndex(index)
        self.run_combo.blockSignals(False)

    def _on_run_chosen(self, index: int) -> None:
        run_id = self.run_combo.itemData(index)
        if run_id is None:
            return
        try:
            with self.models.tasks.batch():  # every panel answers: start their tasks together
                self.models.workspace.set_run(run_id)
        except ActionLensError as exc:
            self.status.setText(str(exc))
            self._sync_run_combo()

    # ------------------------------------------------------------ tables
    def _on_shown(self) -> None:
        self._load_model_choices()
        if self._dirty:
            self.refresh()

    def _on_workspace(self) -> None:
        self.overview = None
        for table in (self.recognition_table, self.recognition_summary, self.zsl_table, self.analogy_table):
            _fill(table, [])
        self._sync_run_combo()
        self._zsl_shown = None
        self.confusion = None
        self.confusion_fold.clear()
        self.confusion_fold.hide()
        _fill(self.confusion_table, [])
        ws = self.models.workspace.workspace
        self.refresh_button.setEnabled(ws is not None)
        # An evaluation belongs to the workspace it was started on; its finished runs stay there.
        self.models.tasks.cancel(RUN_OWNER)
        self.models.tasks.cancel(CONFUSION_OWNER)
        self._set_running(False)
        if ws is None:
            self.status.setText("No workspace is open.")
            self._dirty = False
            return
        self._dirty = True
        # The analogy test loads the word vectors: done only once the panel is on screen.
        if on_screen(self):
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
        if self.models.tasks.task(RUN_OWNER) is None:  # a running evaluation shows its own table
            self._zsl_shown = overview.zsl
            self._fill_summary(self.zsl_table, overview.zsl)
            self._note(
                "zsl",
                self._zsl_note(overview.zsl)
                if overview.zsl
                else "No zero-shot runs yet: choose models and splits above and press Run, or run "
                f"<code>actionlens evaluate --workspace {root} --task zsl --train-missing</code>.",
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
        """Stop the background computations (the window is closing); finished runs stay on disk."""
        for owner in (PANEL_ID, RUN_OWNER, CONFUSION_OWNER, MODELS_OWNER):
            self.models.tasks.cancel(owner)


if __name__ == "__main__":
    raise SystemExit(preview_panel(EvaluationPanel))
