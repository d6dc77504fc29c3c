"""The Analogy panel: vector arithmetic ``A − B + C …`` over clips, classes and words.

Seed 001 (section 4.2.2) shows that action embeddings in word space obey analogies such as
``play piano − piano + violin ≈ play violin``. Here each term is a slot into which the user drags
a clip (Library, Map, results), a class (the Map's legend, results) or types words; the signed sum
is solved by :func:`desktop_app.analysis.analogy.solve` in a worker (owner ``"analogy"``) every
time a slot changes, and the nearest clips, classes and words (operands left out) are listed.

The systematic analogy test of the run (seed 001, Table 4:
:func:`~desktop_app.analysis.analogy.space_analogy_tests`, the model's class means beside the
word vectors alone) can be shown below the results; clicking one of its comparisons loads
``verb_noun1 − noun1 + noun2`` into the slots. On a zero-shot run the held-out test
(:func:`~desktop_app.analysis.analogy.space_heldout_tests`: seen ``verb_noun1`` → unseen
``verb_noun2``, with the noun-only baseline) is listed beside it.

All the arithmetic is the core's (:mod:`desktop_app.analysis.analogy`), where every operand and
candidate is scaled to unit length first; this panel only shows it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.analysis.retrieval import ClassHit, ClipHit, WordHit
from desktop_app.errors import ActionLensError, UnknownWordError
from desktop_app.gui.dnd import parse_operands
from desktop_app.gui.models import AppModels
from desktop_app.gui.panels.query import ResultTables, no_embeddings_message, word_vectors_of
from desktop_app.gui.widgets import MessageStack
from desktop_app.progress import Progress
from desktop_app.workspace import Workspace

if TYPE_CHECKING:
    from desktop_app.analysis.analogy import AnalogyResult, AnalogyTestResult, Expression
    from desktop_app.analysis.space import EmbeddingSpace

PANEL_ID = "analogy"
#: Milliseconds of quiet typing before the analogy is solved again (drops solve at once).
TYPING_DELAY_MS = 250
MINUS = "−"


# ------------------------------------------------------------------------ Qt-free task bodies
def solve_analogy(
    space: EmbeddingSpace, expression: Expression, k: int, metric: str, progress: Progress
) -> AnalogyResult:
    """Solve ``expression`` over ``space`` (seed 001, section 4.2.2), operands left out."""
    from desktop_app.analysis.analogy import solve

    progress.set_progress(0.0, "Loading word vectors")
    word_vectors_of(space)
    progress.check_cancelled()
    progress.set_progress(0.5, f"Solving {expression}")
    return solve(space, expression, k, metric, num_classes=8, num_words=15)  # type: ignore[arg-type]


def run_analogy_tests(
    space: EmbeddingSpace, progress: Progress
) -> tuple[list[AnalogyTestResult], list[AnalogyTestResult]]:
    """Seed 001's systematic analogy test on the model and on the word vectors alone, and the
    held-out test (empty unless the run is a zero-shot run)."""
    from desktop_app.analysis.analogy import space_analogy_tests, space_heldout_tests

    progress.set_progress(0.0, "Loading word vectors")
    word_vectors_of(space)
    progress.check_cancelled()
    progress.set_progress(0.5, "Running the analogy test")
    seed_test = space_analogy_tests(space)
    progress.check_cancelled()
    return seed_test, space_heldout_tests(space)


# ------------------------------------------------------------------------------------ slots
class OperandEdit(QLineEdit):
    """A line edit that takes dropped analogy operands (and typed words).

    Signals
    -------
    operandsDropped(list)
        The operand dicts of a drop (see :mod:`desktop_app.gui.dnd`).
    """

    operandsDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if parse_operands(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if parse_operands(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        operands = parse_operands(event.mimeData())
        if not operands:
            super().dropEvent(event)
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.operandsDropped.emit(operands)


class TermSlot(QWidget):
    """One signed term of the analogy: a sign toggle, the operand, a remove button.

    Signals
    -------
    changed()
        The sign or the operand changed (``dropped`` tells whether by a drop, solved at once).
    removeRequested(object)
        The remove button was clicked; carries the slot.
    operandsDropped(object, list)
        The slot and the operands dropped on it.
    """

    changed = Signal(int)
    removeRequested = Signal(object)
    operandsDropped = Signal(object, list)

    def __init__(self, sign: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._operand: dict[str, Any] | None = None
        self.sign_button = QToolButton()
        self.sign_button.setToolTip("Add (+) or subtract (−) this term; click to flip")
        self.sign_button.setAutoRaise(False)
        self.sign_button.setMinimumWidth(self.sign_button.fontMetrics().horizontalAdvance("MM"))
        self.edit = OperandEdit()
        self.edit.setPlaceholderText("Drop a clip or class here, or type words")
        self.edit.setToolTip(
            "Drag a clip (Library, Map, results) or a class (legend, results) here, or type a word or "
            "phrase (class:NAME and clip:ID work too)"
        )
        self.edit.setClearButtonEnabled(True)
        self.remove_button = QToolButton()
        self.remove_button.setText("✕")
        self.remove_button.setToolTip("Remove this term")
        self.remove_button.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.sign_button)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.remove_button)
        self.set_sign(sign)

        self.sign_button.clicked.connect(self._flip_sign)
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        self.edit.textEdited.connect(self._on_typed)
        self.edit.operandsDropped.connect(lambda ops: self.operandsDropped.emit(self, ops))

    @property
    def sign(self) -> int:
        """+1 or −1."""
        return -1 if self.sign_button.text() == MINUS else 1

    def set_sign(self, sign: int) -> None:
        """Make the term added (+1) or subtracted (−1)."""
        self.sign_button.setText(MINUS if sign < 0 else "+")

    @property
    def operand(self) -> dict[str, Any] | None:
        """The dropped operand dict, or ``None`` (then the typed text is the operand)."""
        return self._operand

    def set_operand(self, operand: dict[str, Any] | None, label: str = "") -> None:
        """Show a dropped operand (``None``: empty slot)."""
        self._operand = operand
        self.edit.setText(label)
        self.edit.setCursorPosition(0)
        kind = operand.get("kind") if operand else None
        self.edit.setToolTip(
            f"{kind}: {label}\nType to replace it with words, or drop something else"
            if operand
            else self.edit.toolTip().split("\n")[-1]
        )

    def is_empty(self) -> bool:
        """True when the slot holds nothing."""
        return self._operand is None and not self.edit.text().strip()

    def _flip_sign(self) -> None:
        self.set_sign(-self.sign)
        self.changed.emit(1)

    def _on_typed(self, _text: str) -> None:
        self._operand = None  # typing turns the slot into words
        self.changed.emit(0)


def operand_text(operand: dict[str, Any], models: AppModels) -> str:
    """The expression syntax of a dropped operand (``clip:3``, ``class:BounceBall``, ``word:box``).

    Accepts classes by ``name`` or by ``id`` and words by ``word`` or ``text``, whichever the
    drag source wrote.
    """
    kind = operand.get("kind")
    if kind == "clip":
        return f"clip:{int(operand['id'])}"
    if kind == "class":
        name = operand.get("name")
        if not name and operand.get("id") is not None:
            cls = models.workspace.classes().get(int(operand["id"]))
            name = cls.name if cls is not None else None
        if not name:
            raise ActionLensError(f"the dropped class {operand.get('label')!r} names no class")
        return f"class:{name}"
    word = operand.get("word") or operand.get("text") or operand.get("label")
    if not word:
        raise ActionLensError("the dropped word is empty")
    return f"word:{word}"


def operand_label(operand: dict[str, Any], models: AppModels) -> str:
    """What a slot shows for a dropped operand."""
    if operand.get("label"):
        return str(operand["label"])
    if operand.get("kind") == "clip":
        return models.workspace.clip_label(int(operand["id"]))
    return operand_text(operand, models).split(":", 1)[1]


# ----------------------------------------------------------------------------------- the panel
class AnalogyPanel(QWidget):
    """Drag clips, classes and words into ``A − B + C`` and see what is nearest."""

    def __init__(self, models: AppModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self.slots: list[TermSlot] = []
        self._tests_stale = True
        self._solve_timer = QTimer(self)
        self._solve_timer.setSingleShot(True)
        self._solve_timer.timeout.connect(self._solve)
        self.setAcceptDrops(True)

        self.slot_box = QVBoxLayout()
        self.slot_box.setSpacing(3)
        self.add_button = QPushButton("Add term")
        self.add_button.setToolTip("Add another term to the analogy")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Empty the slots (back to A − B + C)")
        self.metric_combo = QComboBox()
        self.metric_combo.addItem("Cosine", "cosine")
        self.metric_combo.addItem("Euclidean", "euclidean")
        self.metric_combo.setToolTip(
            "How nearness is measured: cosine similarity, or Euclidean distance as in seed 001's test"
        )
        self.count = QSpinBox()
        self.count.setRange(5, 200)
        self.count.setValue(20)
        self.count.setPrefix("top ")
        self.count.setSuffix(" clips")
        self.count.setToolTip("How many clips to list")
        self.count.lineEdit().setToolTip(self.count.toolTip())
        self.test_toggle = QToolButton()
        self.test_toggle.setText("Analogy test")
        self.test_toggle.setCheckable(True)
        self.test_toggle.setToolTip(
            "Show seed 001's systematic test: verb_noun1 − noun1 + noun2 should be nearest verb_noun2"
        )
        self.expression_label = QLabel()
        self.expression_label.setWordWrap(True)
        self.expression_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.expression_label.setToolTip("The expression being solved, and its status")

        controls = QHBoxLayout()
        controls.addWidget(self.add_button)
        controls.addWidget(self.clear_button)
        controls.addStretch(1)
        controls.addWidget(self.metric_combo)
        controls.addWidget(self.count)
        controls.addWidget(self.test_toggle)

        self.results = ResultTables(models, PANEL_ID)
        self.test_box = self._build_test_box()
        self.test_box.setVisible(False)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.results)
        splitter.addWidget(self.test_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)

        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addLayout(self.slot_box)
        content_layout.addLayout(controls)
        content_layout.addWidget(self.expression_label)
        content_layout.addWidget(splitter, 1)
        self.stack = MessageStack(content)
        self.state = self.stack.message
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.stack)

        self.add_button.clicked.connect(lambda: self.add_slot(1))
        self.clear_button.clicked.connect(self.clear_slots)
        self.metric_combo.currentIndexChanged.connect(lambda: self._schedule(True))
        self.count.valueChanged.connect(lambda: self._schedule(False))
        self.test_toggle.toggled.connect(self._toggle_tests)
        models.workspace.workspaceChanged.connect(self._on_workspace)
        models.workspace.runChanged.connect(self._on_run)
        self.clear_slots()
        self._on_run()

    # ------------------------------------------------------------ public
    def add_slot(self, sign: int = 1) -> TermSlot:
        """Append an empty term with ``sign``."""
        slot = TermSlot(sign)
        slot.changed.connect(self._schedule)
        slot.removeRequested.connect(self.remove_slot)
        slot.operandsDropped.connect(self._on_dropped)
        self.slots.append(slot)
        self.slot_box.addWidget(slot)
        self._update_remove_buttons()
        return slot

    def remove_slot(self, slot: TermSlot) -> None:
        """Remove a term (the last one stays, emptied)."""
        if len(self.slots) <= 1:
            slot.set_operand(None)
            self._schedule(True)
            return
        self.slots.remove(slot)
        _discard(self.slot_box, slot)
        self._update_remove_buttons()
        self._schedule(True)

    def clear_slots(self) -> None:
        """Back to three empty slots ``A − B + C``."""
        self.load_terms([(1, None), (-1, None), (1, None)])

    def load_terms(self, terms: list[tuple[int, dict[str, Any] | None]]) -> None:
        """Replace the slots by ``(sign, operand dict or None)`` terms and solve at once."""
        for slot in self.slots:
            _discard(self.slot_box, slot)
        self.slots = []
        for sign, operand in terms:
            slot = self.add_slot(sign)
            if operand is not None:
                slot.set_operand(operand, operand_label(operand, self.models))
        self._schedule(True)

    def expression(self) -> Expression | None:
        """The expression the slots spell (``None`` when every slot is empty).

        Raises
        ------
        ActionLensError
            A slot's text is malformed (``clip:abc``).
        """
        from desktop_app.analysis.analogy import Expression

        terms: list[tuple[int, str]] = []
        for slot in self.slots:
            if slot.operand is not None:
                terms.append((slot.sign, operand_text(slot.operand, self.models)))
            elif slot.edit.text().strip():
                terms.append((slot.sign, slot.edit.text().strip()))
        return Expression.from_terms(terms) if terms else None

    # ------------------------------------------------------------ drops
    def _on_dropped(self, slot: TermSlot, operands: list[dict[str, Any]]) -> None:
        # The first operand fills the slot it was dropped on, the rest the following slots
        # (added as needed), so dragging three clips at once fills A, B and C.
        index = self.slots.index(slot)
        for offset, operand in enumerate(operands):
            position = index + offset
            target = self.slots[position] if position < len(self.slots) else self.add_slot(1)
            target.set_operand(operand, operand_label(operand, self.models))
        self._schedule(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if parse_operands(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if parse_operands(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        # A drop beside the slots fills the first empty slot onwards (or adds terms).
        operands = parse_operands(event.mimeData())
        if not operands:
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        empty = next((s for s in self.slots if s.is_empty()), None)
        self._on_dropped(empty if empty is not None else self.add_slot(1), operands)

    def _update_remove_buttons(self) -> None:
        for slot in self.slots:
            slot.remove_button.setEnabled(len(self.slots) > 1)

    # ------------------------------------------------------------ solving
    def _schedule(self, at_once: int | bool = True) -> None:
        self._solve_timer.start(0 if at_once else TYPING_DELAY_MS)

    def _solve(self) -> None:
        if self.stack.currentIndex() != 1:
            return
        try:
            expression = self.expression()
        except ActionLensError as exc:
            self.models.tasks.cancel(PANEL_ID)
            self._show_status(html.escape(str(exc)), error=True)
            return
        if expression is None:
            self.models.tasks.cancel(PANEL_ID)
            self.results.clear()
            self._show_status(
                "Drag clips from the Library, the Map or the results, classes from the legend, or type "
                "words into the slots: the nearest clips, classes and words appear here."
            )
            return
        try:
            space = self.models.workspace.space()
        except ActionLensError as exc:
            self._show_status(html.escape(str(exc)), error=True)
            return
        if space is None:
            return
        metric = str(self.metric_combo.currentData())
        text = _pretty(str(expression))
        self._show_status(f"Solving <b>{html.escape(text)}</b>…")
        task = self.models.tasks.start(
            PANEL_ID, f"Analogy {text}", solve_analogy, space, expression, self.count.value(), metric
        )
        task.finished.connect(lambda result, t=text: self._show_result(t, result))
        task.failed.connect(self._show_failure)

    def _show_result(self, text: str, result: AnalogyResult) -> None:
        score_name = "Cosine" if result.metric == "cosine" else "Distance"
        self.results.show_results(
            [ClipHit(c["clip_id"], c["name"], c["class_name"], c["score"]) for c in result.clips],
            [ClassHit(c["class_id"], c["name"], c["phrase"], c["score"]) for c in result.classes],
            [WordHit(w["word"], w["score"]) for w in result.words],
            score_name,
        )
        best = f"; nearest class: <b>{html.escape(result.classes[0]['phrase'])}</b>" if result.classes else ""
        self._show_status(f"= <b>{html.escape(text)}</b>{best}")

    def _show_failure(self, exc: BaseException) -> None:
        self.results.clear()
        if isinstance(exc, UnknownWordError):
            hint = f" Did you mean {', '.join(exc.suggestions)}?" if exc.suggestions else ""
            self._show_status(
                f"The word <b>{html.escape(exc.word)}</b> is not in the word vectors.{html.escape(hint)}",
                error=True,
            )
        elif isinstance(exc, ActionLensError):
            self._show_status(html.escape(str(exc)), error=True)
        else:
            self._show_status(f"The analogy failed: {html.escape(repr(exc))}", error=True)

    def _show_status(self, text: str, error: bool = False) -> None:
        self.expression_label.setText(f"<span style='color:#c0392b'>⚠</span> {text}" if error else text)

    # ------------------------------------------------------------ the systematic test
    def _build_test_box(self) -> QWidget:
        box = QWidget()
        self.test_summary = QTableWidget(0, 4)
        self.test_summary.setHorizontalHeaderLabels(["Class vectors", "Comparisons", "Passed", "Fraction"])
        self.test_summary.setToolTip(
            "Seed 001, Table 4: how many verb_noun1 − noun1 + noun2 land nearest verb_noun2 "
            "(Euclidean, every vector unit length), with the model's class means and with word "
            "vectors alone; on a zero-shot run also the held-out test (seen verb_noun1 → unseen "
            "verb_noun2) and a noun-only baseline that answers from noun2 alone"
        )
        self.test_details = QTableWidget(0, 4)
        self.test_details.setHorizontalHeaderLabels(
            ["Analogy", "Expected", "Model's nearest", "Word vectors' nearest"]
        )
        self.test_details.setToolTip("Each comparison of the test; click one to load it into the slots")
        for table in (self.test_summary, self.test_details):
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            table.verticalHeader().setVisible(False)
            table.setAlternatingRowColors(True)
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setStretchLastSection(True)
        self._fit_summary_height(2)
        self.test_status = QLabel()
        self.test_status.setWordWrap(True)
        self.test_status.setToolTip("The state of the analogy test")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<b>Systematic analogy test</b> (seed 001, §4.2.2; every vector unit length)")
        title.setToolTip(
            "Class means, clip embeddings and word vectors are scaled to length 1 before the "
            "arithmetic, so the nouns' word vectors do not outweigh the class means"
        )
        layout.addWidget(title)
        layout.addWidget(self.test_status)
        layout.addWidget(self.test_summary)
        layout.addWidget(self.test_details, 1)
        self.test_details.cellClicked.connect(self._load_test_row)
        return box

    def _toggle_tests(self, shown: bool) -> None:
        self.test_box.setVisible(shown)
        if shown and self._tests_stale:
            self._run_tests()

    def _run_tests(self) -> None:
        try:
            space = self.models.workspace.space()
        except ActionLensError as exc:
            self.test_status.setText(str(exc))
            return
        if space is None:
            return
        self._tests_stale = False
        self.test_status.setText("Running the analogy test…")
        task = self.models.tasks.start(f"{PANEL_ID}.test", "Analogy test", run_analogy_tests, space)
        task.finished.connect(self._show_tests)
        task.failed.connect(lambda exc: self.test_status.setText(f"The analogy test failed: {exc}"))

    def _fit_summary_height(self, rows: int) -> None:
        self.test_summary.setMaximumHeight(
            self.test_summary.horizontalHeader().sizeHint().height()
            + rows * self.test_summary.verticalHeader().defaultSectionSize()
            + 6
        )

    def _show_tests(self, tests: tuple[list[AnalogyTestResult], list[AnalogyTestResult]]) -> None:
        results, heldout = tests
        rows = [(r.name, r) for r in results] + [(f"held-out: {r.name}", r) for r in heldout]
        self.test_summary.setRowCount(len(rows))
        self._fit_summary_height(len(rows))
        for r, (name, result) in enumerate(rows):
            fraction = f"{result.fraction:.1%}" if result.count else "—"
            cells = [name, str(result.count), str(result.passed), fraction]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.test_summary.setItem(r, c, item)
        by_name = {result.name: result for result in results}
        model = by_name.get("model")
        baseline = by_name.get("word vectors")
        base_nearest = {(c.source, c.expected): c for c in (baseline.comparisons if baseline else [])}
        comparisons = model.comparisons if model else (baseline.comparisons if baseline else [])
        classes = {c.name: c for c in self.models.workspace.classes().values()}
        self.test_details.setRowCount(len(comparisons))
        for r, comp in enumerate(comparisons):
            source = classes.get(comp.source)
            source_label = source.phrase if source else comp.source
            first = QTableWidgetItem(f"{source_label} {MINUS} {comp.noun1} + {comp.noun2}")
            first.setData(Qt.ItemDataRole.UserRole, (comp.source, source_label, comp.noun1, comp.noun2))
            first.setToolTip("Click to load this analogy into the slots")
            self.test_details.setItem(r, 0, first)
            self.test_details.setItem(r, 1, QTableWidgetItem(_phrase(classes, comp.expected)))
            model_text = f"{'✓' if comp.passed else '✗'} {_phrase(classes, comp.nearest)}"
            self.test_details.setItem(r, 2, QTableWidgetItem(model_text if model else "—"))
            other = base_nearest.get((comp.source, comp.expected))
            other_text = f"{'✓' if other.passed else '✗'} {_phrase(classes, other.nearest)}" if other else "—"
            self.test_details.setItem(r, 3, QTableWidgetItem(other_text))
        skipped = sum(len(result.skipped) for result in results)
        self.test_status.setText(
            f"{len(comparisons)} comparisons"
            + (f"; {skipped} skipped (words missing)" if skipped else "")
            + (
                f"; held-out test: {heldout[0].count} seen → unseen analogies"
                if heldout
                else "; the held-out test needs a zero-shot run"
            )
            + ". Click a row to load it into the slots."
        )

    def _load_test_row(self, row: int, _column: int) -> None:
        item = self.test_details.item(row, 0)
        if item is None:
            return
        source, source_label, noun1, noun2 = item.data(Qt.ItemDataRole.UserRole)
        self.load_terms(
            [
                (1, {"kind": "class", "name": source, "label": source_label}),
                (-1, {"kind": "word", "word": noun1, "label": noun1}),
                (1, {"kind": "word", "word": noun2, "label": noun2}),
            ]
        )

    # ------------------------------------------------------------ workspace and run
    def _on_workspace(self, _workspace: Workspace | None) -> None:
        self.clear_slots()  # clip ids belong to the previous workspace

    def _on_run(self, *_: object) -> None:
        self.results.clear()
        self.test_summary.setRowCount(0)
        self.test_details.setRowCount(0)
        self._tests_stale = True
        message = no_embeddings_message(self.models)
        if message is not None:
            self.stack.show_message(message)
            return
        self.stack.show_content()
        self._schedule(True)
        if self.test_toggle.isChecked():
            self._run_tests()


def _discard(layout: QVBoxLayout, widget: QWidget) -> None:
    # Hidden and unparented at once: deleteLater alone leaves it drawn until the event loop
    # gets back to its top level.
    layout.removeWidget(widget)
    widget.hide()
    widget.setParent(None)
    widget.deleteLater()


def _pretty(expression: str) -> str:
    return expression.replace(" - ", f" {MINUS} ")


def _phrase(classes: dict[str, Any], name: str) -> str:
    cls = classes.get(name)
    return cls.phrase if cls is not None and cls.phrase else name


if __name__ == "__main__":  # preview: python -m desktop_app.gui.panels.analogy WORKSPACE
    from desktop_app.gui.panels import preview_panel

    preview_panel(AnalogyPanel)
