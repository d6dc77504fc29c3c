"""Training seed 003 §VII's anomaly autoencoder on another run's embeddings, and its scores.

An ``autoencoder`` run reads the clip embeddings of a *source run* (any trained recognition run
of the workspace: ``ste``, ``multistream`` …) as a one-step feature stream, so the whole run
machinery — split, validation share, input transform, run format — is the one every model uses:

* the source run embeds every usable clip (``Run.embed`` on the feature store it was trained on);
* the autoencoder is trained on the **source run's training clips** of its split (less a
  validation share for early stopping): every clip the split calls ``train``, normal or
  anomalous alike, *without* the anomaly marks — the method is unsupervised, so that is the
  honest setting; the test clips the figures are measured on are never seen;
* its input transform is ``pca_dims = 0``: each embedding is scaled to unit length (the cosine
  geometry the joint-embedding runs are compared in);
* at the end of training every clip's anomaly score — its reconstruction error — is written to
  ``runs/<run>/anomaly_clip_ids.npy`` (int64) and ``anomaly_scores.npy`` (float32, same order),
  described by ``meta.json["anomaly"]``: ``{"version", "source_run", "clip_ids", "scores",
  "clips", "score"}``.

The source run's feature name ``run:<source run>`` (``meta.json["features"]["name"]``) is how
:func:`desktop_app.training.sources.open_sequence_source` finds this source again, so
``actionlens embed --run <autoencoder run>`` writes the reconstructions as the run's embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop_app.atomic import write_json, write_npy
from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress, SubProgress
from desktop_app.training.sources import (  # noqa: F401  (re-exported: the run-source half lives there)
    AUTOENCODER,
    RUN_SOURCE_PREFIX,
    embedding_source,
    load_source_run,
    open_run_source,
    source_run_embeddings,
)

SCORE_CLIPS = "anomaly_clip_ids.npy"
SCORES = "anomaly_scores.npy"
SCORES_VERSION = 1


def autoencoder_run_id(source_run: str, preset: str = "small", seed: int = 0) -> str:
    """``autoencoder-<preset>-on-<source run>`` (``-seed<N>`` for a seed other than 0)."""
    base = f"{AUTOENCODER}-{preset}-on-{source_run}"
    return base if int(seed) == 0 else f"{base}-seed{int(seed)}"


class _SourceRunVectors:
    """The source run's label vectors, looked up by phrase: the autoencoder run stores the same
    class table as its source (it needs no word vectors of its own)."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.source = dict(run.meta.get("word_vectors", {}).get("source", {}))
        self._by_phrase = {
            str(c["phrase"]): run.label_vectors[i] for i, c in enumerate(run.meta.get("classes", []))
        }

    def phrase_vector(self, phrase: str) -> np.ndarray:
        try:
            return np.asarray(self._by_phrase[phrase])
        except KeyError:
            from desktop_app.errors import UnknownWordError

            raise UnknownWordError(
                f"the source run {self.run.run_id} has no class {phrase!r} (it was added to the "
                "catalog after the run was trained); train the source run again"
            ) from None


@dataclass
class AnomalyScores:
    """Anomaly scores of an autoencoder run: ``clip_ids`` (int64) and ``scores`` (float32)."""

    run_id: str
    source_run: str
    clip_ids: np.ndarray
    scores: np.ndarray

    def of(self, clip_ids: np.ndarray) -> np.ndarray:
        """Scores of ``clip_ids`` (NaN for clips without one)."""
        clip_ids = np.asarray(clip_ids, dtype=np.int64)
        out = np.full(len(clip_ids), np.nan, dtype=np.float32)
        if len(self.clip_ids) == 0:
            return out
        order = np.argsort(self.clip_ids)
        sorted_ids = self.clip_ids[order]
        pos = np.clip(np.searchsorted(sorted_ids, clip_ids), 0, len(sorted_ids) - 1)
        found = sorted_ids[pos] == clip_ids
        out[found] = self.scores[order][pos[found]]
        return out


def train_autoencoder(
    ws: Any,
    source_run: str,
    *,
    preset: str = "small",
    seed: int = 0,
    epochs: int | None = None,
    run_id: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    train_overrides: dict[str, Any] | None = None,
    model_overrides: dict[str, Any] | None = None,
    features: Any = None,
    progress: Progress | None = None,
) -> Any:
    """Train an ``autoencoder`` run on the embeddings of ``source_run`` and score every clip.

    Parameters
    ----------
    ws
        The open workspace.
    source_run
        A finished recognition run; the autoencoder trains on the ``train`` clips of its split.
    preset, seed, epochs, run_id, resume, overwrite, train_overrides, model_overrides
        As for :func:`~desktop_app.training.experiment.train_in_workspace`.
    features
        The feature source the source run reads (default: the store it was trained on).

    Returns
    -------
    Run
        The saved autoencoder run, with its scores written (:func:`score_run`).
    """
    from desktop_app.training.experiment import train_in_workspace

    progress = progress or NullProgress()
    source = load_source_run(ws, source_run)
    ids, embeddings = source_run_embeddings(
        ws, source, SubProgress(progress, 0.0, 0.1, f"embedding clips with {source_run}"), features
    )
    run = train_in_workspace(
        ws,
        AUTOENCODER,
        preset=preset,
        split=str(source.meta["split"]["name"]),
        seed=seed,
        epochs=epochs,
        resume=resume,
        overwrite=overwrite,
        run_id=run_id or autoencoder_run_id(source_run, preset, seed),
        # pca_dims 0: unit-length embeddings, nothing else fitted on them
        train_overrides={"pca_dims": 0, **(train_overrides or {})},
        model_overrides={**(model_overrides or {}), "source_run": source_run},
        source=embedding_source(ids, embeddings, source_run),
        vectors=_SourceRunVectors(source),
        progress=SubProgress(progress, 0.1, 0.95, "training the autoencoder"),
    )
    history = run.meta["training"].get("history", [])
    best = run.meta["training"].get("best_epoch", -1)
    validation = {
        "reconstruction_error": float(history[best]["val_reconstruction"])
        if 0 <= best < len(history)
        else None,
        "epoch": best,
    }
    from desktop_app.training.runs import update_metrics

    run.meta = update_metrics(run.run_dir, "validation", validation)
    ws.catalog.add_run(run.run_id, AUTOENCODER, run.meta["created"], "complete", run.meta["metrics"])
    score_run(ws, run, ids, embeddings)
    progress.set_progress(1.0, f"anomaly scores of {len(ids)} clips")
    return run


def anomaly_scores_of(run: Any, embeddings: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Reconstruction errors (anomaly scores) of source-run ``embeddings`` ``(N, D)`` by an
    autoencoder ``run``: the run's input transform (unit rows), then ``‖x − D(E(x))‖² / D``."""
    import torch

    from desktop_app.models.anomaly import EMBEDDING_STREAM

    x = np.asarray(embeddings, dtype=np.float32)
    if run.input_transform is not None:
        x = run.input_transform.apply(x, EMBEDDING_STREAM)
    out = []
    with torch.inference_mode():
        for start in range(0, len(x), batch_size):
            out.append(
                run.model.reconstruction_error(torch.from_numpy(x[start : start + batch_size])).numpy()
            )
    return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)


def score_run(ws: Any, run: Any, clip_ids: np.ndarray, embeddings: np.ndarray) -> AnomalyScores:
    """Score ``clip_ids`` with autoencoder ``run`` and write the scores into its directory."""
    from desktop_app.training.runs import META, read_meta

    scores = anomaly_scores_of(run, embeddings)
    clip_ids = np.asarray(clip_ids, dtype=np.int64)
    write_npy(run.run_dir / SCORE_CLIPS, clip_ids)
    write_npy(run.run_dir / SCORES, scores)
    meta = read_meta(run.run_dir)
    source_run = str(meta["model"]["config"].get("source_run", ""))
    source_meta_path = ws.runs_dir / source_run / META
    meta["anomaly"] = {
        "version": SCORES_VERSION,
        "source_run": source_run,
        # which training of the source run the scores belong to (a retrained one makes them stale)
        "source_created": read_meta(ws.runs_dir / source_run).get("created")
        if source_meta_path.is_file()
        else None,
        "clip_ids": SCORE_CLIPS,
        "scores": SCORES,
        "clips": int(len(clip_ids)),
        "score": "mean squared reconstruction error of the unit-length source-run embedding",
    }
    write_json(run.run_dir / META, meta)
    run.meta = meta
    return AnomalyScores(run.run_id, source_run, clip_ids, scores)


def read_scores(ws: Any, run_id: str) -> AnomalyScores:
    """The stored anomaly scores of autoencoder run ``run_id``; the error says what to do."""
    from desktop_app.training.runs import read_meta

    run_dir = ws.runs_dir / run_id
    meta = read_meta(run_dir)
    info = meta.get("anomaly")
    if not isinstance(info, dict):
        raise ActionLensError(
            f"run {run_id} has no anomaly scores; it is not an autoencoder run, or train it again "
            f"(actionlens train --model autoencoder --source-run RUN)"
        )
    try:
        clip_ids = np.load(run_dir / SCORE_CLIPS, allow_pickle=False)
        scores = np.load(run_dir / SCORES, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ActionLensError(
            f"{run_dir}: the anomaly scores cannot be read ({exc}); train the run again"
        ) from exc
    if clip_ids.ndim != 1 or scores.shape != clip_ids.shape or clip_ids.dtype.kind not in "iu":
        raise ActionLensError(
            f"{run_dir / SCORES} holds {scores.shape} scores for {clip_ids.shape} clip ids; train the run again"
        )
    return AnomalyScores(
        run_id, str(info.get("source_run", "")), clip_ids.astype(np.int64), scores.astype(np.float32)
    )


def scored_runs(ws: Any) -> list[dict[str, Any]]:
    """Every autoencoder run with stored scores that still fit its source run:
    ``[{"run_id", "source_run", "seed"}]`` by id. Scores of a source run trained again since
    (another ``created`` time) are stale and left out."""
    from desktop_app.training.runs import list_runs

    metas = list_runs(ws.runs_dir)
    created = {str(m.get("run_id")): m.get("created") for m in metas}
    return [
        {
            "run_id": str(m["run_id"]),
            "source_run": str(m["anomaly"].get("source_run", "")),
            "seed": int(m.get("seed", 0)),
        }
        for m in metas
        if isinstance(m.get("anomaly"), dict)
        and m.get("status") == "complete"
        and m["anomaly"].get("source_created") in (None, created.get(str(m["anomaly"].get("source_run"))))
    ]


def scores_for_run(ws: Any, run_id: str | None) -> AnomalyScores | None:
    """The anomaly scores to show beside run ``run_id``: its own if it is an autoencoder run,
    else those of the autoencoder trained on it (the lowest seed); ``None`` when there are none."""
    if not run_id:
        return None
    runs = scored_runs(ws)
    own = [r for r in runs if r["run_id"] == run_id]
    on_it = sorted((r for r in runs if r["source_run"] == run_id), key=lambda r: (r["seed"], r["run_id"]))
    for r in own + on_it:
        try:
            return read_scores(ws, r["run_id"])
        except ActionLensError:
            continue
    return None
