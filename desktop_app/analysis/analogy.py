"""Vector-arithmetic analogies over clips, class means and words (seed 001, section 4.2.2).

An :class:`Expression` is a signed sum of operands, ``A − B + C …`` with any number of terms:

* ``clip:ID`` — a clip's embedding;
* ``class:NAME`` — a class's mean embedding (seed 001 averages a class's clip embeddings);
* ``word:WORD`` — a word's vector, or a phrase's (the mean of its word vectors, seed 000
  section III.C); an operand without a prefix is a word/phrase too.

Since the model maps clips into the word space, all three live in one space and can be added.
:func:`solve` ranks clips, classes and words by cosine or Euclidean distance to the result,
leaving the operands themselves out.

:func:`systematic_analogy_test` is seed 001's test (its Table 4): for every verb with several
noun classes and every ordered pair of its nouns, ``verb_noun1 − noun1 + noun2`` is compared by
Euclidean distance with every class vector, and passes when the nearest is ``verb_noun2``. The
nouns are always word vectors (seed 001, Figure 3: "we subtract the Word2Vec embedding of the
first noun and add the Word2Vec embedding of the second noun"); the class vectors are either the
model's class means or, for the word-vector baseline, the class phrases' word vectors. As in the
seed, the search runs over *all* classes, ``verb_noun1`` included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from desktop_app.errors import ActionLensError, UnknownWordError

if TYPE_CHECKING:
    from desktop_app.analysis.space import EmbeddingSpace

OperandKind = Literal["clip", "class", "word"]
OPERAND_KINDS: tuple[str, ...] = ("clip", "class", "word")
Metric = Literal["cosine", "euclidean"]
METRICS: tuple[str, ...] = ("cosine", "euclidean")

_SIGNS = {"+": 1, "-": -1, "−": -1}
# A sign between operands: surrounded by spaces, so "tai-chi" and "clip:12" are left whole.
_SIGN_SPLIT = re.compile(r"(?:^|\s+)([+\-−])\s+")
_PREFIX = re.compile(r"^\s*(clip|class|word)\s*:\s*(.*?)\s*$", re.IGNORECASE | re.DOTALL)


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
            items.append((pieces[i], pieces[i + 1]))
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
        """The vector of one operand in ``space`` (float64)."""
        if operand.kind == "clip":
            clip_id = int(operand.value)
            if not 0 <= clip_id < space.clip_embeddings.shape[0]:
                raise ActionLensError(f"no clip {clip_id} in {space.ws.root}")
            row = np.asarray(space.clip_embeddings[clip_id], dtype=np.float64)
            if not np.isfinite(row).all():
                raise ActionLensError(
                    f"clip {clip_id} has no embedding in run {space.run_id} (it had no features)"
                )
            return row
        if operand.kind == "class":
            cls_row = space.find_class(operand.value)
            try:
                return np.asarray(space.class_means[space.class_row(cls_row.id)], dtype=np.float64)
            except KeyError:
                raise ActionLensError(
                    f"class {cls_row.name!r} has no embedded clip in run {space.run_id}"
                ) from None
        vector = np.asarray(space.word_vectors.phrase_vector(operand.value), dtype=np.float64)
        if vector.shape[0] != space.dim:
            raise ActionLensError(
                f"the word vectors are {vector.shape[0]}-d but run {space.run_id}'s embeddings are "
                f"{space.dim}-d; use the word vectors the run was trained with"
            )
        return vector

    def vector(self, space: EmbeddingSpace) -> np.ndarray:
        """The signed sum of the operands' vectors (float32)."""
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
        classes, and the words of word operands from the words.
    """
    from desktop_app.analysis.retrieval import FREQUENT_VOCABULARY, nearest_words

    if isinstance(expression, str):
        expression = Expression.parse(expression)
    vector = expression.vector(space)
    result = AnalogyResult(str(expression), metric)

    clip_ids = space.embedded_clip_ids
    exclude = np.isin(clip_ids, list(expression.clip_ids()))
    rows, scores = nearest_rows(np.asarray(space.clip_embeddings[clip_ids]), vector, k, metric, exclude)
    clips = space.clips
    result.clips = [
        {"clip_id": int(clip_ids[r]), "name": clips[int(clip_ids[r])].name,
         "class_name": clips[int(clip_ids[r])].class_name, "score": float(s)}
        for r, s in zip(rows, scores, strict=True)
    ]  # fmt: skip
    exclude = np.isin(space.class_ids, list(expression.class_ids(space)))
    rows, scores = nearest_rows(space.class_means, vector, num_classes, metric, exclude)
    result.classes = [
        {"class_id": int(space.class_ids[r]), "name": space.classes[int(space.class_ids[r])].name,
         "phrase": space.classes[int(space.class_ids[r])].phrase, "score": float(s)}
        for r, s in zip(rows, scores, strict=True)
    ]  # fmt: skip
    if num_words > 0:
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


def systematic_analogy_test(
    labels: Sequence[ClassLabel],
    class_vectors: np.ndarray,
    noun_vector: Callable[[str], np.ndarray],
    name: str = "model",
) -> AnalogyTestResult:
    """Seed 001's vector-arithmetic analogy test (section 4.2.2, Table 4).

    For every verb shared by two or more classes with distinct nouns, and every ordered pair of
    those classes ``(verb_noun1, verb_noun2)``, compute ``v = class(verb_noun1) − noun1 + noun2``
    and find the class vector nearest ``v`` by Euclidean distance among *all* classes; the
    comparison passes when it is ``verb_noun2``. A verb with ``n`` nouns gives ``n·(n−1)``
    comparisons.

    Parameters
    ----------
    labels
        One per row of ``class_vectors``.
    class_vectors
        ``(C, D)``: the model's class means, or the classes' phrase vectors for the baseline.
    noun_vector
        A noun's word vector; an :class:`UnknownWordError` skips the comparisons of that noun.
    name
        What these class vectors are (``"model"``, ``"word vectors"``).
    """
    vectors = np.asarray(class_vectors, dtype=np.float64)
    if len(labels) != vectors.shape[0]:
        raise ActionLensError(f"{len(labels)} class labels but {vectors.shape[0]} class vectors")
    result = AnalogyTestResult(name)
    by_verb: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        if label.verb and label.noun:
            by_verb.setdefault(label.verb, []).append(i)
    nouns: dict[str, np.ndarray | None] = {}

    def lookup(noun: str) -> np.ndarray | None:
        if noun not in nouns:
            try:
                nouns[noun] = np.asarray(noun_vector(noun), dtype=np.float64)
            except UnknownWordError:
                nouns[noun] = None
                result.skipped.append(f"noun {noun!r} is not in the word vectors")
        return nouns[noun]

    for verb in sorted(by_verb):
        members = by_verb[verb]
        if len({labels[i].noun for i in members}) < 2:
            continue
        for i in members:
            for j in members:
                noun1, noun2 = labels[i].noun, labels[j].noun
                if i == j or noun1 == noun2 or noun1 is None or noun2 is None:
                    continue
                v1, v2 = lookup(noun1), lookup(noun2)
                if v1 is None or v2 is None:
                    continue
                target = vectors[i] - v1 + v2
                distances = np.linalg.norm(vectors - target, axis=1)
                nearest = int(np.argmin(np.where(np.isfinite(distances), distances, np.inf)))
                result.comparisons.append(
                    AnalogyComparison(
                        verb, noun1, noun2, labels[i].name, labels[j].name, labels[nearest].name, nearest == j
                    )
                )
    return result


def space_analogy_tests(space: EmbeddingSpace) -> list[AnalogyTestResult]:
    """The systematic test on a run: with the model's class means, and with word vectors alone.

    Returns
    -------
    list of AnalogyTestResult
        ``"model"``: the run's class means with noun word vectors (seed 001's Action2Vec row);
        ``"word vectors"``: each class's phrase vector (the mean of its words' vectors) with
        noun word vectors, over the same classes (a class whose phrase the vectors lack is
        dropped from this one, and listed in ``skipped``).
    """
    word_vectors = space.word_vectors
    labels = [
        ClassLabel(space.classes[int(c)].name, space.classes[int(c)].verb, space.classes[int(c)].noun)
        for c in space.class_ids
    ]
    model = systematic_analogy_test(labels, space.class_means, word_vectors.vector, "model")

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
