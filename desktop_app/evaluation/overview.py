"""Every evaluation result of a workspace in one place, for the Evaluation panel.

Reads what the pipeline already wrote (each run's ``meta.json`` metrics, see
:mod:`desktop_app.training.runs`) and lays it out as three tables:

* **runs**: one row per run: validation accuracy, test recognition accuracy and chance;
* **recognition**: models × dataset splits (word space and head), mean ± std over training
  seeds (:func:`~desktop_app.evaluation.report.recognition_table`);
* **zero-shot**: seed 001's Table 1 shape (models × splits) built by
  :func:`~desktop_app.evaluation.zsl.zsl_table` from the runs of the reported test folds: mean ±
  std over training seeds of each seed's mean over folds, with chance and the noun-only /
  verb-only component oracles of the same folds (development-fold runs are left out);
* **analogy**: seed 001's systematic analogy test (section 4.2.2, Table 4) of every run with
  embeddings, for the model's class means and for the word vectors alone
  (:func:`~desktop_app.analysis.analogy.space_analogy_tests`; loads the word vectors).

Never imports Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress


@dataclass(frozen=True)
class RunRow:
    """One run of the workspace and its metrics (accuracies as fractions, ``None``: not measured)."""

    run_id: str
    model: str
    task: str
    status: str
    zsl_split: str | None
    fold: int | None
    #: ``"test"`` / ``"dev"`` fold of a zero-shot run (``None`` for recognition runs).
    purpose: str | None
    seed: int
    validation: float | None
    recognition: float | None
    recognition_chance: float | None
    zsl: float | None
    zsl_chance: float | None
    embedded: bool


@dataclass(frozen=True)
class AnalogyRow:
    """The systematic analogy test of one run with one set of class vectors."""

    run_id: str
    vectors: str
    comparisons: int
    passed: int
    fraction: float | None


@dataclass
class EvaluationOverview:
    """The tables of the Evaluation panel."""

    runs: list[RunRow] = field(default_factory=list)
    zsl: dict[str, Any] | None = None
    recognition: dict[str, Any] | None = None
    analogy: list[AnalogyRow] | None = None
    analogy_errors: list[str] = field(default_factory=list)


def _metric(meta: dict[str, Any], name: str, key: str) -> float | None:
    value = (meta.get("metrics") or {}).get(name, {}).get(key)
    return float(value) if isinstance(value, int | float) else None


def run_rows(metas: list[dict[str, Any]], embedded: set[str]) -> list[RunRow]:
    """A :class:`RunRow` per run metadata."""
    from desktop_app.evaluation.zsl import run_purpose

    rows = []
    for meta in metas:
        zsl = meta.get("zsl") or {}
        rows.append(
            RunRow(
                run_id=str(meta.get("run_id")),
                model=str((meta.get("model") or {}).get("name", "?")),
                task=str(meta.get("task", "")),
                status=str(meta.get("status", "")),
                zsl_split=zsl.get("split"),
                fold=int(zsl["fold"]) if isinstance(zsl.get("fold"), int) else None,
                purpose=run_purpose(meta) if zsl else None,
                seed=int(meta.get("seed", 0)),
                validation=_metric(meta, "validation", "accuracy"),
                recognition=_metric(meta, "recognition", "accuracy"),
                recognition_chance=_metric(meta, "recognition", "chance"),
                zsl=_metric(meta, "zsl", "accuracy"),
                zsl_chance=_metric(meta, "zsl", "chance"),
                embedded=str(meta.get("run_id")) in embedded,
            )
        )
    return rows


def zero_shot_table(metas: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Seed 001's Table 1 from the test-fold zero-shot runs among ``metas`` (``None`` when
    there are none); every training seed present counts."""
    from desktop_app.evaluation.zsl import TEST, all_splits, run_purpose, zsl_table

    zsl_metas = [
        m
        for m in metas
        if m.get("zsl")
        and run_purpose(m) == TEST
        and (m.get("metrics") or {}).get("zsl", {}).get("accuracy") is not None
    ]
    if not zsl_metas:
        return None
    models = sorted({str(m["model"]["name"]) for m in zsl_metas})
    present = {str(m["zsl"]["split"]) for m in zsl_metas}
    splits = [s for s in all_splits() if s in present] + sorted(present - set(all_splits()))
    folds = max(int(m["zsl"]["fold"]) for m in zsl_metas) + 1
    return zsl_table(zsl_metas, models, splits, folds)


def recognition_summary(metas: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Recognition accuracy per model and dataset split, mean ± std over training seeds
    (``None`` when no run has a recognition result)."""
    from desktop_app.evaluation.report import recognition_table

    rec = [m for m in metas if (m.get("metrics") or {}).get("recognition", {}).get("accuracy") is not None]
    if not rec:
        return None
    models = sorted({str(m["model"]["name"]) for m in rec})
    merged: dict[str, Any] | None = None
    for split in sorted({str(m["metrics"]["recognition"]["split"]) for m in rec}):
        table = recognition_table(rec, models, split)
        if merged is None:
            merged = table
            continue
        merged["columns"] += table["columns"]
        for row, other in zip(merged["rows"], table["rows"], strict=True):
            row["cells"].update(other["cells"])
    return merged


def evaluation_overview(
    ws: Any, analogy: bool = True, progress: Progress | None = None
) -> EvaluationOverview:
    """Collect the workspace's evaluation tables.

    Parameters
    ----------
    ws
        The open :class:`~desktop_app.workspace.Workspace`.
    analogy
        Also run the systematic analogy test on every run with embeddings (loads the word
        vectors, about a second).
    progress
        Progress/cancel handle; ``set_partial_result`` (when the handle has it) receives the
        overview without the analogy table as soon as the metrics are read.
    """
    from desktop_app.analysis.space import runs_with_embeddings
    from desktop_app.training.runs import list_runs

    progress = progress or NullProgress()
    metas = list_runs(ws.runs_dir)
    embedded = runs_with_embeddings(ws)
    overview = EvaluationOverview(
        run_rows(metas, set(embedded)), zero_shot_table(metas), recognition_summary(metas)
    )
    partial = getattr(progress, "set_partial_result", None)
    if callable(partial):
        partial(EvaluationOverview(overview.runs, overview.zsl, overview.recognition))
    if not analogy:
        return overview
    from desktop_app.analysis.analogy import space_analogy_tests
    from desktop_app.analysis.space import EmbeddingSpace

    overview.analogy = []
    for i, run_id in enumerate(embedded):
        progress.check_cancelled()
        progress.set_progress(i / max(len(embedded), 1), f"analogy test of {run_id}")
        try:
            results = space_analogy_tests(EmbeddingSpace.load(ws, run_id))
        except ActionLensError as exc:
            overview.analogy_errors.append(f"{run_id}: {exc}")
            continue
        for result in results:
            overview.analogy.append(
                AnalogyRow(
                    run_id,
                    result.name,
                    result.count,
                    result.passed,
                    result.fraction if result.count else None,
                )
            )
    progress.set_progress(1.0, "evaluation tables ready")
    return overview
