"""Vector-arithmetic analogies over clips, class means and words (seed 001, section 4.2.2).

An :class:`Expression` is a signed sum of operands, ``A − B + C …`` with any number of terms:

* ``clip:ID`` — a clip's embedding;
* ``class:NAME`` — a class's mean embedding (seed 001 averages a class's clip embeddings);
* ``word:WORD`` — a word's vector, or a phrase's (the mean of its word vectors, seed 000
  section III.C); an operand without a prefix is a word/phrase too.

Since the model maps clips into the word space, all three live in one space and can be added.
:func:`solve` ranks clips, classes and words by cosine or Euclidean distance to the result,
leaving the operands themselves out.

**One scale for all arithmetic.** The three kinds of vector come in very different sizes: GloVe
word vectors have norms of 4–6, a model's clip embeddings and class means often 0.2–1. Added as
they are, ``verb_noun1 − noun1 + noun2`` is dominated by the two nouns and the class part is
noise. So every operand is put on the unit sphere before any arithmetic (:func:`to_unit`):

* a word or phrase: its phrase vector (the mean of its word vectors, seed 000 §III.C) scaled to
  length 1 — exactly the unit label vector the models are trained against;
* a clip: its embedding scaled to length 1 (the models are scored by cosine, so a clip's norm
  carries no meaning for them);
* a class: the mean of its clips' *unit* embeddings, scaled to length 1 again
  (:func:`unit_class_means`) — so every clip weighs the same, whatever its norm, and the class
  vector is as long as a word vector;
* the candidates are on the same scale (unit clips, unit class means, unit word vectors).

Against unit candidates the Euclidean ranking equals the cosine ranking (``‖q − c‖² = ‖q‖² + 1 −
2 q·c``), so seed 001's Euclidean test and a cosine search agree; the metric changes the score
shown, not the order.

:func:`systematic_analogy_test` is seed 001's test (its Table 4): for every verb with several
noun classes and every ordered pair of its nouns, ``verb_noun1 − noun1 + noun2`` is compared by
Euclidean distance with every class vector, and passes when the nearest is ``verb_noun2``. The
nouns are always word vectors (seed 001, Figure 3: "we subtract the Word2Vec embedding of the
first noun and add the Word2Vec embedding of the second noun"); the class vectors are either the
model's class means or, for the word-vector baseline, the class phrases' word vectors. As in the
seed, the search runs over *all* classes, ``verb_noun1`` included.

:func:`heldout_analogy_test` asks the question the seed's test cannot: on a zero-shot run, the
analogies from a *seen* ``verb_noun1`` to an *unseen* ``verb_noun2``, whose clips the model never
trained on. :func:`run_analogy_report` runs both tests on one zero-shot run for the model, the
word vectors and a noun-only baseline; :func:`zsl_analogy_table` averages them over runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from desktop_app.errors import ActionLensError, UnknownWordError
from desktop_app.workspace.clip_sets import ok_clips

if TYPE_CHECKING:
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.progress import Progress

OperandKind = Literal["clip", "class", "word"]
OPERAND_KINDS: tuple[str, ...] = ("clip", "class", "word")
Metric = Literal["cosine", "euclidean"]
METRICS: tuple[str, ...] = ("cosine", "euclidean")

_SIGNS = {"+": 1, "-": -1, "−": -1}
# A sign between operands: surrounded by spaces, so "tai-chi" and "clip:12" are left whole.
_SIGN_SPLIT = re.compile(r"(?:^|\s+)([+\-−])\s+")
_LEADING_SIGN = re.compile(r"^\s*[+\-−](?:\s|$)")
_PREFIX = re.compile(r"^\s*(clip|class|word)\s*:\s*(.*?)\s*$", re.IGNORECASE | re.DOTALL)


# ----------------------------------------------------------------------------------- scale
def to_unit(vectors: np.ndarray) -> np.ndarray:
    """Vectors (one, or rows) scaled to length 1, float64; zero vectors stay zero, NaN stays NaN.

    The one scale every analogy operand and candidate is put on (see the module docstring).
    """
    array = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        return array / np.where(norms > 0, norms, 1.0)


def unit_class_means(
    clip_embeddings: np.ndarray,
    clip_ids: np.ndarray,
    clip_classes: np.ndarray,
    class_ids: np.ndarray,
    chunk: int = 8_192,
) -> np.ndarray:
    """Class vectors on the unit scale: the mean of each class's unit clip embeddings, re-normalised.

    Seed 001 (§4.2.2) averages "the Action2Vec vectors for all videos of that action class"; its
    vectors are compared by cosine in training, so each clip is scaled to length 1 first (a clip
    with a large norm would otherwise outweigh the others), and the mean is scaled to length 1
    so that it is on the scale of the unit word vectors it is added to.

    Parameters
    ----------
    clip_embeddings
        ``(num_clips, D)``, indexed by clip id (a memory map is read ``chunk`` rows at a time;
        a few MB of float64 per step, which stay in the cache: faster than larger steps).
    clip_ids, clip_classes
        The clips to average and the class id of each.
    class_ids
        The classes wanted, one row each (a class with no clip among ``clip_ids`` gets NaN).

    Returns
    -------
    numpy.ndarray
        ``(len(class_ids), D)`` float32.
    """
    class_ids = np.asarray(class_ids, dtype=np.int64)
    clip_ids = np.asarray(clip_ids, dtype=np.int64)
    clip_classes = np.asarray(clip_classes, dtype=np.int64)
    if clip_ids.shape != clip_classes.shape:
        raise ActionLensError(f"{len(clip_ids)} clips but {len(clip_classes)} clip classes")
    dim = int(clip_embeddings.shape[1])
    if not len(class_ids):
        return np.zeros((0, dim), dtype=np.float32)
    order = np.argsort(class_ids, kind="stable")
    sorted_ids = class_ids[order]
    position = np.clip(np.searchsorted(sorted_ids, clip_classes), 0, len(class_ids) - 1)
    known = sorted_ids[position] == clip_classes
    rows_of = order[position]
    sums = np.zeros((len(class_ids), dim), dtype=np.float64)
    counts = np.zeros(len(class_ids), dtype=np.int64)
    for start in range(0, len(clip_ids), chunk):
        part = slice(start, start + chunk)
        keep = known[part]
        # to_unit's scaling with the norms by einsum (a row's norm is finite iff the row is):
        # linalg.norm and isfinite(...).all(axis=1) reduce 50-wide rows three times slower.
        raw = np.asarray(clip_embeddings[clip_ids[part][keep]], dtype=np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", raw, raw))
        finite = np.isfinite(norms)
        rows = rows_of[part][keep][finite]
        if not len(rows):
            continue
        unit = raw[finite] / np.where(norms[finite] > 0, norms[finite], 1.0)[:, None]
        # Sorted by class, each class's clips are one run of rows: one reduceat per chunk
        # (np.add.at, one row at a time, is far slower on a large workspace); clips listed
        # class by class (the usual catalog order) need no sort.
        if np.any(rows[1:] < rows[:-1]):
            by_row = np.argsort(rows, kind="stable")
            rows, unit = rows[by_row], unit[by_row]
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        sums[rows[starts]] += np.add.reduceat(unit, starts, axis=0)
        counts += np.bincount(rows, minlength=len(class_ids))
    means = to_unit(sums)
    means[counts == 0] = np.nan
    return means.astype(np.float32)


def looks_like_expression(text: str) -> bool:
    """True when ``text`` names an operand (``clip:``/``class:``/``word:``) or has a spaced sign."""
    return bool(re.search(r"\b(clip|class|word)\s*:", text, re.IGNORECASE) or _SIGN_SPLIT.search(" " + text))


@dataclass(frozen=True)
class Operand:
    """One term's object: ``kind`` is ``"clip"``, ``"class"`` or ``"word"``; ``value`` its id,
    class name or words."""

    kind: OperandKind
    value: str

    @classmethod
    def parse(cls, text: str) -> Operand:
        """``"clip:12"``, ``"class:bounce ball"``, ``"word:ball"``; no prefix means words."""
        match = _PREFIX.match(text)
        kind, value = (match.group(1).lower(), match.group(2)) if match else ("word", text.strip())
        if not value:
            raise ActionLensError(f"operand {text!r} names nothing; write clip:ID, class:NAME or word:WORD")
        if kind == "clip" and not value.isdigit():
            raise ActionLensError(f"operand {text!r}: a clip is named by its numeric id, e.g. clip:12")
        return cls(kind, " ".join(value.split()))  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class Term:
    """A signed operand: ``sign`` is +1 or −1."""

    sign: int
    operand: Operand


@dataclass(frozen=True)
class Expression:
    """A signed sum of operands, ``A − B + C …`` (seed 001, section 4.2.2)."""

    terms: tuple[Term, ...]

    @classmethod
    def parse(cls, text: str) -> Expression:
        """Parse ``"class:bounce ball - word:ball + word:box"``.

        Signs (``+``, ``-`` or ``−``) must stand apart with spaces on both sides (so hyphenated
        words stay whole); a leading sign is allowed; the first term defaults to ``+``.

        Raises
        ------
        ActionLensError
            Empty expression, empty operand or a malformed clip id.
        """
        pieces = _SIGN_SPLIT.split(" " + text.strip() + " ")
        # split() with one capture group alternates operand, sign, operand …; the first piece is
        # what precedes the first sign (empty when the expression starts with one).
        items: list[tuple[str, str]] = []
        if pieces[0].strip():
            items.append(("+", pieces[0]))
        for i in range(1, len(pieces) - 1, 2):
            operand = pieces[i + 1]
            # "a - - b": the second sign has no space before it once the first took it.
            if _LEADING_SIGN.match(operand) or (not operand.strip() and i + 2 < len(pieces)):
                raise ActionLensError(
                    f"two signs in a row in {text.strip()[:80]!r}; put an operand between them"
                )
            items.append((pieces[i], operand))
        return cls.from_terms(items)

    @classmethod
    def from_terms(cls, terms: Iterable[tuple[str | int, str | Operand]]) -> Expression:
        """Build from ``(sign, operand)`` pairs: sign ``"+"``/``"-"``/``"−"`` or ±1, operand a
        string such as ``"word:box"`` or an :class:`Operand`."""
        built: list[Term] = []
        for sign, operand in terms:
            value = _SIGNS.get(sign.strip(), 0) if isinstance(sign, str) else int(sign)
            if value not in (1, -1):
                raise ActionLensError(f"{sign!r} is not a sign; use + or -")
            built.append(Term(value, operand if isinstance(operand, Operand) else Operand.parse(operand)))
        if not built:
            raise ActionLensError(
                "the expression has no terms; e.g. class:bounce ball - word:ball + word:box"
            )
        return cls(tuple(built))

    @classmethod
    def from_argv(cls, items: Sequence[str]) -> Expression:
        """Build from command-line items: operands with ``+``/``-`` items between them
        (``["class:bounce ball", "-", "word:ball", "+", "word:box"]``)."""
        terms: list[tuple[str, str]] = []
        pending: str | None = None
        for item in items:
            if item.strip() in _SIGNS:
                if pending is not None:
                    raise ActionLensError(
                        f"two signs in a row ({pending} {item}); put an operand between them"
                    )
                pending = item.strip()
                continue
            if terms and pending is None:
                raise ActionLensError(
                    f"two operands in a row ({terms[-1][1]!r}, {item!r}); put + or - between"
                )
            terms.append((pending or "+", item))
            pending = None
        if pending is not None:
            raise ActionLensError("the expression ends with a sign; add the operand after it")
        return cls.from_terms(terms)

    def __str__(self) -> str:
        text = ""
        for i, term in enumerate(self.terms):
            sign = "-" if term.sign < 0 else "+"
            text += (f" {sign} " if i else ("- " if term.sign < 0 else "")) + str(term.operand)
        return text

    def operand_vector(self, space: EmbeddingSpace, operand: Operand) -> np.ndarray:
        """The vector of one operand in ``space``, on the unit scale (float64, length 1).

        A clip's embedding, a class's :attr:`~EmbeddingSpace.unit_class_means` row, or a
        word's/phrase's vector, each scaled to length 1 (see the module docstring).
        """
        if operand.kind == "clip":
            clip_id = int(operand.value)
            if not 0 <= clip_id < space.clip_embeddings.shape[0]:
                raise ActionLensError(f"no clip {clip_id} in {space.ws.root}")
            row = np.asarray(space.clip_embeddings[clip_id], dtype=np.float64)
            if not np.isfinite(row).all():
                raise ActionLensError(
                    f"clip {clip_id} has no embedding in run {space.run_id} (it had no features)"
                )
            return to_unit(row)
        if operand.kind == "class":
            cls_row = space.find_class(operand.value)
            try:
                return np.asarray(space.unit_class_means[space.class_row(cls_row.id)], dtype=np.float64)
            except KeyError:
                raise ActionLensError(
                    f"class {cls_row.name!r} has no embedded clip in run {space.run_id}"
                ) from None
        space.require_word_space(f"the word operand {operand.value!r}")
        vector = np.asarray(space.word_vectors.phrase_vector(operand.value), dtype=np.float64)
        if vector.shape[0] != space.dim:
            raise ActionLensError(
                f"the word vectors are {vector.shape[0]}-d but run {space.run_id}'s embeddings are "
                f"{space.dim}-d; use the word vectors the run was trained with"
            )
        return to_unit(vector)

    def vector(self, space: EmbeddingSpace) -> np.ndarray:
        """The signed sum of the operands' unit vectors (float32; seed 001 §4.2.2 on one scale)."""
        total = np.zeros(space.dim, dtype=np.float64)
        for term in self.terms:
            total += term.sign * self.operand_vector(space, term.operand)
        return total.astype(np.float32)

    def words(self) -> set[str]:
        """The words of the word operands (left out of word results)."""
        from desktop_app.words.vectors import phrase_words

        return {w for t in self.terms if t.operand.kind == "word" for w in phrase_words(t.operand.value)}

    def clip_ids(self) -> set[int]:
        """The ids of the clip operands."""
        return {int(t.operand.value) for t in self.terms if t.operand.kind == "clip"}

    def class_ids(self, space: EmbeddingSpace) -> set[int]:
        """The catalog ids of the class operands."""
        return {space.find_class(t.operand.value).id for t in self.terms if t.operand.kind == "class"}


# ----------------------------------------------------------------------------------- solving
@dataclass
class AnalogyResult:
    """Nearest clips, classes and words to an expression's vector, operands excluded.

    Scores are cosines (higher is nearer) for ``metric="cosine"`` and Euclidean distances
    (lower is nearer) for ``"euclidean"``.
    """

    expression: str
    metric: str
    clips: list[dict[str, Any]] = field(default_factory=list)
    classes: list[dict[str, Any]] = field(default_factory=list)
    words: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "expression": self.expression,
            "metric": self.metric,
            "clips": self.clips,
            "classes": self.classes,
            "words": self.words,
        }


def nearest_rows(
    matrix: np.ndarray, query: np.ndarray, k: int, metric: str = "cosine", exclude: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``matrix`` nearest ``query``, exact.

    Returns
    -------
    (rows, scores)
        Best first (highest cosine, or smallest Euclidean distance); ties by row. Rows where
        ``exclude`` is true are left out; rows with NaN are never returned.
    """
    if metric not in METRICS:
        raise ActionLensError(f"unknown metric {metric!r}; use cosine or euclidean")
    rows = np.asarray(matrix, dtype=np.float64)
    q = np.asarray(query, dtype=np.float64).reshape(-1)
    if metric == "cosine":
        norms = np.linalg.norm(rows, axis=1) * np.linalg.norm(q)
        scores = (rows @ q) / np.where(norms > 0, norms, 1.0)
        keys = -scores
    else:
        scores = np.linalg.norm(rows - q, axis=1)
        keys = scores
    valid = np.isfinite(keys)
    if exclude is not None:
        valid &= ~exclude
    candidates = np.flatnonzero(valid)
    order = np.lexsort((candidates, keys[candidates]))[:k]
    return candidates[order], scores[candidates[order]]


def solve(
    space: EmbeddingSpace,
    expression: Expression | str,
    k: int = 10,
    metric: Metric = "cosine",
    num_classes: int = 5,
    num_words: int = 10,
) -> AnalogyResult:
    """The clips, classes and words nearest to an expression (seed 001, section 4.2.2).

    Parameters
    ----------
    space
        The run's embeddings.
    expression
        An :class:`Expression` or its text.
    k, num_classes, num_words
        Lengths of the three result lists.
    metric
        ``"cosine"`` or ``"euclidean"`` (seed 001's test uses Euclidean).

    Returns
    -------
    AnalogyResult
        With the operands left out: clip operands from the clips, class operands from the
        classes, and the words of word operands from the words. Operands and candidates are on
        the unit scale (module docstring), so both metrics rank alike; Euclidean scores are
        distances to unit candidates.
    """
    from desktop_app.analysis.retrieval import FREQUENT_VOCABULARY, nearest_words

    if isinstance(expression, str):
        expression = Expression.parse(expression)
    vector = expression.vector(space)
    result = AnalogyResult(str(expression), metric)

    clip_ids = space.embedded_clip_ids
    exclude = np.isin(clip_ids, list(expression.clip_ids()))
    # Candidates on the operands' scale: unit clips, unit class means, unit words.
    rows, scores = nearest_rows(to_unit(space.clip_embeddings[clip_ids]), vector, k, metric, exclude)
    labels = space.clip_labels(clip_ids[rows])  # k id lookups, not the catalog
    result.clips = [
        {"clip_id": int(clip_ids[r]), "name": name, "class_name": class_name, "score": float(s)}
        for r, s, (name, class_name) in zip(rows, scores, labels, strict=True)
    ]
    exclude = np.isin(space.class_ids, list(expression.class_ids(space)))
    rows, scores = nearest_rows(space.unit_class_means, vector, num_classes, metric, exclude)
    result.classes = [
        {"class_id": int(space.class_ids[r]), "name": space.classes[int(space.class_ids[r])].name,
         "phrase": space.classes[int(space.class_ids[r])].phrase, "score": float(s)}
        for r, s in zip(rows, scores, strict=True)
    ]  # fmt: skip
    if num_words > 0 and space.in_word_space:  # a space of its own (seed 004) holds no words
        hits = nearest_words(
            space.word_vectors, vector, num_words, expression.words(), metric, FREQUENT_VOCABULARY
        )
        result.words = [{"word": h.word, "score": h.score} for h in hits]
    return result


# --------------------------------------------------------------------- the systematic test
@dataclass(frozen=True)
class AnalogyComparison:
    """One ``verb_noun1 − noun1 + noun2`` comparison of the systematic test."""

    verb: str
    noun1: str
    noun2: str
    source: str
    expected: str
    nearest: str
    passed: bool


@dataclass
class AnalogyTestResult:
    """The outcome of :func:`systematic_analogy_test` for one set of class vectors."""

    name: str
    comparisons: list[AnalogyComparison] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Number of comparisons made (seed 001, Table 4: 90 on UCF101)."""
        return len(self.comparisons)

    @property
    def passed(self) -> int:
        """Number of comparisons whose nearest class was ``verb_noun2``."""
        return sum(c.passed for c in self.comparisons)

    @property
    def fraction(self) -> float:
        """Fraction passed (NaN with no comparison)."""
        return self.passed / self.count if self.count else float("nan")

    def to_json(self, details: bool = False) -> dict[str, Any]:
        """A JSON-able dict (with every comparison when ``details``)."""
        out: dict[str, Any] = {
            "name": self.name,
            "comparisons": self.count,
            "passed": self.passed,
            "fraction": None if not self.count else self.fraction,
            "skipped": self.skipped,
        }
        if details:
            out["details"] = [vars(c) for c in self.comparisons]
        return out


@dataclass(frozen=True)
class ClassLabel:
    """What the systematic test needs of a class: its name, verb and noun."""

    name: str
    verb: str | None
    noun: str | None


AnalogyPair = tuple[str, int, int]


def _verb_pairs(labels: Sequence[ClassLabel]) -> list[AnalogyPair]:
    """``(verb, i, j)`` for every ordered pair of classes sharing a verb with distinct nouns."""
    by_verb: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        if label.verb and label.noun:
            by_verb.setdefault(label.verb, []).append(i)
    pairs: list[AnalogyPair] = []
    for verb in sorted(by_verb):
        members = by_verb[verb]
        pairs.extend(
            (verb, i, j) for i in members for j in members if i != j and labels[i].noun != labels[j].noun
        )
    return pairs


def _compare(
    labels: Sequence[ClassLabel],
    class_vectors: np.ndarray,
    noun_vector: Callable[[str], np.ndarray],
    pairs: Sequence[AnalogyPair],
    name: str,
    candidates: np.ndarray | None = None,
    noun_only: bool = False,
) -> AnalogyTestResult:
    """The comparisons of ``pairs``, every vector on the unit scale (see the module docstring).

    The query is ``unit(class_i) − unit(noun_i) + unit(noun_j)`` (``unit(noun_j)`` alone when
    ``noun_only``); it passes when the nearest candidate row by Euclidean distance is ``j``.
    ``candidates`` (a boolean mask over rows, default all) limits the rows searched.
    """
    vectors = to_unit(class_vectors)
    if vectors.ndim != 2 or len(labels) != vectors.shape[0]:
        raise ActionLensError(f"{len(labels)} class labels but {len(vectors)} class vectors")
    allowed = np.isfinite(vectors).all(axis=1)
    if candidates is not None:
        allowed &= np.asarray(candidates, dtype=bool)
    result = AnalogyTestResult(name)
    nouns: dict[str, np.ndarray | None] = {}

    def lookup(noun: str) -> np.ndarray | None:
        if noun not in nouns:
            try:
                nouns[noun] = to_unit(np.asarray(noun_vector(noun), dtype=np.float64))
            except UnknownWordError:
                nouns[noun] = None
                result.skipped.append(f"noun {noun!r} is not in the word vectors")
        return nouns[noun]

    for verb, i, j in pairs:
        noun1, noun2 = labels[i].noun, labels[j].noun
        if noun1 is None or noun2 is None:
            continue
        v1, v2 = lookup(noun1), lookup(noun2)
        if v1 is None or v2 is None:
            continue
        if not np.isfinite(vectors[i]).all():
            result.skipped.append(f"class {labels[i].name!r} has no vector")
            continue
        query = v2 if noun_only else vectors[i] - v1 + v2
        distances = np.where(allowed, np.linalg.norm(vectors - query, axis=1), np.inf)
        nearest = int(np.argmin(distances))
        result.comparisons.append(
            AnalogyComparison(
                verb, noun1, noun2, labels[i].name, labels[j].name, labels[nearest].name, nearest == j
            )
        )
    return result


def systematic_analogy_test(
    labels: Sequence[ClassLabel],
    class_vectors: np.ndarray,
    noun_vector: Callable[[str], np.ndarray],
    name: str = "model",
) -> AnalogyTestResult:
    """Seed 001's vector-arithmetic analogy test (section 4.2.2, Table 4), on the unit scale.

    For every verb shared by two or more classes with distinct nouns, and every ordered pair of
    those classes ``(verb_noun1, verb_noun2)``, compute ``v = class(verb_noun1) − noun1 + noun2``
    and find the class vector nearest ``v`` by Euclidean distance among *all* classes; the
    comparison passes when it is ``verb_noun2``. A verb with ``n`` nouns gives ``n·(n−1)``
    comparisons. Every class vector and noun vector is scaled to length 1 first (module
    docstring): raw GloVe nouns (norm 4–6) would otherwise swamp class means of norm ≈ 0.4.

    Parameters
    ----------
    labels
        One per row of ``class_vectors``.
    class_vectors
        ``(C, D)``: the model's class means (best :func:`unit_class_means`), or the classes'
        phrase vectors for the baseline; rows are scaled to length 1 here in any case.
    noun_vector
        A noun's word vector; an :class:`UnknownWordError` skips the comparisons of that noun.
    name
        What these class vectors are (``"model"``, ``"word vectors"``).
    """
    return _compare(labels, class_vectors, noun_vector, _verb_pairs(labels), name)


HeldoutCandidates = Literal["all", "unseen"]
HELDOUT_CANDIDATES: tuple[str, ...] = ("all", "unseen")


def heldout_analogy_test(
    labels: Sequence[ClassLabel],
    class_vectors: np.ndarray,
    noun_vector: Callable[[str], np.ndarray],
    unseen: np.ndarray,
    name: str = "model",
    candidates: HeldoutCandidates = "all",
    noun_only: bool = False,
) -> AnalogyTestResult:
    """The held-out analogy test: from a seen ``verb_noun1`` to an unseen ``verb_noun2``.

    Seed 001's test (:func:`systematic_analogy_test`) is run on classes the model was trained
    on, so it cannot tell composition from memory. On a zero-shot run this one keeps only the
    ordered pairs whose source ``verb_noun1`` is a *seen* class and whose target ``verb_noun2`` is
    an *unseen* one (same verb, other noun): ``unit(verb_noun1) − unit(noun1) + unit(noun2)``
    passes when the nearest candidate (Euclidean, unit scale) is ``verb_noun2``.

    Parameters
    ----------
    labels, class_vectors, noun_vector
        As for :func:`systematic_analogy_test`.
    unseen
        Boolean mask over rows: the run's unseen classes.
    candidates
        ``"all"`` (default): every class, seen and unseen, as seed 001 searches "the vector space
        of action classes" — the answer must beat the seen classes the model knows well;
        ``"unseen"``: only the unseen classes, as zero-shot assignment does.
    noun_only
        The noun-only baseline: the same pairs and candidates answered from ``unit(noun2)``
        alone, the verb part dropped; what an answer that knew only the new noun would score.
    """
    unseen = np.asarray(unseen, dtype=bool)
    if unseen.shape != (len(labels),):
        raise ActionLensError(f"{len(labels)} class labels but an unseen mask of {unseen.shape[0]} rows")
    if candidates not in HELDOUT_CANDIDATES:
        raise ActionLensError(f"unknown candidate set {candidates!r}; use all or unseen")
    pairs = [(verb, i, j) for verb, i, j in _verb_pairs(labels) if not unseen[i] and unseen[j]]
    return _compare(
        labels, class_vectors, noun_vector, pairs, name, unseen if candidates == "unseen" else None, noun_only
    )


def space_analogy_tests(space: EmbeddingSpace) -> list[AnalogyTestResult]:
    """The systematic test on a run: with the model's class means, and with word vectors alone.

    Returns
    -------
    list of AnalogyTestResult
        ``"model"``: the run's class means on the unit scale (:attr:`EmbeddingSpace.unit_class_means`)
        with unit noun word vectors (seed 001's Action2Vec row); ``"word vectors"``: each class's
        unit phrase vector (its label vector) with the same nouns, over the same classes (a class
        whose phrase the vectors lack is dropped from this one, and listed in ``skipped``).
    """
    space.require_word_space("the analogy test")
    word_vectors = space.word_vectors
    labels = [
        ClassLabel(space.classes[int(c)].name, space.classes[int(c)].verb, space.classes[int(c)].noun)
        for c in space.class_ids
    ]
    model = systematic_analogy_test(labels, space.unit_class_means, word_vectors.vector, "model")

    phrase_rows: list[np.ndarray] = []
    phrase_labels: list[ClassLabel] = []
    missing: list[str] = []
    for label, c in zip(labels, space.class_ids, strict=True):
        try:
            phrase_rows.append(word_vectors.phrase_vector(space.classes[int(c)].phrase))
            phrase_labels.append(label)
        except UnknownWordError as exc:
            missing.append(f"class {label.name!r}: {exc}")
    baseline = systematic_analogy_test(
        phrase_labels, np.stack(phrase_rows) if phrase_rows else np.zeros((0, space.dim)),
        word_vectors.vector, "word vectors",
    )  # fmt: skip
    baseline.skipped = missing + baseline.skipped
    return [model, baseline]


# -------------------------------------------------------------- both tests on zero-shot runs
#: The systems the held-out test reports, in table order.
HELDOUT_SYSTEMS: tuple[str, ...] = ("model", "word vectors", "noun only (model)", "noun only (word vectors)")
SEED_SYSTEMS: tuple[str, ...] = ("model", "word vectors")


@dataclass
class RunAnalogyReport:
    """Seed 001's test and the held-out test on one zero-shot run.

    ``seed_test``: :data:`SEED_SYSTEMS` over all classes; ``heldout``: :data:`HELDOUT_SYSTEMS`
    over the seen → unseen pairs of the run's split, with the candidate set ``candidates``.
    """

    run_id: str
    model: str
    zsl_split: str
    fold: int
    candidates: str
    seed_test: list[AnalogyTestResult]
    heldout: list[AnalogyTestResult]

    def to_json(self, details: bool = False) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "run": self.run_id,
            "model": self.model,
            "zsl_split": self.zsl_split,
            "fold": self.fold,
            "candidates": self.candidates,
            "seed_test": [r.to_json(details) for r in self.seed_test],
            "heldout": [r.to_json(details) for r in self.heldout],
        }


def heldout_systems(
    labels: Sequence[ClassLabel],
    model_vectors: np.ndarray,
    label_vectors: np.ndarray,
    noun_vector: Callable[[str], np.ndarray],
    unseen: np.ndarray,
    candidates: HeldoutCandidates = "all",
) -> list[AnalogyTestResult]:
    """The held-out test for each of :data:`HELDOUT_SYSTEMS`: the model's class vectors, the
    label vectors (word vectors alone), and the noun-only baseline in each of those spaces."""
    return [
        heldout_analogy_test(labels, vectors, noun_vector, unseen, name, candidates, noun_only)
        for name, vectors, noun_only in (
            ("model", model_vectors, False),
            ("word vectors", label_vectors, False),
            ("noun only (model)", model_vectors, True),
            ("noun only (word vectors)", label_vectors, True),
        )
    ]


def space_heldout_tests(
    space: EmbeddingSpace, candidates: HeldoutCandidates = "all"
) -> list[AnalogyTestResult]:
    """The held-out test on an embedded zero-shot run (empty when the run is not zero-shot).

    The run's :attr:`~EmbeddingSpace.unit_class_means` are the model's class vectors and the
    classes' phrase vectors the word vectors' (a class whose phrase the vectors lack is left
    out of both as a candidate and as a source); seen and unseen classes come from the run's
    ``meta["zsl"]``.
    """
    space.require_word_space("the analogy test")
    unseen_ids = (space.meta.get("zsl") or {}).get("unseen_class_ids")
    if not unseen_ids:
        return []
    word_vectors = space.word_vectors
    labels, label_rows = [], []
    for c in space.class_ids:
        cls = space.classes[int(c)]
        labels.append(ClassLabel(cls.name, cls.verb, cls.noun))
        try:
            label_rows.append(np.asarray(word_vectors.phrase_vector(cls.phrase), dtype=np.float64))
        except UnknownWordError:
            label_rows.append(np.full(space.dim, np.nan))
    unseen = np.isin(space.class_ids, np.asarray(unseen_ids, dtype=np.int64))
    return heldout_systems(
        labels, space.unit_class_means, np.stack(label_rows), word_vectors.vector, unseen, candidates
    )


def run_analogy_report(
    ws: Any,
    run: Any,
    source: Any = None,
    candidates: HeldoutCandidates = "all",
    word_vectors: Any = None,
    progress: Progress | None = None,
) -> RunAnalogyReport:
    """Both analogy tests on a zero-shot run, from the run's own embeddings of the clips.

    Every labelled clip with the run's feature streams is embedded with ``run.embed``; the class
    vectors are their :func:`unit_class_means` (every class, seen and unseen; an unseen class's
    vector comes from clips the model never trained on). The word-vector system uses the run's
    label vectors (the unit phrase vectors it was trained against); nouns come from the word
    vectors the run recorded.

    Parameters
    ----------
    ws
        The open workspace.
    run
        A :class:`~desktop_app.training.runs.Run` whose ``meta["zsl"]`` names its seen and unseen
        classes.
    source
        The feature store (default: the one the run was trained on).
    candidates
        The held-out test's candidate set (see :func:`heldout_analogy_test`).
    word_vectors
        The word vectors for the nouns (default: the run's, loaded from its metadata).

    Raises
    ------
    ActionLensError
        The run is not a zero-shot run.
    """
    from desktop_app.progress import NullProgress

    progress = progress or NullProgress()
    zsl = run.meta.get("zsl") or {}
    if not zsl.get("unseen_class_ids"):
        raise ActionLensError(
            f"run {run.run_id} is not a zero-shot run (its meta.json has no zsl.unseen_class_ids); "
            "train one with `actionlens train --zsl-split 50/50 --fold K`"
        )
    if source is None:
        from desktop_app.training.sources import open_sequence_source

        source = open_sequence_source(ws, run.meta["features"]["name"])
    if word_vectors is None:
        from desktop_app.analysis.space import run_word_vectors

        word_vectors = run_word_vectors(run.meta)
    class_ids = np.asarray(run.class_ids, dtype=np.int64)
    catalog_classes = {c.id: c for c in ws.catalog.classes()}
    labels = [
        ClassLabel(catalog_classes[int(c)].name, catalog_classes[int(c)].verb, catalog_classes[int(c)].noun)
        for c in class_ids
    ]
    usable = np.zeros(0, dtype=np.int64)
    for i, stream in enumerate(run.streams):
        have = np.unique(np.asarray(source.clip_ids(stream), dtype=np.int64))
        usable = have if i == 0 else np.intersect1d(usable, have, assume_unique=True)
    clip_ids, clip_classes = ok_clips(ws.catalog, usable)
    progress.set_progress(0.0, f"embedding {len(clip_ids)} clips with run {run.run_id}")
    embeddings, _ = run.embed(source, clip_ids, progress=progress)
    progress.check_cancelled()
    model_vectors = unit_class_means(embeddings, np.arange(len(clip_ids)), clip_classes, class_ids)
    label_vectors = np.asarray(run.label_vectors, dtype=np.float64)
    unseen = np.isin(class_ids, np.asarray(zsl["unseen_class_ids"], dtype=np.int64))
    noun = word_vectors.vector
    seed_test = [
        systematic_analogy_test(labels, model_vectors, noun, "model"),
        systematic_analogy_test(labels, label_vectors, noun, "word vectors"),
    ]
    heldout = heldout_systems(labels, model_vectors, label_vectors, noun, unseen, candidates)
    progress.set_progress(1.0, f"analogy tests of run {run.run_id}")
    return RunAnalogyReport(
        run.run_id, str(run.meta["model"]["name"]), str(zsl.get("split")), int(zsl.get("fold", -1)),
        candidates, seed_test, heldout,
    )  # fmt: skip


def zero_shot_runs(
    runs_dir: Any,
    split: str,
    models: Sequence[str] | None = None,
    folds: int | None = None,
    purpose: str = "test",
) -> list[dict[str, Any]]:
    """The metadata of the finished zero-shot runs of ``split`` (``"50/50"``), read from each
    run's ``meta.json``: of ``models`` (default all), folds below ``folds`` (default all) and
    ``zsl.purpose`` ``purpose`` (``"test"``: reported folds, the default, and runs that predate
    the key; ``"dev"``: development folds)."""
    from desktop_app.training.runs import list_runs

    found = []
    for meta in list_runs(runs_dir):
        zsl = meta.get("zsl") or {}
        if meta.get("status") != "complete" or str(zsl.get("split")) != split:
            continue
        if str(zsl.get("purpose") or "test") != purpose:
            continue
        if models and meta["model"]["name"] not in models:
            continue
        if folds is not None and int(zsl.get("fold", 0)) >= folds:
            continue
        found.append(meta)
    return found


def summarize_fractions(results: Sequence[AnalogyTestResult]) -> dict[str, Any]:
    """``{"mean", "std", "runs", "values", "comparisons"}`` of per-run fractions passed (sample
    standard deviation, 0 for one run; runs with no comparison are left out of the mean)."""
    values = np.array([r.fraction for r in results if r.count], dtype=np.float64)
    return {
        "mean": float(values.mean()) if len(values) else None,
        "std": (float(values.std(ddof=1)) if len(values) > 1 else 0.0) if len(values) else None,
        "runs": int(len(values)),
        "values": [float(v) for v in values],
        "comparisons": [r.count for r in results],
    }


def zsl_analogy_table(
    ws: Any,
    split: str = "50/50",
    models: Sequence[str] | None = None,
    folds: int | None = None,
    candidates: HeldoutCandidates = "all",
    purpose: str = "test",
    details: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Both analogy tests over the workspace's zero-shot runs, mean ± std over runs per model.

    Runs are found by their ``meta.json`` (:func:`zero_shot_runs`: ``split``, ``models``,
    ``folds``, ``purpose``), not by their ids; every training seed of a fold counts as a run.

    Returns
    -------
    dict
        ``{"split", "candidates", "runs": [RunAnalogyReport.to_json()…],
        "models": {model: {"runs": [ids], "seed_test": {system: summary},
        "heldout": {system: summary}}}}`` with summaries from :func:`summarize_fractions`;
        each run's comparisons are listed when ``details``.
    """
    from desktop_app.analysis.space import run_word_vectors
    from desktop_app.progress import NullProgress, SubProgress
    from desktop_app.training.runs import Run
    from desktop_app.training.sources import open_sequence_source

    progress = progress or NullProgress()
    metas = zero_shot_runs(ws.runs_dir, split, models, folds, purpose)
    if not metas:
        which = f" of {', '.join(models)}" if models else ""
        raise ActionLensError(
            f"{ws.runs_dir} has no finished {split} zero-shot {purpose} runs{which}; train them with "
            f"`actionlens train --workspace {ws.root} --model ste --zsl-split {split} --fold K`"
        )
    reports: list[RunAnalogyReport] = []
    sources: dict[str, Any] = {}
    vectors: dict[str, Any] = {}
    for n, meta in enumerate(metas):
        run = Run.load(ws.runs_dir / meta["run_id"])
        features = str(run.meta["features"]["name"])
        if features not in sources:
            sources[features] = open_sequence_source(ws, features)
        key = json.dumps(run.meta.get("word_vectors"), sort_keys=True, default=str)
        if key not in vectors:
            vectors[key] = run_word_vectors(run.meta)
        step = SubProgress(progress, n / len(metas), (n + 1) / len(metas))
        reports.append(run_analogy_report(ws, run, sources[features], candidates, vectors[key], step))
    by_model: dict[str, dict[str, Any]] = {}
    for model in sorted({r.model for r in reports}):
        mine = [r for r in reports if r.model == model]
        by_model[model] = {
            "runs": [r.run_id for r in mine],
            "seed_test": {
                name: summarize_fractions([t for r in mine for t in r.seed_test if t.name == name])
                for name in SEED_SYSTEMS
            },
            "heldout": {
                name: summarize_fractions([t for r in mine for t in r.heldout if t.name == name])
                for name in HELDOUT_SYSTEMS
            },
        }
    return {
        "split": split,
        "candidates": candidates,
        "purpose": purpose,
        "runs": [r.to_json(details) for r in reports],
        "models": by_model,
    }
