"""Agreement of embeddings with WordNet (seed 001, section 4.2.1 "Word Matrices", Table 3).

Seed 001 keeps the classes whose name is in WordNet, builds the Wu-Palmer matrix between them
(the "gold standard"), builds the cosine-similarity matrix of each embedding of the same classes
(the model's class means, the word vectors of the labels, mean-pooled raw features), and
compares each with the WordNet matrix by Spearman rank correlation *row by row*, averaging the
rows' correlations (their UCF101: word2vec 0.2292, Action2Vec 0.2092, pooled C3D 0.0773).

Decisions (the seed leaves them open; see docs/analysis.md):

* A class stands for its **verb** in WordNet (``phrase_verb``: the label's verb, else its first
  word), as seed 001 does for multi-word labels; classes whose verb WordNet lacks are dropped.
  The matrix stays per class, so classes sharing a verb have Wu-Palmer 1 between them (ties,
  which Spearman ranks as averages).
* The **diagonal is excluded** from every row: it is 1 in both matrices and always ranks first
  in both, so keeping it adds the same agreement to every row whatever the embedding.
* A row whose values are all equal in either matrix (no ranking to compare, e.g. a verb
  WordNet sees as equally far from all others) has no correlation; it is left out of the
  average and counted in ``rows_used``.
* Pooled features: per clip, each stream's raw (not PCA-reduced) frame features are
  mean-pooled over the clip's real frames, each stream's pooled vector is L2-normalised and the
  streams are concatenated (so appearance and motion weigh equally whatever their raw scales);
  a class's vector is the mean over its clips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.errors import ActionLensError, UnknownWordError
from desktop_app.progress import NullProgress, Progress, SubProgress

if TYPE_CHECKING:
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.features.store import FeatureStore
    from desktop_app.words.vectors import WordVectors
    from desktop_app.words.wordnet import WordNet

MODEL = "model"
WORD_VECTORS = "word vectors"
POOLED_FEATURES = "pooled features"


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """``(N, N)`` cosine similarities between the rows of ``vectors`` (float64; zero rows give 0)."""
    rows = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit = rows / np.where(norms > 0, norms, 1.0)
    return unit @ unit.T


def rowwise_spearman(
    reference: np.ndarray, other: np.ndarray, exclude_diagonal: bool = True
) -> tuple[float, np.ndarray]:
    """Seed 001's matrix comparison: Spearman correlation of each row pair, averaged over rows.

    Parameters
    ----------
    reference, other
        Two ``(N, N)`` similarity matrices over the same items (WordNet's and an embedding's).
    exclude_diagonal
        Leave each row's own item out (see the module docstring for why that is the default).

    Returns
    -------
    (mean, per_row)
        The mean over the rows that have a correlation, and each row's correlation (NaN for a
        row constant in either matrix, or with fewer than two finite pairs). ``mean`` is NaN
        when no row has one.
    """
    from scipy.stats import spearmanr

    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(other, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ActionLensError(f"matrices of shapes {a.shape} and {b.shape} cannot be compared row by row")
    n = a.shape[0]
    per_row = np.full(n, np.nan)
    for i in range(n):
        keep = np.isfinite(a[i]) & np.isfinite(b[i])
        if exclude_diagonal:
            keep[i] = False
        x, y = a[i, keep], b[i, keep]
        if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
            continue  # no ranking to compare (spearmanr would warn and return NaN)
        per_row[i] = float(spearmanr(x, y).statistic)
    used = per_row[np.isfinite(per_row)]
    return (float(used.mean()) if len(used) else float("nan")), per_row


@dataclass
class WordNetCorrelation:
    """Wu-Palmer matrix, the cosine matrices compared with it, and their row-wise Spearman.

    Attributes
    ----------
    classes, verbs
        The classes kept (their verb is in WordNet), and the verb standing for each.
    wup_matrix
        ``(N, N)`` Wu-Palmer similarities.
    cosine_matrices
        Name (``"model"``, ``"word vectors"``, ``"pooled features"``) → ``(N, N)`` cosines.
    correlations
        Name → mean row-wise Spearman correlation with ``wup_matrix``.
    per_row
        Name → each row's correlation (NaN where undefined).
    dropped
        Class names left out, each with the reason.
    """

    classes: list[str]
    verbs: list[str]
    wup_matrix: np.ndarray
    senses: str
    cosine_matrices: dict[str, np.ndarray] = field(default_factory=dict)
    correlations: dict[str, float] = field(default_factory=dict)
    per_row: dict[str, np.ndarray] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def rows_used(self, name: str) -> int:
        """How many rows had a correlation for ``name``."""
        return int(np.isfinite(self.per_row[name]).sum())

    def to_json(self, matrices: bool = False) -> dict[str, Any]:
        """A JSON-able dict (with the matrices when ``matrices``)."""
        out: dict[str, Any] = {
            "classes": self.classes,
            "verbs": self.verbs,
            "senses": self.senses,
            "diagonal": "excluded",
            "correlations": {
                name: {"spearman": None if not np.isfinite(v) else v, "rows_used": self.rows_used(name)}
                for name, v in self.correlations.items()
            },
            "dropped": self.dropped,
        }
        if matrices:
            out["wup_matrix"] = [
                [v if np.isfinite(v) else None for v in row] for row in self.wup_matrix.tolist()
            ]
            out["cosine_matrices"] = {k: v.tolist() for k, v in self.cosine_matrices.items()}
        return out


def wordnet_correlation(
    wordnet: WordNet,
    classes: Sequence[tuple[str, str, str | None]],
    representations: Mapping[str, np.ndarray | Sequence[np.ndarray | None]],
    progress: Progress | None = None,
) -> WordNetCorrelation:
    """Compare embeddings of classes with WordNet (seed 001, section 4.2.1, Table 3).

    Parameters
    ----------
    wordnet
        The WordNet service (its sense choice, ``best`` or ``first``, applies).
    classes
        ``(name, phrase, verb)`` per class; ``verb`` may be ``None`` (then the phrase's first word).
    representations
        Name → one vector per class (an ``(N, D)`` array, or a list with ``None`` for a class
        that representation lacks — such a class is dropped from all of them, so every matrix
        covers the same classes).
    progress
        Progress/cancel handle.

    Returns
    -------
    WordNetCorrelation
    """
    from desktop_app.words.wordnet import phrase_verb

    progress = progress or NullProgress()
    keep: list[int] = []
    dropped: list[str] = []
    verbs: list[str] = []
    for i, (name, phrase, verb) in enumerate(classes):
        word = phrase_verb(phrase, verb)
        if word is None or not wordnet.synsets(word):
            dropped.append(f"{name}: verb {word!r} is not in WordNet")
            continue
        missing = [r for r, rows in representations.items() if rows[i] is None]
        if missing:
            dropped.append(f"{name}: no vector in {', '.join(missing)}")
            continue
        keep.append(i)
        verbs.append(word)
    if len(keep) < 3:
        raise ActionLensError(
            f"only {len(keep)} classes have a verb in WordNet and every vector; the WordNet test needs at least 3"
        )
    wup = wordnet.wup_matrix(verbs, progress=SubProgress(progress, 0.0, 0.8)).astype(np.float64)
    result = WordNetCorrelation([classes[i][0] for i in keep], verbs, wup, wordnet.senses, dropped=dropped)
    for name, rows in representations.items():
        progress.check_cancelled()
        matrix = cosine_matrix(np.stack([np.asarray(rows[i], dtype=np.float64) for i in keep]))
        result.cosine_matrices[name] = matrix
        result.correlations[name], result.per_row[name] = rowwise_spearman(wup, matrix)
    progress.set_progress(1.0, "WordNet correlation done")
    return result


def phrase_vectors(word_vectors: WordVectors, phrases: Sequence[str]) -> list[np.ndarray | None]:
    """Each phrase's word vector (mean of its words, seed 000), ``None`` for unknown words."""
    rows: list[np.ndarray | None] = []
    for phrase in phrases:
        try:
            rows.append(word_vectors.phrase_vector(phrase))
        except UnknownWordError:
            rows.append(None)
    return rows


def labels_correlation(
    class_names: Sequence[str], wordnet: WordNet, word_vectors: WordVectors, progress: Progress | None = None
) -> WordNetCorrelation:
    """The word-vector row of the WordNet test for a plain list of class names (no videos).

    Each name is normalised by :func:`~desktop_app.words.labels.normalise_label` (curated
    phrase and verb, e.g. UCF101's ``PlayingDaf`` → "playing daf", verb "play").
    """
    from desktop_app.words.labels import normalise_label

    records = [normalise_label(name) for name in class_names]
    classes = [(r.name, r.phrase, r.verb) for r in records]
    vectors = phrase_vectors(word_vectors, [r.phrase for r in records])
    return wordnet_correlation(wordnet, classes, {WORD_VECTORS: vectors}, progress)


def pooled_feature_class_means(
    space: EmbeddingSpace, store: FeatureStore | None = None, progress: Progress | None = None
) -> dict[int, np.ndarray]:
    """Class id → mean over its clips of their mean-pooled raw features (all streams).

    Per clip, each stream's raw features are averaged over the clip's real frames, L2-normalised,
    and the streams concatenated (module docstring). Uses the feature store the run was trained
    on (its metadata), else the workspace's most recent complete store.
    """
    from desktop_app.features.store import FeatureStore

    progress = progress or NullProgress()
    if store is None:
        name = (space.meta.get("features") or {}).get("name")
        store = FeatureStore.open(space.ws, name)
    streams = [s for s in store.streams if s != "audio"] or list(store.streams)
    sums: dict[int, np.ndarray] = {}
    counts: dict[int, int] = {}
    clip_ids = store.clip_ids()
    class_of = space.clip_class_ids
    for n, clip_id in enumerate(clip_ids):
        if n % 64 == 0:
            progress.check_cancelled()
            progress.set_progress(n / max(len(clip_ids), 1), f"pooling features of clip {n}/{len(clip_ids)}")
        class_id = int(class_of[clip_id]) if clip_id < len(class_of) else -1
        if class_id < 0:
            continue
        parts = []
        try:
            for stream in streams:
                length = store.length(int(clip_id), stream)
                pooled = store.get(int(clip_id), stream, reduced=False)[:length].mean(
                    axis=0, dtype=np.float64
                )
                norm = np.linalg.norm(pooled)
                parts.append(pooled / norm if norm > 0 else pooled)
        except KeyError:
            continue  # the clip lacks a stream
        vector = np.concatenate(parts)
        sums[class_id] = sums.get(class_id, 0) + vector
        counts[class_id] = counts.get(class_id, 0) + 1
    progress.set_progress(1.0, "pooled features")
    return {c: sums[c] / counts[c] for c in sums}


def space_correlation(
    space: EmbeddingSpace,
    wordnet: WordNet,
    pooled_features: bool = True,
    progress: Progress | None = None,
) -> WordNetCorrelation:
    """The full WordNet test of a run: model class means, label word vectors, pooled features.

    Parameters
    ----------
    space
        The run's embeddings (its classes with at least one embedded clip).
    wordnet
        The WordNet service.
    pooled_features
        Also compare mean-pooled raw features (needs the run's feature store in the workspace;
        skipped when there is none).
    progress
        Progress/cancel handle.
    """
    progress = progress or NullProgress()
    rows = [space.classes[int(c)] for c in space.class_ids]
    classes = [(c.name, c.phrase, c.verb) for c in rows]
    representations: dict[str, Any] = {
        MODEL: list(np.asarray(space.class_means)),
        WORD_VECTORS: phrase_vectors(space.word_vectors, [c.phrase for c in rows]),
    }
    if pooled_features:
        from desktop_app.features.store import DamagedStoreError

        try:
            pooled = pooled_feature_class_means(space, progress=SubProgress(progress, 0.0, 0.5))
        except DamagedStoreError:
            raise  # a damaged store is said, not left out silently
        except ActionLensError:
            pooled = None  # no feature store in this workspace: the row is left out
        if pooled is not None:
            representations[POOLED_FEATURES] = [pooled.get(c.id) for c in rows]
    return wordnet_correlation(wordnet, classes, representations, SubProgress(progress, 0.5, 1.0))
