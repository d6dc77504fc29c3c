"""Training and evaluating runs inside a workspace: the glue between the catalog, the feature
store, the word vectors, the trainer and the run format (what ``actionlens train`` /
``evaluate`` call)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from desktop_app.errors import ActionLensError, UnknownWordError
from desktop_app.models.base import TASK_RECOGNITION, TASK_ZSL
from desktop_app.models.registry import ModelShape, config_to_json, get_model_spec
from desktop_app.progress import NullProgress, Progress, SubProgress
from desktop_app.training.data import (
    SequenceSource,
    clips_with_streams,
    source_name,
    source_settings,
    stratified_holdout,
)
from desktop_app.training.inputs import InputTransform, TransformedSource, raw_dim
from desktop_app.training.runs import CHECKPOINT, Run, now, prepare_run_dir, save_run, update_metrics
from desktop_app.training.sources import open_sequence_source
from desktop_app.training.trainer import TrainingData, preset_settings, train_model
from desktop_app.workspace.catalog import ROLE_CODES
from desktop_app.workspace.clip_sets import ok_clips


def class_label_vectors(phrases: list[tuple[str, str]], vectors: Any) -> np.ndarray:
    """Unit label vectors of classes (seed 000 §III.C: a phrase is the mean of its word vectors).

    ``phrases`` are ``(class name, phrase)`` pairs; an unknown word names the class to fix.
    """
    rows = []
    for name, phrase in phrases:
        try:
            rows.append(np.asarray(vectors.phrase_vector(phrase), dtype=np.float32))
        except UnknownWordError as exc:
            raise ActionLensError(
                f"class {name!r}: {exc}; edit its phrase in the catalog or choose other word vectors"
            ) from exc
    matrix = np.stack(rows)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def default_run_id(
    model: str,
    preset: str,
    zsl_split: str | None,
    fold: int,
    split: str,
    seed: int = 0,
    purpose: str = "test",
) -> str:
    """The id of a run (``docs/protocol.md``).

    ``<model>-<preset>-zsl<50-50>-f<K>`` (test fold K), ``<model>-<preset>-zsl<50-50>-dev<K>``
    (development fold K) or ``<model>-<preset>-rec-s<split>``, followed by ``-seed<N>`` for a
    training seed other than 0 — so the ids of seed-0 test-fold runs are those of earlier
    versions and existing workspaces keep working.
    """
    if zsl_split:
        kind = "f" if purpose == "test" else purpose
        base = f"{model}-{preset}-zsl{zsl_split.replace('/', '-')}-{kind}{fold}"
    else:
        base = f"{model}-{preset}-rec-s{split}"
    return base if int(seed) == 0 else f"{base}-seed{int(seed)}"


def class_components(ws: Any) -> dict[int, tuple[str | None, str | None]]:
    """``class id → (verb, noun)`` from the workspace's catalog (``None`` where a class has none)."""
    return dict(ws.catalog.class_components())


def train_in_workspace(
    ws: Any,
    model: str,
    *,
    preset: str = "small",
    zsl_split: str | None = None,
    fold: int = 0,
    purpose: str = "test",
    epochs: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    features: str | None = None,
    word_vectors: str | None = None,
    split: str = "1",
    seed: int = 0,
    run_id: str | None = None,
    train_overrides: dict[str, Any] | None = None,
    model_overrides: dict[str, Any] | None = None,
    source: SequenceSource | None = None,
    vectors: Any = None,
    progress: Progress | None = None,
) -> Run:
    """Train ``model`` on the workspace's clips and save the run under ``ws.runs_dir``.

    With ``zsl_split`` (``"50/50"`` …) the run is trained on the seen classes of ``fold`` (all
    their clips, less a validation share) for zero-shot evaluation; otherwise on the ``train``
    clips of the dataset split ``split`` (validated on its ``val`` clips, or a share of ``train``).
    ``purpose`` says whether ``fold`` is a reported test fold or a development (tuning) fold; the
    fold's classes depend on ``(zsl_split, fold, purpose)``, never on ``seed``.

    Every statistic of the features (the input transform: mean, PCA, scale — see
    :mod:`desktop_app.training.inputs`) is fitted on the run's *fit clips*, its training clips:
    never a validation clip, a test clip or a clip of an unseen class.

    Returns
    -------
    Run
        The saved run (``resume`` on a finished run returns it as it is).
    """
    from desktop_app.data.class_splits import zsl_class_split

    progress = progress or NullProgress()
    spec = get_model_spec(model)
    if spec.task == "video-paragraph":  # seed 004: captioned videos, not labelled clips
        from desktop_app.training.paragraphs import train_paragraph_run

        return train_paragraph_run(
            ws, model, preset=preset, split=split, seed=seed, epochs=epochs, resume=resume, zsl_split=zsl_split,
            overwrite=overwrite, features=features, word_vectors=word_vectors, run_id=run_id,
            train_overrides=train_overrides, model_overrides=model_overrides, source=source,
            vectors=vectors, progress=progress,
        )  # fmt: skip
    model_config, train_config = preset_settings(spec, preset, seed, epochs, train_overrides, model_overrides)
    run_id = run_id or default_run_id(model, preset, zsl_split, fold, split, seed, purpose)
    run_dir = ws.runs_dir / run_id
    finished, resume = prepare_run_dir(ws.runs_dir, run_id, resume, overwrite)
    if finished is not None:
        return finished

    if source is None:
        source = open_sequence_source(ws, features)
    if vectors is None:
        from desktop_app.words.vectors import WordVectors

        vectors = WordVectors.load(word_vectors)
    classes = ws.catalog.classes()
    all_vectors = class_label_vectors([(c.name, c.phrase) for c in classes], vectors)
    class_ids = np.array([c.id for c in classes], dtype=np.int64)

    # The streams the model reads decide which clips are usable.
    probe = spec.build(
        model_config, ModelShape({s: raw_dim(source, s) for s in source.streams}, all_vectors.shape[1], 2)
    )
    clip_ids, clip_classes = ok_clips(ws.catalog, clips_with_streams(source, probe.streams))

    zsl_meta = None
    if zsl_split:
        seen, unseen = zsl_class_split(class_ids, zsl_split, fold, purpose, class_components(ws))
        train_mask = np.isin(clip_classes, seen)
        val_mask = np.zeros(len(clip_ids), dtype=bool)
        test_count = int((~train_mask).sum())
        report_clips, report_where = clip_ids[~train_mask], f"unseen-class ({zsl_split} fold {fold})"
        train_classes = seen
        task = TASK_ZSL
        zsl_meta = {
            "split": zsl_split,
            "fold": fold,
            "purpose": purpose,
            "seen_class_ids": seen.tolist(),
            "unseen_class_ids": unseen.tolist(),
        }
    else:
        codes = ws.catalog.split_role_codes(split)
        if not codes.any():
            raise ActionLensError(
                f"the workspace has no split {split!r}; choose one of {ws.catalog.split_names()}"
            )
        role = np.asarray(ROLE_CODES)[codes[clip_ids]]
        train_mask, val_mask = role == "train", role == "val"
        test_count = int((role == "test").sum())
        report_clips, report_where = clip_ids[role == "test"], f"split {split} test"
        train_classes = class_ids
        task = TASK_RECOGNITION
    # A learned extractor (seed 003's motion CNN) must not have seen the clips this run reports on.
    if source_settings(source).get("extractor") == "motion-cnn":
        from desktop_app.features.motion_cnn import check_not_fitted_on

        check_not_fitted_on(source_settings(source), report_clips, report_where)
    if not val_mask.any():
        held = stratified_holdout(clip_classes[train_mask], train_config.val_fraction, seed)
        idx = np.flatnonzero(train_mask)
        val_mask = np.zeros(len(clip_ids), dtype=bool)
        val_mask[idx[held]] = True
        train_mask[idx[held]] = False
    # The input transform sees the training clips only (docs/protocol.md).
    fit_clips = clip_ids[train_mask]
    transform = InputTransform.fit(
        source,
        fit_clips,
        probe.streams,
        pca_dims=train_config.pca_dims,
        input_scale=train_config.input_scale,
        fitted_on={"class_ids": sorted({int(c) for c in clip_classes[train_mask]})},
        progress=SubProgress(progress, 0.0, 0.0, "fitting the input transform"),
    )
    transformed = TransformedSource(source, transform)
    train_index = {int(c): i for i, c in enumerate(train_classes)}
    row_of = {int(c): i for i, c in enumerate(class_ids)}
    label_vectors = all_vectors[[row_of[int(c)] for c in train_classes]]
    data = TrainingData(
        transformed,
        fit_clips,
        np.array([train_index[int(c)] for c in clip_classes[train_mask]], dtype=np.int64),
        clip_ids[val_mask],
        np.array([train_index[int(c)] for c in clip_classes[val_mask]], dtype=np.int64),
        label_vectors,
        task=task,
    )
    shape = ModelShape(
        {s: transform.dim(s) for s in probe.streams}, int(all_vectors.shape[1]), len(train_classes)
    )
    created = now()
    started = time.perf_counter()
    if ws.catalog is not None:
        ws.catalog.add_run(run_id, model, created, "training", {})
    run_dir.mkdir(parents=True, exist_ok=True)
    inputs_meta = transform.save(run_dir)
    result = train_model(
        model,
        model_config,
        shape,
        data,
        train_config,
        checkpoint_path=run_dir / CHECKPOINT,
        resume=resume,
        progress=progress,
    )
    meta = {
        "run_id": run_id,
        "created": created,
        "status": "complete",
        "task": task,
        "model": {
            "name": model,
            "preset": preset,
            "config": config_to_json(model_config),
            "shape": shape.to_json(),
        },
        "training": {
            **train_config.to_json(),
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "stopped_early": result.stopped_early,
            "train_clips_per_second": result.train_clips_per_second,
            # wall time of fitting the input transform and training (what a tuning budget costs)
            "seconds": round(time.perf_counter() - started, 3),
            "history": result.history,
        },
        "features": {
            "name": source_name(source),
            "settings": source_settings(source),
            "streams": list(probe.streams),
        },
        "inputs": inputs_meta,
        "word_vectors": {"source": dict(getattr(vectors, "source", {})), "dim": int(all_vectors.shape[1])},
        "classes": [
            {"id": c.id, "name": c.name, "phrase": c.phrase, "train_index": train_index.get(int(c.id))}
            for c in classes
        ],
        "split": {
            "name": None if zsl_split else split,
            "train_clips": int(train_mask.sum()),
            "val_clips": int(val_mask.sum()),
            "test_clips": test_count,
        },
        "zsl": zsl_meta,
        "seed": seed,
        "metrics": {"validation": {"accuracy": result.best_val_accuracy, "epoch": result.best_epoch}},
    }
    save_run(run_dir, result.model, all_vectors, meta)
    ws.catalog.add_run(run_id, model, created, "complete", meta["metrics"])
    return Run.load(run_dir)


def evaluate_run(
    ws: Any, run: Run, source: SequenceSource | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Evaluate a run on its held-out clips and store the result in its metadata and the catalog.

    A zero-shot run (``meta["zsl"]``) is scored on every clip of its unseen classes: each is
    assigned the unseen class whose label vector is nearest by cosine (metrics key ``"zsl"``),
    beside chance and the noun-only / verb-only component oracles of the same clips
    (:func:`~desktop_app.evaluation.zsl.component_oracles`).
    A recognition run is scored on the ``test`` clips of its split in two ways (metrics key
    ``"recognition"``): ``accuracy`` assigns each clip the training class whose label vector is
    nearest by cosine — recognition in the word space, the same rule as zero-shot and defined for
    every model — and ``classifier_accuracy`` takes the class of maximum score of the model's
    classifier head where it has one (seed 000 §IV.A: softmax; seed 001: the sigmoid branch,
    which its dual loss weights by λ = 0.02 only).
    """
    from desktop_app.evaluation.zsl import component_oracles, nearest_class, run_purpose, zsl_accuracy

    if source is None:
        source = open_sequence_source(ws, run.meta["features"]["name"])
    usable = clips_with_streams(source, run.streams)
    meta = run.meta
    if meta.get("zsl"):
        unseen = np.array(meta["zsl"]["unseen_class_ids"], dtype=np.int64)
        test, truth = ok_clips(ws.catalog, usable, classes=unseen)
        embeddings, _ = run.embed(source, test, progress=progress)
        accuracy = zsl_accuracy(embeddings, truth, unseen, run.label_vectors_of(unseen))
        name = "zsl"
        metrics = {
            "split": meta["zsl"]["split"],
            "fold": meta["zsl"]["fold"],
            "purpose": run_purpose(meta),
            "seed": int(meta.get("seed", 0)),
            "accuracy": accuracy,
            "chance": 1.0 / len(unseen),
            **component_oracles(truth, unseen, class_components(ws)),
            "test_clips": len(test),
            "unseen_classes": len(unseen),
        }
    else:
        test, truth = ok_clips(ws.catalog, usable, split=meta["split"]["name"], role="test")
        embeddings, logits = run.embed(source, test, progress=progress)
        trained = run.training_class_ids

        def accuracy_of(predicted: np.ndarray) -> float:
            return float(np.mean(predicted == truth)) if len(test) else float("nan")

        name = "recognition"
        metrics = {
            "split": meta["split"]["name"],
            "seed": int(meta.get("seed", 0)),
            "accuracy": accuracy_of(trained[nearest_class(embeddings, run.label_vectors_of(trained))]),
            "classifier_accuracy": None
            if logits is None
            else accuracy_of(trained[np.argmax(logits, axis=1)]),
            "chance": 1.0 / len(trained),
            "test_clips": len(test),
        }
    new_meta = update_metrics(run.run_dir, name, metrics)
    run.meta = new_meta
    ws.catalog.add_run(run.run_id, meta["model"]["name"], meta["created"], "complete", new_meta["metrics"])
    return metrics
