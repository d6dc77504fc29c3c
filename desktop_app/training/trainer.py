"""One trainer for every joint-embedding model of the registry.

* device: CUDA when present (``cuda:LOCAL_RANK`` under torchrun), else CPU; mixed precision
  (bfloat16 autocast, or float16 with a gradient scaler) on CUDA only;
* fixed seeds: the clip order of epoch ``e`` and the dropout masks depend only on
  ``(seed, e)``, so a resumed run continues exactly as an uninterrupted one;
* optimiser: Adam (seed 001) with seed 000's schedule as an option (the learning rate halves
  every ``lr_halve_every`` epochs; 0 keeps it constant); batch size 30 (both seeds);
* early stopping on a validation split taken from the training classes: the accuracy of
  assigning validation clips to the nearest training-class label vector by cosine; the weights
  of the best epoch are kept;
* a checkpoint ``{"model", "optimizer", "lr_scheduler", "epoch", "args", …}`` after every epoch,
  written with ``torch.save`` and read back with ``torch.load(weights_only=True)``;
* distributed data parallel under ``torchrun`` (NCCL on GPUs, gloo on CPUs), detected from the
  ``WORLD_SIZE`` environment variable. Every process walks the same global batches of
  ``batch_size`` clips and takes every ``world_size``-th clip of each; per-clip losses are summed
  and divided by the global batch size, so the averaged gradient equals one process's.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.atomic import atomic_path
from desktop_app.errors import ActionLensError
from desktop_app.models.base import TASK_RECOGNITION, StepInfo
from desktop_app.models.registry import ModelShape, config_to_json, get_model_spec
from desktop_app.progress import NullProgress, Progress
from desktop_app.training.data import SequenceCache, SequenceSource

CHECKPOINT_FORMAT = 1


@dataclass
class TrainConfig:
    """How a model is trained (a preset's ``"train"`` part overrides these defaults)."""

    epochs: int = 30
    #: Seed 000 §IV and seed 001: 30 clips per batch.
    batch_size: int = 30
    #: ``"adam"`` (seed 001) or ``"sgd"`` (momentum 0.9).
    optimizer: str = "adam"
    lr: float = 1e-3
    #: Halve the learning rate every this many epochs (seed 000: 15); 0 keeps it constant.
    lr_halve_every: int = 15
    weight_decay: float = 0.0
    #: Stop after this many epochs without a better validation accuracy; 0 never stops early.
    patience: int = 8
    #: Fraction of each training class's clips held out for validation (when the split has no
    #: validation clips of its own).
    val_fraction: float = 0.15
    seed: int = 0
    #: CPU threads per process; 0 lets torch decide (all cores, divided among local processes).
    num_threads: int = 0
    #: Mixed precision on CUDA (ignored on CPU).
    amp: bool = True
    #: Gradient-norm clipping (recurrent nets); 0 disables it.
    grad_clip: float = 5.0
    #: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
    device: str = "auto"
    #: Run-level input options, the same for every model (read by the run's input transform,
    #: :mod:`desktop_app.training.inputs`, fitted on the run's training clips only): at most this
    #: many PCA dimensions per stream (seeds 001/002: 500; 0: no PCA) …
    pca_dims: int = 500
    #: … and this factor on the unit-length rows (1: unit rows).
    input_scale: float = 1.0

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> TrainConfig:
        """From a dict, refusing unknown keys."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ActionLensError(
                f"unknown training setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return asdict(self)


def preset_settings(
    spec: Any,
    preset: str,
    seed: int,
    epochs: int | None = None,
    train_overrides: dict[str, Any] | None = None,
    model_overrides: dict[str, Any] | None = None,
) -> tuple[Any, TrainConfig]:
    """``(model config, TrainConfig)`` of ``preset`` of the registered ``spec`` with the overrides
    applied (``epochs``, when given, wins over the preset's and the overrides')."""
    model_config = spec.config(preset, **(model_overrides or {}))
    train_values = {**spec.preset_part(preset, "train"), **(train_overrides or {}), "seed": seed}
    if epochs is not None:
        train_values["epochs"] = epochs
    return model_config, TrainConfig.from_json(train_values)


@dataclass
class TrainingData:
    """The clips a model is trained and validated on.

    ``train_targets`` / ``val_targets`` index the rows of ``label_vectors`` (the training
    classes' label vectors, unit rows). ``task`` is ``"zsl"`` or ``"recognition"``.
    """

    source: SequenceSource
    train_clips: np.ndarray
    train_targets: np.ndarray
    val_clips: np.ndarray
    val_targets: np.ndarray
    label_vectors: np.ndarray
    task: str = TASK_RECOGNITION
    #: What a model that trains itself needs beyond clips and labels (seed 004: the paragraphs,
    #: added by :mod:`desktop_app.training.paragraphs`); empty otherwise.
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    """A trained model (best validation epoch's weights, on CPU, in eval mode) and its history."""

    model: Any
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_val_accuracy: float = 0.0
    epochs_run: int = 0
    stopped_early: bool = False
    train_clips_per_second: float = 0.0


@dataclass
class FitContext:
    """What a model that trains itself (``ModelSpec.fit == "custom"``) is given.

    ``fit_run(context)`` trains on ``data`` (read through ``cache``), writes ``checkpoint_path``
    if it wants to be resumable (``resume``: continue from it), reports to ``progress`` (and
    calls ``progress.check_cancelled()`` between batches) and returns a :class:`TrainResult`
    with ``model`` set to itself, on CPU, in eval mode. ``args`` is what a checkpoint should
    store to be recognised (model name, config, shape, training settings, task).
    """

    cache: SequenceCache
    data: TrainingData
    config: TrainConfig
    device: Any
    distributed: DistributedContext
    checkpoint_path: Path | None
    resume: bool
    progress: Progress
    args: dict[str, Any]


@dataclass(frozen=True)
class DistributedContext:
    """Rank and world size of this process (``world_size == 1`` when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def distributed_context() -> DistributedContext:
    """Read torchrun's environment and join the process group (NCCL on CUDA, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistributedContext()
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return DistributedContext(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
        local_world_size=int(os.environ.get("LOCAL_WORLD_SIZE", str(world))),
    )


def choose_device(config: TrainConfig, ctx: DistributedContext) -> Any:
    """CUDA (this process's local GPU) when present and allowed, else CPU."""
    import torch

    if config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ActionLensError("--device cuda was asked for but torch sees no CUDA GPU; use --device auto")
    torch.cuda.set_device(ctx.local_rank)
    return torch.device("cuda", ctx.local_rank)


def nearest_label_accuracy(embeddings: np.ndarray, targets: np.ndarray, label_vectors: np.ndarray) -> float:
    """Fraction of clips whose embedding is nearest (cosine) to their own class's label vector."""
    if len(targets) == 0:
        return 0.0
    emb = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    labels = label_vectors / np.maximum(np.linalg.norm(label_vectors, axis=1, keepdims=True), 1e-12)
    return float(np.mean(np.argmax(emb @ labels.T, axis=1) == targets))


def predict(
    model: Any, cache: SequenceCache, clip_ids: np.ndarray, batch_size: int = 64, device: Any = "cpu"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Embeddings ``(N, D)`` (and classifier logits ``(N, C)`` or ``None``) of clips, in eval mode."""
    import torch

    was_training = model.training
    model.eval()
    embeddings, logits = [], []
    with torch.inference_mode(not getattr(model, "grad_at_inference", False)):
        for batch in cache.batches(clip_ids, batch_size):
            batch = batch.to(device)
            emb, lg = model(batch.features, batch.lengths)
            embeddings.append(emb.float().cpu().numpy())
            if lg is not None:
                logits.append(lg.float().cpu().numpy())
    model.train(was_training)
    word_dim = int(getattr(model, "word_dim", 0))
    out = np.concatenate(embeddings) if embeddings else np.zeros((0, word_dim), np.float32)
    return out.astype(np.float32), (np.concatenate(logits) if logits else None)


def _global_batches(n: int, batch_size: int, seed: int, epoch: int, world: int) -> Iterator[np.ndarray]:
    order = np.random.default_rng([seed, epoch]).permutation(n)
    for start in range(0, n, batch_size):
        chunk = order[start : start + batch_size]
        if len(chunk) < world:  # every process must take part in every step
            return
        yield chunk


def _num_global_batches(n: int, batch_size: int, world: int) -> int:
    full, rest = divmod(n, batch_size)
    return full + (1 if rest >= world and rest > 0 else 0)


def train_model(
    model_name: str,
    model_config: Any,
    shape: ModelShape,
    data: TrainingData,
    config: TrainConfig,
    *,
    checkpoint_path: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    custom_fit: Callable[[Any, FitContext], TrainResult] | None = None,
) -> TrainResult:
    """Train the registered model ``model_name`` on ``data``.

    Parameters
    ----------
    model_name, model_config, shape
        What to build (see :mod:`desktop_app.models.registry`).
    data
        Training and validation clips, targets and the training classes' label vectors.
    config
        Optimiser, schedule, seeds, early stopping, device.
    checkpoint_path
        Where to write a checkpoint after every epoch (only the main process writes).
    resume
        Continue from ``checkpoint_path`` if it exists (its model and settings must match).
    progress
        Receives ``epoch k/N loss … val acc …``; cancelling stops after the current batch.
    custom_fit
        For a ``fit="custom"`` model: ``custom_fit(model, context)`` trains it instead of its
        ``fit_run`` method (the training layer's own loop for a model module that must not import
        the training layer, e.g. seed 004's paragraphs).

    Returns
    -------
    TrainResult
        With the best validation epoch's weights.
    """
    import torch

    progress = progress or NullProgress()
    spec = get_model_spec(model_name)
    ctx = distributed_context()
    if config.num_threads > 0:
        torch.set_num_threads(config.num_threads)
    elif ctx.local_world_size > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // ctx.local_world_size))
    device = choose_device(config, ctx)
    torch.manual_seed(config.seed)
    model = spec.build(model_config, shape)
    model.word_dim = shape.word_dim
    model.to(device)
    streams = model.streams
    cache = SequenceCache(data.source, streams, getattr(model_config, "max_len", 10**9))
    label_vectors = torch.as_tensor(np.asarray(data.label_vectors, np.float32), device=device)
    args = {
        "model": model_name,
        "config": config_to_json(model_config),
        "shape": shape.to_json(),
        "train": config.to_json(),
        "task": data.task,
    }

    if spec.fit == "closed-form":
        return _fit_closed_form(model, cache, data, config, args, checkpoint_path, ctx, progress)
    if spec.fit == "custom":
        context = FitContext(
            cache,
            data,
            config,
            device,
            ctx,
            None if checkpoint_path is None else Path(checkpoint_path),
            resume,
            progress,
            args,
        )
        if custom_fit is not None:
            return custom_fit(model, context)
        if not hasattr(model, "fit_run"):
            raise ActionLensError(
                f"model {model_name!r} is trained by its own workflow; use actionlens train --model {model_name}"
            )
        result: TrainResult = model.fit_run(context)
        return result

    if config.optimizer == "adam":
        optimizer: Any = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    elif config.optimizer == "sgd":
        optimizer = torch.optim.SGD(
            model.parameters(), lr=config.lr, momentum=0.9, weight_decay=config.weight_decay
        )
    else:
        raise ActionLensError(f"unknown optimizer {config.optimizer!r}; use adam or sgd")
    step_size = config.lr_halve_every if config.lr_halve_every > 0 else 10**9
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=0.5)

    history: list[dict[str, float]] = []
    best_state: dict[str, Any] | None = None
    best_val, best_epoch, bad_epochs, start_epoch = -1.0, -1, 0, 0
    if resume and checkpoint_path is not None and Path(checkpoint_path).is_file():
        state = load_checkpoint(checkpoint_path, args)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["lr_scheduler"])
        start_epoch = int(state["epoch"]) + 1
        best_state = state.get("best_model")
        stopping = state.get("early_stopping", {})
        best_val = float(stopping.get("best_val_accuracy", -1.0))
        best_epoch = int(stopping.get("best_epoch", -1))
        bad_epochs = int(stopping.get("bad_epochs", 0))
        history = list(state.get("history", []))

    use_amp = device.type == "cuda" and config.amp
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    train_module: Any = model
    if ctx.world_size > 1:
        from torch.nn.parallel import DistributedDataParallel

        train_module = DistributedDataParallel(
            model,
            device_ids=[device.index] if device.type == "cuda" else None,
            # the classifier head gets no gradient when the loss leaves it out ("cosine" ablation)
            find_unused_parameters=getattr(model_config, "loss", "") == "cosine",
        )

    n_train = len(data.train_clips)
    if n_train == 0:
        raise ActionLensError("no training clips have features; extract features first (actionlens features)")
    batches_per_epoch = max(1, _num_global_batches(n_train, config.batch_size, ctx.world_size))
    stopped_early = False
    seen_clips, train_seconds = 0, 0.0
    epoch = start_epoch - 1
    for epoch in range(start_epoch, config.epochs):
        if bad_epochs >= config.patience > 0:
            stopped_early = True
            break
        torch.manual_seed(config.seed * 100_003 + epoch * 1009 + ctx.rank)
        model.train()
        started = time.perf_counter()
        loss_sum, loss_count = 0.0, 0
        for i, chunk in enumerate(
            _global_batches(n_train, config.batch_size, config.seed, epoch, ctx.world_size)
        ):
            progress.check_cancelled()
            mine = chunk[ctx.rank :: ctx.world_size]
            batch = cache.collate(data.train_clips[mine], data.train_targets[mine]).to(device)
            step = StepInfo(epoch=epoch, epoch_fraction=i / batches_per_epoch, task=data.task)
            autocast = torch.autocast(device.type, dtype=amp_dtype) if use_amp else contextlib.nullcontext()
            with autocast:
                embedding, logits = train_module(batch.features, batch.lengths)
            per_clip = model.loss(
                embedding.float(),
                None if logits is None else logits.float(),
                batch.targets,
                label_vectors,
                step,
            )
            loss = per_clip.sum() * (ctx.world_size / len(chunk))
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if config.grad_clip > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            loss_sum += float(per_clip.detach().sum())
            loss_count += len(mine)
            seen_clips += len(mine)
            progress.set_progress(
                (epoch + (i + 1) / batches_per_epoch) / config.epochs,
                f"epoch {epoch + 1}/{config.epochs} loss {loss_sum / max(loss_count, 1):.3f}",
            )
        train_seconds += time.perf_counter() - started
        scheduler.step()
        val_embeddings, _ = predict(model, cache, data.val_clips, device=device)
        val_accuracy = nearest_label_accuracy(
            val_embeddings, data.val_targets, np.asarray(data.label_vectors)
        )
        record = {
            "epoch": float(epoch),
            "loss": loss_sum / max(loss_count, 1),
            "val_accuracy": val_accuracy,
            "lr": float(optimizer.param_groups[0]["lr"]),
        }
        history.append(record)
        if val_accuracy > best_val:
            best_val, best_epoch, bad_epochs = val_accuracy, epoch, 0
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            bad_epochs += 1
        progress.set_progress(
            (epoch + 1) / config.epochs,
            f"epoch {epoch + 1}/{config.epochs} loss {record['loss']:.3f} val acc {val_accuracy:.1%}",
        )
        if checkpoint_path is not None and ctx.is_main:
            save_checkpoint(
                checkpoint_path,
                {
                    "format": CHECKPOINT_FORMAT,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "lr_scheduler": scheduler.state_dict(),
                    "epoch": epoch,
                    "args": args,
                    "best_model": best_state,
                    "early_stopping": {
                        "best_val_accuracy": best_val,
                        "best_epoch": best_epoch,
                        "bad_epochs": bad_epochs,
                    },
                    "history": history,
                },
            )
    if ctx.world_size > 1:
        import torch.distributed as dist

        dist.barrier()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.to("cpu").eval()
    return TrainResult(
        model=model,
        history=history,
        best_epoch=best_epoch,
        best_val_accuracy=max(best_val, 0.0),
        epochs_run=epoch + 1,
        stopped_early=stopped_early,
        train_clips_per_second=seen_clips * ctx.world_size / train_seconds if train_seconds > 0 else math.nan,
    )


def load_checkpoint(path: str | os.PathLike[str], args: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a checkpoint with ``torch.load(weights_only=True)`` (nothing in it is unpickled as
    code); a damaged or foreign file is one line naming it, never a hint to unpickle it.

    With ``args`` (what the run being resumed stores: its ``"model"`` and ``"config"``), a
    checkpoint of another model or configuration is refused in one line too.
    """
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, AttributeError) as exc:
        raise ActionLensError(
            f"{path} is damaged or not a checkpoint of ours ({type(exc).__name__}); delete it, or "
            "train without --resume (with --overwrite) to start again"
        ) from None
    required = ("model", "optimizer", "lr_scheduler", "epoch", "args")
    if not isinstance(state, dict) or any(k not in state for k in required):
        raise ActionLensError(
            f"{path} is not a checkpoint of ours (it lacks {', '.join(required)}); delete it, or "
            "train without --resume (with --overwrite) to start again"
        )
    saved = state.get("args", {})
    if args is not None and (
        not isinstance(saved, dict)
        or saved.get("model") != args["model"]
        or saved.get("config") != args["config"]
    ):
        raise ActionLensError(
            f"{path} is a checkpoint of another model or configuration; "
            "train without --resume (with --overwrite) to start again"
        )
    return state


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Write a checkpoint atomically with ``torch.save`` (tensors, dicts, lists, numbers, strings)."""
    import torch

    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def _fit_closed_form(
    model: Any,
    cache: SequenceCache,
    data: TrainingData,
    config: TrainConfig,
    args: dict[str, Any],
    checkpoint_path: str | os.PathLike[str] | None,
    ctx: DistributedContext,
    progress: Progress,
) -> TrainResult:
    """Fit a closed-form model (``fit(pooled, targets, label_vectors, val_pooled, val_targets)``).

    Every process solves the same problem on all the data (it is cheap); only the main one writes.
    """
    import torch

    model.to("cpu").eval()
    started = time.perf_counter()

    def pooled(clip_ids: np.ndarray) -> np.ndarray:
        rows = []
        with torch.inference_mode():
            for i, batch in enumerate(cache.batches(clip_ids, 256)):
                progress.check_cancelled()
                rows.append(model.pool(batch.features, batch.lengths).numpy())
                progress.set_progress(min(0.9, (i + 1) * 256 / max(len(clip_ids), 1)), "pooling features")
        return np.concatenate(rows) if rows else np.zeros((0, 1), np.float32)

    train_x = pooled(data.train_clips)
    val_x = pooled(data.val_clips) if len(data.val_clips) else np.zeros((0, train_x.shape[1]), np.float32)
    fitted = model.fit(train_x, data.train_targets, np.asarray(data.label_vectors), val_x, data.val_targets)
    seconds = time.perf_counter() - started
    record = {
        "epoch": 0.0,
        "loss": float("nan"),
        "val_accuracy": fitted["val_accuracy"],
        "alpha": fitted["alpha"],
    }
    if checkpoint_path is not None and ctx.is_main:
        save_checkpoint(
            checkpoint_path,
            {
                "format": CHECKPOINT_FORMAT,
                "model": model.state_dict(),
                "optimizer": {},
                "lr_scheduler": {},
                "epoch": 0,
                "args": args,
                "best_model": model.state_dict(),
                "early_stopping": {
                    "best_val_accuracy": fitted["val_accuracy"],
                    "best_epoch": 0,
                    "bad_epochs": 0,
                },
                "history": [record],
            },
        )
    progress.set_progress(1.0, f"ridge α={fitted['alpha']:g} val acc {fitted['val_accuracy']:.1%}")
    return TrainResult(
        model=model,
        history=[record],
        best_epoch=0,
        best_val_accuracy=fitted["val_accuracy"],
        epochs_run=1,
        train_clips_per_second=len(data.train_clips) / seconds if seconds > 0 else math.nan,
    )
