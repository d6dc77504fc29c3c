"""Writing a run's clip and class-mean embeddings into the workspace.

``ws.embeddings_dir/<run>/``:

* ``clips.npy`` — ``(num_clips, D)`` float32, row = clip id, NaN rows for clips without features
  (or without usable status); ``np.load(..., mmap_mode="r")`` maps it;
* ``class_means.npy`` — ``(num_classes_with_clips, D)`` float32, the mean embedding of each
  class's clips (all of them, whatever their split);
* ``class_means.json`` — ``{"format", "version", "run_id", "class_ids", "clip_counts", "dim"}``:
  ``class_ids[i]`` is the catalog class of row ``i`` of ``class_means.npy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.atomic import write_json, write_npy
from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress
from desktop_app.workspace.clip_sets import ok_clips

CLASS_MEANS_FORMAT = "actionlens-class-means"
CLASS_MEANS_VERSION = 1


@dataclass
class EmbedSummary:
    """What :func:`embed_workspace` wrote."""

    run_id: str
    directory: Path
    clips_embedded: int
    clips_missing: int
    classes: int
    dim: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "run_id": self.run_id,
            "directory": str(self.directory),
            "clips_embedded": self.clips_embedded,
            "clips_missing": self.clips_missing,
            "classes": self.classes,
            "dim": self.dim,
        }


def class_means(
    embeddings: np.ndarray, clip_class_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean embedding per class over rows that are not NaN.

    Returns
    -------
    (class_ids, means, counts)
    """
    valid = ~np.isnan(embeddings).any(axis=1) & (clip_class_ids >= 0)
    ids = np.unique(clip_class_ids[valid])
    means = (
        np.stack([embeddings[valid & (clip_class_ids == c)].mean(axis=0) for c in ids])
        if len(ids)
        else np.zeros((0, embeddings.shape[1]))
    )
    counts = np.array([int((valid & (clip_class_ids == c)).sum()) for c in ids], dtype=np.int64)
    return ids.astype(np.int64), means.astype(np.float32), counts


def embed_workspace(
    ws: Any, run_id: str, source: Any = None, progress: Progress | None = None
) -> EmbedSummary:
    """Embed every clip of the workspace with run ``run_id`` and write the files above.

    ``source`` defaults to the feature store the run was trained on.
    """
    from desktop_app.training.data import clips_with_streams
    from desktop_app.training.experiment import open_sequence_source
    from desktop_app.training.runs import Run

    progress = progress or NullProgress()
    run_dir = ws.runs_dir / run_id
    if not run_dir.is_dir():
        raise ActionLensError(f"no run {run_id!r} in {ws.runs_dir}; train one first (actionlens train)")
    run = Run.load(run_dir)
    if source is None:
        source = open_sequence_source(ws, run.meta["features"]["name"])
    ids, _ = ok_clips(ws.catalog, clips_with_streams(source, run.streams), labelled=False)
    clip_classes = ws.catalog.clip_columns().class_id
    dim = int(run.meta["model"]["shape"]["word_dim"])
    embedded, _ = run.embed(source, ids, progress=progress)
    table = np.full((len(clip_classes), dim), np.nan, dtype=np.float32)
    table[ids] = embedded
    class_ids, means, counts = class_means(table, clip_classes)
    out = ws.embeddings_dir / run_id
    write_npy(out / "clips.npy", table)
    write_npy(out / "class_means.npy", means)
    write_json(
        out / "class_means.json",
        {
            "format": CLASS_MEANS_FORMAT,
            "version": CLASS_MEANS_VERSION,
            "run_id": run_id,
            "class_ids": class_ids.tolist(),
            "clip_counts": counts.tolist(),
            "dim": dim,
        },
    )
    progress.set_progress(1.0, f"embedded {len(ids)} clips")
    return EmbedSummary(run_id, out, len(ids), ws.catalog.num_clips() - len(ids), len(class_ids), dim)
