"""Seed 003's motion CNN: a 2D CNN trained from scratch on stacked optical flow, as a frame encoder.

Seed 003 §III.B / §IV.C (after Simonyan & Zisserman's temporal stream, its reference [1]): the
optical flow between consecutive frames is computed, ``L`` flow fields are stacked into a
``W × H × 2L`` input (x and y displacement of each field as two channels), and a CNN

    conv1 (7×7×96, stride 2, pool 3×3, norm) → conv2 (5×5×256, stride 2, pool 3×3) →
    conv3 (3×3×512) → conv4 (3×3×512) → conv5 (3×3×512, pool 3×3) →
    full6 (4096, dropout) → full7 (2048, dropout) → softmax

is trained from scratch (Adam, default parameters, §IV.D) to classify the stacks; full7's
activations are the motion stream's per-step embedding. Local response normalisation is replaced
by batch normalisation, as the seed does; we put it after every conv layer (see
``docs/motion_cnn.md``).

Here the flow fields are the ones the handcrafted extractor already computes (OpenCV DIS or
Farneback between consecutive *sampled* frames, at the working width), resized to the CNN's
input size; time step ``t``'s stack is the ``L`` fields centred on it, ``t − L/2 … t + L/2 − 1``
(field ``t`` is the flow ``t → t+1``, the one handcrafted motion step ``t`` describes), with zero
fields outside the clip. So the learned motion stream sits on the same sampling grid, fixed or
adaptive, as the handcrafted streams, and a store made with it is used like any other.

A trained CNN is a file pair in the workspace, ``WS/extractors/motion-cnn/<name>.safetensors``
(weights) and ``<name>.json`` (format, preset, sizes, flow settings, the classes of its softmax,
the clips it was fitted on and the ones it validated on, the weights' SHA-256): a table can check
that the CNN behind a feature store never saw the clips it reports on
(:func:`cnn_training_clips`, :func:`check_not_fitted_on`).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from desktop_app.atomic import atomic_path, read_json, write_json
from desktop_app.errors import ActionLensError
from desktop_app.features.decode import SampledClip, Sampling, sample_clip
from desktop_app.features.encoders import EncodedClip, HandcraftedEncoder, log_mel_sequence
from desktop_app.progress import NullProgress, Progress

if TYPE_CHECKING:
    from desktop_app.workspace import Workspace

#: The extractor name (``actionlens extract --extractor motion-cnn``).
EXTRACTOR_NAME = "motion-cnn"
FORMAT_NAME = "actionlens-motion-cnn"
#: The file format this code writes and reads.
FORMAT_VERSION = 1
#: Where trained CNNs live inside a workspace.
CNN_SUBDIR = Path("extractors") / "motion-cnn"
TRAIN_HINT = "train one with: actionlens train-motion-cnn --workspace WS --split 1 --preset small"


@dataclass(frozen=True)
class MotionCNNConfig:
    """Sizes of the motion CNN and how it is trained (a preset, see :data:`PRESETS`).

    Attributes
    ----------
    input_size
        Side of the square input: each flow field is resized to ``input_size²``.
    stack
        ``L``, flow fields per stack (seed 003 / [1]: 10, so 20 input channels).
    channels
        Filters of conv1 … conv5 (seed: 96, 256, 512, 512, 512).
    fc
        Units of full6 and full7 (seed: 4096, 2048); full7 is the embedding.
    dropout
        Dropout after full6 and full7.
    epochs, batch_size, learning_rate, weight_decay
        Adam from scratch (seed §IV.D: default Adam parameters, batch 32).
    stacks_per_clip
        Random stacks drawn from each training clip per epoch.
    patience
        Stop when validation accuracy has not improved for this many epochs (seed: 10).
    val_fraction
        Share of each training class held out (from the training clips) to choose the epoch.
    subtract_mean
        Subtract each flow field's mean displacement (camera motion; [1] §3.1).
    """

    input_size: int = 64
    stack: int = 10
    channels: tuple[int, int, int, int, int] = (32, 64, 96, 96, 96)
    fc: tuple[int, int] = (256, 128)
    dropout: float = 0.3
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    stacks_per_clip: int = 8
    patience: int = 6
    val_fraction: float = 0.15
    subtract_mean: bool = True

    def to_json(self) -> dict[str, Any]:
        """The config as a JSON-able dict."""
        return {**asdict(self), "channels": list(self.channels), "fc": list(self.fc)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MotionCNNConfig:
        """The config recorded by :meth:`to_json` (unknown keys are an error)."""
        values = dict(data)
        values["channels"] = tuple(int(c) for c in values["channels"])
        values["fc"] = tuple(int(c) for c in values["fc"])
        if len(values["channels"]) != 5 or len(values["fc"]) != 2:
            raise ValueError("channels needs 5 numbers and fc 2")
        return cls(**values)


#: ``small`` trains on 2 CPU cores in minutes on the demo; ``paper`` has the seed's sizes
#: (224 × 224 input, 96-256-512-512-512 filters, 4096 / 2048 units) and wants a GPU.
PRESETS: dict[str, MotionCNNConfig] = {
    "small": MotionCNNConfig(),
    "paper": MotionCNNConfig(
        input_size=224,
        channels=(96, 256, 512, 512, 512),
        fc=(4096, 2048),
        dropout=0.5,
        epochs=60,
        patience=10,
    ),
}


def get_preset(preset: str) -> MotionCNNConfig:
    """The config of a named preset (``small`` or ``paper``)."""
    if preset not in PRESETS:
        raise ActionLensError(f"unknown motion CNN preset {preset!r}; use one of {', '.join(PRESETS)}")
    return PRESETS[preset]


@dataclass(frozen=True)
class FlowSettings:
    """How the flow fields a CNN sees are made (recorded with it; extraction must match ``method``)."""

    method: str = "dis"
    fps: float = 10.0
    work_width: int = 160

    def sampling(self) -> Sampling:
        """Fixed-rate sampling at ``fps`` (the grid the CNN is trained on)."""
        return Sampling(fps=self.fps, work_width=self.work_width)


# ------------------------------------------------------------------------------- flow stacks
def resize_flows(flows: list[np.ndarray], size: int, subtract_mean: bool = True) -> np.ndarray:
    """Flow fields ``(H, W, 2)`` resized to ``(N, 2, size, size)`` float32, in input pixels.

    Displacements are rescaled with the image (x by ``size / W``, y by ``size / H``), so a field
    still says how far a point moves in the resized frame; with ``subtract_mean`` each field's
    mean displacement (a global, camera-like motion) is removed, as in [1] §3.1.
    """
    import cv2

    if not flows:
        return np.zeros((0, 2, size, size), np.float32)
    h, w = flows[0].shape[:2]
    scale = np.array([size / w, size / h], np.float32)
    out = np.empty((len(flows), 2, size, size), np.float32)
    for i, flow in enumerate(flows):
        small = cv2.resize(flow, (size, size), interpolation=cv2.INTER_AREA) * scale
        if subtract_mean:
            small -= small.reshape(-1, 2).mean(axis=0)
        out[i] = small.transpose(2, 0, 1)
    return out


def stack_indices(n_steps: int, n_flows: int, stack: int, steps: np.ndarray | None = None) -> np.ndarray:
    """Which flow field fills each slot of each step's stack: ``(len(steps), stack)``, −1 outside.

    Step ``t``'s stack holds fields ``t − stack // 2 … t + stack − stack // 2 − 1``; a field
    index outside ``0 … n_flows − 1`` (before the clip starts or after it ends) is −1.
    """
    t = np.arange(n_steps) if steps is None else np.asarray(steps, np.int64)
    idx = t[:, None] + np.arange(stack)[None, :] - stack // 2
    return np.where((idx >= 0) & (idx < n_flows), idx, -1)


def stack_flows(fields: np.ndarray, n_steps: int, stack: int, steps: np.ndarray | None = None) -> np.ndarray:
    """Stacked optical flow of each step: ``(len(steps), 2 · stack, S, S)`` float32.

    Channels ``2k`` and ``2k + 1`` are the x and y displacement of slot ``k``'s field
    (:func:`stack_indices`; [1]'s ordering); slots outside the clip are zero (no motion known).

    Parameters
    ----------
    fields
        ``(n_flows, 2, S, S)`` resized flow fields of one clip (:func:`resize_flows`).
    n_steps
        The clip's number of time steps (``n_flows + 1`` for a fixed grid).
    stack
        ``L``, fields per stack.
    steps
        Only these steps (default: every step).
    """
    n_flows, _, height, width = fields.shape
    idx = stack_indices(n_steps, n_flows, stack, steps)
    padded = np.concatenate([fields, np.zeros((1, 2, height, width), fields.dtype)])
    gathered = padded[np.where(idx < 0, n_flows, idx)]  # (T, L, 2, S, S)
    return gathered.reshape(len(idx), 2 * stack, height, width).astype(np.float32, copy=False)


def sampled_flows(path: Path, sampling: Sampling, method: str) -> tuple[SampledClip, list[np.ndarray]]:
    """The sampled clip and the flow fields between its consecutive frames (the handcrafted
    extractor's own, ``encoders._handcrafted_sequences``)."""
    import cv2

    from desktop_app.features.flow import OpticalFlow

    clip = sample_clip(path, sampling, method)
    grays = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in clip.frames]
    flow = OpticalFlow(method)
    return clip, [flow(grays[t], grays[t + 1]) for t in range(len(grays) - 1)]


# ------------------------------------------------------------------------------------- model
def _conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


class MotionCNN(nn.Module):
    """Seed 003 §IV.C's motion CNN: 5 conv layers (batch norm, no LRN) + full6 + full7 + softmax.

    ``features(x)`` is full7's activation (the embedding), ``forward(x)`` the class logits.

    Parameters
    ----------
    config
        Sizes (:class:`MotionCNNConfig`).
    num_classes
        Classes of the softmax (the training classes).
    """

    def __init__(self, config: MotionCNNConfig, num_classes: int) -> None:
        super().__init__()
        self.config = config
        c1, c2, c3, c4, c5 = config.channels
        f6, f7 = config.fc

        def conv(cin: int, cout: int, kernel: int, stride: int) -> list[nn.Module]:
            return [
                nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ]

        def pool() -> nn.Module:
            return nn.MaxPool2d(3, stride=2, padding=1)

        self.conv = nn.Sequential(
            *conv(2 * config.stack, c1, 7, 2),
            pool(),
            *conv(c1, c2, 5, 2),
            pool(),
            *conv(c2, c3, 3, 1),
            *conv(c3, c4, 3, 1),
            *conv(c4, c5, 3, 1),
            pool(),
        )
        side = config.input_size
        for kernel, stride, padding in ((7, 2, 3), (3, 2, 1), (5, 2, 2), (3, 2, 1), (3, 2, 1)):
            side = _conv_out(side, kernel, stride, padding)
        if side < 1:
            raise ActionLensError(f"motion CNN input size {config.input_size} is too small; use 32 or more")
        self.full = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c5 * side * side, f6),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
            nn.Linear(f6, f7),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
        )
        self.classifier = nn.Linear(f7, num_classes)

    @property
    def embedding_dim(self) -> int:
        """Width of full7, the motion stream's dimension."""
        return int(self.config.fc[1])

    def features(self, stacks: torch.Tensor) -> torch.Tensor:
        """full7 activations ``(B, fc[1])`` of flow stacks ``(B, 2L, S, S)``."""
        return self.full(self.conv(stacks))

    def forward(self, stacks: torch.Tensor) -> torch.Tensor:
        """Class logits ``(B, num_classes)`` (softmax over the training classes)."""
        return self.classifier(self.features(stacks))


# ------------------------------------------------------------------------------- flow sets
@dataclass
class FlowSet:
    """Resized flow fields of many clips, in columns: clip ``i``'s fields are
    ``fields[starts[i] : starts[i] + counts[i]]`` and it has ``steps[i]`` time steps."""

    clip_ids: np.ndarray
    fields: np.ndarray  # (total, 2, S, S) float16
    starts: np.ndarray
    counts: np.ndarray
    steps: np.ndarray
    failed: dict[int, str] = field(default_factory=dict)  # clip id -> why it has no flow

    def clip_stacks(self, row: int, stack: int, steps: np.ndarray | None = None) -> np.ndarray:
        """Stacks of clip ``row`` (:func:`stack_flows`), float32."""
        start, count = int(self.starts[row]), int(self.counts[row])
        return stack_flows(self.fields[start : start + count], int(self.steps[row]), stack, steps)

    def rows_of(self, clip_ids: np.ndarray) -> np.ndarray:
        """Row of each given clip id (each must be in the set)."""
        where = {int(c): i for i, c in enumerate(self.clip_ids)}
        return np.array([where[int(c)] for c in clip_ids], dtype=np.int64)


def _flow_job(path: str, flow: dict[str, Any], size: int, subtract_mean: bool) -> tuple[str, Any, int]:
    """One clip's resized flow fields (float16) and step count, or ``("bad", reason, 0)``."""
    import cv2

    from desktop_app.data.video import VideoError

    settings = FlowSettings(**flow)
    try:
        clip, flows = sampled_flows(Path(path), settings.sampling(), settings.method)
    except VideoError as err:
        return "bad", err.reason, 0
    except (cv2.error, OSError, MemoryError) as err:
        return "bad", f"decoding failed ({type(err).__name__})", 0
    return "ok", resize_flows(flows, size, subtract_mean).astype(np.float16), len(clip.frames)


def _init_flow_worker() -> None:
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def compute_flow_set(
    ws: Workspace,
    clip_ids: np.ndarray,
    flow: FlowSettings,
    size: int,
    subtract_mean: bool = True,
    progress: Progress | None = None,
    workers: int | None = None,
) -> FlowSet:
    """Decode the given clips, compute their flow fields and resize them (a process pool).

    Clips that cannot be decoded, or that have a single frame (no flow), are left out and listed
    in :attr:`FlowSet.failed`. Cancellable through ``progress``.
    """
    progress = progress or NullProgress()
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    paths = {c.id: str(ws.clip_path(c.path)) for c in ws.catalog.iter_clips()}
    ids = [int(c) for c in clip_ids]
    missing = [c for c in ids if c not in paths]
    if missing:
        raise ActionLensError(f"clip ids {missing[:5]} are not in {ws.root}'s catalog; check the clip list")
    results: dict[int, tuple[str, Any, int]] = {}
    flow_json = asdict(flow)
    started = time.perf_counter()

    def note(n: int) -> None:
        rate = n / max(time.perf_counter() - started, 1e-9)
        progress.set_progress(n / max(len(ids), 1), f"optical flow {n}/{len(ids)} clips, {rate:.1f} clips/s")

    if workers == 1 or len(ids) <= 1:
        for n, clip_id in enumerate(ids, start=1):
            progress.check_cancelled()
            results[clip_id] = _flow_job(paths[clip_id], flow_json, size, subtract_mean)
            note(n)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_flow_worker) as pool:
            futures = {c: pool.submit(_flow_job, paths[c], flow_json, size, subtract_mean) for c in ids}
            try:
                for n, clip_id in enumerate(ids, start=1):
                    while True:
                        progress.check_cancelled()
                        try:
                            results[clip_id] = futures[clip_id].result(timeout=0.5)
                            break
                        except TimeoutError:
                            continue
                    note(n)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    kept, arrays, steps, failed = [], [], [], {}
    for clip_id in ids:
        status, payload, n_steps = results[clip_id]
        if status != "ok":
            failed[clip_id] = str(payload)
        elif len(payload) == 0:
            failed[clip_id] = "a single sampled frame: no optical flow"
        else:
            kept.append(clip_id)
            arrays.append(payload)
            steps.append(n_steps)
    counts = np.array([len(a) for a in arrays], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else counts
    fields = np.concatenate(arrays) if arrays else np.zeros((0, 2, size, size), np.float16)
    return FlowSet(np.array(kept, np.int64), fields, starts, counts, np.array(steps, np.int64), failed)


# ---------------------------------------------------------------------------------- training
@dataclass
class FitResult:
    """What :func:`fit_motion_cnn` made: the model (best validation epoch) and its history."""

    model: MotionCNN
    history: list[dict[str, float]]
    best_epoch: int
    best_val_accuracy: float
    seconds: float


def _stack_batch(flows: FlowSet, rows: np.ndarray, centres: np.ndarray, stack: int) -> torch.Tensor:
    return torch.from_numpy(
        np.concatenate(
            [flows.clip_stacks(int(r), stack, np.array([int(c)])) for r, c in zip(rows, centres, strict=True)]
        )
    )


def clip_scores(
    model: MotionCNN, flows: FlowSet, rows: np.ndarray, device: torch.device, per_clip: int = 5
) -> np.ndarray:
    """Mean softmax over ``per_clip`` evenly spaced stacks of each clip: ``(len(rows), classes)``."""
    model.eval()
    out = []
    with torch.inference_mode():
        for row in rows:
            n = int(flows.steps[row])
            centres = np.unique(np.linspace(0, n - 1, per_clip).round().astype(np.int64))
            x = torch.from_numpy(flows.clip_stacks(int(row), model.config.stack, centres)).to(device)
            out.append(torch.softmax(model(x), dim=1).mean(0).cpu().numpy())
    return np.asarray(out, np.float32)


def fit_motion_cnn(
    flows: FlowSet,
    labels: np.ndarray,
    num_classes: int,
    config: MotionCNNConfig,
    fit_rows: np.ndarray,
    val_rows: np.ndarray,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: Progress | None = None,
) -> FitResult:
    """Train a :class:`MotionCNN` from scratch on random flow stacks of the ``fit_rows`` clips.

    Adam (seed 003 §IV.D) on the cross-entropy of the softmax over ``num_classes``; each epoch
    draws ``config.stacks_per_clip`` random steps of every fitting clip. After each epoch the
    clip accuracy on ``val_rows`` (clips held out from the training clips) is measured; the
    weights of the best epoch are kept and training stops after ``config.patience`` epochs
    without improvement (the seed stops after 10 epochs without a lower validation loss).

    Parameters
    ----------
    flows
        Flow fields of (at least) the fitting and validation clips.
    labels
        Class index ``0 … num_classes − 1`` of each row of ``flows``.
    """
    progress = progress or NullProgress()
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(seed)
    rng = np.random.default_rng([seed, 31])
    model = MotionCNN(config, num_classes).to(device)
    optimiser = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    loss_fn = nn.CrossEntropyLoss()
    fit_rows = np.asarray(fit_rows, np.int64)
    val_rows = np.asarray(val_rows, np.int64)
    history: list[dict[str, float]] = []
    best_state: dict[str, torch.Tensor] | None = None
    best_acc, best_epoch, since_best = -1.0, 0, 0
    started = time.perf_counter()
    samples = np.repeat(fit_rows, config.stacks_per_clip)
    n_batches = max(1, -(-len(samples) // config.batch_size))
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = rng.permutation(len(samples))
        rows = samples[order]
        centres = (rng.random(len(rows)) * flows.steps[rows]).astype(np.int64)
        total, seen = 0.0, 0
        for b in range(n_batches):
            progress.check_cancelled()
            part = slice(b * config.batch_size, (b + 1) * config.batch_size)
            if len(rows[part]) < 2:  # batch norm needs two samples
                continue
            x = _stack_batch(flows, rows[part], centres[part], config.stack).to(device)
            y = torch.from_numpy(labels[rows[part]]).to(device)
            loss = loss_fn(model(x), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(y)
            seen += len(y)
            progress.set_progress(
                ((epoch - 1) + (b + 1) / n_batches) / config.epochs,
                f"epoch {epoch}/{config.epochs}, loss {total / max(seen, 1):.3f}",
            )
        val_acc = float("nan")
        if len(val_rows):
            predicted = clip_scores(model, flows, val_rows, device).argmax(axis=1)
            val_acc = float(np.mean(predicted == labels[val_rows]))
        history.append({"epoch": epoch, "loss": total / max(seen, 1), "val_accuracy": val_acc})
        better = not len(val_rows) or val_acc > best_acc
        if better:
            best_acc, best_epoch, since_best = (val_acc if len(val_rows) else float("nan")), epoch, 0
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            since_best += 1
            if since_best >= config.patience:
                break
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    return FitResult(model.cpu(), history, best_epoch, best_acc, time.perf_counter() - started)


# ------------------------------------------------------------------------------ which clips
@dataclass(frozen=True)
class TrainingClips:
    """The clips a CNN may be fitted on, with their classes, and how they were chosen."""

    clip_ids: np.ndarray
    class_ids: np.ndarray
    train_class_ids: np.ndarray
    source: dict[str, Any]


def training_clips(
    ws: Workspace,
    split: str | None = "1",
    zsl_split: str | None = None,
    fold: int = 0,
    purpose: str = "test",
) -> TrainingClips:
    """The workspace's training clips: split ``split``'s ``train`` role, or (``zsl_split``) every
    clip of the seen classes of a zero-shot fold — never a test clip or an unseen class.

    Raises
    ------
    ActionLensError
        For an unknown split, or when the choice holds no labelled good clip.
    """
    clips = [c for c in ws.catalog.iter_clips(status="ok") if c.class_id is not None]
    ids = np.array([c.id for c in clips], np.int64)
    classes = np.array([c.class_id for c in clips], np.int64)
    if zsl_split:
        from desktop_app.data.class_splits import zsl_class_split

        all_classes = np.array([c.id for c in ws.catalog.classes()], np.int64)
        seen, unseen = zsl_class_split(all_classes, zsl_split, fold, purpose, ws.catalog.class_components())
        mask = np.isin(classes, seen)
        source: dict[str, Any] = {
            "kind": "zsl",
            "zsl_split": zsl_split,
            "fold": fold,
            "purpose": purpose,
            "unseen_class_ids": sorted(int(c) for c in unseen),
        }
        train_classes = np.sort(np.asarray(seen, np.int64))
        where = f"the seen classes of zero-shot split {zsl_split} fold {fold}"
    else:
        split = split or "1"
        roles = ws.catalog.split(split)
        if not roles:
            raise ActionLensError(
                f"{ws.root} has no split {split!r}; choose one of {ws.catalog.split_names() or 'none (import a dataset with splits)'}"
            )
        mask = np.array([roles.get(int(c)) == "train" for c in ids], dtype=bool)
        source = {"kind": "split", "split": split, "role": "train"}
        train_classes = np.unique(classes[mask])
        where = f"split {split}'s train role"
    if not mask.any():
        raise ActionLensError(
            f"{ws.root} has no labelled good clip in {where}; import a dataset or choose another split"
        )
    return TrainingClips(ids[mask], classes[mask], train_classes, source)


# --------------------------------------------------------------------------------- the files
def cnn_dir(ws: Workspace) -> Path:
    """``WS/extractors/motion-cnn``."""
    return Path(ws.root) / CNN_SUBDIR


def default_cnn_name(source: dict[str, Any], preset: str, seed: int) -> str:
    """``split1-small-s0`` / ``zsl50_50-f0-test-small-s0``."""
    if source["kind"] == "zsl":
        head = f"zsl{source['zsl_split']}-f{source['fold']}-{source['purpose']}"
    else:
        head = f"split{source['split']}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{head}-{preset}-s{seed}")


def resolve_cnn_file(ws: Workspace | None, name_or_file: str) -> Path:
    """The ``.safetensors`` path of a CNN given by name (in ``WS/extractors/motion-cnn``) or file.

    Raises
    ------
    ActionLensError
        When neither a file nor a workspace CNN of that name exists (listing the names there).
    """
    given = Path(name_or_file)
    if given.suffix in (".safetensors", ".json") and given.is_file():
        return given.with_suffix(".safetensors").absolute()
    if ws is not None:
        candidate = cnn_dir(ws) / f"{name_or_file}.safetensors"
        if candidate.is_file():
            return candidate.absolute()
        known = sorted(p.stem for p in cnn_dir(ws).glob("*.safetensors")) if cnn_dir(ws).is_dir() else []
        listing = f"the workspace has {', '.join(known)}" if known else "the workspace has none"
        raise ActionLensError(f"no motion CNN {name_or_file!r} ({listing}); {TRAIN_HINT}")
    raise ActionLensError(f"motion CNN file {given} does not exist; {TRAIN_HINT}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def clip_ids_digest(clip_ids: np.ndarray) -> str:
    """SHA-256 of the sorted clip ids (int64), to name a set of clips in a store's settings."""
    return hashlib.sha256(np.sort(np.asarray(clip_ids, np.int64)).astype("<i8").tobytes()).hexdigest()


def save_motion_cnn(path: Path, model: MotionCNN, meta: dict[str, Any]) -> dict[str, Any]:
    """Write ``<name>.safetensors`` then ``<name>.json`` (with the weights' SHA-256), atomically."""
    from safetensors.torch import save_file

    path = Path(path).with_suffix(".safetensors")
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path, suffix=".safetensors") as tmp:
        save_file(state, str(tmp))
    meta = {**meta, "format": FORMAT_NAME, "version": FORMAT_VERSION, "weights_sha256": _sha256(path)}
    write_json(path.with_suffix(".json"), meta)
    return meta


def read_cnn_meta(path: Path, check_weights: bool = True) -> dict[str, Any]:
    """The metadata of a saved CNN, checked (format, version, sizes, weights' SHA-256).

    Raises
    ------
    ActionLensError
        One line naming the file and the fix: missing, damaged, not a motion CNN, of a newer
        version, or weights that are not the ones the metadata describes.
    """
    weights = Path(path).with_suffix(".safetensors")
    meta_path = weights.with_suffix(".json")
    fix = f"delete it and train the CNN again ({TRAIN_HINT})"
    for needed in (weights, meta_path):
        if not needed.is_file():
            raise ActionLensError(f"{needed} is missing; {fix}")
    meta = read_json(meta_path, fix)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ActionLensError(f"{meta_path} is not an ActionLens motion CNN; give the .safetensors of one")
    version = meta.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ActionLensError(
            f"{meta_path} has motion CNN version {version}, which this ActionLens does not read "
            f"(it reads up to {FORMAT_VERSION}); upgrade ActionLens or train the CNN again"
        )
    try:
        MotionCNNConfig.from_json(meta["config"])
        FlowSettings(**meta["flow"])
        int(meta["num_classes"])
        [int(c) for c in meta["trained_on"]["clip_ids"]]
    except (KeyError, TypeError, ValueError) as err:
        raise ActionLensError(f"{meta_path} is damaged ({type(err).__name__}: {err}); {fix}") from err
    if check_weights and _sha256(weights) != meta.get("weights_sha256"):
        raise ActionLensError(f"{weights} is not the file {meta_path} describes (its SHA-256 differs); {fix}")
    return meta


def load_motion_cnn(path: Path) -> tuple[MotionCNN, dict[str, Any]]:
    """Rebuild a saved CNN from its metadata and load its weights (safetensors, never a pickle)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    meta = read_cnn_meta(path)
    weights = Path(path).with_suffix(".safetensors")
    model = MotionCNN(MotionCNNConfig.from_json(meta["config"]), int(meta["num_classes"]))
    try:
        model.load_state_dict(load_file(str(weights)))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ActionLensError(
            f"{weights} does not hold the CNN its .json describes ({str(err)[:160]}); train it again"
        ) from err
    return model.eval(), meta


@dataclass
class TrainedCNN:
    """A CNN trained and saved by :func:`train_motion_cnn`."""

    path: Path
    meta: dict[str, Any]
    model: MotionCNN = field(repr=False)


def train_motion_cnn(
    ws: Workspace,
    *,
    split: str | None = "1",
    zsl_split: str | None = None,
    fold: int = 0,
    purpose: str = "test",
    preset: str = "small",
    seed: int = 0,
    epochs: int | None = None,
    config_overrides: dict[str, Any] | None = None,
    name: str | None = None,
    overwrite: bool = False,
    flow: FlowSettings | None = None,
    device: str | None = None,
    workers: int | None = None,
    flow_set: FlowSet | None = None,
    progress: Progress | None = None,
) -> TrainedCNN:
    """Train seed 003's motion CNN from scratch on the workspace's training clips and save it.

    The clips are :func:`training_clips` (split ``split``'s ``train`` role, or the seen classes
    of a zero-shot fold); a stratified ``config.val_fraction`` of them is held out to choose the
    epoch. Nothing of a test clip or an unseen class is read. Saved as
    ``WS/extractors/motion-cnn/<name>.safetensors`` + ``.json``.

    Parameters
    ----------
    config_overrides
        Fields of :class:`MotionCNNConfig` that replace the preset's (recorded in the file).
    flow_set
        Flow fields already computed (by :func:`compute_flow_set` with the same settings) for at
        least the training clips, e.g. to train several seeds; computed here when ``None``.

    Raises
    ------
    ActionLensError
        Unknown preset or split, no training clip, no training clip with optical flow, an
        existing CNN of that name without ``overwrite``.
    TaskCancelled
        When ``progress`` is cancelled (nothing is written).
    """
    from desktop_app.progress import SubProgress
    from desktop_app.training.data import stratified_holdout

    progress = progress or NullProgress()
    config = replace(get_preset(preset), **(config_overrides or {}))
    if epochs is not None:
        config = replace(config, epochs=int(epochs))
    flow = flow or FlowSettings()
    chosen = training_clips(ws, split, zsl_split, fold, purpose)
    name = name or default_cnn_name(chosen.source, preset, seed)
    path = cnn_dir(ws) / f"{name}.safetensors"
    if path.exists() and not overwrite:
        raise ActionLensError(
            f"motion CNN {path} exists; pass --overwrite to train it again, or --name another"
        )
    computed = flow_set is None
    if flow_set is None:
        flow_set = compute_flow_set(
            ws,
            chosen.clip_ids,
            flow,
            config.input_size,
            config.subtract_mean,
            SubProgress(progress, 0.0, 0.4, "optical flow"),
            workers,
        )
    elif flow_set.fields.shape[-1] != config.input_size:
        raise ActionLensError(
            f"the flow fields given are {flow_set.fields.shape[-1]} px, preset {preset} needs {config.input_size}"
        )
    usable = np.isin(chosen.clip_ids, flow_set.clip_ids)
    if not usable.any():
        reasons = sorted(set(flow_set.failed.values()))[:3]
        raise ActionLensError(
            f"none of the {len(chosen.clip_ids)} training clips has optical flow ({'; '.join(reasons) or 'none computed'}); "
            "check the clips with actionlens info, or sample at a higher --fps"
        )
    fit_ids, fit_classes = chosen.clip_ids[usable], chosen.class_ids[usable]
    index_of = {int(c): i for i, c in enumerate(chosen.train_class_ids)}
    labels_all = np.full(len(flow_set.clip_ids), -1, np.int64)
    rows = flow_set.rows_of(fit_ids)
    labels_all[rows] = [index_of[int(c)] for c in fit_classes]
    held = stratified_holdout(fit_classes, config.val_fraction, seed)
    result = fit_motion_cnn(
        flow_set,
        labels_all,
        len(chosen.train_class_ids),
        config,
        rows[~held],
        rows[held],
        seed=seed,
        device=device,
        progress=SubProgress(progress, 0.4 if computed else 0.0, 1.0, "training"),
    )
    names = {c.id: c.name for c in ws.catalog.classes()}
    meta = {
        "name": name,
        "preset": preset,
        "config": config.to_json(),
        "flow": asdict(flow),
        "num_classes": len(chosen.train_class_ids),
        "embedding_dim": result.model.embedding_dim,
        "classes": [{"id": int(c), "name": names.get(int(c))} for c in chosen.train_class_ids],
        "trained_on": {
            **chosen.source,
            "clip_ids": sorted(int(c) for c in fit_ids[~held]),
            "validation_clip_ids": sorted(int(c) for c in fit_ids[held]),
            "clips_without_flow": {
                str(k): v for k, v in sorted(flow_set.failed.items()) if k in set(chosen.clip_ids.tolist())
            },
            "class_ids": [int(c) for c in chosen.train_class_ids],
        },
        "training": {
            "seed": seed,
            "epochs_run": len(result.history),
            "best_epoch": result.best_epoch,
            "val_accuracy": result.best_val_accuracy,
            "seconds": round(result.seconds, 2),
            "history": result.history,
            "device": str(device or ("cuda" if torch.cuda.is_available() else "cpu")),
        },
    }
    progress.check_cancelled()
    meta = save_motion_cnn(path, result.model, meta)
    return TrainedCNN(path, meta, result.model)


# ---------------------------------------------------------------------------- the encoder
def embed_fields(
    model: MotionCNN, fields: np.ndarray, n_steps: int, batch: int = 64, device: torch.device | None = None
) -> np.ndarray:
    """full7 activations of every step's stack: ``(n_steps, embedding_dim)`` float32."""
    device = device or torch.device("cpu")
    out = []
    with torch.inference_mode():
        for first in range(0, n_steps, batch):
            steps = np.arange(first, min(first + batch, n_steps))
            x = torch.from_numpy(stack_flows(fields, n_steps, model.config.stack, steps)).to(device)
            out.append(model.features(x).cpu().numpy())
    return np.concatenate(out).astype(np.float32)


def cnn_spec_summary(meta: dict[str, Any]) -> dict[str, Any]:
    """What a feature store records of the CNN behind its motion stream (and checks on resume)."""
    trained = meta["trained_on"]
    return {
        "name": meta["name"],
        "preset": meta["preset"],
        "weights_sha256": meta["weights_sha256"],
        "trained_on": {
            k: v
            for k, v in trained.items()
            if k not in ("clip_ids", "validation_clip_ids", "clips_without_flow")
        }
        | {
            "clips": len(trained["clip_ids"]) + len(trained["validation_clip_ids"]),
            "clip_ids_sha256": clip_ids_digest(
                np.array(trained["clip_ids"] + trained["validation_clip_ids"])
            ),
        },
    }


class MotionCNNEncoder(HandcraftedEncoder):
    """Motion from a trained motion CNN's full7; appearance and audio as handcrafted.

    Options: those of ``handcrafted`` plus ``weights``, the CNN's ``.safetensors`` file. The
    store's flow method must be the CNN's; its sampling (fps, fixed or adaptive) is the store's.
    """

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        weights = options.get("weights")
        if not weights:
            raise ActionLensError(f"--extractor motion-cnn needs --cnn NAME or FILE; {TRAIN_HINT}")
        self.weights = Path(str(weights)).with_suffix(".safetensors").absolute()
        meta = read_cnn_meta(self.weights)
        if meta["flow"]["method"] != self.flow:
            raise ActionLensError(
                f"motion CNN {self.weights.stem} was trained on {meta['flow']['method']} flow; "
                f"extract with --flow {meta['flow']['method']}"
            )
        self.cnn_config = MotionCNNConfig.from_json(meta["config"])
        self.spec = {
            **self.spec,
            "extractor": EXTRACTOR_NAME,
            "weights": str(self.weights),
            "cnn": cnn_spec_summary(meta),
        }
        recorded = options.get("cnn")
        if recorded is not None and recorded != self.spec["cnn"]:
            raise ActionLensError(
                f"motion CNN {self.weights} changed since this store was started; delete the store to re-extract"
            )
        self._model: MotionCNN | None = None

    def _cnn(self) -> MotionCNN:
        if self._model is None:
            if multiprocessing.current_process().name != "MainProcess":
                torch.set_num_threads(1)  # one clip per worker process
            self._model, _ = load_motion_cnn(self.weights)
        return self._model

    def encode(self, path: Path, has_audio: bool) -> EncodedClip:
        from desktop_app.features.handcrafted import describe_clip

        clip, flows = sampled_flows(path, self.sampling, self.flow)
        features = describe_clip(clip.frames, flows, appearance=True)
        fields = resize_flows(flows, self.cnn_config.input_size, self.cnn_config.subtract_mean)
        features["motion"] = embed_fields(self._cnn(), fields, len(clip.frames))
        if self.audio and has_audio:
            audio = log_mel_sequence(path, self.sampling.fps, self.sampling.max_seconds)
            if audio is not None:
                features["audio"] = audio
        return EncodedClip(features, clip.frames, clip.frames_decoded)


# ------------------------------------------------------------------------------- leak check
def cnn_training_clips(store_settings: dict[str, Any]) -> np.ndarray | None:
    """Ids of every clip the motion CNN behind a store was fitted or validated on, or ``None``
    for a store made by another extractor.

    Raises
    ------
    ActionLensError
        When the CNN file is gone or is not the one the store was made with.
    """
    if store_settings.get("extractor") != EXTRACTOR_NAME:
        return None
    meta = read_cnn_meta(Path(store_settings["weights"]), check_weights=False)
    if meta["weights_sha256"] != store_settings["cnn"]["weights_sha256"]:
        raise ActionLensError(
            f"motion CNN {store_settings['weights']} is not the one this store was made with; re-extract the store"
        )
    trained = meta["trained_on"]
    return np.array(sorted(trained["clip_ids"] + trained["validation_clip_ids"]), np.int64)


def check_not_fitted_on(store_settings: dict[str, Any], report_clips: np.ndarray, where: str) -> None:
    """Refuse to report on clips the store's motion CNN saw in training (a leak).

    Raises
    ------
    ActionLensError
        Naming how many of ``report_clips`` (``where``: "split 1 test") the CNN was fitted on.
    """
    fitted = cnn_training_clips(store_settings)
    if fitted is None:
        return
    overlap = np.intersect1d(fitted, np.asarray(report_clips, np.int64))
    if len(overlap):
        raise ActionLensError(
            f"the motion CNN {Path(store_settings['weights']).stem} was trained on {len(overlap)} of the "
            f"{where} clips (ids {overlap[:5].tolist()}…); train one on clips outside them"
        )
