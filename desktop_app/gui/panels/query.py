"""The Query panel: type words, a phrase or an expression and browse the nearest clips.

A query is embedded by :class:`~desktop_app.analysis.retrieval.Retriever` (a phrase is the mean
of its word vectors, seed 000 section III.C; ``class:bounce ball - word:ball + word:box`` is an
expression, seed 001 section 4.2.2) and answered with three ranked lists: clips (seed 000's
word → video retrieval, Table I), the nearest classes and the nearest words. Searching runs in a
worker (owner ``"query"``); the vocabulary for completion is read in a quiet background task
because loading the word vectors takes about a second.

A scope control limits the ranked clips to one split's train or test clips (seed 000 retrieves
among test videos); the filter is applied by the core search
(:meth:`~desktop_app.analysis.retrieval.Retriever.search`'s ``split``/``role``).

Beside the nearest words the panel lists the nearest **verbs** and nearest **nouns**
(:func:`~desktop_app.analysis.retrieval.nearest_words_by_pos`, WordNet part of speech as
:mod:`desktop_app.words.pos` decides it), in a second worker so the clips show first; without
WordNet the panel says so in their place.

Enter searches, also while the completion list is open: a highlighted completion is taken first,
otherwise the text is searched as typed. The history (newest first, :data:`HISTORY_SIZE` queries,
no repeats) persists in ``QSettings`` under :data:`KEY_HISTORY`.

The results go to the shared :class:`~desktop_app.gui.models.QueryModel` so the map can colour
by score; clicking a clip selects and plays it; every result row can be dragged to the Analogy
panel (:data:`~desktop_app.gui.dnd.OPERANDS_MIME`).

:class:`ResultTables` (the three lists as drag sources) is also used by the Analogy panel.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import shiboken6
from PySide6.QtCore import QMimeData, QPoint, QSettings, QSize, QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.analysis.retrieval import ClassHit, ClipHit, WordHit, WordsByPos
from desktop_app.errors import ActionLensError, UnknownWordError
from desktop_app.gui.dnd import OPERANDS_MIME, operands_mime_data
from desktop_app.gui.models import AppModels
from desktop_app.gui.widgets import MessageStack
from desktop_app.progress import Progress

if TYPE_CHECKING:
    from desktop_app.analysis.retrieval import RetrievalResult, Retriever
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.words.pos import WordPos
    from desktop_app.words.vectors import WordVectors

PANEL_ID = "query"
#: Words offered for completion: the most frequent ones (rare words are mostly noise).
COMPLETION_VOCABULARY = 50_000
#: Queries remembered in the history list (and across restarts).
HISTORY_SIZE = 50
#: The settings key of the history: a list of query strings, newest first.
KEY_HISTORY = "query/history"
#: Length of the nearest-verb and nearest-noun lists.
NEAREST_POS_WORDS = 15
#: The data role holding a result row's operand dict.
OPERAND_ROLE = Qt.ItemDataRole.UserRole + 1
THUMB_SIZE = QSize(64, 48)
# The last word being typed: what completion completes (signs and prefixes end a word).
_LAST_WORD = re.compile(r"[^\s:+\-−]*$")
_WORD_LOAD_LOCK = threading.Lock()


# ------------------------------------------------------------------------ Qt-free task bodies
def word_vectors_of(space: EmbeddingSpace) -> WordVectors:
    """The run's word vectors, loaded once even when two workers ask at the same time.

    ``EmbeddingSpace.word_vectors`` is a ``cached_property`` without a lock; two panels' workers
    touching it together would load the vectors twice (about a second and 80 MB each).
    """
    with _WORD_LOAD_LOCK:
        return space.word_vectors


class RetrieverSlot:
    """One :class:`~desktop_app.analysis.retrieval.Retriever` per space, built once by whichever
    worker asks first.

    The panel asks in a worker as soon as a run is shown, so the first query finds the clip
    index built (at a million clips: word vectors, unit rows and a FAISS IVF index, seconds) and
    answers in milliseconds; a query asked before that waits for the same build, in its worker.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._retriever: Retriever | None = None

    def get(self, space: EmbeddingSpace) -> Retriever:
        """The retriever over ``space`` (built now if there is none for it yet)."""
        from desktop_app.analysis.retrieval import Retriever

        with self._lock:
            if self._retriever is None or self._retriever.space is not space:
                self._retriever = Retriever(space)
            return self._retriever


def prepare_retriever(space: EmbeddingSpace, slot: RetrieverSlot, progress: Progress) -> None:
    """Load the word vectors and build the clip index of ``space`` ahead of the first query.

    The build (at a million clips: unit rows, class means and a FAISS IVF index, about 1.5 s of
    one core) runs in a thread of the lowest CPU priority, so that it takes only what the first
    map and the GUI leave of the cores instead of competing with them; it gives the GIL back
    every few milliseconds (numpy in chunks, FAISS without the GIL).
    """
    progress.set_progress(0.0, "Loading word vectors")
    word_vectors = word_vectors_of(space)
    progress.check_cancelled()
    progress.set_progress(0.5, "Indexing clips")
    at_low_priority(slot.get, space)
    # The word -> row dict, built now rather than by a later query (0.1-0.4 s for 400 000 words).
    _ = word_vectors.key_to_index


def at_low_priority(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a fresh thread of the lowest CPU priority (nice 19), waited for here.

    Linux gives each thread its own nice value (``setpriority`` on the thread id); a fresh thread
    is used because an unprivileged process cannot raise a thread's priority back. Elsewhere
    ``fn`` simply runs here. Exceptions reach the caller.
    """
    if not sys.platform.startswith("linux"):
        return fn(*args)
    outcome: dict[str, Any] = {}

    def body() -> None:
        try:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
            outcome["value"] = fn(*args)
        except BaseException as exc:  # handed to the waiting worker
            outcome["error"] = exc

    worker = threading.Thread(target=body, name="actionlens-query-index", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def load_vocabulary(space: EmbeddingSpace, limit: int, progress: Progress) -> list[str]:
    """The ``limit`` most frequent words of the run's word vectors that a person would type.

    Tokens with no letter (punctuation, numbers) are left out of completion.
    """
    progress.set_progress(0.0, "Loading word vectors")
    words = word_vectors_of(space).frequent_words(limit)
    progress.check_cancelled()
    return [w for w in words if any(ch.isalpha() for ch in w)]


def run_query(
    space: EmbeddingSpace,
    retriever: Retriever | RetrieverSlot | None,
    text: str,
    k: int,
    scope: tuple[str, str | None] | None,
    progress: Progress,
) -> tuple[Retriever, RetrievalResult]:
    """Answer ``text`` over ``space`` (building the clip index on first use).

    ``scope`` is ``(split, role)`` to rank only that split's clips of that role (``role``
    ``None``: every clip of the split), or ``None`` for every clip. Returns the retriever too, so
    the panel can keep its index for the next query. ``retriever`` may be the panel's
    :class:`RetrieverSlot`, whose index was built (or is being built) ahead of the query.

    Raises
    ------
    UnknownWordError
        A word is not in the word vectors (with spelling suggestions).
    """
    from desktop_app.analysis.retrieval import Retriever

    progress.set_progress(0.0, "Loading word vectors")
    word_vectors_of(space)
    progress.check_cancelled()
    if isinstance(retriever, RetrieverSlot):
        progress.set_progress(0.3, "Indexing clips")
        retriever = retriever.get(space)
    elif retriever is None or retriever.space is not space:
        progress.set_progress(0.3, "Indexing clips")
        retriever = Retriever(space)
    progress.check_cancelled()
    progress.set_progress(0.6, f"Searching {text!r}")
    split, role = scope if scope is not None else (None, None)
    if is_paragraph_space(space):
        # seed 004: the text (a sentence or a paragraph) through the run's own text encoders
        from desktop_app.training.paragraphs import text_query

        allowed = retriever.allowed_clip_ids(split, role, None)
        return retriever, text_query(space, text, k, allowed, num_classes=8, progress=progress)
    result = retriever.search(text, k, split=split, role=role, num_classes=8, num_words=15)
    progress.set_progress(1.0, "Done")
    return retriever, result


def approximate_note(method: str) -> str:
    """What the panel says under an answer from an approximate index (``ivf``, ``hnsw``)."""
    return (
        f"approximate search (FAISS {method.upper()} index): these are very likely, "
        "not certainly, the exact top clips"
    )


def is_paragraph_space(space: EmbeddingSpace) -> bool:
    """Whether the space is an ``hse`` / ``fse`` run's (seed 004): queries are sentences read by
    its text encoders, not phrase vectors, and it holds no words."""
    return "paragraphs" in (space.meta or {})


def prepare_word_pos(space: EmbeddingSpace, progress: Progress) -> WordPos | str:
    """The run's vocabulary tagged as verbs and nouns, or why it cannot be (no WordNet).

    Read from the user cache, or computed from WordNet once per vocabulary (seconds); see
    :mod:`desktop_app.words.pos`. Its own task, so that a new query never cancels it midway.
    """
    from desktop_app.words.pos import word_pos_or_reason

    progress.set_progress(0.0, "Loading word vectors")
    return word_pos_or_reason(word_vectors_of(space), progress)


def query_words_by_pos(
    retriever: Retriever, text: str, k: int, word_pos: WordPos, progress: Progress
) -> WordsByPos:
    """The nearest verbs and nouns of ``text`` (its own words left out), over ``word_pos``."""
    from desktop_app.analysis.retrieval import nearest_words_by_pos

    vector, words, _, _ = retriever.query_vector(text)
    progress.check_cancelled()
    return nearest_words_by_pos(retriever.space.word_vectors, vector, k, exclude=words, word_pos=word_pos)


# --------------------------------------------------------------------------- result tables
class OperandTable(QTableWidget):
    """A result table whose rows drag out as analogy operands (each row's operand in column 0)."""

    def __init__(self, headers: list[str], tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(headers)
        self.setToolTip(tooltip)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)

    def operand(self, row: int) -> dict[str, Any]:
        """The operand dict of a row."""
        item = self.item(row, 0)
        return dict(item.data(OPERAND_ROLE)) if item is not None else {}

    def mimeTypes(self) -> list[str]:
        return [OPERANDS_MIME, "text/plain"]

    def mimeData(self, items: Any) -> QMimeData:
        rows = sorted({item.row() for item in items if item is not None})
        return operands_mime_data([self.operand(r) for r in rows])

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


def _score_item(score: float) -> QTableWidgetItem:
    item = QTableWidgetItem(f"{score:.3f}")
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class ResultTables(QWidget):
    """Ranked clips (with thumbnails), classes and words, side by side; all drag sources.

    Clicking a clip selects it in the shared selection and plays it; selecting several clip rows
    selects those clips; clicking a class selects its clips. With ``by_part_of_speech`` the
    nearest verbs and nearest nouns stand beside the nearest words (filled by
    :meth:`show_words_by_pos`).

    Signals
    -------
    classActivated(int, str)
        A class row was double-clicked: class id and name.
    wordActivated(str)
        A word row was double-clicked.
    """

    classActivated = Signal(int, str)
    wordActivated = Signal(str)

    def __init__(
        self,
        models: AppModels,
        source: str,
        parent: QWidget | None = None,
        by_part_of_speech: bool = False,
    ) -> None:
        super().__init__(parent)
        self.models = models
        self.source = source
        self._filling = False
        drag_hint = "Drag rows to the Analogy panel."
        self.clips = OperandTable(
            ["#", "Class", "Clip", "Score"],
            f"The nearest clips, best first. Click to select and play; {drag_hint}",
        )
        self.clips.setIconSize(THUMB_SIZE)
        self.clips.verticalHeader().setDefaultSectionSize(THUMB_SIZE.height() + 6)
        header = self.clips.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.classes = OperandTable(
            ["Class", "Score"],
            f"The classes whose mean embedding is nearest. Click to select their clips; {drag_hint}",
        )
        self.words = OperandTable(["Word", "Score"], f"The nearest words of the word vectors. {drag_hint}")
        pos_hint = (
            "counted by WordNet: a word is a {0} when at least a third of its WordNet senses, "
            "weighted by how often each is used, are {0} senses"
        )
        self.verbs = OperandTable(
            ["Verb", "Score"], f"The nearest verbs, {pos_hint.format('verb')}. {drag_hint}"
        )
        self.nouns = OperandTable(
            ["Noun", "Score"], f"The nearest nouns, {pos_hint.format('noun')}. {drag_hint}"
        )
        for table in (self.classes, self.words, self.verbs, self.nouns):
            table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)

        self.clips_title = QLabel("<b>Clips</b>")
        self.classes_title = QLabel("<b>Classes</b>")
        self.words_title = QLabel("<b>Words</b>")
        self.verbs_title = QLabel("<b>Verbs</b>")
        self.nouns_title = QLabel("<b>Nouns</b>")
        # Shown in place of the verb and noun lists when they cannot be made (no WordNet).
        self.pos_message = QLabel()
        self.pos_message.setWordWrap(True)
        self.pos_message.setTextFormat(Qt.TextFormat.RichText)
        self.pos_message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.pos_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pos_message.setToolTip("Why there are no nearest verbs and nouns")
        self.pos_message.hide()
        self.by_part_of_speech = by_part_of_speech
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(_titled(self.clips_title, self.clips))
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(_titled(self.classes_title, self.classes))
        if by_part_of_speech:
            words_row = QWidget()
            row = QHBoxLayout(words_row)
            row.setContentsMargins(0, 0, 0, 0)
            self.word_lists = QSplitter(Qt.Orientation.Horizontal)
            self.word_lists.setChildrenCollapsible(False)
            self.word_lists.addWidget(_titled(self.words_title, self.words))
            self.verbs_box = _titled(self.verbs_title, self.verbs)
            self.nouns_box = _titled(self.nouns_title, self.nouns)
            self.word_lists.addWidget(self.verbs_box)
            self.word_lists.addWidget(self.nouns_box)
            row.addWidget(self.word_lists, 3)
            row.addWidget(self.pos_message, 2)
            side.addWidget(words_row)
        else:
            side.addWidget(_titled(self.words_title, self.words))
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.clips.itemSelectionChanged.connect(self._on_clip_selection)
        self.clips.cellClicked.connect(self._on_clip_clicked)
        self.clips.cellActivated.connect(self._on_clip_clicked)
        self.classes.cellClicked.connect(self._on_class_clicked)
        self.classes.cellDoubleClicked.connect(self._on_class_double_clicked)
        for table in (self.words, self.verbs, self.nouns):
            table.cellDoubleClicked.connect(
                lambda row, _col, t=table: self.wordActivated.emit(str(t.operand(row).get("word", "")))
            )
        models.thumbnails.ready.connect(self._on_thumbnail)

    # ------------------------------------------------------------ filling
    def clear(self) -> None:
        """Show no results."""
        self.show_results([], [], [])
        self.show_words_by_pos(WordsByPos())

    def show_results(
        self,
        clips: list[ClipHit],
        classes: list[ClassHit],
        words: list[WordHit],
        score_name: str = "Cosine",
    ) -> None:
        """Fill the three tables (best first); ``score_name`` heads the score columns."""
        self._filling = True
        try:
            self._fill_clips(clips)
            self._fill_classes(classes)
            self._fill_words(words)
        finally:
            self._filling = False
        tip = (
            "Cosine similarity to the query: higher is nearer"
            if score_name == "Cosine"
            else "Euclidean distance to the query: lower is nearer"
        )
        for table in (self.clips, self.classes, self.words):
            column = table.columnCount() - 1
            header_item = QTableWidgetItem(score_name)
            header_item.setToolTip(tip)
            table.setHorizontalHeaderItem(column, header_item)
        self.clips_title.setText(f"<b>Clips</b> ({len(clips)})")
        self.classes_title.setText(f"<b>Classes</b> ({len(classes)})")
        self.words_title.setText(f"<b>Words</b> ({len(words)})")

    def show_words_by_pos(self, found: WordsByPos | None) -> None:
        """Fill the verb and noun lists; ``None``: they are being computed.

        When ``found.unavailable`` says why there are none (no WordNet), that reason is shown in
        their place.
        """
        if not self.by_part_of_speech:
            return
        unavailable = found.unavailable if found is not None else None
        self.verbs_box.setVisible(unavailable is None)
        self.nouns_box.setVisible(unavailable is None)
        self.pos_message.setVisible(unavailable is not None)
        if unavailable is not None:
            self.pos_message.setText(f"<b>Verbs and nouns</b><br>{html.escape(unavailable)}")
        self._filling = True
        try:
            self._fill_words(found.verbs if found is not None else [], self.verbs)
            self._fill_words(found.nouns if found is not None else [], self.nouns)
        finally:
            self._filling = False
        pending = " …" if found is None else ""
        self.verbs_title.setText(f"<b>Verbs</b> ({len(found.verbs) if found else 0}){pending}")
        self.nouns_title.setText(f"<b>Nouns</b> ({len(found.nouns) if found else 0}){pending}")

    def _fill_clips(self, rows: list[ClipHit]) -> None:
        self.clips.clearSelection()
        self.clips.setRowCount(len(rows))
        wm = self.models.workspace
        classes = {c.name: c for c in wm.classes().values()}
        for r, hit in enumerate(rows):
            label = wm.clip_label(hit.clip_id)
            rank = QTableWidgetItem(str(r + 1))
            rank.setData(OPERAND_ROLE, {"kind": "clip", "id": hit.clip_id, "label": label})
            rank.setToolTip(f"{label}\nClick to play; drag to the Analogy panel.")
            pixmap = self.models.thumbnails.pixmap(hit.clip_id)
            if pixmap is not None:
                rank.setIcon(pixmap.scaled(THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio))
            self.clips.setItem(r, 0, rank)
            cls = classes.get(hit.class_name or "")
            class_item = QTableWidgetItem(cls.phrase if cls else (hit.class_name or "—"))
            class_item.setToolTip(hit.class_name or "unlabelled")
            if cls is None and hit.class_name is None and wm.workspace is not None:
                # a story video (seed 004): its paragraph where a class would be (k rows only)
                paragraph = " ".join(c.sentence for c in wm.workspace.catalog.captions(hit.clip_id))
                if paragraph:
                    class_item.setText(paragraph if len(paragraph) <= 48 else paragraph[:47] + "…")
                    class_item.setToolTip(paragraph)
            self.clips.setItem(r, 1, class_item)
            self.clips.setItem(r, 2, QTableWidgetItem(hit.name))
            self.clips.setItem(r, 3, _score_item(hit.score))
        self._mark_current_selection()

    def _fill_classes(self, rows: list[ClassHit]) -> None:
        self.classes.setRowCount(len(rows))
        for r, hit in enumerate(rows):
            item = QTableWidgetItem(hit.phrase or hit.name)
            item.setData(
                OPERAND_ROLE,
                {"kind": "class", "id": hit.class_id, "name": hit.name, "label": hit.phrase or hit.name},
            )
            item.setToolTip(f"{hit.name}\nClick to select its clips; drag to the Analogy panel.")
            self.classes.setItem(r, 0, item)
            self.classes.setItem(r, 1, _score_item(hit.score))

    def _fill_words(self, rows: list[WordHit], table: OperandTable | None = None) -> None:
        table = self.words if table is None else table
        table.setRowCount(len(rows))
        for r, hit in enumerate(rows):
            item = QTableWidgetItem(hit.word)
            item.setData(
                OPERAND_ROLE, {"kind": "word", "word": hit.word, "text": hit.word, "label": hit.word}
            )
            item.setToolTip(f"{hit.word}\nDrag to the Analogy panel.")
            table.setItem(r, 0, item)
            table.setItem(r, 1, _score_item(hit.score))

    def _mark_current_selection(self) -> None:
        selected = self.models.selection.clip_ids
        for r in range(self.clips.rowCount()):
            if int(self.clips.operand(r).get("id", -1)) in selected:
                self.clips.selectRow(r)

    def _on_thumbnail(self, clip_id: int, kind: str) -> None:
        if kind != "thumb":
            return
        pixmap = self.models.thumbnails.pixmap(clip_id)
        if pixmap is None:
            return
        for r in range(self.clips.rowCount()):
            item = self.clips.item(r, 0)
            if item is not None and int(item.data(OPERAND_ROLE).get("id", -1)) == clip_id:
                item.setIcon(pixmap.scaled(THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio))

    # ------------------------------------------------------------ user actions
    def _on_clip_selection(self) -> None:
        if self._filling:
            return
        rows = {i.row() for i in self.clips.selectedIndexes()}
        ids = {int(self.clips.operand(r)["id"]) for r in rows}
        if ids:
            self.models.selection.set(ids, self.source)

    def _on_clip_clicked(self, row: int, _column: int) -> None:
        operand = self.clips.operand(row)
        if "id" not in operand:
            return
        clip_id = int(operand["id"])
        if len({i.row() for i in self.clips.selectedIndexes()}) <= 1:
            self.models.selection.set({clip_id}, self.source)
        self.models.current_clip.set(clip_id, self.source)

    def _on_class_clicked(self, row: int, _column: int) -> None:
        operand = self.classes.operand(row)
        if "id" not in operand:
            return
        class_id = int(operand["id"])
        class_of = self.models.workspace.clip_columns().class_id
        self.models.selection.set(np.flatnonzero(class_of == class_id).tolist(), self.source)

    def _on_class_double_clicked(self, row: int, _column: int) -> None:
        operand = self.classes.operand(row)
        self.classActivated.emit(int(operand["id"]), str(operand.get("name", "")))


def _titled(title: QLabel, widget: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(title)
    layout.addWidget(widget, 1)
    return box


def no_embeddings_message(models: AppModels) -> str | None:
    """Why there is nothing to search, with the command that fixes it; ``None`` when there is."""
    wm = models.workspace
    if wm.workspace is None:
        return "Open a workspace (File ▸ Open) to search its clips."
    if wm.run_id is None:
        root = wm.root
        return (
            f"This workspace has no embeddings yet: run <code>actionlens train --workspace {root}</code> "
            f"and then <code>actionlens embed --workspace {root} --run RUN</code>."
        )
    return None


# ----------------------------------------------------------------------------------- the panel
class QueryPanel(QWidget):
    """Search clips, classes and words by words, a phrase or an expression.

    Parameters
    ----------
    models
        The shared models.
    parent
        The parent widget.
    settings
        Where the query history persists (default: the application's ``QSettings()``, as the
        main window's layout does; tests pass an INI file of their own).
    """

    def __init__(
        self, models: AppModels, parent: QWidget | None = None, settings: QSettings | None = None
    ) -> None:
        super().__init__(parent)
        self.models = models
        self.settings = settings if settings is not None else QSettings()
        self._retriever: Retriever | None = None
        self._slot = RetrieverSlot()
        self._history: list[str] = []
        self._pending_text = ""
        # Set while Enter has just taken a completion: Qt's completer then sends the same
        # completion again, which must not replace another word of the new text.
        self._enter_took_completion = False
        # The vocabulary's verb/noun tagging for the run: prepared once per run in a task of
        # its own; a string says why there is none.
        self._word_pos: WordPos | str | None = None
        self._pos_pending: tuple[Retriever, str] | None = None
        self._pos_token = 0

        self.search = QLineEdit()
        self.search.setPlaceholderText("Words, a phrase or an expression (class:bounce ball - ball + box)…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip(
            "Type words and press Enter: a phrase is the mean of its word vectors; "
            "clip:ID, class:NAME, word:WORD and spaced + / - make an expression"
        )
        self.search.setAccessibleName("Query")
        self.search_button = QPushButton("Search")
        self.search_button.setToolTip("Find the clips, classes and words nearest to the query (Enter)")
        self.count = QSpinBox()
        self.count.setRange(5, 500)
        self.count.setValue(25)
        self.count.setPrefix("top ")
        self.count.setSuffix(" clips")
        self.count.setToolTip("How many clips to retrieve")
        self.count.lineEdit().setToolTip(self.count.toolTip())
        self.scope = QComboBox()
        self.scope.setToolTip(
            "Which clips to rank: every clip, or one split's train or test clips "
            "(seed 000 retrieves among test clips)"
        )
        self.scope.setAccessibleName("Clips searched")
        self.scope.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setToolTip("The state of the last search; click a suggested spelling to use it")
        self.message.linkActivated.connect(self._use_suggestion)

        self.vocabulary = QStringListModel(self)
        self.completer = QCompleter(self.vocabulary, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setMaxVisibleItems(12)
        self.completer.setWidget(self.search)
        self.completer.activated.connect(self._complete_word)

        self.results = ResultTables(models, PANEL_ID, by_part_of_speech=True)
        self.history = QListWidget()
        self.history.setToolTip(
            "Earlier queries, newest first, kept across restarts: click one to run it again "
            "(right-click to clear)"
        )
        self.history.setAccessibleName("Query history")
        self.history.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.history.customContextMenuRequested.connect(self._history_menu)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.scope)
        top.addWidget(self.count)
        top.addWidget(self.search_button)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.results)
        splitter.addWidget(_titled(QLabel("<b>History</b>"), self.history))
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addLayout(top)
        content_layout.addWidget(self.message)
        content_layout.addWidget(splitter, 1)

        self.stack = MessageStack(content)
        self.state = self.stack.message
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.stack)

        self.search.returnPressed.connect(self._search_typed)
        self.search.textEdited.connect(self._offer_completions)
        self.search_button.clicked.connect(self._search_typed)
        self.scope.activated.connect(self._on_scope)
        self.history.itemClicked.connect(self._rerun)
        self.history.itemActivated.connect(self._rerun)
        self.results.wordActivated.connect(self.run_query)
        self.results.classActivated.connect(lambda _id, name: self.run_query(f"class:{name}"))
        models.workspace.workspaceChanged.connect(self._on_run)
        models.workspace.runChanged.connect(self._on_run)
        models.workspace.columnsReady.connect(self._fill_scopes)
        models.query.changed.connect(self._on_shared_query)
        self._load_history()
        self._on_run()

    # ------------------------------------------------------------ public
    def run_query(self, text: str) -> None:
        """Search ``text`` (as if typed and Enter pressed)."""
        text = " ".join(text.split())
        if not text:
            return
        self.search.setText(text)
        try:
            space = self.models.workspace.space()
        except ActionLensError as exc:
            self._show_message(html.escape(str(exc)), error=True)
            return
        if space is None:
            return
        self._add_history(text)
        self._pending_text = text
        self._show_message(f"Searching <b>{html.escape(text)}</b>…")
        scope = self.scope.currentData()
        task = self.models.tasks.start(
            PANEL_ID, f"Query {text!r}", run_query, space, self._slot, text, self.count.value(), scope
        )
        task.finished.connect(lambda answer, t=text, sc=scope: self._show_answer(t, answer, sc))
        task.failed.connect(lambda exc, t=text: self._show_failure(t, exc))

    def history_items(self) -> list[str]:
        """The remembered queries, newest first."""
        return list(self._history)

    def clear_history(self) -> None:
        """Forget every remembered query (here and in the settings)."""
        self._history = []
        self._show_history()
        self._save_history()

    def set_scope(self, split: str | None, role: str | None = None) -> None:
        """Rank only ``split``'s clips of ``role`` (``split=None``: every clip) and search again."""
        wanted = None if split is None else (split, role)
        index = next((i for i in range(self.scope.count()) if self.scope.itemData(i) == wanted), -1)
        if index < 0:
            raise ActionLensError(f"the workspace has no {role or 'clips of'} split {split!r} to search")
        self.scope.setCurrentIndex(index)
        self._on_scope(index)

    # ------------------------------------------------------------ scope
    def _fill_scopes(self) -> None:
        # Splits and their roles as counted with the workspace's columns (off the GUI thread for
        # a large workspace, so refilled on columnsReady); the choice survives a run change when
        # the new workspace has the same split and role.
        previous = self.scope.currentData()
        self.scope.blockSignals(True)
        self.scope.clear()
        counts = self.models.workspace.split_counts()
        self.scope.addItem("All clips", None)
        for split, roles in counts.items():
            for role in sorted(roles, key=lambda r: (r != "test", r != "train", r)):
                self.scope.addItem(f"Split {split}: {role} clips ({roles[role]})", (split, role))
        index = next((i for i in range(self.scope.count()) if self.scope.itemData(i) == previous), 0)
        self.scope.setCurrentIndex(index)
        self.scope.setEnabled(self.scope.count() > 1)
        self.scope.blockSignals(False)

    def _on_scope(self, _index: int) -> None:
        if self._pending_text:
            self.run_query(self._pending_text)

    # ------------------------------------------------------------ workspace and run
    def _on_run(self, *_: object) -> None:
        self._retriever = None
        # The same slot: a workspace change and a run change arrive together at open, and a
        # second slot would build a second index of the same space (seconds, 400 MB at 1 M);
        # the slot builds anew only for another space.
        self._word_pos = None
        self._pos_pending = None
        self._pos_token += 1
        self.models.tasks.cancel(f"{PANEL_ID}.pos-weights")
        self.results.clear()
        self.vocabulary.setStringList([])
        self._fill_scopes()
        message = no_embeddings_message(self.models)
        if message is not None:
            self.stack.show_message(message)
            return
        self.stack.show_content()
        self._show_message("Type words and press Enter, e.g. <i>basketball</i> or <i>spin ball</i>.")
        try:
            space = self.models.workspace.space()
        except ActionLensError as exc:
            self._show_message(html.escape(str(exc)), error=True)
            return
        if space is None:
            return
        task = self.models.tasks.start(
            f"{PANEL_ID}.vocabulary",
            "Loading the vocabulary",
            load_vocabulary,
            space,
            COMPLETION_VOCABULARY,
            quiet=True,
        )
        task.finished.connect(self.vocabulary.setStringList)
        # The clip index, built ahead of the first query (a failure shows when one is asked).
        self.models.tasks.start(
            f"{PANEL_ID}.index", "Indexing clips", prepare_retriever, space, self._slot, quiet=True
        )
        # A failure here also fails the search, which says why; completion simply stays empty.
        self._prepare_word_pos(space)
        if self._pending_text and self.models.workspace.workspace is not None:
            self.run_query(self._pending_text)

    def _on_shared_query(self, source: str) -> None:
        if source != PANEL_ID and not self.models.query.text:
            self.results.clear()
            self._pending_text = ""

    # ------------------------------------------------------------ typing
    def _search_typed(self) -> None:
        # Enter searches even while the completion list is open, taking the highlighted
        # completion first; with none highlighted, the text is searched as typed.
        if self._popup_visible():
            popup = self.completer.popup()
            index = popup.currentIndex() if popup is not None else None
            if index is not None and index.isValid():
                self._complete_word(str(index.data()))
                self._enter_took_completion = True
                QTimer.singleShot(0, self._forget_enter_completion)
            self._hide_popup()
        self.run_query(self.search.text())

    def _forget_enter_completion(self) -> None:
        self._enter_took_completion = False

    def _offer_completions(self, text: str) -> None:
        prefix = text[: self.search.cursorPosition()]
        match = _LAST_WORD.search(prefix)
        word = match.group(0) if match else ""
        if len(word) < 2 or not self.vocabulary.rowCount():
            self._hide_popup()
            return
        self.completer.setCompletionPrefix(word)
        if self.completer.completionCount():
            self.completer.complete()
        else:
            self._hide_popup()

    def _popup_visible(self) -> bool:
        popup = self.completer.popup()
        return popup is not None and popup.isVisible()

    def _hide_popup(self) -> None:
        popup = self.completer.popup()
        if popup is not None:
            popup.hide()

    def _complete_word(self, word: str) -> None:
        if self._enter_took_completion:
            return  # the completer repeating what Enter already took
        text = self.search.text()
        cursor = self.search.cursorPosition()
        head = _LAST_WORD.sub("", text[:cursor])
        self.search.setText(head + word + text[cursor:])
        self.search.setCursorPosition(len(head) + len(word))

    def _use_suggestion(self, link: str) -> None:
        # Links are "suggest:WRONG:RIGHT"; the wrong word is replaced wherever it stands alone.
        _, wrong, right = link.split(":", 2)
        text = re.sub(
            rf"(?<![\w]){re.escape(wrong)}(?![\w])", right, self._pending_text or self.search.text()
        )
        self.run_query(text)

    # ------------------------------------------------------------ history
    def _add_history(self, text: str) -> None:
        if text in self._history:
            self._history.remove(text)
        self._history.insert(0, text)
        del self._history[HISTORY_SIZE:]
        self._show_history()
        self._save_history()

    def _show_history(self) -> None:
        self.history.clear()
        for entry in self._history:
            item = QListWidgetItem(entry)
            item.setToolTip(f"Run {entry!r} again")
            self.history.addItem(item)

    def _load_history(self) -> None:
        # An INI file gives back a one-element list as a plain string, and a damaged value may
        # be anything: keep the strings, normalised, without repeats, newest first.
        value = self.settings.value(KEY_HISTORY, [])
        entries = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        history: list[str] = []
        for entry in entries:
            text = " ".join(str(entry).split()) if isinstance(entry, str) else ""
            if text and text not in history:
                history.append(text)
        self._history = history[:HISTORY_SIZE]
        self._show_history()

    def _save_history(self) -> None:
        self.settings.setValue(KEY_HISTORY, list(self._history))
        self.settings.sync()

    def _history_menu(self, position: QPoint) -> None:
        menu = QMenu(self.history)
        action = menu.addAction("Clear History")
        action.setEnabled(bool(self._history))
        action.triggered.connect(self.clear_history)
        menu.popup(self.history.viewport().mapToGlobal(position))

    def _rerun(self, item: QListWidgetItem) -> None:
        self.run_query(item.text())

    # ------------------------------------------------------------ results
    def _show_answer(
        self,
        text: str,
        answer: tuple[Retriever, RetrievalResult],
        scope: tuple[str, str | None] | None = None,
    ) -> None:
        retriever, result = answer
        self._retriever = retriever
        clips = result.clips
        self.results.show_results(
            clips,
            result.classes,
            result.words,
        )
        among = (
            f" among the {html.escape(scope[1] or 'all')} clips of split {html.escape(scope[0])}"
            if scope
            else ""
        )
        # An approximate index may, rarely, miss one of the true top k: say so.
        how = "" if result.exact else f"; {approximate_note(result.method)}"
        self._show_message(
            f"<b>{html.escape(text)}</b>: {len(clips)} clips{among}, best cosine {clips[0].score:.3f}{how}"
            if clips
            else f"<b>{html.escape(text)}</b>: no clip{among} has an embedding"
        )
        self.models.query.set(text, {c.clip_id: c.score for c in clips}, PANEL_ID)
        if is_paragraph_space(retriever.space):
            self.results.show_words_by_pos(
                WordsByPos(unavailable="An hse / fse run reads sentences; its space holds no words.")
            )
            return
        self._search_words_by_pos(retriever, text)

    # ------------------------------------------------------------ verbs and nouns
    def _prepare_word_pos(self, space: EmbeddingSpace) -> None:
        self._pos_token += 1
        token = self._pos_token
        task = self.models.tasks.start(
            f"{PANEL_ID}.pos-weights", "Tagging verbs and nouns with WordNet", prepare_word_pos, space
        )
        task.finished.connect(lambda found: self._on_word_pos(token, found))
        task.failed.connect(
            lambda exc: self._on_word_pos(token, f"verbs and nouns could not be tagged: {exc}")
        )
        task.cancelled.connect(lambda: self._on_word_pos(token, None))

    def _on_word_pos(self, token: int, found: WordPos | str | None) -> None:
        if token != self._pos_token or not shiboken6.isValid(self.results.verbs_box):
            # prepared for a run no longer shown, replaced by a newer start, or the panel is
            # gone (its tasks are cancelled when the window closes)
            return
        self._word_pos = found
        pending, self._pos_pending = self._pos_pending, None
        if found is None:  # cancelled: the next search prepares again
            if pending is not None:
                self.results.show_words_by_pos(WordsByPos(unavailable="Tagging was cancelled; search again."))
        elif pending is not None:
            self._search_words_by_pos(*pending)

    def _search_words_by_pos(self, retriever: Retriever, text: str) -> None:
        word_pos = self._word_pos
        if isinstance(word_pos, str):
            self.results.show_words_by_pos(WordsByPos(unavailable=word_pos))
            return
        self.results.show_words_by_pos(None)
        if word_pos is None:  # still being prepared (or cancelled): search when it is ready
            self._pos_pending = (retriever, text)
            if self.models.tasks.task(f"{PANEL_ID}.pos-weights") is None:
                self._prepare_word_pos(retriever.space)
            return
        task = self.models.tasks.start(
            f"{PANEL_ID}.pos",
            "Nearest verbs and nouns",
            query_words_by_pos,
            retriever,
            text,
            NEAREST_POS_WORDS,
            word_pos,
            quiet=True,
        )
        task.finished.connect(lambda found, t=text: self._show_words_by_pos(t, found))
        task.failed.connect(
            lambda exc, t=text: self._show_words_by_pos(
                t, WordsByPos(unavailable=f"the nearest verbs and nouns could not be found: {exc}")
            )
        )

    def _show_words_by_pos(self, text: str, found: WordsByPos) -> None:
        if text == self._pending_text:  # an answer to an earlier query is dropped
            self.results.show_words_by_pos(found)

    def _show_failure(self, text: str, exc: BaseException) -> None:
        self.results.clear()
        self.models.query.set(text, None, PANEL_ID)
        if isinstance(exc, UnknownWordError):
            links = ", ".join(
                f'<a href="suggest:{html.escape(exc.word)}:{html.escape(s)}">{html.escape(s)}</a>'
                for s in exc.suggestions
            )
            hint = f" Did you mean {links}?" if links else " Check the spelling."
            self._show_message(
                f"The word <b>{html.escape(exc.word)}</b> is not in the word vectors.{hint}", error=True
            )
        elif isinstance(exc, ActionLensError):
            self._show_message(html.escape(str(exc)), error=True)
        else:
            self._show_message(f"The search failed: {html.escape(repr(exc))}", error=True)

    def _show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(f"<span style='color:#c0392b'>⚠</span> {text}" if error else text)


if __name__ == "__main__":  # preview: python -m desktop_app.gui.panels.query WORKSPACE
    from desktop_app.gui.panels import preview_panel

    preview_panel(QueryPanel)
