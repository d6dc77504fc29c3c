"""Where a run reads its inputs: a feature store of the workspace, or the clip embeddings of
another run (``run:<id>``, what seed 003 §VII's anomaly autoencoder reads).

Kept apart from :mod:`desktop_app.training.experiment` so that the modules it dispatches to
(the paragraph runs of seed 004, the anomaly runs of seed 003) and the analysis layer can open a
run's source without importing the training glue.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from desktop_app.errors import ActionLensError
from desktop_app.progress import Progress
from desktop_app.training.data import SequenceSource
from desktop_app.workspace.clip_sets import ok_clips

#: The model name of seed 003's anomaly autoencoder (a run of it cannot be another's source).
AUTOENCODER = "autoencoder"
#: Prefix of the feature-source name of a run that reads another run's embeddings.
RUN_SOURCE_PREFIX = "run:"


def open_sequence_source(ws: Any, features: str | None = None) -> SequenceSource:
    """The workspace's feature store ``features`` (default: its default store); ``run:<id>``
    is the clip embeddings of run ``<id>`` (what an ``autoencoder`` run reads, seed 003 §VII)."""
    if features and features.startswith(RUN_SOURCE_PREFIX):
        return open_run_source(ws, features)
    try:
        from desktop_app.features import FeatureStore
    except ImportError as exc:
        raise ActionLensError(f"the feature store is not available ({exc}); update ActionLens") from exc
    return FeatureStore.open(ws, features)


def load_source_run(ws: Any, source_run: str) -> Any:
    from desktop_app.training.runs import META, Run, read_meta

    run_dir = ws.runs_dir / source_run
    if not (run_dir / META).is_file():
        raise ActionLensError(
            f"no run {source_run!r} in {ws.runs_dir}; train the source run first (e.g. actionlens train --model ste)"
        )
    meta = read_meta(run_dir)
    if meta.get("model", {}).get("name") == AUTOENCODER:
        raise ActionLensError(
            f"run {source_run} is an autoencoder; give the run whose embeddings it should read"
        )
    if meta.get("zsl"):
        raise ActionLensError(
            f"run {source_run} is a zero-shot run; the autoencoder needs a recognition run (trained "
            "without --zsl-split), whose split says which clips are for training and which for testing"
        )
    return Run.load(run_dir)


def source_run_embeddings(
    ws: Any, source_run: Any, progress: Progress | None = None, features: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every usable clip's embedding by ``source_run``: ``(clip ids int64, (N, D) float32)``,
    read from ``features`` (default: the feature store the run was trained on)."""
    from desktop_app.training.data import clips_with_streams

    store = (
        features if features is not None else open_sequence_source(ws, source_run.meta["features"]["name"])
    )
    ids, _ = ok_clips(ws.catalog, clips_with_streams(store, source_run.streams), labelled=False)
    if len(ids) == 0:
        raise ActionLensError(f"run {source_run.run_id}: no clip has its features; run actionlens extract")
    embeddings, _ = source_run.embed(store, ids, progress=progress)
    return ids, embeddings


def embedding_source(clip_ids: np.ndarray, embeddings: np.ndarray, source_run: str) -> Any:
    """A :class:`~desktop_app.training.data.SequenceSource` whose one stream, ``"embedding"``,
    holds each clip's embedding as a one-step sequence."""
    from desktop_app.models.anomaly import EMBEDDING_STREAM
    from desktop_app.training.data import InMemorySequenceSource

    source = InMemorySequenceSource(
        {EMBEDDING_STREAM: {int(c): embeddings[i : i + 1] for i, c in enumerate(clip_ids)}},
        name=f"{RUN_SOURCE_PREFIX}{source_run}",
    )
    source.settings = {"kind": "run-embeddings", "run": source_run}
    return source


def open_run_source(ws: Any, name: str, progress: Progress | None = None) -> Any:
    """The embedding source ``run:<source run>`` (what an autoencoder run reads)."""
    source_run = name[len(RUN_SOURCE_PREFIX) :]
    run = load_source_run(ws, source_run)
    ids, embeddings = source_run_embeddings(ws, run, progress)
    return embedding_source(ids, embeddings, source_run)
