"""A run on disk: ``runs/<run_id>/weights.safetensors`` + ``label_vectors.npy`` + ``meta.json``.

``meta.json`` (format ``actionlens-run``, version 1) says everything needed to use the weights
without the code that trained them::

    {"format": "actionlens-run", "version": 1, "run_id": …, "created": …, "status": "complete",
     "task": "zsl" | "recognition",                       # what the run was trained for
     "model": {"name", "preset", "config", "shape": {"input_dims", "word_dim", "num_classes"}},
     "training": {TrainConfig…, "epochs_run", "best_epoch", "stopped_early", "history"},
     "features": {"name", "settings", "streams"},
     "inputs": {"version", "pca_dims", "input_scale", "fitted_on", "streams"},  # the input
                                                          # transform (training/inputs.py), fitted
                                                          # on the training clips; absent in runs
                                                          # made before it: those read the store's
                                                          # PCA + L2 and the model's input_scale
     "word_vectors": {"source": {…}, "dim"},
     "classes": [{"id", "name", "phrase", "train_index"}…], # every class = label_vectors.npy rows;
                                                          # train_index: row of the classifier
                                                          # head (null for unseen classes)
     "split": {"name", "train_clips", "val_clips", "test_clips"},
     "zsl": {"split", "fold", "purpose", "seen_class_ids", "unseen_class_ids"} | null,
                                                          # purpose: "test" (reported) or "dev"
                                                          # (tuning); older runs have "seed"
     "seed": …,
     "metrics": {evaluation name: {…}}}                   # e.g. "validation", "zsl", "recognition"

Weights (and the input transform's ``inputs_<stream>_{mean,components}.npy``) are written before
the metadata, so a ``meta.json`` always describes files that exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from desktop_app.atomic import atomic_path, read_json, write_json, write_npy
from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress

RUN_FORMAT = "actionlens-run"
RUN_VERSION = 1
META = "meta.json"
WEIGHTS = "weights.safetensors"
LABEL_VECTORS = "label_vectors.npy"
CHECKPOINT = "checkpoint.pt"


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def save_run(
    run_dir: str | os.PathLike[str], model: Any, label_vectors: np.ndarray, meta: dict[str, Any]
) -> Path:
    """Write a run's weights (safetensors), label vectors and metadata, each atomically."""
    from safetensors.torch import save_file

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(run_dir / WEIGHTS, suffix=".safetensors") as tmp:
        save_file(state, str(tmp), metadata={"format": RUN_FORMAT, "model": str(meta["model"]["name"])})
    write_npy(run_dir / LABEL_VECTORS, np.asarray(label_vectors, dtype=np.float32))
    write_json(run_dir / META, {"format": RUN_FORMAT, "version": RUN_VERSION, **meta})
    return run_dir


def read_meta(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a run's ``meta.json``; the error names the file and what to do."""
    path = Path(run_dir) / META
    if not path.is_file():
        raise ActionLensError(f"{path} is missing; train the run again (actionlens train)")
    meta = read_json(path, "train the run again")
    if not isinstance(meta, dict) or meta.get("format") != RUN_FORMAT:
        raise ActionLensError(f"{path} is not an ActionLens run; check the run directory")
    if not isinstance(meta.get("version"), int) or meta["version"] > RUN_VERSION:
        raise ActionLensError(
            f"{path} has run format version {meta.get('version')}; upgrade ActionLens to read it"
        )
    check_meta(meta, path)
    return meta


#: Bounds on the sizes a ``meta.json`` may ask for: a damaged or hostile file must not make
#: ActionLens allocate hundreds of gigabytes before anything fails.
MAX_UNITS = 16_384
MAX_WORD_DIM = 4_096
MAX_INPUT_DIM = 65_536
MAX_CLASSES = 100_000
MAX_PARAMETERS = 500_000_000


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def check_meta(meta: dict[str, Any], path: Path) -> None:
    """Check the types of the ``meta.json`` fields that readers use, and bounds on its sizes.

    Checked once, where the file is read, so that no reader meets a wrong type deep inside:
    ``run_id``, ``status``, ``model.name``/``config``/``shape`` (input dimensions, ``word_dim``,
    ``num_classes``), every unit count in the config (keys ending in ``size``, ``sizes`` or
    ``hidden``: at most :data:`MAX_UNITS`), a parameter-count estimate (at most
    :data:`MAX_PARAMETERS`) and ``classes`` (ids and classifier rows).

    Raises
    ------
    ActionLensError
        One line naming ``path`` and the field, and what to do.
    """

    def bad(field: str, what: str) -> ActionLensError:
        return ActionLensError(f"{path}: {field} {what}; the run is damaged, train it again")

    for key in ("run_id", "status"):
        if key in meta and not isinstance(meta[key], str):
            raise bad(key, f"is {type(meta[key]).__name__}, not a string")
    model = meta.get("model")
    if model is None:
        return  # a run still training (meta written at the end) or a foreign reader's partial file
    if not isinstance(model, dict):
        raise bad("model", "is not an object")
    if not isinstance(model.get("name"), str):
        raise bad("model.name", f"is {model.get('name')!r}, not a model name")
    config = model.get("config", {})
    if not isinstance(config, dict):
        raise bad("model.config", "is not an object")
    shape = model.get("shape")
    if not isinstance(shape, dict):
        raise bad("model.shape", "is missing or not an object")
    dims = shape.get("input_dims")
    if not isinstance(dims, dict) or not dims:
        raise bad("model.shape.input_dims", "is missing or not a {stream: dimension} object")
    for stream, dim in dims.items():
        if not _is_int(dim) or not 1 <= dim <= MAX_INPUT_DIM:
            raise bad(f"model.shape.input_dims.{stream}", f"is {dim!r}, not a dimension in 1…{MAX_INPUT_DIM}")
    word_dim, num_classes = shape.get("word_dim"), shape.get("num_classes")
    if not _is_int(word_dim) or not 1 <= word_dim <= MAX_WORD_DIM:
        raise bad("model.shape.word_dim", f"is {word_dim!r}, not a dimension in 1…{MAX_WORD_DIM}")
    if not _is_int(num_classes) or not 0 <= num_classes <= MAX_CLASSES:
        raise bad("model.shape.num_classes", f"is {num_classes!r}, not a count in 0…{MAX_CLASSES}")
    units: list[int] = []
    for key, value in config.items():
        if not key.endswith(("size", "sizes", "hidden")):
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            if not _is_int(v) or not 1 <= v <= MAX_UNITS:
                raise bad(f"model.config.{key}", f"is {value!r}, not unit counts in 1…{MAX_UNITS}")
        units.extend(values)
    # Upper estimate: every layer as wide as the widest, each an LSTM (4 gates) over the inputs.
    widest = max(units, default=0)
    inputs = sum(dims.values())
    estimate = 4 * (inputs + widest + 1) * widest * max(len(units), 1) + (inputs + widest) * (
        word_dim + num_classes
    )
    if estimate > MAX_PARAMETERS:
        raise bad("model.config", f"asks for about {estimate:,} parameters (more than {MAX_PARAMETERS:,})")
    classes = meta.get("classes", [])
    if not isinstance(classes, list):
        raise bad("classes", "is not a list")
    for i, c in enumerate(classes):
        if not isinstance(c, dict) or not _is_int(c.get("id")):
            raise bad(f"classes[{i}]", "has no integer id")
        if c.get("train_index") is not None and not _is_int(c["train_index"]):
            raise bad(f"classes[{i}].train_index", f"is {c['train_index']!r}, not a row number")
    for key in ("features", "inputs", "word_vectors", "split", "zsl", "training", "metrics"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            raise bad(key, "is not an object")


def _read_label_vectors(path: Path, num_classes: int | None, word_dim: int) -> np.ndarray:
    """A run's ``label_vectors.npy``: numeric rows of ``word_dim`` numbers, one per class of its
    ``meta.json`` (where it lists them)."""
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ActionLensError(
            f"{path} is damaged or missing ({str(exc)[:120]}); train the run again"
        ) from exc
    rows = vectors.shape[0] if num_classes is None and vectors.ndim == 2 else num_classes
    if vectors.dtype.kind not in "fiu" or vectors.shape != (rows, word_dim):
        raise ActionLensError(
            f"{path} holds {vectors.dtype} {vectors.shape}, not {rows if rows is not None else 'N'} "
            f"class vectors of {word_dim} numbers as its meta.json says; train the run again"
        )
    return vectors.astype(np.float32, copy=False)


def update_metrics(run_dir: str | os.PathLike[str], name: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """Set ``meta["metrics"][name]`` and rewrite ``meta.json`` atomically; returns the new meta."""
    meta = read_meta(run_dir)
    meta.setdefault("metrics", {})[name] = metrics
    write_json(Path(run_dir) / META, meta)
    return meta


@dataclass
class Run:
    """A saved run, loaded from its directory."""

    run_dir: Path
    meta: dict[str, Any]
    model: Any
    label_vectors: np.ndarray
    #: The run's :class:`~desktop_app.training.inputs.InputTransform` (``None``: a run made
    #: before input transforms, which reads the store's reduced rows).
    input_transform: Any = None

    @property
    def run_id(self) -> str:
        return str(self.meta["run_id"])

    @property
    def streams(self) -> tuple[str, ...]:
        """Feature streams the model reads."""
        return tuple(self.model.streams)

    @property
    def max_len(self) -> int:
        """Longest feature sequence the model reads (longer ones are clipped)."""
        return int(self.meta["model"]["config"].get("max_len", 10**9))

    @property
    def class_ids(self) -> np.ndarray:
        """Catalog ids of every class, in ``label_vectors`` row order."""
        return np.array([int(c["id"]) for c in self.meta["classes"]], dtype=np.int64)

    @property
    def training_class_ids(self) -> np.ndarray:
        """Catalog ids of the training classes, in classifier-head order."""
        rows = sorted(
            (int(c["train_index"]), int(c["id"]))
            for c in self.meta["classes"]
            if c.get("train_index") is not None
        )
        return np.array([cid for _, cid in rows], dtype=np.int64)

    def label_vectors_of(self, class_ids: np.ndarray) -> np.ndarray:
        """Label vectors (unit rows) of the given catalog class ids."""
        row = {int(c): i for i, c in enumerate(self.class_ids)}
        return self.label_vectors[[row[int(c)] for c in class_ids]]

    @classmethod
    def load(cls, run_dir: str | os.PathLike[str]) -> Run:
        """Rebuild the model from ``meta.json`` alone and load its safetensors weights."""
        from safetensors.torch import load_file

        from desktop_app.models.registry import ModelShape, config_from_json, get_model_spec

        run_dir = Path(run_dir)
        meta = read_meta(run_dir)
        if meta.get("status") != "complete":
            raise ActionLensError(
                f"run {run_dir.name} did not finish training; resume it (actionlens train … --resume)"
            )
        from safetensors import SafetensorError

        meta_file = run_dir / META
        spec = get_model_spec(meta["model"]["name"])
        shape = ModelShape.from_json(meta["model"]["shape"])
        try:
            config = config_from_json(spec, meta["model"]["config"])
        except (TypeError, ValueError, ActionLensError) as exc:
            raise ActionLensError(
                f"{meta_file}: model.config does not fit model {spec.name!r} ({exc}); train the run again"
            ) from exc
        model = spec.build(config, shape)
        model.word_dim = shape.word_dim
        weights = run_dir / WEIGHTS
        if not weights.is_file():
            raise ActionLensError(f"{weights} is missing; train the run again")
        try:
            state = load_file(str(weights))
        except (SafetensorError, OSError, ValueError) as exc:
            raise ActionLensError(
                f"{weights} is damaged or not a safetensors file ({str(exc)[:120]}); train the run again"
            ) from exc
        try:
            adopt_buffer_shapes(model, state)
            model.load_state_dict(state)
        except (RuntimeError, OSError) as exc:
            raise ActionLensError(
                f"{weights} does not fit its meta.json ({str(exc)[:200]}); train the run again"
            ) from exc
        model.eval()
        label_vectors = _read_label_vectors(
            run_dir / LABEL_VECTORS, len(meta["classes"]) if "classes" in meta else None, shape.word_dim
        )
        transform = None
        if meta.get("inputs"):
            from desktop_app.training.inputs import InputTransform

            transform = InputTransform.load(run_dir, meta["inputs"])
        return cls(run_dir, meta, model, label_vectors, transform)

    def embed(
        self,
        source: Any,
        clip_ids: np.ndarray,
        batch_size: int = 64,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Embeddings ``(N, word_dim)`` float32 and classifier logits (or ``None``) of clips.

        ``source`` is any :class:`~desktop_app.training.data.SequenceSource` with the run's
        streams and dimensions (the workspace's feature store, or new clips in memory), read raw
        through the run's input transform — as in training — where the run has one.
        """
        import torch

        from desktop_app.training.data import SequenceCache
        from desktop_app.training.inputs import TransformedSource, raw_dim

        progress = progress or NullProgress()
        dims = dict(self.meta["model"]["shape"]["input_dims"])
        if self.input_transform is not None:
            dims = {s: self.input_transform.streams[s].input_dim for s in self.streams}

        def dim_of(stream: str) -> int:
            return raw_dim(source, stream) if self.input_transform is not None else int(source.dim(stream))

        for stream in self.streams:
            if stream not in source.streams or dim_of(stream) != dims[stream]:
                raise ActionLensError(
                    f"run {self.run_id} needs {stream!r} features of dimension {dims[stream]}; "
                    f"the feature store {getattr(source, 'name', '')!r} does not have them — "
                    f"use the store the run was trained on ({self.meta['features']['name']!r})"
                )
        if self.input_transform is not None:
            source = TransformedSource(source, self.input_transform)
        cache = SequenceCache(source, self.streams, self.max_len)
        embeddings, logits = [], []
        clip_ids = np.asarray(clip_ids, dtype=np.int64)
        # A model whose embedding is a gradient (seed 002's Fisher vectors) needs autograd here.
        with torch.inference_mode(not getattr(self.model, "grad_at_inference", False)):
            for start in range(0, len(clip_ids), batch_size):
                progress.check_cancelled()
                batch = cache.collate(clip_ids[start : start + batch_size])
                emb, lg = self.model(batch.features, batch.lengths)
                embeddings.append(emb.float().numpy())
                if lg is not None:
                    logits.append(lg.float().numpy())
                progress.set_progress(
                    min(1.0, (start + batch_size) / max(len(clip_ids), 1)), "embedding clips"
                )
        dim = int(self.meta["model"]["shape"]["word_dim"])
        out = np.concatenate(embeddings).astype(np.float32) if embeddings else np.zeros((0, dim), np.float32)
        return out, (np.concatenate(logits) if logits else None)


def prepare_run_dir(
    runs_dir: str | os.PathLike[str], run_id: str, resume: bool, overwrite: bool
) -> tuple[Run | None, bool]:
    """Make ``runs_dir/run_id`` ready for training; returns ``(finished run, resume)``.

    A complete run is returned as it is with ``resume`` (nothing to train), refused without
    ``overwrite``; a run directory without a checkpoint, or any with ``overwrite``, is removed.
    An interrupted run (a checkpoint, no ``overwrite``) continues from its checkpoint, as the
    interruption message says: the returned ``resume`` is then true.
    """
    import shutil

    run_dir = Path(runs_dir) / run_id
    if (run_dir / META).is_file():
        status = read_meta(run_dir).get("status")
        if status == "complete" and resume:
            return Run.load(run_dir), True
        if status == "complete" and not overwrite:
            raise ActionLensError(f"run {run_id} exists in {runs_dir}; pass --overwrite to train it again")
    if run_dir.exists() and not resume:
        if overwrite or not (run_dir / CHECKPOINT).is_file():
            shutil.rmtree(run_dir)
        else:
            resume = True
    return None, resume


def adopt_buffer_shapes(model: Any, state: dict[str, Any]) -> None:
    """Give every buffer of ``model`` the shape its tensor has in ``state``.

    Buffers hold what a model fitted to data (PCA components, an SVM's weights, a GMM's modes):
    their size may depend on the training clips (fewer clips than PCA dimensions, modes chosen
    on validation), so the config alone cannot say it. Parameters keep their shapes and must
    match (``load_state_dict`` checks them).
    """
    import torch

    for name, buffer in list(model.named_buffers()):
        stored = state.get(name)
        if isinstance(stored, torch.Tensor) and buffer is not None and stored.shape != buffer.shape:
            owner_name, _, leaf = name.rpartition(".")
            owner = model.get_submodule(owner_name) if owner_name else model
            owner._buffers[leaf] = torch.empty(stored.shape, dtype=buffer.dtype)


def list_runs(runs_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The metadata of every readable run under ``runs_dir``, by run id."""
    found = []
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    for run_dir in sorted(p for p in root.iterdir() if (p / META).is_file()):
        try:
            found.append(read_meta(run_dir))
        except ActionLensError:
            continue
    return found
