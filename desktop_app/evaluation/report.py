"""The evaluation tables of ``actionlens evaluate``: collect (and optionally train) the runs a
table needs, evaluate each, and lay the results out as seed 001's Table 1 (rows: models and
baselines; columns: zero-shot splits) or as a recognition table (the word space and the
classifier head on one dataset split).

Every cell is a mean ± std **over training seeds** (``seeds``, default 0 1 2); a seed's value is
its mean over the ``folds`` reported **test** folds (one run per seed for recognition).
Development folds never enter these tables (``docs/protocol.md``). Zero-shot tables carry the
chance level and the noun-only / verb-only component oracles of the same folds.

Tables are saved as ``WS/runs/_tables/<task>.json`` beside the runs they summarise, with every
per-seed (and per-fold) value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from desktop_app.atomic import write_json
from desktop_app.errors import ActionLensError
from desktop_app.evaluation.zsl import ZSL_SPLITS, check_zsl_split, format_table, seed_cell, zsl_table
from desktop_app.progress import NullProgress, Progress, SubProgress

TABLES_DIR = "_tables"
#: Training seeds of a table unless told otherwise.
DEFAULT_SEEDS = (0, 1, 2)


def recognition_table(
    metas: Sequence[dict[str, Any]], models: Sequence[str], split: str, seeds: Sequence[int] | None = None
) -> dict[str, Any]:
    """Recognition accuracy per model on dataset split ``split``, mean ± std over training seeds.

    Columns: ``split S`` (nearest training label vector by cosine, the word space) and ``split S
    head`` (the classifier head's argmax, where the model has one).
    """
    word_space, head = f"split {split}", f"split {split} head"
    rows = []
    for model in models:
        scores = {
            int(m.get("seed", 0)): m["metrics"]["recognition"]
            for m in metas
            if m["model"]["name"] == model
            and (m.get("metrics") or {}).get("recognition")
            and m["metrics"]["recognition"].get("split") == split
            and (seeds is None or int(m.get("seed", 0)) in seeds)
        }
        cells = {
            word_space: seed_cell({s: {0: float(r["accuracy"])} for s, r in scores.items()}),
            head: seed_cell(
                {
                    s: {0: float(r["classifier_accuracy"])}
                    for s, r in scores.items()
                    if r.get("classifier_accuracy") is not None
                }
            ),
        }
        for cell in cells.values():
            cell["folds"] = 0  # one run per seed: no folds
            cell["chance"] = next(iter(scores.values()))["chance"] if scores else None
        rows.append({"model": model, "cells": cells})
    return {
        "task": "recognition",
        "metric": "accuracy",
        "columns": [word_space, head],
        "seeds": sorted({int(m.get("seed", 0)) for m in metas}),
        "spread": "mean ± std over training seeds (one run per seed)",
        "rows": rows,
    }


def run_matches_preset(meta: dict[str, Any], model: str, preset: str) -> bool:
    """Whether a finished run was trained as ``preset`` of ``model`` now says, through the
    protocol: with a per-run input transform (runs from before it read the store's PCA, fitted on
    clips of classes that zero-shot folds hold out), the preset's model config, and the preset's
    training options. A table never reports a run that fails this; ``train_missing`` retrains it.
    """
    from desktop_app.models.registry import config_to_json, get_model_spec

    if not meta.get("inputs"):
        return False
    spec = get_model_spec(model)
    if (meta.get("model") or {}).get("config") != config_to_json(spec.config(preset)):
        return False
    training = meta.get("training") or {}
    return all(training.get(k) == v for k, v in spec.preset_part(preset, "train").items() if k != "epochs")


def evaluate_table(
    ws: Any,
    *,
    task: str,
    models: list[str] | None = None,
    splits: list[str] | None = None,
    folds: int = 10,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    split: str = "1",
    preset: str = "small",
    train_missing: bool = False,
    epochs: int | None = None,
    features: str | None = None,
    word_vectors: str | None = None,
    source: Any = None,
    vectors: Any = None,
    progress: Progress | None = None,
    on_table: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[dict[str, Any], str]:
    """Evaluate every ``(model, split, seed, test fold)`` run of the table; returns ``(table
    JSON, text)``.

    Runs are found by their default ids (:func:`~desktop_app.training.experiment.default_run_id`);
    a missing run is trained first when ``train_missing`` is set, else its cell counts fewer
    seeds or folds. ``on_table``, if given, receives the zero-shot table of the runs evaluated so
    far after each run (the GUI's partial results).
    """
    from desktop_app.models.registry import JOINT_EMBEDDING, model_names
    from desktop_app.training.data import source_name
    from desktop_app.training.experiment import (
        default_run_id,
        evaluate_run,
        open_sequence_source,
        train_in_workspace,
    )
    from desktop_app.training.runs import META, Run, read_meta

    progress = progress or NullProgress()
    models = models or model_names(JOINT_EMBEDDING)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ActionLensError("no training seeds given; pass --seeds, e.g. --seeds 0 1 2")
    jobs: list[tuple[str, str | None, int, int]]
    if task == "zsl":
        splits = [check_zsl_split(s) for s in (splits or list(ZSL_SPLITS))]
        jobs = [(m, s, seed, k) for s in splits for m in models for seed in seeds for k in range(folds)]
    elif task == "recognition":
        jobs = [(m, None, seed, 0) for m in models for seed in seeds]
    else:
        raise ActionLensError(f"unknown evaluation task {task!r}; use recognition or zsl")
    if source is None and jobs:
        source = open_sequence_source(ws, features)
    metas = []
    for i, (model, zsl_split, seed, fold) in enumerate(jobs):
        step = SubProgress(
            progress,
            i / len(jobs),
            (i + 1) / len(jobs),
            f"{model} {zsl_split or 'split ' + split} seed {seed}" + (f" fold {fold}" if zsl_split else ""),
        )
        run_id = default_run_id(model, preset, zsl_split, fold, split, seed, "test")
        run_dir = ws.runs_dir / run_id
        meta = read_meta(run_dir) if (run_dir / META).is_file() else {}
        complete = meta.get("status") == "complete"
        trained_on = (meta.get("features") or {}).get("name")
        if complete and trained_on and trained_on != source_name(source):
            # Run ids do not name the store: a table over another store must neither report this
            # run nor overwrite it.
            raise ActionLensError(
                f"run {run_id} was trained on feature store {trained_on!r}, but this table reads "
                f"{source_name(source)!r}; pass --features {trained_on}, or train runs on the other "
                "store under their own ids (actionlens train --features STORE --run-id …; "
                "benchmarks/sampling_probe.py does so)"
            )
        stale = complete and not run_matches_preset(meta, model, preset)
        if not complete or stale:
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
                purpose="test",
                seed=seed,
                epochs=epochs,
                split=split,
                resume=not stale,
                overwrite=stale,
                source=source,
                vectors=vectors,
                progress=step,
            )
        else:
            run = Run.load(run_dir)
        evaluate_run(ws, run, source=source, progress=step)
        metas.append(run.meta)
        if on_table is not None and task == "zsl":
            assert splits is not None
            on_table(zsl_table(metas, models, splits, folds, seeds=seeds) | {"preset": preset})
    if task == "zsl":
        assert splits is not None
        table = zsl_table(metas, models, splits, folds, seeds=seeds)
    else:
        table = recognition_table(metas, models, split, seeds)
    table["preset"] = preset
    write_json(ws.runs_dir / TABLES_DIR / f"{task}.json", table)
    return table, format_table(table)
