"""Two runs side by side: per-class recognition, zero-shot accuracy and class-mean movement.

:func:`compare_runs` measures, over the clips *both* runs embedded, one row per class:

* **recognition** in each run's space: leave-one-out nearest class mean. Each clip is assigned
  the class whose mean (of unit clip embeddings, by cosine) is nearest, where its own class's
  mean leaves the clip out. Nothing is fitted, so it measures how well the space separates the
  classes on those clips; runs store only overall metrics (no per-class figure), and their
  stored figures are measured on different clips for different runs, so they cannot be set side
  by side per class. Computed over every shared clip by default, which includes the runs'
  training clips: pass ``clip_ids`` (a split's test clips, :func:`split_test_clip_ids`) to
  measure on held-out clips. The Compare panel measures on the test clips of the first split
  (:func:`default_report_split`) unless all clips are chosen: over all clips a run looks as good
  as it fitted its training clips (on the demo ``ste`` scores 79 % over all shared clips and 41 %
  on the test clips of split 1).
* **zero-shot** in each space, only where both runs were trained for the same zero-shot fold
  (same split, fold and unseen classes in their ``meta.json``): a clip of an unseen class is
  assigned the nearest unseen label vector by cosine (the rule of
  :func:`desktop_app.evaluation.zsl.zsl_accuracy`), using each run's own ``label_vectors.npy``.
* **class-mean movement** between the two spaces. The spaces may differ in dimension and are not
  aligned (any rotation of a space is an equally good model), so coordinates cannot be compared;
  what can is each class's *relations* to the other classes, which are invariant to rotation and
  exist in any dimension. Two figures: the overlap (Jaccard) of the class's ``k`` nearest other
  classes in A and in B, and the Spearman correlation of its cosine similarities to every other
  class in A and in B (rank-based, so a run whose cosines are merely more spread out does not
  count as having moved). 1 and 1: the class kept its neighbourhood; low: it moved.

Everything is held in columns (numpy arrays, one entry per class, and per shared clip).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.analysis.analogy import to_unit
from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress

if TYPE_CHECKING:
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.workspace import Workspace

#: Nearest other classes whose overlap measures movement.
DEFAULT_NEIGHBOURS = 5
#: Columns of :meth:`RunComparison.columns`, in table order.
COLUMNS = (
    "class_id",
    "phrase",
    "clips",
    "recognition_a",
    "recognition_b",
    "recognition_delta",
    "zero_shot_a",
    "zero_shot_b",
    "zero_shot_delta",
    "neighbour_overlap",
    "neighbour_rho",
)


@dataclass
class RunComparison:
    """The per-class table of :func:`compare_runs`; every array has one entry per class row.

    Attributes
    ----------
    class_ids, phrases, clips
        The classes compared (those with at least two shared clips), their phrases and shared
        clip counts.
    recognition_a, recognition_b
        Leave-one-out nearest-class-mean accuracy of the class's clips in run A's / B's space.
    zero_shot_a, zero_shot_b
        Zero-shot accuracy per unseen class (NaN for seen classes, or when the runs share no fold).
    neighbour_overlap
        Jaccard overlap of the class's ``neighbours`` nearest other classes in A and in B.
    neighbour_rho
        Spearman correlation of the class's cosine similarities to the other classes, A vs B.
    clip_ids, clip_class_ids
        The shared labelled clips measured on, and their classes (aligned).
    recognition_chance, zero_shot_chance
        ``1 / classes`` and ``1 / unseen classes`` (NaN without a zero-shot column).
    notes
        One-line explanations of what was left out (classes with one clip, no common fold …).
    """

    run_a: str
    run_b: str
    class_ids: np.ndarray
    phrases: list[str]
    clips: np.ndarray
    recognition_a: np.ndarray
    recognition_b: np.ndarray
    zero_shot_a: np.ndarray
    zero_shot_b: np.ndarray
    neighbour_overlap: np.ndarray
    neighbour_rho: np.ndarray
    clip_ids: np.ndarray
    clip_class_ids: np.ndarray
    recognition_chance: float
    zero_shot_chance: float
    neighbours: int
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(len(self.class_ids))

    @property
    def has_zero_shot(self) -> bool:
        """Whether the runs share a zero-shot fold (the zero-shot columns hold figures)."""
        return bool(np.isfinite(self.zero_shot_a).any())

    def clips_of(self, class_id: int) -> np.ndarray:
        """The shared clip ids of one class."""
        return self.clip_ids[self.clip_class_ids == int(class_id)]

    def columns(self) -> dict[str, Any]:
        """The table as named columns (:data:`COLUMNS`), deltas as B − A."""
        return {
            "class_id": self.class_ids,
            "phrase": self.phrases,
            "clips": self.clips,
            "recognition_a": self.recognition_a,
            "recognition_b": self.recognition_b,
            "recognition_delta": self.recognition_b - self.recognition_a,
            "zero_shot_a": self.zero_shot_a,
            "zero_shot_b": self.zero_shot_b,
            "zero_shot_delta": self.zero_shot_b - self.zero_shot_a,
            "neighbour_overlap": self.neighbour_overlap,
            "neighbour_rho": self.neighbour_rho,
        }


# ------------------------------------------------------------------------------ the measures
def loo_nearest_mean_accuracy(
    embeddings: np.ndarray, labels: np.ndarray, class_ids: np.ndarray
) -> np.ndarray:
    """Per class, the fraction of its clips whose nearest class mean (cosine) is their own,
    the clip itself left out of its own class's mean.

    With unit clip vectors :math:`u_i`, class sums :math:`S_c` and counts :math:`n_c`, clip
    :math:`i` of class :math:`y` scores :math:`\\cos(u_i, S_c)` for :math:`c \\ne y` and
    :math:`\\cos(u_i, S_y - u_i) = (u_i \\cdot S_y - 1) / \\lVert S_y - u_i \\rVert` for its own.

    Parameters
    ----------
    embeddings
        ``(n, D)`` clip embeddings.
    labels
        ``(n,)`` class id of each clip; every class in ``class_ids`` needs at least two clips.
    class_ids
        The candidate classes (and the rows of the result).

    Returns
    -------
    numpy.ndarray
        ``(len(class_ids),)`` float64 accuracies.
    """
    class_ids = np.asarray(class_ids, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    unit = to_unit(embeddings)
    column = np.searchsorted(class_ids, labels) if len(class_ids) else np.zeros(len(labels), dtype=np.int64)
    if len(class_ids) and not np.array_equal(class_ids[np.minimum(column, len(class_ids) - 1)], labels):
        raise ValueError("every clip's class must be one of class_ids (sorted)")
    sums = np.zeros((len(class_ids), unit.shape[1]))
    np.add.at(sums, column, unit)
    scores = unit @ to_unit(sums).T
    own_dot = np.einsum("ij,ij->i", unit, sums[column])
    own_norm = np.sqrt(np.maximum(np.einsum("ij,ij->i", sums, sums)[column] - 2 * own_dot + 1.0, 1e-24))
    scores[np.arange(len(labels)), column] = (own_dot - 1.0) / own_norm
    correct = (np.argmax(scores, axis=1) == column).astype(np.float64)
    counts = np.bincount(column, minlength=len(class_ids))
    return np.bincount(column, weights=correct, minlength=len(class_ids)) / np.maximum(counts, 1)


def neighbour_movement(means_a: np.ndarray, means_b: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """How each class's neighbourhood changed between two spaces (of any dimensions).

    Parameters
    ----------
    means_a, means_b
        ``(m, D_a)`` and ``(m, D_b)`` class means, row for row the same classes.
    k
        Nearest other classes compared (capped at ``m - 1``).

    Returns
    -------
    (overlap, rho)
        Per class: Jaccard overlap of its ``k`` nearest other classes (cosine) in A and B, and the
        Spearman correlation of its cosines to the other ``m - 1`` classes in A and B (NaN when
        a row is constant or ``m < 3``).
    """
    from scipy.stats import rankdata

    m = len(means_a)
    if m < 2:
        return np.full(m, np.nan), np.full(m, np.nan)
    k = max(1, min(k, m - 1))
    off_diagonal = ~np.eye(m, dtype=bool)
    sim_a = (to_unit(means_a) @ to_unit(means_a).T)[off_diagonal].reshape(m, m - 1)
    sim_b = (to_unit(means_b) @ to_unit(means_b).T)[off_diagonal].reshape(m, m - 1)
    top_a = np.argsort(-sim_a, axis=1, kind="stable")[:, :k]
    top_b = np.argsort(-sim_b, axis=1, kind="stable")[:, :k]
    shared = np.array([len(np.intersect1d(a, b)) for a, b in zip(top_a, top_b, strict=True)])
    overlap = shared / (2 * k - shared)
    if m < 3:
        return overlap, np.full(m, np.nan)
    rank_a = rankdata(sim_a, axis=1)
    rank_b = rankdata(sim_b, axis=1)
    rank_a -= rank_a.mean(axis=1, keepdims=True)
    rank_b -= rank_b.mean(axis=1, keepdims=True)
    denominator = np.sqrt((rank_a**2).sum(axis=1) * (rank_b**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(denominator > 0, (rank_a * rank_b).sum(axis=1) / denominator, np.nan)
    return overlap, rho


def zero_shot_per_class(
    embeddings: np.ndarray, labels: np.ndarray, unseen_class_ids: np.ndarray, unseen_label_vectors: np.ndarray
) -> np.ndarray:
    """Per unseen class, the fraction of its clips whose nearest unseen label vector (cosine) is
    their class's (seed 000's zero-shot rule, as :func:`desktop_app.evaluation.zsl.zsl_accuracy`).

    Returns ``(len(unseen_class_ids),)`` accuracies (NaN for a class without clips).
    """
    from desktop_app.evaluation.zsl import nearest_class

    unseen_class_ids = np.asarray(unseen_class_ids, dtype=np.int64)
    out = np.full(len(unseen_class_ids), np.nan)
    mask = np.isin(labels, unseen_class_ids)
    if not mask.any():
        return out
    predicted = unseen_class_ids[nearest_class(np.asarray(embeddings)[mask], unseen_label_vectors)]
    truth = np.asarray(labels)[mask]
    for row, class_id in enumerate(unseen_class_ids):
        of_class = truth == class_id
        if of_class.any():
            out[row] = float(np.mean(predicted[of_class] == class_id))
    return out


def compare_spaces(
    embeddings_a: np.ndarray,
    embeddings_b: np.ndarray,
    labels: np.ndarray,
    neighbours: int = DEFAULT_NEIGHBOURS,
) -> dict[str, np.ndarray]:
    """The array part of :func:`compare_runs`: rows of the same clips in two spaces.

    Parameters
    ----------
    embeddings_a, embeddings_b
        ``(n, D_a)`` and ``(n, D_b)``: the same ``n`` clips, row for row.
    labels
        ``(n,)`` class ids; classes with fewer than two clips are left out.

    Returns
    -------
    dict
        ``class_ids``, ``clips``, ``recognition_a``, ``recognition_b``, ``neighbour_overlap``,
        ``neighbour_rho`` (one entry per class kept) and ``keep`` (the clip rows used).
    """
    labels = np.asarray(labels, dtype=np.int64)
    found, counts = np.unique(labels, return_counts=True)
    class_ids = found[counts >= 2]
    keep = np.isin(labels, class_ids)
    if len(class_ids) < 2:  # nothing to tell apart: no table
        empty = np.zeros(len(class_ids))
        return {
            "class_ids": class_ids,
            "clips": counts[counts >= 2],
            "recognition_a": empty,
            "recognition_b": empty,
            "neighbour_overlap": empty,
            "neighbour_rho": empty,
            "keep": keep,
        }
    rows_a, rows_b, kept = np.asarray(embeddings_a)[keep], np.asarray(embeddings_b)[keep], labels[keep]
    column = np.searchsorted(class_ids, kept)

    def class_means(rows: np.ndarray) -> np.ndarray:
        sums = np.zeros((len(class_ids), rows.shape[1]))
        np.add.at(sums, column, to_unit(rows))
        return sums

    overlap, rho = neighbour_movement(class_means(rows_a), class_means(rows_b), neighbours)
    return {
        "class_ids": class_ids,
        "clips": counts[counts >= 2],
        "recognition_a": loo_nearest_mean_accuracy(rows_a, kept, class_ids),
        "recognition_b": loo_nearest_mean_accuracy(rows_b, kept, class_ids),
        "neighbour_overlap": overlap,
        "neighbour_rho": rho,
        "keep": keep,
    }


# ------------------------------------------------------------------------------ two runs
def _zsl_fold(space: EmbeddingSpace) -> tuple[str, int, tuple[int, ...]] | None:
    zsl = space.meta.get("zsl")
    if not isinstance(zsl, dict) or not isinstance(zsl.get("unseen_class_ids"), list):
        return None
    return (
        str(zsl.get("split")),
        int(zsl.get("fold", -1)),
        tuple(sorted(int(c) for c in zsl["unseen_class_ids"])),
    )


def _unseen_label_vectors(space: EmbeddingSpace, unseen: np.ndarray) -> np.ndarray:
    """Rows of the run's ``label_vectors.npy`` for the unseen classes (rows = its meta's classes)."""
    path = space.ws.runs_dir / space.run_id / "label_vectors.npy"
    classes = space.meta.get("classes") or []
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ActionLensError(
            f"{path} is damaged or missing ({str(exc)[:100]}); train the run again"
        ) from exc
    row_of = {int(c["id"]): i for i, c in enumerate(classes) if isinstance(c, dict) and "id" in c}
    if vectors.ndim != 2 or vectors.shape[0] != len(classes) or vectors.shape[1] != space.dim:
        raise ActionLensError(
            f"{path} holds {vectors.shape}, not {len(classes)} label vectors of {space.dim} numbers; "
            "train the run again"
        )
    missing = [int(c) for c in unseen if int(c) not in row_of]
    if missing:
        raise ActionLensError(f"{path.parent / 'meta.json'} lists no class {missing[0]}; train the run again")
    return vectors[[row_of[int(c)] for c in unseen]].astype(np.float64)


def default_report_split(split_names: list[str]) -> str | None:
    """The split whose test clips a comparison is measured on by default: the first one
    (``None`` when the workspace has no split, and every shared clip is all there is)."""
    return split_names[0] if split_names else None


def split_test_clip_ids(ws: Workspace, split: str) -> np.ndarray:
    """Ids of ``split``'s test clips, ascending (the reporting clips of a comparison).

    Raises
    ------
    ActionLensError
        When the workspace has no split of that name.
    """
    from desktop_app.workspace.catalog import ROLE_CODES

    if split not in ws.catalog.split_names():
        names = ", ".join(ws.catalog.split_names()) or "none"
        raise ActionLensError(f"{ws.root} has no split {split!r} (its splits: {names})")
    codes = ws.catalog.split_role_codes(split)
    return np.flatnonzero(codes == ROLE_CODES.index("test")).astype(np.int64)


def compare_runs(
    ws: Workspace,
    run_a: str,
    run_b: str,
    clip_ids: np.ndarray | None = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
    progress: Progress | None = None,
) -> RunComparison:
    """The per-class difference table of two runs, over the labelled clips both embedded.

    Parameters
    ----------
    ws
        The workspace holding both runs' embeddings.
    run_a, run_b
        Run ids (both need ``actionlens embed``).
    clip_ids
        Measure on these clips only (default: every shared labelled clip, training clips
        included; see the module docstring).
    neighbours
        ``k`` of the neighbourhood overlap.
    progress
        Progress/cancel handle.

    Raises
    ------
    ActionLensError
        When a run has no embeddings, or the runs share fewer than two classes with two clips.
    """
    from desktop_app.analysis.space import EmbeddingSpace

    progress = progress or NullProgress()
    progress.set_progress(0.0, f"opening {run_a}")
    space_a = EmbeddingSpace.load(ws, run_a)
    progress.check_cancelled()
    progress.set_progress(0.2, f"opening {run_b}")
    space_b = EmbeddingSpace.load(ws, run_b)
    return compare_loaded_runs(space_a, space_b, clip_ids, neighbours, progress)


def compare_loaded_runs(
    space_a: EmbeddingSpace,
    space_b: EmbeddingSpace,
    clip_ids: np.ndarray | None = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
    progress: Progress | None = None,
) -> RunComparison:
    """:func:`compare_runs` on two opened embedding spaces of the same workspace."""
    progress = progress or NullProgress()
    ws, run_a, run_b = space_a.ws, space_a.run_id, space_b.run_id
    progress.check_cancelled()
    shared = np.intersect1d(space_a.embedded_clip_ids, space_b.embedded_clip_ids)
    if clip_ids is not None:
        shared = np.intersect1d(shared, np.asarray(clip_ids, dtype=np.int64))
    labels_all = space_a.clip_class_ids
    shared = shared[labels_all[shared] >= 0]
    labels = labels_all[shared]
    progress.set_progress(0.4, f"comparing {len(shared)} shared clips")
    emb_a = np.asarray(space_a.clip_embeddings[shared], dtype=np.float64)
    emb_b = np.asarray(space_b.clip_embeddings[shared], dtype=np.float64)
    table = compare_spaces(emb_a, emb_b, labels, neighbours)
    class_ids = table["class_ids"]
    if len(class_ids) < 2:
        raise ActionLensError(
            f"runs {run_a} and {run_b} share {len(class_ids)} class(es) with two or more embedded clips "
            f"among the {len(shared)} labelled clips compared in {ws.root}; nothing to compare (compare "
            "on more clips, or embed both runs on the same workspace)"
        )
    notes = []
    dropped = len(np.unique(labels)) - len(class_ids)
    if dropped:
        notes.append(f"{dropped} class(es) with a single shared clip left out (no leave-one-out mean)")
    keep = table["keep"]
    progress.check_cancelled()
    progress.set_progress(0.7, "zero-shot accuracy")
    zero_a = np.full(len(class_ids), np.nan)
    zero_b = np.full(len(class_ids), np.nan)
    zero_chance = float("nan")
    fold_a, fold_b = _zsl_fold(space_a), _zsl_fold(space_b)
    if fold_a is not None and fold_a == fold_b:
        unseen = np.asarray(fold_a[2], dtype=np.int64)
        in_table = np.searchsorted(class_ids, unseen)
        present = (in_table < len(class_ids)) & (
            class_ids[np.minimum(in_table, len(class_ids) - 1)] == unseen
        )
        for space, emb, out in ((space_a, emb_a, zero_a), (space_b, emb_b, zero_b)):
            per_class = zero_shot_per_class(
                emb[keep], labels[keep], unseen, _unseen_label_vectors(space, unseen)
            )
            out[in_table[present]] = per_class[present]
        zero_chance = 1.0 / len(unseen)
    elif fold_a is None and fold_b is None:
        notes.append("neither run is a zero-shot run: no zero-shot columns")
    elif fold_a is None or fold_b is None:
        notes.append(f"only run {'B' if fold_a is None else 'A'} is a zero-shot run: no zero-shot columns")
    else:
        notes.append("the runs were trained for different zero-shot folds: no zero-shot columns")
    classes = space_a.classes
    progress.set_progress(1.0, "done")
    return RunComparison(
        run_a=run_a,
        run_b=run_b,
        class_ids=class_ids,
        phrases=[classes[int(c)].phrase if int(c) in classes else str(c) for c in class_ids],
        clips=table["clips"],
        recognition_a=table["recognition_a"],
        recognition_b=table["recognition_b"],
        zero_shot_a=zero_a,
        zero_shot_b=zero_b,
        neighbour_overlap=table["neighbour_overlap"],
        neighbour_rho=table["neighbour_rho"],
        clip_ids=shared[keep],
        clip_class_ids=labels[keep],
        recognition_chance=1.0 / len(class_ids),
        zero_shot_chance=zero_chance,
        neighbours=max(1, min(neighbours, len(class_ids) - 1)),
        notes=notes,
    )
