"""Fitting 2-D layouts and placing every other point by the method's own transform.

A map places **every** embedded clip. Where a method is fitted on a sample (UMAP and t-SNE above
their ``max_points``, PCA above :data:`PCA_FIT_POINTS`), the rest are placed by that method's own
out-of-sample rule:

* PCA: the fitted components' projection (exact: a placed point is where a fitted one would be);
* UMAP: umap-learn's ``UMAP.transform`` (membership strengths to the k nearest fitted points,
  their weighted mean as the start, then epochs with the fitted layout held fixed);
* t-SNE: openTSNE's ``TSNEEmbedding.transform`` (``prepare_partial`` plus optimisation against
  the fixed reference layout).

The k nearest neighbours that UMAP's graph and its transform need come from a FAISS index
(:class:`NeighbourIndex`): exact (``IndexFlatL2``) up to :data:`EXACT_KNN_POINTS` points, an
inverted-file index (``IndexIVFFlat``) above, in place of the quadratic exact graph of before
and of pynndescent (whose numba kernels compile for tens of seconds in every process).

What was fitted and what was placed is returned as a :class:`Placement` (its counts go into the
map's metadata, see ``docs/maps.md``). Everything here is Qt-free and a function of (inputs,
progress); a cancel raises :class:`~desktop_app.errors.TaskCancelled` at the next check.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.progress import NullProgress, Progress, SubProgress

OnPartial = Callable[[np.ndarray], None]

#: PCA is fitted on at most this many points (the covariance of a random 200 000 of a million
#: unit vectors is the full one to three decimals); every point is then projected.
PCA_FIT_POINTS = 200_000
#: Rows per block when a layout walks all points (bounded memory whatever N).
BLOCK_ROWS = 65_536
#: Up to this many indexed points the neighbour search is exact (FAISS flat index).
EXACT_KNN_POINTS = 20_000
#: Inverted lists probed per query by the approximate index (recall ≈ 0.95 at k = 15 on the
#: clustered 50-d benchmark data; see docs/maps.md).
IVF_PROBES = 16
#: Points placed per call of a method's transform (progress and cancel between calls).
TRANSFORM_BLOCK = 100_000


@dataclass(frozen=True)
class Placement:
    """How the rows of a layout got their positions.

    Attributes
    ----------
    total
        Rows in the layout (every embedded clip or class).
    fitted
        Rows the layout was fitted on.
    placed
        Rows placed afterwards by ``placed_by`` (``total - fitted``).
    placed_by
        ``"pca projection"``, ``"umap transform"``, ``"tsne transform"``, or ``None`` when
        every row was fitted.
    seed
        Seed of the random fit sample (:func:`fit_rows`).
    """

    total: int
    fitted: int
    placed: int
    placed_by: str | None
    seed: int

    def as_dict(self) -> dict[str, Any]:
        """The JSON form stored in a map's ``placement`` field."""
        return {
            "total": self.total,
            "fitted": self.fitted,
            "placed": self.placed,
            "placed_by": self.placed_by,
            "seed": self.seed,
        }


def fit_rows(n: int, max_points: int | None, seed: int) -> np.ndarray | None:
    """Sorted rows of the random fit sample of ``n`` points, or ``None`` to fit all.

    ``max_points`` of 0 or ``None`` (or ``n <= max_points``) fits every point.
    """
    if not max_points or n <= max_points:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=int(max_points), replace=False))


def _split(n: int, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(fitted rows, other rows) of ``n``."""
    if rows is None:
        return np.arange(n), np.zeros(0, dtype=np.int64)
    others = np.ones(n, dtype=bool)
    others[rows] = False
    return rows, np.flatnonzero(others)


@dataclass(frozen=True)
class _FitSample:
    """What UMAP and t-SNE share before and after their fit: the random fit sample of the rows,
    the other rows, and how the layout of the fitted rows becomes one of every row."""

    n: int
    seed: int
    fit_idx: np.ndarray
    other_idx: np.ndarray
    fit_vectors: np.ndarray

    @classmethod
    def of(cls, vectors: np.ndarray, params: dict[str, Any]) -> _FitSample:
        """The sample of ``params["max_points"]`` rows (every row when ``None``) by ``params["seed"]``."""
        n = vectors.shape[0]
        seed = int(params["seed"])
        rows = fit_rows(n, params.get("max_points"), seed)
        fit_idx, other_idx = _split(n, rows)
        fit_vectors = np.ascontiguousarray(vectors[fit_idx]) if rows is not None else np.asarray(vectors)
        return cls(n, seed, fit_idx, other_idx, fit_vectors)

    def too_few(self) -> tuple[np.ndarray, Placement] | None:
        """Below 4 rows neither method runs: the PCA layout of all of them (else ``None``)."""
        if self.n >= 4:
            return None
        return pca_layout(self.fit_vectors)[0], Placement(self.n, self.n, 0, None, self.seed)

    def place_others(
        self, fitted: np.ndarray, placed_by: str, place: Callable[[np.ndarray, int], np.ndarray]
    ) -> tuple[np.ndarray, Placement]:
        """Every row's position: the fitted rows' ``fitted`` layout, the others placed block by
        block (:data:`TRANSFORM_BLOCK` rows) by ``place(rows, start)``, which returns their
        ``(len(rows), 2)`` positions (and reports progress, checks for cancel)."""
        fitted = np.asarray(fitted, dtype=np.float32)
        if not len(self.other_idx):
            return fitted, Placement(self.n, self.n, 0, None, self.seed)
        coords = np.empty((self.n, 2), dtype=np.float32)
        coords[self.fit_idx] = fitted
        for start in range(0, len(self.other_idx), TRANSFORM_BLOCK):
            block = self.other_idx[start : start + TRANSFORM_BLOCK]
            coords[block] = place(block, start)
        m = len(self.fit_idx)
        return coords, Placement(self.n, m, self.n - m, placed_by, self.seed)


# ------------------------------------------------------------------------------ neighbours
class NeighbourIndex:
    """k nearest neighbours (Euclidean) among fixed points, by FAISS.

    Exact (``IndexFlatL2``) up to :data:`EXACT_KNN_POINTS` points; above, ``IndexIVFFlat`` with
    about ``4·√n`` lists trained on the points themselves, :data:`IVF_PROBES` probed per query.
    Also serves as umap-learn's search index (``query`` and ``_angular_trees``), so that
    ``UMAP.transform`` finds neighbours here instead of in a pynndescent index.
    """

    _angular_trees = False  # read by umap-learn's transform to pick its epsilon

    def __init__(self, points: np.ndarray, seed: int = 0) -> None:
        import faiss

        faiss.omp_set_num_threads(os.cpu_count() or 1)
        data = np.ascontiguousarray(points, dtype=np.float32)
        n, dim = data.shape
        self.size = n
        self.exact = n <= EXACT_KNN_POINTS
        self._index: Any
        if self.exact:
            self._index = faiss.IndexFlatL2(dim)
        else:
            lists = int(min(4 * np.sqrt(n), n // 39))
            quantizer = faiss.IndexFlatL2(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, lists)
            index.cp.seed = seed
            index.train(data)
            index.nprobe = IVF_PROBES
            self._quantizer = quantizer  # FAISS does not own it: keep it alive
            self._index = index
        self._index.add(data)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(indices (m, k) int64, distances (m, k) float32)``, nearest first.

        A query whose probed lists held fewer than ``k`` points is searched again over every
        list, so every row has ``k`` real indices.
        """
        k = min(k, self.size)
        q = np.ascontiguousarray(queries, dtype=np.float32)
        d2, idx = self._index.search(q, k)
        short = np.flatnonzero((idx < 0).any(axis=1))
        if len(short) and not self.exact:
            probes = self._index.nprobe
            self._index.nprobe = self._index.nlist
            d2[short], idx[short] = self._index.search(q[short], k)
            self._index.nprobe = probes
        return idx.astype(np.int64), np.sqrt(np.maximum(d2, 0.0)).astype(np.float32)

    def query(self, queries: np.ndarray, k: int, epsilon: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """umap-learn's search-index call (``epsilon`` is pynndescent's; FAISS has no such knob)."""
        idx, dist = self.search(queries, k)
        return idx.astype(np.int32), dist


def knn_graph(
    points: np.ndarray, k: int, progress: Progress | None = None
) -> tuple[NeighbourIndex, np.ndarray, np.ndarray]:
    """The index over ``points`` and each point's ``k`` nearest (self first, as umap-learn expects)."""
    progress = progress or NullProgress()
    progress.set_progress(0.0, "building the neighbour index")
    index = NeighbourIndex(points)
    n = points.shape[0]
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, BLOCK_ROWS):
        progress.check_cancelled()
        stop = min(n, start + BLOCK_ROWS)
        idx, dist = index.search(points[start:stop], k + 1)
        own = np.arange(start, stop)
        # self first: drop it wherever FAISS found it, else drop the last neighbour
        is_self = idx == own[:, None]
        has_self = is_self.any(axis=1)
        drop = np.where(has_self, is_self.argmax(axis=1), k)
        keep = np.ones_like(idx, dtype=bool)
        keep[np.arange(len(idx)), drop] = False
        indices[start:stop, 0] = own
        indices[start:stop, 1:] = idx[keep].reshape(len(idx), k)[:, : k - 1]
        distances[start:stop, 0] = 0.0
        distances[start:stop, 1:] = dist[keep].reshape(len(idx), k)[:, : k - 1]
        progress.set_progress(stop / n, f"nearest neighbours {stop}/{n}")
    return index, indices, distances


# ------------------------------------------------------------------------------ PCA
def pca_basis(
    vectors: np.ndarray, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean (D,), components (D, 2), explained-variance ratios (2,))`` of ``vectors[rows]``.

    Accumulates the mean and the ``D × D`` scatter block by block in float64 (bounded memory for
    any N) and eigen-decomposes the covariance; signs are fixed so that each component's largest
    loading is positive, so the map does not flip between runs.
    """
    take = np.arange(vectors.shape[0]) if rows is None else rows
    n, dim = len(take), vectors.shape[1]
    total = np.zeros(dim)
    scatter = np.zeros((dim, dim))
    for start in range(0, n, BLOCK_ROWS):
        block = np.asarray(vectors[take[start : start + BLOCK_ROWS]], dtype=np.float64)
        total += block.sum(axis=0)
        scatter += block.T @ block
    mean = total / max(n, 1)
    cov = (scatter - n * np.outer(mean, mean)) / max(n - 1, 1)
    values, vecs = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:2]
    components = vecs[:, order]
    signs = np.sign(components[np.abs(components).argmax(axis=0), range(components.shape[1])])
    components = components * np.where(signs == 0, 1.0, signs)
    if components.shape[1] < 2:  # D == 1
        components = np.pad(components, ((0, 0), (0, 2 - components.shape[1])))
    spread = float(values.sum()) or 1.0
    ratios = np.pad(np.maximum(values[order], 0.0) / spread, (0, 2 - len(order)))
    return mean, components, ratios


def pca_project(vectors: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """``(vectors − mean) · components`` as ``(n, 2)`` float32, block by block."""
    n = vectors.shape[0]
    coords = np.empty((n, 2), dtype=np.float32)
    shift = mean @ components
    for start in range(0, n, BLOCK_ROWS):
        block = np.asarray(vectors[start : start + BLOCK_ROWS], dtype=np.float64)
        coords[start : start + BLOCK_ROWS] = block @ components - shift
    return coords


def pca_layout(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first two principal components of ``vectors`` (all fitted) and their variance ratios."""
    if vectors.shape[0] < 2:
        return np.zeros((vectors.shape[0], 2), dtype=np.float32), np.zeros(2)
    mean, components, ratios = pca_basis(vectors)
    return pca_project(vectors, mean, components), ratios


def pca_fit_place(
    vectors: np.ndarray, max_points: int | None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, Placement]:
    """PCA fitted on at most ``max_points`` random rows, every row projected.

    Returns ``(coords, explained-variance ratios, placement)``.
    """
    n = vectors.shape[0]
    if n < 2:
        return np.zeros((n, 2), dtype=np.float32), np.zeros(2), Placement(n, n, 0, None, seed)
    rows = fit_rows(n, max_points, seed)
    mean, components, ratios = pca_basis(vectors, rows)
    coords = pca_project(vectors, mean, components)
    fitted = n if rows is None else len(rows)
    return coords, ratios, Placement(n, fitted, n - fitted, "pca projection" if fitted < n else None, seed)


# ------------------------------------------------------------------------------ UMAP
def use_persistent_numba_cache() -> Path:
    """Point numba's on-disk cache at ``user_cache_dir()/numba`` (unless NUMBA_CACHE_DIR is set).

    Numba reads ``NUMBA_CACHE_DIR`` at import; when it was imported already, its config is set
    directly so that later compilations of ``cache=True`` functions land there too.
    """
    from desktop_app.paths import user_cache_dir

    directory = Path(os.environ.get("NUMBA_CACHE_DIR") or user_cache_dir() / "numba")
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(directory)
    import sys

    if "numba" in sys.modules:
        sys.modules["numba"].config.CACHE_DIR = str(directory)
    return directory


class _EpochReporter:
    """A file for umap-learn's tqdm bar: each refresh reports the epoch and checks for cancel."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress, self.total = progress, total

    def write(self, text: str) -> int:
        match = re.search(r"(\d+)/(\d+)", text)
        if match:
            done, total = int(match.group(1)), int(match.group(2)) or self.total
            self.progress.set_progress(done / total, f"epoch {done}/{total}")
        self.progress.check_cancelled()
        return len(text)

    def flush(self) -> None:
        self.progress.check_cancelled()


def umap_epochs(n: int) -> int:
    """Our epoch rule: umap-learn's (500 below 10 000 points, 200 above), 100 above 50 000."""
    return 500 if n < 10_000 else 200 if n <= 50_000 else 100


def _tqdm_kwds(reporter: _EpochReporter) -> dict[str, Any]:
    return {
        "disable": False,
        "file": reporter,
        "mininterval": 0.0,
        "miniters": 1,
        "bar_format": "{n}/{total}",
    }


def umap_fit_place(
    vectors: np.ndarray, params: dict[str, Any], progress: Progress | None = None
) -> tuple[np.ndarray, Placement]:
    """UMAP (McInnes et al. 2018) with umap-learn on at most ``max_points`` random rows, the
    rest placed by ``UMAP.transform``; FAISS neighbours, PCA start.

    Stages (progress weights): neighbours 0–0.2, fuzzy graph and compilation 0.2–0.3, epochs
    0.3–0.75, transform of the other rows 0.75–1 (per epoch through umap-learn's tqdm hook,
    which also checks for cancel).
    """
    progress = progress or NullProgress()
    sample = _FitSample.of(vectors, params)
    tiny = sample.too_few()
    if tiny is not None:
        return tiny
    seed, fit_vectors, other_idx = sample.seed, sample.fit_vectors, sample.other_idx
    m = len(sample.fit_idx)
    use_persistent_numba_cache()
    n_neighbors = int(min(params["n_neighbors"], m - 1))
    n_epochs = int(params["n_epochs"] or umap_epochs(m))
    index, knn_idx, knn_dist = knn_graph(
        fit_vectors, n_neighbors, SubProgress(progress, 0.0, 0.2, "neighbours")
    )
    progress.set_progress(0.2, "building the fuzzy graph (compiles on a first run)")
    progress.check_cancelled()
    import umap

    init = pca_layout(fit_vectors)[0].astype(np.float64)
    init = 10.0 * init / max(float(np.abs(init).max()), 1e-12)  # umap-learn's init scale
    end_fit = 0.75 if len(other_idx) else 1.0
    reporter = _EpochReporter(SubProgress(progress, 0.3, end_fit, "UMAP"), n_epochs)
    model = umap.UMAP(
        n_neighbors=n_neighbors,
        min_dist=float(params["min_dist"]),
        n_epochs=n_epochs,
        init=init,
        random_state=seed,
        transform_seed=seed,
        precomputed_knn=(knn_idx.astype(np.int32), knn_dist, index),
        tqdm_kwds=_tqdm_kwds(reporter),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_jobs overridden by random_state; index not an NNDescent
        fitted = np.asarray(model.fit_transform(fit_vectors), dtype=np.float32)
    # umap-learn's own transform schedule (n_epochs None: 30 epochs for blocks above 10 000
    # points) and its parallel epochs (random_state None), which fit runs single-threaded to be
    # reproducible: the fitted layout stays fixed, so only placed points vary run to run
    model.n_epochs = None
    model.random_state = None
    placing = SubProgress(progress, end_fit, 1.0, "placing the other clips")

    def place(block: np.ndarray, start: int) -> np.ndarray:
        done = start / len(other_idx)
        step = len(block) / len(other_idx)
        model.tqdm_kwds = _tqdm_kwds(_EpochReporter(SubProgress(placing, done, done + step, "transform"), 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(model.transform(np.ascontiguousarray(vectors[block], dtype=np.float32)))

    return sample.place_others(fitted, "umap transform", place)


def umap_layout(vectors: np.ndarray, params: dict[str, Any], progress: Progress | None = None) -> np.ndarray:
    """:func:`umap_fit_place`'s coordinates (kept for callers that need only those)."""
    return umap_fit_place(vectors, params, progress)[0]


# ------------------------------------------------------------------------------ t-SNE
def tsne_fit_place(
    vectors: np.ndarray,
    params: dict[str, Any],
    progress: Progress | None = None,
    on_partial: OnPartial | None = None,
) -> tuple[np.ndarray, Placement]:
    """t-SNE with openTSNE's FFT-accelerated gradients (Linderman et al. 2019), PCA start, on at
    most ``max_points`` random rows; the rest placed by ``TSNEEmbedding.transform``.

    ``on_partial(coords)`` receives a ``(m, 2)`` float32 copy of the layout of the **fitted**
    rows every ``partial_every`` iterations of both phases (early exaggeration, then the main
    phase), so a view can animate the map while it converges. Progress: affinities 0–0.15,
    iterations 0.15–0.85 (to 1 when every row is fitted), transform of the other rows 0.85–1.
    """
    progress = progress or NullProgress()
    sample = _FitSample.of(vectors, params)
    tiny = sample.too_few()
    if tiny is not None:
        return tiny
    from openTSNE import TSNE

    seed, fit_vectors, other_idx = sample.seed, sample.fit_vectors, sample.other_idx
    m = len(sample.fit_idx)
    end_fit = 0.85 if len(other_idx) else 1.0
    every = max(1, int(params["partial_every"]))
    total = int(params["early_exaggeration_iter"]) + int(params["n_iter"])
    done = [0]

    fitting = [True]  # openTSNE's transform runs the same callbacks on the placed points

    def callback(iteration: int, error: float, embedding: np.ndarray) -> bool:
        if not fitting[0]:
            progress.check_cancelled()
            return False
        done[0] += every
        fraction = 0.15 + (end_fit - 0.15) * min(done[0] / total, 1.0)
        progress.set_progress(fraction, f"iteration {min(done[0], total)}/{total}")
        if on_partial is not None:
            on_partial(np.array(embedding, dtype=np.float32))
        progress.check_cancelled()
        return False

    perplexity = float(min(params["perplexity"], max(1.0, (m - 1) / 3.0)))
    progress.set_progress(0.0, "t-SNE affinities")
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        n_iter=int(params["n_iter"]),
        early_exaggeration_iter=int(params["early_exaggeration_iter"]),
        initialization="pca",
        negative_gradient_method="fft",
        n_jobs=os.cpu_count() or 1,
        random_state=seed,
        callbacks=callback,
        callbacks_every_iters=every,
        verbose=False,
    )
    progress.check_cancelled()
    embedding = tsne.fit(fit_vectors)
    fitting[0] = False

    def place(block: np.ndarray, start: int) -> np.ndarray:
        progress.check_cancelled()
        placed = np.asarray(embedding.transform(np.asarray(vectors[block], dtype=np.float32)))
        stop = start + len(block)
        progress.set_progress(
            end_fit + (1.0 - end_fit) * stop / len(other_idx), f"placing clips {stop}/{len(other_idx)}"
        )
        return placed

    return sample.place_others(np.array(embedding, dtype=np.float32), "tsne transform", place)


def tsne_layout(
    vectors: np.ndarray,
    params: dict[str, Any],
    progress: Progress | None = None,
    on_partial: OnPartial | None = None,
) -> np.ndarray:
    """:func:`tsne_fit_place`'s coordinates (kept for callers that need only those)."""
    return tsne_fit_place(vectors, params, progress, on_partial)[0]
