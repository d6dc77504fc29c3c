"""The input transform of a run: every statistic of the features, fitted on the run's fit clips.

A run reads its features through an :class:`InputTransform` fitted on its *fit clips* — the
clips it trains on (never its validation clips, never a test clip, never a clip of an unseen
class) — so that nothing measured on the clips a figure reports can shape what the model sees
(``docs/protocol.md``). Per stream, seeds 001 and 002's preprocessing:

1. centre on the fit rows' mean ``μ``;
2. project onto the leading ``k = min(pca_dims, D, rows − 1)`` principal directions ``P`` of the
   fit rows (``pca_dims = 0``: no centring and no projection);
3. L2-normalise each row;
4. multiply by ``input_scale`` (the same run-level option for every model).

``x ↦ input_scale · P(x − μ) / ‖P(x − μ)‖``. The mean and covariance are accumulated clip by clip
in float64, so memory stays ``D × D`` whatever the number of clips. The arrays are saved in the
run directory as plain ``.npy`` (never pickled) and described in ``meta.json["inputs"]``::

    {"version": 1, "pca_dims", "input_scale",
     "fitted_on": {"role": "train", "clips", "class_ids"},
     "streams": {stream: {"mean", "components", "dims", "input_dim", "rows",
                          "explained_variance_ratio"}}}

:class:`TransformedSource` wraps the raw feature source so that training, validation and
:meth:`~desktop_app.training.runs.Run.embed` all read the same transformed rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.atomic import write_npy
from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress
from desktop_app.training.data import OPTIONAL_STREAMS

INPUTS_VERSION = 1
#: Seeds 001 and 002 reduce frame features to 500 dimensions.
DEFAULT_PCA_DIMS = 500


def raw_dim(source: Any, stream: str) -> int:
    """Dimension of the stored (untransformed) rows of ``stream``."""
    reader = getattr(source, "raw_dim", None)
    return int(reader(stream)) if callable(reader) else int(source.dim(stream))


def raw_rows(source: Any, clip_id: int, stream: str) -> np.ndarray:
    """A clip's stored rows of ``stream``, without any store-side PCA or padding."""
    rows = np.asarray(source.get(int(clip_id), stream, reduced=False), dtype=np.float32)
    length = getattr(source, "length", None)
    if callable(length):
        rows = rows[: int(length(int(clip_id), stream))]
    return rows


@dataclass(frozen=True)
class StreamTransform:
    """The fitted transform of one stream: ``mean`` ``(D,)`` and ``components`` ``(k, D)``
    (``None`` for ``pca_dims = 0``), with what it was fitted on."""

    mean: np.ndarray | None
    components: np.ndarray | None
    input_dim: int
    rows: int
    explained_variance_ratio: float | None

    @property
    def dims(self) -> int:
        """Dimension of the transformed rows."""
        return self.input_dim if self.components is None else int(self.components.shape[0])


@dataclass
class InputTransform:
    """Per-stream centring, PCA, row L2 and scale, fitted on a run's fit clips.

    Attributes
    ----------
    streams
        ``{stream: StreamTransform}``.
    pca_dims, input_scale
        The run-level options (``TrainConfig.pca_dims`` / ``TrainConfig.input_scale``).
    fitted_on
        ``{"role": "train", "clips": n, "class_ids": [...]}``: the fit clips, for the record.
    """

    streams: dict[str, StreamTransform]
    pca_dims: int
    input_scale: float
    fitted_on: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        source: Any,
        fit_clips: np.ndarray,
        streams: Sequence[str],
        *,
        pca_dims: int = DEFAULT_PCA_DIMS,
        input_scale: float = 1.0,
        fitted_on: dict[str, Any] | None = None,
        progress: Progress | None = None,
    ) -> InputTransform:
        """Fit the transform of every stream on the rows of ``fit_clips`` only.

        Parameters
        ----------
        source
            The raw feature source (rows are read with ``reduced=False``).
        fit_clips
            The run's training clips: never validation, test or unseen-class clips.
        streams
            The streams the model reads.
        pca_dims
            At most this many principal directions (seeds 001/002: 500); 0: no PCA.
        input_scale
            Factor on the unit rows.
        """
        progress = progress or NullProgress()
        fit_clips = np.asarray(fit_clips, dtype=np.int64)
        if len(fit_clips) == 0:
            raise ActionLensError("the input transform has no clips to fit on; check the training split")
        if pca_dims < 0:
            raise ActionLensError(f"pca_dims must be 0 (no PCA) or positive, not {pca_dims}")
        fitted: dict[str, StreamTransform] = {}
        for s_index, stream in enumerate(streams):
            dim = raw_dim(source, stream)
            if pca_dims == 0:
                fitted[stream] = StreamTransform(None, None, dim, 0, None)
                continue
            total = np.zeros(dim, np.float64)
            scatter = np.zeros((dim, dim), np.float64)
            n_rows = 0
            having = fit_clips
            if stream in OPTIONAL_STREAMS:  # fitted on the fit clips that have it (audio)
                having = fit_clips[np.isin(fit_clips, np.asarray(source.clip_ids(stream)))]
            for i, clip_id in enumerate(having):
                if i % 64 == 0:
                    progress.check_cancelled()
                    progress.set_progress(
                        (s_index + i / len(having)) / len(streams), f"fitting the {stream} input PCA"
                    )
                rows = raw_rows(source, int(clip_id), stream).astype(np.float64)
                total += rows.sum(axis=0)
                scatter += rows.T @ rows
                n_rows += rows.shape[0]
            if n_rows < 2:
                raise ActionLensError(
                    f"the {stream} input PCA needs at least 2 feature rows among the fit clips; it has {n_rows}"
                )
            mean = total / n_rows
            covariance = scatter / n_rows - np.outer(mean, mean)
            eigenvalues, eigenvectors = np.linalg.eigh(covariance)
            order = np.argsort(eigenvalues)[::-1]
            # centred rows span at most n_rows - 1 directions; the rest would be noise
            k = max(1, min(pca_dims, dim, n_rows - 1))
            components = eigenvectors[:, order[:k]].T
            # a deterministic sign per component: its largest-magnitude loading is positive
            signs = np.sign(components[np.arange(k), np.argmax(np.abs(components), axis=1)])
            components *= np.where(signs == 0, 1.0, signs)[:, None]
            variance = np.maximum(eigenvalues[order], 0.0)
            fitted[stream] = StreamTransform(
                mean.astype(np.float32),
                components.astype(np.float32),
                dim,
                int(n_rows),
                float(variance[:k].sum() / max(variance.sum(), 1e-12)),
            )
        progress.set_progress(1.0, "input transform fitted")
        info = {"role": "train", "clips": int(len(fit_clips)), **(fitted_on or {})}
        return cls(fitted, int(pca_dims), float(input_scale), info)

    def dim(self, stream: str) -> int:
        """Dimension of the transformed rows of ``stream``."""
        return self.streams[stream].dims

    def apply(self, rows: np.ndarray, stream: str) -> np.ndarray:
        """Transform raw rows ``(T, D)`` of ``stream``: centre, project, L2 per row, scale."""
        part = self.streams[stream]
        rows = np.asarray(rows, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != part.input_dim:
            raise ActionLensError(
                f"{stream} features of dimension {rows.shape[-1]} do not fit the run's input "
                f"transform ({part.input_dim}); use the feature store the run was trained on"
            )
        if part.components is not None and part.mean is not None:
            rows = (rows - part.mean) @ part.components.T
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return (rows / np.maximum(norms, 1e-12) * self.input_scale).astype(np.float32)

    # ------------------------------------------------------------------ files
    def save(self, run_dir: str | Path) -> dict[str, Any]:
        """Write the arrays into ``run_dir`` (``inputs_<stream>_{mean,components}.npy``) and
        return the ``meta.json["inputs"]`` entry that describes them."""
        run_dir = Path(run_dir)
        streams: dict[str, Any] = {}
        for stream, part in self.streams.items():
            entry: dict[str, Any] = {
                "dims": part.dims,
                "input_dim": part.input_dim,
                "rows": part.rows,
                "explained_variance_ratio": part.explained_variance_ratio,
                "mean": None,
                "components": None,
            }
            if part.mean is not None and part.components is not None:
                entry["mean"] = f"inputs_{stream}_mean.npy"
                entry["components"] = f"inputs_{stream}_components.npy"
                write_npy(run_dir / entry["mean"], part.mean)
                write_npy(run_dir / entry["components"], part.components)
            streams[stream] = entry
        return {
            "version": INPUTS_VERSION,
            "pca_dims": self.pca_dims,
            "input_scale": self.input_scale,
            "fitted_on": dict(self.fitted_on),
            "streams": streams,
        }

    @classmethod
    def load(cls, run_dir: str | Path, info: dict[str, Any]) -> InputTransform:
        """The transform that ``meta.json["inputs"]`` (``info``) describes, from ``run_dir``."""
        run_dir = Path(run_dir)
        if not isinstance(info, dict) or int(info.get("version", 0)) > INPUTS_VERSION:
            raise ActionLensError(
                f"{run_dir / 'meta.json'} has an input transform this ActionLens does not read; upgrade it"
            )
        streams = {}
        for stream, entry in info["streams"].items():
            mean = components = None
            if entry.get("mean"):
                try:
                    mean = np.load(run_dir / entry["mean"], allow_pickle=False).astype(np.float32)
                    components = np.load(run_dir / entry["components"], allow_pickle=False).astype(np.float32)
                except OSError as exc:
                    raise ActionLensError(
                        f"{run_dir}: the input transform of {stream!r} cannot be read ({exc}); train the run again"
                    ) from exc
            streams[stream] = StreamTransform(
                mean,
                components,
                int(entry["input_dim"]),
                int(entry.get("rows", 0)),
                entry.get("explained_variance_ratio"),
            )
        return cls(
            streams, int(info["pca_dims"]), float(info["input_scale"]), dict(info.get("fitted_on", {}))
        )


class TransformedSource:
    """A :class:`~desktop_app.training.data.SequenceSource` that reads a raw source through an
    :class:`InputTransform` (what the trainer, validation and ``Run.embed`` read).

    Where the raw source pads to a fixed number of ``steps`` (seed 001), the padding rows stay
    zero: they are added after the transform.
    """

    def __init__(self, source: Any, transform: InputTransform) -> None:
        self.source = source
        self.transform = transform
        self.name = getattr(source, "name", "in-memory")
        self.settings = dict(getattr(source, "settings", {}) or {})

    @property
    def streams(self) -> list[str]:
        return [s for s in self.source.streams if s in self.transform.streams]

    def dim(self, stream: str) -> int:
        return self.transform.dim(stream)

    def raw_dim(self, stream: str) -> int:
        return raw_dim(self.source, stream)

    def clip_ids(self, stream: str | None = None) -> np.ndarray:
        if stream is None:
            ids: set[int] | None = None
            for s in self.streams:
                have = {int(c) for c in self.source.clip_ids(s)}
                ids = have if ids is None else ids & have
            return np.array(sorted(ids or ()), dtype=np.int64)
        return np.asarray(self.source.clip_ids(stream), dtype=np.int64)

    def length(self, clip_id: int, stream: str) -> int:
        return int(raw_rows(self.source, clip_id, stream).shape[0])

    def get(self, clip_id: int, stream: str, reduced: bool = True) -> np.ndarray:
        """The transformed rows of a clip (``reduced=False``: the raw rows)."""
        if not reduced:
            return raw_rows(self.source, clip_id, stream)
        rows = self.transform.apply(raw_rows(self.source, clip_id, stream), stream)
        steps = getattr(self.source, "steps", None)
        if steps:
            padded = np.zeros((int(steps), rows.shape[1]), np.float32)
            n = min(int(steps), rows.shape[0])
            padded[:n] = rows[:n]
            rows = padded
        return rows
