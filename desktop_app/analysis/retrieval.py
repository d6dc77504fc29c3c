"""Word → clip retrieval over a run's embedding space (seed 000, section IV.E and Table I).

A query is a word or phrase (the mean of its word vectors, seed 000 section III.C), a clip
(``clip:ID``), a class (``class:NAME``, its mean embedding) or an expression of those
(``class:bounce ball - word:ball + word:box``, see :mod:`desktop_app.analysis.analogy`). The
answer is three ranked lists, each with its cosine similarity: the top-k clips, the nearest
classes (class means) and the nearest words among the :data:`FREQUENT_VOCABULARY` most frequent
words of the word vectors.

Search over clips goes through :class:`ClipIndex`, which picks its method by the number of
clips:

* below :data:`APPROXIMATE_MIN_CLIPS` clips, exact search with one numpy matrix–vector product
  (FAISS ``IndexFlatIP``, also exact with identical top-k, is there as ``method="faiss"``; on
  one query at a time it measured slower than numpy: 3.2 vs 2.0 ms at 100 000 clips, 45 vs
  25 ms at 1 000 000);
* from :data:`APPROXIMATE_MIN_CLIPS` clips, FAISS IVF-Flat over about √N / 4 lists probing
  :data:`IVF_NPROBE` of them (approximate; recall@10 measured in
  ``benchmarks/bench_retrieval.py``). HNSW is available as ``method="hnsw"`` but builds too
  slowly on a small machine (73 s for 100 000 × 300 on 2 cores) to be the default.

Whatever the method, the scores of the returned rows are recomputed the same way in float64,
and ties are broken by clip id, so the numpy and FAISS exact paths give identical results.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from desktop_app.errors import ActionLensError

if TYPE_CHECKING:
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.progress import Progress
    from desktop_app.words.pos import WordPos

#: How many of the most frequent words the nearest-word lists consider (rare words are noise).
FREQUENT_VOCABULARY = 50_000
#: From this many clips, ``method="auto"`` switches from exact numpy search to approximate FAISS
#: IVF (0.5 ms p50, 0.7 ms p99, recall@10 1.0 at 1 000 000 clustered clips; numpy exact 25 ms).
APPROXIMATE_MIN_CLIPS = 500_000
#: A filtered subset smaller than this is searched exactly with numpy even under a FAISS index.
FAISS_MIN_CLIPS = 50_000
#: IVF lists probed per query (of about √N / 4 lists: 250 at a million clips, an eighth of them
#: scanned); recall@10 measured in ``benchmarks/bench_retrieval.py`` and ``docs/query_speed.md``.
IVF_NPROBE = 32
#: √N divided by this is the number of IVF lists. √N lists (1 000 at a million clips) took 8.5 s
#: of CPU to train and fill on 2 busy cores, √N / 4 takes 0.6 s (k-means and assignment cost
#: grow with the lists); a query scans 4× more rows of each probed list: 1–3 ms instead of 0.5.
IVF_LIST_DIVISOR = 4
#: k-means iterations of the IVF training (FAISS' default is 25; 10 changed recall@10 by nothing
#: measurable on the scale workspace and trains 2.5× faster).
IVF_TRAIN_ITERATIONS = 10
#: HNSW settings: links per node, construction and search beam widths (recall@10 ≥ 0.95 in the
#: benchmark at 1 000 000 clips).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128

SearchMethod = Literal["auto", "numpy", "faiss", "hnsw", "ivf"]
SEARCH_METHODS: tuple[str, ...] = ("auto", "numpy", "faiss", "hnsw", "ivf")

#: Seed 000's Table I retrieved UCF101 clips for words no class name holds ("NBA", "orchestra");
#: these are the demo dataset's equivalents: words that occur in none of its class names.
DEMO_QUERIES: tuple[str, ...] = (
    "basketball",
    "football",
    "planet",
    "dice",
    "cube",
    "wobble",
    "drop",
    "climb",
    "twirl",
)


#: Rows normalised or scanned per step: a few MB, so no temporary the size of a workspace, and a
#: worker gives the GIL back between steps (each numpy call on one step takes milliseconds).
ROW_CHUNK = 65_536
#: Rows per step of a :class:`ClipScan`: small enough that a step's copies stay in the CPU cache
#: (measured 0.17 s against 0.7–1.0 s in steps of 65 536 for a scan of 1 000 000 × 50).
SCAN_CHUNK = 8_192


def unit_rows(vectors: np.ndarray, rows: np.ndarray | None = None, chunk: int = ROW_CHUNK) -> np.ndarray:
    """Rows scaled to unit length (float32); zero rows stay zero (cosine 0 with everything).

    Parameters
    ----------
    vectors
        ``(N, D)``, e.g. a memory-mapped embedding file.
    rows
        Only these rows of ``vectors``, in this order (default: all); read ``chunk`` at a time,
        so a memory map is never copied whole.
    chunk
        Rows per step. Each row is scaled alone, so the result does not depend on it.
    """
    n = len(vectors) if rows is None else len(rows)
    dim = int(vectors.shape[1]) if np.ndim(vectors) == 2 else 0
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        part = vectors[start:stop] if rows is None else vectors[rows[start:stop]]
        part = np.asarray(part, dtype=np.float32)
        norms = np.linalg.norm(part, axis=1, keepdims=True)
        np.divide(part, np.where(norms > 0, norms, 1.0), out=out[start:stop])
    return out


def _unit_query(query: np.ndarray, dim: int) -> np.ndarray:
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    if q.shape[0] != dim:
        raise ActionLensError(f"a {q.shape[0]}-d query cannot search {dim}-d embeddings")
    norm = float(np.linalg.norm(q))
    if norm == 0.0 or not np.isfinite(norm):
        raise ActionLensError("the query vector is zero or not finite; nothing can be ranked by cosine to it")
    return (q / norm).astype(np.float32)


def _rows_of(ids: np.ndarray, ids_sorted: bool, allowed_ids: Iterable[int] | np.ndarray) -> np.ndarray:
    """Ascending rows of ``ids`` whose id is in ``allowed_ids`` (binary search when ``ids`` is
    sorted: a 300 000-id filter of a million rows in milliseconds, not a tenth of a second)."""
    allowed = (
        np.asarray(allowed_ids, dtype=np.int64)
        if isinstance(allowed_ids, np.ndarray)
        else np.fromiter(allowed_ids, dtype=np.int64)
    )
    if not ids_sorted or not len(ids):
        return np.flatnonzero(np.isin(ids, allowed))
    rows = np.minimum(np.searchsorted(ids, allowed), len(ids) - 1)
    # Sorted and without repeats; not np.unique, whose hash path took 0.28 s for 500 000 rows.
    rows = np.sort(rows[ids[rows] == allowed], kind="stable")  # linear on an ascending filter
    return rows[np.r_[True, rows[1:] != rows[:-1]]] if len(rows) else rows


def _ranked(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` by score, ties broken by the smaller id (so every method orders alike)."""
    order = np.lexsort((ids, -scores))[:k]
    return ids[order], scores[order]


class ClipIndex:
    """Cosine top-k search over a fixed set of embeddings, exact or approximate.

    Parameters
    ----------
    vectors
        ``(N, D)`` embeddings (any scale; they are normalised, so scores are cosines).
    ids
        The id of each row (default ``0 … N-1``), returned by :meth:`search`.
    method
        ``"auto"`` (by N, see the module docstring), ``"numpy"`` or ``"faiss"`` (exact),
        ``"hnsw"`` or ``"ivf"`` (approximate).
    rows
        Index only these rows of ``vectors`` (read a chunk at a time, e.g. the embedded rows of
        a memory-mapped embedding file); ``ids`` then names each of them.
    build_threads
        FAISS threads for building the index: 1 (default) leaves the other cores to the rest
        of the app (the first map); 0 uses them all (a command that waits for nothing else).
    """

    def __init__(
        self,
        vectors: np.ndarray,
        ids: np.ndarray | None = None,
        method: SearchMethod = "auto",
        *,
        ivf_nprobe: int | None = None,
        hnsw_ef_search: int = HNSW_EF_SEARCH,
        rows: np.ndarray | None = None,
        build_threads: int = 1,
    ) -> None:
        if method not in SEARCH_METHODS:
            raise ActionLensError(f"unknown search method {method!r}; use one of {', '.join(SEARCH_METHODS)}")
        self.unit = unit_rows(vectors, rows)
        n = self.unit.shape[0]
        self.ids = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        if self.ids.shape != (n,):
            raise ActionLensError(f"{n} embeddings but {self.ids.shape[0]} ids")
        self._ids_sorted = bool(np.all(self.ids[1:] > self.ids[:-1]))
        self._last_filter: tuple[Any, np.ndarray, dict[str, Any]] | None = None
        if method == "auto":
            method = "numpy" if n < APPROXIMATE_MIN_CLIPS else "ivf"
        self.method: str = method
        self.exact = method in ("numpy", "faiss")
        self._faiss_index: Any = None
        if method != "numpy" and n:
            self._faiss_index = _build_faiss(self.unit, method, ivf_nprobe, hnsw_ef_search, build_threads)

    def __len__(self) -> int:
        return int(self.unit.shape[0])

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return int(self.unit.shape[1])

    def exact_for(self, num_candidates: int | None) -> bool:
        """Whether a search among ``num_candidates`` clips (``None``: all) is exact: a small
        filtered subset is scanned exactly even under an approximate index."""
        if self.exact or self._faiss_index is None:
            return True
        return num_candidates is not None and num_candidates < FAISS_MIN_CLIPS

    def search(
        self, query: np.ndarray, k: int = 10, allowed_ids: Iterable[int] | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` rows most cosine-similar to ``query``.

        Parameters
        ----------
        query
            A ``D`` vector (any scale).
        k
            How many results.
        allowed_ids
            Only these ids may be returned (a filter by split or class); ``None``: all.

        Returns
        -------
        (ids, cosines)
            int64 ids and float64 cosines, best first, ties by the smaller id.
        """
        q = _unit_query(query, self.dim)
        rows: np.ndarray | None = None
        if allowed_ids is not None:
            rows = self._filter_rows(allowed_ids)
        n_candidates = len(self) if rows is None else len(rows)
        k = min(int(k), n_candidates)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        # A small filtered subset is searched exactly whatever the index: that is both faster
        # and exact.
        if self._faiss_index is None or (rows is not None and len(rows) < FAISS_MIN_CLIPS):
            found = self._numpy_rows(q, k, rows)
        else:
            found = self._faiss_rows(q, k, rows)
        # Elementwise product and a row sum, not a BLAS product: BLAS may sum a row in another
        # order depending on how many rows it gets, and results must not depend on the method.
        scores = (self.unit[found].astype(np.float64) * q.astype(np.float64)).sum(axis=1)
        found_ids, scores = _ranked(self.ids[found], scores, k)
        return found_ids, scores

    def _filter_rows(self, allowed_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        # The rows of the last filter array are kept with its FAISS selector: a scope's queries
        # pass the same array (Retriever keeps one per scope), and at a million clips finding
        # the rows and building the selector cost 40 ms of each query.
        last = self._last_filter
        if last is not None and last[0] is allowed_ids:
            return last[1]
        rows = _rows_of(self.ids, self._ids_sorted, allowed_ids)
        if isinstance(allowed_ids, np.ndarray):
            self._last_filter = (allowed_ids, rows, {})
        return rows

    def _selector(self, rows: np.ndarray) -> Any:
        import faiss

        last = self._last_filter
        if last is not None and last[1] is rows:
            if "selector" not in last[2]:
                last[2]["selector"] = faiss.IDSelectorBatch(rows.astype(np.int64))
            return last[2]["selector"]
        return faiss.IDSelectorBatch(rows.astype(np.int64))

    def _numpy_rows(self, q: np.ndarray, k: int, rows: np.ndarray | None) -> np.ndarray:
        matrix = self.unit if rows is None else self.unit[rows]
        cosines = matrix @ q
        # A margin beyond k keeps near-ties at the cut: the float64 re-scoring decides them.
        take = min(len(cosines), k + 8)
        # Partition the scores themselves (no negated copy of N floats): the top ``take`` end up last.
        n = len(cosines)
        top = np.argpartition(cosines, n - take)[n - take :] if take < n else np.arange(n)
        return top if rows is None else rows[top]

    def _faiss_rows(self, q: np.ndarray, k: int, rows: np.ndarray | None) -> np.ndarray:
        import faiss

        take = min(len(self), k + 8)
        params: Any = None
        search_params: Any = faiss  # the stubs lack the selector arguments these take
        if rows is not None:
            selector = self._selector(rows)
            if self.method == "hnsw":
                params = search_params.SearchParametersHNSW(
                    sel=selector, efSearch=self._faiss_index.hnsw.efSearch
                )
            elif self.method == "ivf":
                params = search_params.SearchParametersIVF(sel=selector, nprobe=self._faiss_index.nprobe)
            else:
                params = search_params.SearchParameters(sel=selector)
        # One query is faster on one thread: FAISS' OpenMP split of a single query over the
        # rows costs more than it gains (measured 8 ms on one thread vs 48 ms on two at 100 000
        # clips, on 2 busy cores), and it competes with numpy's BLAS threads.
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            _, labels = self._faiss_index.search(q.reshape(1, -1), take, params=params)
        finally:
            faiss.omp_set_num_threads(threads)
        found = labels[0]
        return found[found >= 0].astype(np.int64)


class ClipScan:
    """Exact cosine top-k read straight from the embeddings, a chunk of rows at a time.

    For one-shot use (a CLI command answering one query): nothing is built or kept, so a
    million memory-mapped embeddings cost one pass over the file and no copy of it. It ranks
    exactly as :class:`ClipIndex` with ``method="numpy"`` does: each chunk's unit rows are the
    same floats, each chunk keeps its ``k + 8`` best, and the survivors are re-scored in float64
    and ordered with ties by the smaller id.

    Parameters
    ----------
    vectors
        ``(N, D)`` embeddings (e.g. a memory map), row = clip id.
    ids
        The rows that may be returned (the clips that have an embedding).
    """

    method = "numpy"
    exact = True

    def __init__(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        self.vectors = vectors
        self.ids = np.asarray(ids, dtype=np.int64)
        self._ids_sorted = bool(np.all(self.ids[1:] > self.ids[:-1]))

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return int(self.vectors.shape[1])

    def exact_for(self, num_candidates: int | None) -> bool:
        """Always ``True``: a scan is exact."""
        return True

    def search(
        self, query: np.ndarray, k: int = 10, allowed_ids: Iterable[int] | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` rows most cosine-similar to ``query``; as :meth:`ClipIndex.search`."""
        q = _unit_query(query, self.dim)
        rows = self.ids
        if allowed_ids is not None:
            rows = rows[_rows_of(rows, self._ids_sorted, allowed_ids)]
        k = min(int(k), len(rows))
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        take = k + 8  # the margin ClipIndex keeps at the cut
        kept: list[np.ndarray] = []
        kept_scores: list[np.ndarray] = []
        for start in range(0, len(rows), SCAN_CHUNK):
            part = rows[start : start + SCAN_CHUNK]
            cosines = unit_rows(self.vectors, part) @ q
            if len(part) > take:
                top = np.argpartition(cosines, len(part) - take)[len(part) - take :]
                part, cosines = part[top], cosines[top]
            kept.append(part)
            kept_scores.append(cosines)
        found, cosines = np.concatenate(kept), np.concatenate(kept_scores)
        if len(found) > take:
            found = found[np.argpartition(cosines, len(found) - take)[len(found) - take :]]
        found = np.sort(found)  # reading a memory map in row order
        scores = (unit_rows(self.vectors, found).astype(np.float64) * q.astype(np.float64)).sum(axis=1)
        return _ranked(found, scores, k)


def _build_faiss(
    unit: np.ndarray, method: str, ivf_nprobe: int | None, hnsw_ef_search: int, threads: int = 1
) -> Any:
    """The FAISS index over ``unit``, built on ``threads`` threads (0: all) in steps of
    :data:`ROW_CHUNK` rows.

    One thread by default: the app builds its index in the background while its other workers
    (the first map) need the second core; FAISS gives the GIL back during each call, so the GUI
    thread runs meanwhile.
    """
    import faiss

    index: Any  # faiss' stubs type each index class apart
    n, dim = unit.shape
    if method == "faiss":
        index = faiss.IndexFlatIP(dim)
    elif method == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = hnsw_ef_search
    else:  # ivf: about √N / 4 lists, trained on a sample of 64 points per list
        nlist = max(1, min(int(np.sqrt(n) / IVF_LIST_DIVISOR), n // 64))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = IVF_TRAIN_ITERATIONS
        sample = unit[np.sort(np.random.default_rng(0).choice(n, min(n, nlist * 64), replace=False))]
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads if threads > 0 else before)
    try:
        if method == "ivf":
            index.train(sample)
            index.nprobe = min(nlist, ivf_nprobe or IVF_NPROBE)
        for start in range(0, n, ROW_CHUNK):
            index.add(unit[start : start + ROW_CHUNK])
    finally:
        faiss.omp_set_num_threads(before)
    return index


# ------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class ClipHit:
    """One retrieved clip."""

    clip_id: int
    name: str
    class_name: str | None
    score: float


@dataclass(frozen=True)
class ClassHit:
    """One class whose mean embedding is near the query."""

    class_id: int
    name: str
    phrase: str
    score: float


@dataclass(frozen=True)
class WordHit:
    """One word whose vector is near the query."""

    word: str
    score: float


@dataclass
class RetrievalResult:
    """The three ranked lists of a query; scores are cosines unless ``metric`` says otherwise.

    ``exact`` is ``False`` when the clips came from an approximate index (FAISS IVF or HNSW):
    they are then very likely, not certainly, the top k.
    """

    query: str
    clips: list[ClipHit] = field(default_factory=list)
    classes: list[ClassHit] = field(default_factory=list)
    words: list[WordHit] = field(default_factory=list)
    metric: str = "cosine"
    method: str = "numpy"
    exact: bool = True

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "query": self.query,
            "metric": self.metric,
            "method": self.method,
            "exact": self.exact,
            "clips": [vars(h) for h in self.clips],
            "classes": [vars(h) for h in self.classes],
            "words": [vars(h) for h in self.words],
        }


# --------------------------------------------------------------------------------- retrieval
class Retriever:
    """Queries against one :class:`EmbeddingSpace`; builds its clip index once.

    Parameters
    ----------
    space
        The run's embeddings.
    method
        Search method of the clip index (see :class:`ClipIndex`).
    one_shot
        A retriever for one or a few queries (a CLI command): with ``method="numpy"`` nothing is
        indexed and each query scans the embedding file (:class:`ClipScan`), which at a million
        clips costs less than normalising a copy of it once.
    """

    def __init__(
        self, space: EmbeddingSpace, method: SearchMethod = "auto", *, one_shot: bool = False
    ) -> None:
        self.space = space
        ids = space.embedded_clip_ids
        self.clip_index: ClipIndex | ClipScan
        if one_shot and method == "numpy":
            self.clip_index = ClipScan(space.clip_embeddings, ids)
        else:
            threads = 0 if one_shot else 1  # a command waits for nothing else: every core
            self.clip_index = ClipIndex(space.clip_embeddings, ids, method, rows=ids, build_threads=threads)
        # The class vectors analogies use: the mean of unit clip embeddings, re-normalised.
        self.class_unit = unit_rows(space.unit_class_means)
        self._allowed: dict[tuple[Any, ...], np.ndarray] = {}

    def query_vector(self, query: str | Sequence[str]) -> tuple[np.ndarray, set[str], set[int], set[int]]:
        """The vector of a query and the operands it names (to leave out of the results).

        A string with an operand prefix (``clip:``, ``class:``, ``word:``) or a ``+``/``-``
        between operands is an expression (:class:`~desktop_app.analysis.analogy.Expression`);
        anything else is words, embedded as their phrase vector (seed 000, section III.C).

        Returns
        -------
        (vector, words, clip_ids, class_ids)
            The query vector and the words, clips and classes it is made of.

        Raises
        ------
        UnknownWordError
            A word is not in the word vectors; the error names it and suggests spellings.
        """
        from desktop_app.analysis.analogy import Expression, looks_like_expression
        from desktop_app.words.vectors import phrase_words

        text = query if isinstance(query, str) else " ".join(query)
        if looks_like_expression(text):
            expression = Expression.parse(text)
            return (
                expression.vector(self.space),
                expression.words(),
                expression.clip_ids(),
                expression.class_ids(self.space),
            )
        self.space.require_word_space(f"the word query {text[:60]!r}")
        vector = self.space.word_vectors.phrase_vector(text)
        return vector, set(phrase_words(text)), set(), set()

    def search(
        self,
        query: str | Sequence[str],
        k: int = 10,
        *,
        split: str | None = None,
        role: str | None = None,
        class_names: Sequence[str] | None = None,
        num_classes: int = 5,
        num_words: int = 10,
        exclude_operands: bool = False,
    ) -> RetrievalResult:
        """Rank clips, classes and words by cosine similarity to a query.

        Parameters
        ----------
        query
            Words (one string or a list), or an expression (see :meth:`query_vector`).
        k
            How many clips.
        split, role
            Only clips of this split (``"1"``) and, optionally, role (``"train"``, ``"test"``).
        class_names
            Only clips of these classes.
        num_classes, num_words
            Lengths of the class and word lists.
        exclude_operands
            Leave the query's own clips, classes and words out of the results (analogies do).
        """
        vector, words, clip_ids, class_ids = self.query_vector(query)
        text = query if isinstance(query, str) else " ".join(query)
        allowed = self.allowed_clip_ids(split, role, class_names)
        if exclude_operands and clip_ids:
            base = self.clip_index.ids if allowed is None else allowed
            allowed = np.setdiff1d(base, np.fromiter(clip_ids, dtype=np.int64))
        exact = self.clip_index.exact_for(None if allowed is None else len(allowed))
        result = RetrievalResult(text, method=self.clip_index.method, exact=exact)
        ids, scores = self.clip_index.search(vector, k, allowed)
        labels = self.space.clip_labels(ids)  # k id lookups, not the catalog
        result.clips = [
            ClipHit(int(i), name, class_name, float(s))
            for i, s, (name, class_name) in zip(ids, scores, labels, strict=True)
        ]
        result.classes = self.nearest_classes(vector, num_classes, class_ids if exclude_operands else ())
        result.words = nearest_words(self.space.word_vectors, vector, num_words, exclude=words)
        return result

    def allowed_clip_ids(
        self, split: str | None, role: str | None, class_names: Sequence[str] | None
    ) -> np.ndarray | None:
        """Ids of the clips the filters let through (ascending); ``None`` when there is no filter.

        Kept per filter, so a second query in the same scope reads no split from the catalog
        (at a million clips that read and the intersection took 0.2 s of every scoped query).
        """
        if split is None and role is None and not class_names:
            return None
        key = (split, role, tuple(sorted(class_names or ())))
        cached = self._allowed.get(key)
        if cached is None:
            cached = self._allowed[key] = self._allowed_clip_ids(split, role, class_names)
        return cached

    def _allowed_clip_ids(
        self, split: str | None, role: str | None, class_names: Sequence[str] | None
    ) -> np.ndarray:
        allowed = self.clip_index.ids
        if role is not None and split is None:
            names = self.space.ws.catalog.split_names()
            if not names:
                raise ActionLensError(
                    f"{self.space.ws.root} has no splits, so clips have no role to filter by"
                )
            split = names[0]  # a role without a split means the first split
        if split is not None:
            catalog = self.space.ws.catalog
            present = catalog.split_roles_present(split)  # index seeks, not a dict of the split
            if not present:
                known = ", ".join(catalog.split_names()) or "none"
                raise ActionLensError(f"no split {split!r} in {self.space.ws.root} (splits: {known})")
            if role is not None and role not in present:
                known = ", ".join(sorted(present))
                raise ActionLensError(f"split {split!r} has no {role!r} clips (its roles: {known})")
            members = catalog.split_clip_ids(split, role)
            allowed = np.intersect1d(allowed, members, assume_unique=True)
        if class_names:
            wanted = {self.space.find_class(name).id for name in class_names}
            of_class = np.flatnonzero(np.isin(self.space.clip_class_ids, list(wanted)))
            allowed = np.intersect1d(allowed, of_class)
        return allowed

    def nearest_classes(self, vector: np.ndarray, k: int = 5, exclude: Iterable[int] = ()) -> list[ClassHit]:
        """The classes whose mean embeddings are most cosine-similar to ``vector``."""
        q = _unit_query(vector, self.class_unit.shape[1])
        cosines = self.class_unit.astype(np.float64) @ q.astype(np.float64)
        keep = ~np.isin(self.space.class_ids, list(exclude))
        ids, scores = _ranked(self.space.class_ids[keep], cosines[keep], k)
        classes = self.space.classes
        return [
            ClassHit(int(c), classes[int(c)].name, classes[int(c)].phrase, float(s))
            for c, s in zip(ids, scores, strict=True)
        ]


def nearest_words(
    word_vectors: Any,
    vector: np.ndarray,
    k: int = 10,
    exclude: Iterable[str] = (),
    metric: str = "cosine",
    vocabulary_limit: int = FREQUENT_VOCABULARY,
) -> list[WordHit]:
    """The ``k`` frequent words nearest ``vector``.

    ``metric="cosine"`` ranks by cosine (score = cosine); ``"euclidean"`` by distance to the
    *unit* word vectors (score = distance, smallest first; on unit rows this ranks as cosine
    does). Only the ``vocabulary_limit`` most frequent words are searched.
    """
    excluded = [w.casefold() for w in exclude]
    if metric == "cosine":
        hits = word_vectors.most_similar(vector, k, vocabulary_limit=vocabulary_limit, exclude=excluded)
        return [WordHit(w, s) for w, s in hits]
    # Unit rows: the scale analogy operands are on (desktop_app.analysis.analogy).
    rows = unit_rows(word_vectors.vectors[:vocabulary_limit])
    distances = np.linalg.norm(rows - np.asarray(vector, dtype=np.float32).reshape(1, -1), axis=1)
    take = min(len(distances), k + len(excluded))
    top = np.argpartition(distances, take - 1)[:take] if take < len(distances) else np.arange(len(distances))
    top = top[np.argsort(distances[top], kind="stable")]
    words = word_vectors.words
    hits = [WordHit(words[i], float(distances[i])) for i in top if words[i].casefold() not in set(excluded)]
    return hits[:k]


@dataclass
class WordsByPos:
    """The nearest verbs and nearest nouns of a query (:func:`nearest_words_by_pos`).

    ``unavailable`` says why both lists are empty when WordNet is not installed; ``None``
    otherwise.
    """

    verbs: list[WordHit] = field(default_factory=list)
    nouns: list[WordHit] = field(default_factory=list)
    unavailable: str | None = None


def nearest_words_by_pos(
    word_vectors: Any,
    vector: np.ndarray,
    k: int = 10,
    exclude: Iterable[str] = (),
    vocabulary_limit: int | None = FREQUENT_VOCABULARY,
    word_pos: WordPos | None = None,
    progress: Progress | None = None,
) -> WordsByPos:
    """The ``k`` frequent verbs and the ``k`` frequent nouns nearest ``vector`` by cosine.

    The same ranking as :func:`nearest_words` (cosine to the word vectors among the
    ``vocabulary_limit`` most frequent words, ``exclude`` left out case-folded), restricted to
    the words WordNet counts as verbs, then as nouns (:mod:`desktop_app.words.pos`: a word
    counts as a part of speech when at least a third of its sense weight is that part of
    speech). One matrix–vector product serves both lists.

    Parameters
    ----------
    word_vectors
        :class:`~desktop_app.words.vectors.WordVectors`.
    vector
        The query in the word space (a clip embedding, a phrase or analogy vector).
    k
        Length of each list.
    exclude
        Words to leave out (the query's own words).
    vocabulary_limit
        Search only this many of the most frequent words; ``None``: all.
    word_pos
        The vocabulary's :class:`~desktop_app.words.pos.WordPos`; default: computed or read
        from the cache once per process (:func:`~desktop_app.words.pos.word_pos_of`).
    progress
        Progress/cancel handle for that first computation.

    Returns
    -------
    WordsByPos
        With ``unavailable`` set (and empty lists) when WordNet is not installed and nothing is
        cached.
    """
    from desktop_app.words.pos import WordNetUnavailable, word_pos_of

    if word_pos is None:
        try:
            word_pos = word_pos_of(word_vectors, progress)
        except WordNetUnavailable as exc:
            return WordsByPos(unavailable=str(exc))
    words = word_vectors.words
    n = len(words) if vocabulary_limit is None else min(vocabulary_limit, len(words))
    if len(word_pos) != len(words):
        raise ActionLensError(
            f"verb/noun weights of {len(word_pos)} words cannot filter a vocabulary of "
            f"{len(words)} ({word_pos.source}); delete that cache file"
        )
    rows = np.asarray(word_vectors.vectors[:n], dtype=np.float32)
    q = _unit_query(vector, rows.shape[1])
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))
    cosines = (rows @ q) / np.where(norms > 0, norms, 1.0)
    excluded = {w.casefold() for w in exclude}
    lists: list[list[WordHit]] = []
    for pos in ("verb", "noun"):
        candidates = np.flatnonzero(word_pos.mask(pos, n))
        # A margin for the excluded words (and their case variants in mixed-case vocabularies).
        take = min(len(candidates), k + 4 * len(excluded))
        if take <= 0 or k <= 0:
            lists.append([])
            continue
        scores = cosines[candidates]
        top = (
            np.argpartition(-scores, take - 1)[:take]
            if take < len(candidates)
            else np.arange(len(candidates))
        )
        top = top[np.lexsort((candidates[top], -scores[top]))]
        hits = [
            WordHit(words[int(i)], float(cosines[int(i)]))
            for i in candidates[top]
            if words[int(i)].casefold() not in excluded
        ]
        lists.append(hits[:k])
    return WordsByPos(verbs=lists[0], nouns=lists[1])


def demo_query_table(
    retriever: Retriever,
    queries: Sequence[str] = DEMO_QUERIES,
    k: int = 10,
    *,
    split: str | None = None,
    role: str | None = "test",
) -> list[dict[str, Any]]:
    """Seed 000's Table I for a workspace: each query word with the classes of its top-k clips.

    Seed 000 (section IV.E) retrieves among the *test* videos, so by default only the test clips
    of ``split`` (default: the workspace's first split) are ranked; ``role=None`` with
    ``split=None`` ranks every clip. Words the vectors lack are reported with ``error`` instead
    of failing the table.

    Returns
    -------
    list of dict
        ``{"query", "clip_classes": [class name of each of the k clips, best first],
        "top_class": the most frequent of them, "nearest_classes": [class phrases],
        "split", "role"}``.
    """
    from desktop_app.errors import UnknownWordError

    if role is not None and split is None:
        names = retriever.space.ws.catalog.split_names()
        split = names[0] if names else None
        if split is None:
            raise ActionLensError(
                f"{retriever.space.ws.root} has no splits, so there are no test clips to rank; "
                "pass role=None to rank every clip"
            )
    table: list[dict[str, Any]] = []
    for query in queries:
        try:
            result = retriever.search(query, k, split=split, role=role, num_words=0)
        except UnknownWordError as exc:
            table.append({"query": query, "error": str(exc), "split": split, "role": role})
            continue
        names = [h.class_name or "-" for h in result.clips]
        top = max(set(names), key=lambda n: (names.count(n), -names.index(n))) if names else None
        table.append(
            {
                "query": query,
                "clip_classes": names,
                "top_class": top,
                "nearest_classes": [h.phrase for h in result.classes],
                "split": split,
                "role": role,
            }
        )
    return table
