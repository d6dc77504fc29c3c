"""Zero-shot confusion matrices and the zero-shot evaluation the Evaluation panel runs.

A zero-shot fold's confusion matrix is computed from its run with the rule of
:func:`~desktop_app.training.experiment.evaluate_run` (seed 000 §IV.B, seed 001 §4.1): every
clip of the fold's unseen classes is embedded and assigned the unseen class whose label vector
is nearest by cosine. Row ``i`` is the true class, column ``j`` the assigned one; the trace over
the number of clips is the run's zero-shot accuracy. Behind every cell are its clip ids, held as
columns (one entry per clip in ``clip_ids``, ``true_index``, ``predicted_index``), so that a
cell's clips are one boolean mask away.

:func:`run_zsl_evaluation` is the panel's long task: :func:`~desktop_app.evaluation.report.
evaluate_table` with missing runs trained, streaming the table of the runs finished so far as
partial results. The runs on disk are its state: a cancelled evaluation keeps its finished runs
(and an interrupted run its checkpoint), and running it again resumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress
from desktop_app.workspace.clip_sets import ok_clips


@dataclass(frozen=True)
class Confusion:
    """A confusion matrix over classes with the clips behind every cell.

    Attributes
    ----------
    class_ids
        The classes, in row (true) and column (assigned) order.
    class_names
        Their display names, same order.
    counts
        ``counts[i, j]`` = number of clips of ``class_ids[i]`` assigned ``class_ids[j]``.
    clip_ids, true_index, predicted_index
        One entry per clip: its id, its row and its column.
    run_id
        The run it was computed from (empty for a hand-made one).
    """

    class_ids: np.ndarray
    class_names: list[str]
    counts: np.ndarray
    clip_ids: np.ndarray
    true_index: np.ndarray
    predicted_index: np.ndarray
    run_id: str = ""

    def cell_clip_ids(self, row: int, column: int) -> np.ndarray:
        """The ids of the clips of true class ``row`` assigned class ``column``, ascending."""
        mask = (self.true_index == row) & (self.predicted_index == column)
        return np.sort(self.clip_ids[mask])

    @property
    def accuracy(self) -> float:
        """Fraction of clips on the diagonal (the zero-shot accuracy); NaN without clips."""
        total = int(self.counts.sum())
        return float(np.trace(self.counts) / total) if total else float("nan")


def confusion_from_predictions(
    clip_ids: np.ndarray,
    true_class_ids: np.ndarray,
    predicted_class_ids: np.ndarray,
    class_ids: np.ndarray,
    class_names: Sequence[str] | None = None,
    run_id: str = "",
) -> Confusion:
    """The confusion matrix of per-clip true and assigned classes over ``class_ids``.

    Raises
    ------
    ActionLensError
        If a true or assigned class is not among ``class_ids``, or the columns differ in length.
    """
    classes = np.asarray(class_ids, dtype=np.int64)
    clips = np.asarray(clip_ids, dtype=np.int64)
    truth = np.asarray(true_class_ids, dtype=np.int64)
    predicted = np.asarray(predicted_class_ids, dtype=np.int64)
    if not (len(clips) == len(truth) == len(predicted)):
        raise ActionLensError(
            f"confusion matrix: {len(clips)} clip ids, {len(truth)} true and {len(predicted)} "
            "assigned classes; pass one of each per clip"
        )
    order = np.argsort(classes)
    sorted_classes = classes[order]

    def index_of(values: np.ndarray, what: str) -> np.ndarray:
        if len(values) == 0:
            return np.zeros(0, dtype=np.int64)
        if len(classes) == 0:
            raise ActionLensError("confusion matrix: no classes given for clips that have classes")
        pos = np.clip(np.searchsorted(sorted_classes, values), 0, len(classes) - 1)
        found = sorted_classes[pos] == values
        if not found.all():
            raise ActionLensError(
                f"confusion matrix: {what} class id {int(values[~found][0])} is not among the "
                "matrix's classes; pass every class a clip has or is assigned"
            )
        return order[pos].astype(np.int64)

    rows = index_of(truth, "true")
    columns = index_of(predicted, "assigned")
    n = len(classes)
    counts = np.bincount(rows * n + columns, minlength=n * n).reshape(n, n) if n else np.zeros((0, 0))
    names = list(class_names) if class_names is not None else [str(c) for c in classes]
    return Confusion(classes, names, counts.astype(np.int64), clips, rows, columns, run_id)


def fold_confusion(ws: Any, run_id: str, source: Any = None, progress: Progress | None = None) -> Confusion:
    """The confusion matrix of zero-shot run ``run_id`` over its fold's unseen classes.

    Embeds every clip of the unseen classes (with streams in the run's feature store) and assigns
    the nearest unseen label vector by cosine — :func:`~desktop_app.evaluation.zsl.nearest_class`,
    the rule of ``evaluate_run``, so the diagonal's share is the run's reported accuracy.
    """
    from desktop_app.evaluation.zsl import nearest_class
    from desktop_app.training.data import clips_with_streams
    from desktop_app.training.runs import META, Run
    from desktop_app.training.sources import open_sequence_source

    progress = progress or NullProgress()
    run_dir = ws.runs_dir / run_id
    if not (run_dir / META).is_file():
        raise ActionLensError(f"run {run_id} is not in {ws.runs_dir}; run the evaluation first")
    run = Run.load(run_dir)
    zsl = run.meta.get("zsl")
    if not zsl:
        raise ActionLensError(f"run {run_id} is not a zero-shot run: it has no unseen classes to confuse")
    if source is None:
        source = open_sequence_source(ws, run.meta["features"]["name"])
    unseen = np.array(zsl["unseen_class_ids"], dtype=np.int64)
    clip_ids, truth = ok_clips(ws.catalog, clips_with_streams(source, run.streams), classes=unseen)
    progress.check_cancelled()
    embeddings, _ = run.embed(source, clip_ids, progress=progress)
    predicted = unseen[nearest_class(embeddings, run.label_vectors_of(unseen))] if len(clip_ids) else truth
    names_by_id = {c.id: c.name for c in ws.catalog.classes()}
    names = [names_by_id.get(int(c), str(c)) for c in unseen]
    return confusion_from_predictions(clip_ids, truth, predicted, unseen, names, run_id)


def run_zsl_evaluation(
    ws: Any,
    models: Sequence[str],
    splits: Sequence[str],
    folds: int,
    seeds: Sequence[int],
    epochs: int | None = None,
    progress: Progress | None = None,
    *,
    preset: str = "small",
) -> dict[str, Any]:
    """Train the missing runs of a zero-shot table and evaluate them; returns the table JSON.

    :func:`~desktop_app.evaluation.report.evaluate_table` with ``train_missing``; after each run
    the table so far goes to ``progress.set_partial_result`` (where the handle has it). The
    finished table is saved as ``WS/runs/_tables/zsl.json``; every run's metrics in its
    ``meta.json``. ``epochs`` overrides the preset's (``None``: the preset's).
    """
    from desktop_app.evaluation.report import evaluate_table

    progress = progress or NullProgress()
    if not models:
        raise ActionLensError("choose at least one model to evaluate")
    if not splits:
        raise ActionLensError("choose at least one zero-shot split to evaluate")
    if folds < 1:
        raise ActionLensError(f"folds must be at least 1, not {folds}")

    def on_table(table: dict[str, Any]) -> None:
        partial = getattr(progress, "set_partial_result", None)
        if partial is not None:
            partial(table)
        progress.check_cancelled()

    table, _text = evaluate_table(
        ws,
        task="zsl",
        models=list(models),
        splits=list(splits),
        folds=int(folds),
        seeds=[int(s) for s in seeds],
        preset=preset,
        train_missing=True,
        epochs=epochs,
        progress=progress,
        on_table=on_table,
    )
    return table


def cell_folds(cell: dict[str, Any]) -> list[tuple[int, int]]:
    """``(training seed, fold)`` of every run behind a zero-shot table cell (its ``per_seed``)."""
    return sorted(
        (int(seed), int(fold))
        for seed, entry in (cell.get("per_seed") or {}).items()
        for fold in (entry.get("folds") or {})
    )


def cell_confusion(
    ws: Any,
    model: str,
    split: str,
    fold: int,
    seed: int,
    preset: str = "small",
    progress: Progress | None = None,
) -> Confusion:
    """:func:`fold_confusion` of the test-fold run of a table cell: ``model`` on zero-shot
    ``split``, ``fold``, training ``seed``, found by its default run id."""
    from desktop_app.training.experiment import default_run_id

    return fold_confusion(
        ws, default_run_id(model, preset, split, fold, "1", seed, "test"), progress=progress
    )
