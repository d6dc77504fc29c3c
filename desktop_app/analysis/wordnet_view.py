"""What the WordNet panel draws: seed 001's WordNet test of a run, with the classes in one order.

:func:`wordnet_view` runs :func:`~desktop_app.analysis.wordnet_corr.space_correlation` (seed 001,
section 4.2.1: Wu-Palmer matrix of the class verbs vs the cosine matrices of the model's class
means, the labels' word vectors and mean-pooled features, row-wise Spearman) and adds what a
side-by-side display needs: the catalog class id of every row, and orders of the rows shared by
all four matrices. The clustered order is the leaf order of average-linkage hierarchical
clustering of the Wu-Palmer matrix (distance ``1 − similarity``), so WordNet's blocks of related
verbs sit on the diagonal and an embedding that agrees with WordNet shows the same blocks.

Never imports Qt; WordNet is loaded once per sense choice and kept for the process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.progress import NullProgress, Progress, SubProgress

if TYPE_CHECKING:
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.analysis.wordnet_corr import WordNetCorrelation
    from desktop_app.words.wordnet import SenseChoice, WordNet
    from desktop_app.workspace import Workspace

#: Row orders offered, by name.
ORDERS: tuple[str, ...] = ("clustered", "alphabetical", "dataset")

_wordnet_lock = threading.Lock()
_wordnets: dict[str, WordNet] = {}


def shared_wordnet(senses: SenseChoice = "best") -> WordNet:
    """WordNet with this sense choice, loaded on first use (about 1.5 s) and kept."""
    with _wordnet_lock:
        if senses not in _wordnets:
            from desktop_app.words.wordnet import WordNet

            _wordnets[senses] = WordNet.load(senses=senses)
        return _wordnets[senses]


def clustered_order(similarity: np.ndarray) -> np.ndarray:
    """Leaf order of average-linkage clustering of a similarity matrix (distance 1 − s).

    NaN similarities count as unrelated (distance 1 beyond the largest); fewer than three rows
    keep their order.
    """
    s = np.asarray(similarity, dtype=np.float64)
    n = s.shape[0]
    if n < 3:
        return np.arange(n)
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    finite = np.where(np.isfinite(s), s, np.nan)
    distance = 1.0 - finite
    fill = np.nanmax(distance) + 1.0 if np.isfinite(distance).any() else 1.0
    distance = np.where(np.isfinite(distance), distance, fill)
    distance = np.clip((distance + distance.T) / 2, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    return np.asarray(leaves_list(linkage(squareform(distance, checks=False), method="average")))


@dataclass
class WordNetView:
    """The WordNet test of a run, ready to draw.

    Attributes
    ----------
    run_id
        The run tested.
    class_ids, names, verbs
        Per matrix row: catalog class id, class phrase, the verb standing for it in WordNet.
    matrices
        Title → ``(N, N)`` float32 similarity matrix in the rows' (dataset) order; the first is
        ``"WordNet (Wu-Palmer)"``, then ``"model"``, ``"word vectors"``, ``"pooled features"``
        (those present).
    correlations
        Title → mean row-wise Spearman correlation with the Wu-Palmer matrix (not for WordNet).
    orders
        Order name (:data:`ORDERS`) → a permutation of the rows.
    dropped
        Classes left out of the test, with the reason.
    """

    run_id: str
    class_ids: list[int]
    names: list[str]
    verbs: list[str]
    matrices: dict[str, np.ndarray]
    correlations: dict[str, float]
    orders: dict[str, np.ndarray] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    senses: str = "best"


WUP_TITLE = "WordNet (Wu-Palmer)"


def view_from_correlation(
    run_id: str, result: WordNetCorrelation, class_ids: list[int], names: list[str]
) -> WordNetView:
    """Arrange a :class:`WordNetCorrelation` for display (orders, float32 matrices)."""
    matrices = {WUP_TITLE: np.ascontiguousarray(result.wup_matrix, dtype=np.float32)}
    for title, matrix in result.cosine_matrices.items():
        matrices[title] = np.ascontiguousarray(matrix, dtype=np.float32)
    orders = {
        "clustered": clustered_order(result.wup_matrix),
        "alphabetical": np.argsort(np.array(names, dtype=object), kind="stable").astype(np.int64),
        "dataset": np.arange(len(names)),
    }
    return WordNetView(
        run_id,
        class_ids,
        names,
        list(result.verbs),
        matrices,
        dict(result.correlations),
        orders,
        list(result.dropped),
        result.senses,
    )


def wordnet_view(
    space: EmbeddingSpace,
    senses: SenseChoice = "best",
    pooled_features: bool = True,
    progress: Progress | None = None,
) -> WordNetView:
    """Seed 001's WordNet test (section 4.2.1) of ``space``, laid out for the WordNet panel.

    Parameters
    ----------
    space
        The run's embeddings.
    senses
        Wu-Palmer over the best sense pair or the first senses.
    pooled_features
        Also compare mean-pooled raw features (skipped when the workspace has no feature store).
    progress
        Progress/cancel handle.
    """
    from desktop_app.analysis.wordnet_corr import space_correlation

    progress = progress or NullProgress()
    progress.set_progress(0.0, "loading WordNet")
    wordnet = shared_wordnet(senses)
    progress.check_cancelled()
    result = space_correlation(space, wordnet, pooled_features, SubProgress(progress, 0.1, 0.95))
    by_name = {space.classes[int(c)].name: int(c) for c in space.class_ids}
    class_ids = [by_name[name] for name in result.classes]
    names = [space.classes[c].phrase or space.classes[c].name for c in class_ids]
    view = view_from_correlation(space.run_id, result, class_ids, names)
    progress.set_progress(1.0, "WordNet matrices ready")
    return view


def wordnet_view_of_run(
    ws: Workspace,
    run_id: str,
    senses: SenseChoice = "best",
    pooled_features: bool = True,
    progress: Progress | None = None,
) -> WordNetView:
    """:func:`wordnet_view` of run ``run_id``, its embeddings opened here (in the caller's
    worker: the WordNet panel must not open them on the GUI thread when the run changes).

    Raises
    ------
    ActionLensError
        When the run has no embeddings, or they are damaged.
    """
    from desktop_app.analysis.space import EmbeddingSpace

    progress = progress or NullProgress()
    progress.set_progress(0.0, f"opening {run_id}")
    space = EmbeddingSpace.load(ws, run_id)
    progress.check_cancelled()
    return wordnet_view(space, senses, pooled_features, progress)
