"""The evaluation tables of ``actionlens evaluate``: collect (and optionally train) the runs a
table needs, evaluate each, and lay the results out as seed 001's Table 1 (rows: models and
baselines; columns: zero-shot splits) or as a recognition table (one column per dataset split).

Tables are saved as ``WS/runs/_tables/<task>.json`` beside the runs they summarise.
"""

from __future__ import annotations

from typing import Any

from desktop_app.atomic import write_json
from desktop_app.errors import ActionLensError
from desktop_app.evaluation.zsl import ZSL_SPLITS, check_zsl_split, format_table, summarize, zsl_table
from desktop_app.progress import NullProgress, Progress, SubProgress

TABLES_DIR = "_tables"


def evaluate_table(
    ws: Any,
    *,
    task: str,
    models: list[str] | None = None,
    splits: list[str] | None = None,
    folds: int = 10,
    split: str = "1",
    preset: str = "small",
    train_missing: bool = False,
    epochs: int | None = None,
    features: str | None = None,
    word_vectors: str | None = None,
    source: Any = None,
    vectors: Any = None,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], str]:
    """Evaluate every ``(model, split, fold)`` run of the table; returns ``(table JSON, text)``.

    Runs are found by their default ids (:func:`~desktop_app.training.experiment.default_run_id`);
    a missing run is trained first when ``train_missing`` is set, else its cell counts fewer folds.
    """
    from desktop_app.models.registry import JOINT_EMBEDDING, model_names
    from desktop_app.training.experiment import (
        default_run_id,
        evaluate_run,
        open_sequence_source,
        train_in_workspace,
    )
    from desktop_app.training.runs import META, Run, read_meta

    progress = progress or NullProgress()
    models = models or model_names(JOINT_EMBEDDING)
    jobs: list[tuple[str, str | None, int]]
    if task == "zsl":
        splits = [check_zsl_split(s) for s in (splits or list(ZSL_SPLITS))]
        jobs = [(m, s, k) for s in splits for m in models for k in range(folds)]
    elif task == "recognition":
        jobs = [(m, None, 0) for m in models]
    else:
        raise ActionLensError(f"unknown evaluation task {task!r}; use recognition or zsl")
    if source is None and (train_missing or jobs):
        source = open_sequence_source(ws, features)
    metas = []
    for i, (model, zsl_split, fold) in enumerate(jobs):
        step = SubProgress(
            progress,
            i / len(jobs),
            (i + 1) / len(jobs),
            f"{model} {zsl_split or 'split ' + split} fold {fold}",
        )
        run_id = default_run_id(model, preset, zsl_split, fold, split)
        run_dir = ws.runs_dir / run_id
        complete = (run_dir / META).is_file() and read_meta(run_dir).get("status") == "complete"
        if not complete:
            if not train_missing:
                continue
            if vectors is None:
                from desktop_app.words.vectors import WordVectors

                vectors = WordVectors.load(word_vectors)
            run = train_in_workspace(
                ws,
                model,
                preset=preset,
                zsl_split=zsl_split,
                fold=fold,
                epochs=epochs,
                split=split,
                resume=True,
                source=source,
                vectors=vectors,
                progress=step,
            )
        else:
            run = Run.load(run_dir)
        evaluate_run(ws, run, source=source, progress=step)
        metas.append(run.meta)
    if task == "zsl":
        assert splits is not None
        table = zsl_table(metas, models, splits, folds)
    else:
        rows = []
        word_space, head = f"split {split}", f"split {split} head"
        for model in models:
            scores = [m["metrics"]["recognition"] for m in metas if m["model"]["name"] == model]
            cells = {
                word_space: summarize([s["accuracy"] for s in scores]),
                head: summarize(
                    [s["classifier_accuracy"] for s in scores if s.get("classifier_accuracy") is not None]
                ),
            }
            for cell in cells.values():
                cell["chance"] = scores[0]["chance"] if scores else None
            rows.append({"model": model, "cells": cells})
        # Word space: nearest training label vector by cosine; head: the classifier head's argmax.
        table = {"task": "recognition", "metric": "accuracy", "columns": [word_space, head], "rows": rows}
    table["preset"] = preset
    write_json(ws.runs_dir / TABLES_DIR / f"{task}.json", table)
    return table, format_table(table)
