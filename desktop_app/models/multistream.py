"""Seed 003's multistream model: one recurrent encoder per stream, trained separately, fused by
a linear SVM (``multistream``).

* **Stream encoders** (§III.E, §IV.D, Table I's best row "S. BiGRU"): per stream (appearance,
  motion, audio — those the feature store has), dropout 0.5 on the input → a 2-layer
  bidirectional GRU (dropout 0.5 between the layers) → the last layer's final forward and
  backward states, concatenated: the ``2·hidden`` stream embedding (paper: 2 × 512 = 1024) →
  dropout 0.5 → a dense softmax layer over the training classes, used only to train the stream
  with cross-entropy (§IV.E: "the cross-entropy loss (top dense layer used softmax)").
* **Training** (§III.E "the models for every stream are trained separately", §IV.D): one stream
  after the other, each from its own seed, with SGD with Nesterov momentum, the learning rate cut
  ×0.1 when the validation loss has not decreased for 5 epochs (down to 1e-6), and stopped when
  it has not decreased for 10 epochs; each stream keeps the weights of its lowest validation loss.
  The validation clips are the run's (``data.val_clips``: the split's ``val`` clips, or a share
  of each training class), never a test clip.
* **Fusion** (§III.D, §IV.G, §IV.D): the stream embeddings concatenated (a clip without audio
  gets zeros there, and a 0/1 column says whether it had audio) → a linear SVM (hinge loss, L2
  regularisation 1e-2) whose decision values are the model's ``logits``. The paper's objective
  ``λ‖w‖² + (1/n) Σᵢ hingeᵢ`` with ``λ = 1e-2`` over ``n`` training clips is, divided by ``2λ``,
  scikit-learn's ``½‖w‖² + C Σᵢ hingeᵢ`` with ``C = 1 / (2 λ n)`` (one-vs-rest, hinge loss).
* **Word space** (ActionLens's own addition, for maps, query and zero-shot; the seed has none):
  ridge regression from the same concatenated embeddings to the clips' unit label vectors, its
  penalty chosen by nearest-label accuracy on the validation clips.

Everything fitted is stored in the module (GRU parameters; SVM and ridge as buffers), so
``Run.load`` + ``Run.embed`` reproduce a new clip's embedding and logits from the run directory.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence

from desktop_app.errors import ActionLensError
from desktop_app.models.base import JointEmbeddingModel
from desktop_app.models.registry import JOINT_EMBEDDING, ModelShape, ModelSpec, register_model
from desktop_app.training.data import OPTIONAL_STREAMS

CHECKPOINT_FORMAT = 1


@dataclass(frozen=True)
class MultistreamConfig:
    """Settings of :class:`MultistreamModel` (defaults: seed 003's, the ``paper`` preset).

    The optimiser's initial learning rate, batch size (32), epoch limit and stopping patience
    (10) are the run's training settings (``TrainConfig.lr``, ``batch_size``, ``epochs``,
    ``patience``); the rest of §IV.D is here.
    """

    #: Streams read where the feature store has them; a missing optional stream (audio) of a
    #: clip is allowed.
    streams: tuple[str, ...] = ("appearance", "motion", "audio")
    #: §IV.C: "sequence length is limited to 180".
    max_len: int = 180
    #: §III.E: two stacked bidirectional GRU layers of 512 units → 1024-d stream embeddings.
    hidden_size: int = 512
    num_layers: int = 2
    #: §IV.D: dropout 0.5 on the input, between the GRU layers and before the dense layer.
    dropout: float = 0.5
    #: Nesterov momentum (§IV.D names NAG; the momentum itself is not given: 0.9, Keras's usual).
    momentum: float = 0.9
    #: §IV.D: learning rate ×0.1 after 5 epochs without a lower validation loss, down to 1e-6.
    lr_patience: int = 5
    lr_factor: float = 0.1
    min_lr: float = 1e-6
    #: §IV.D: L2 regularisation parameter of the linear SVM (fusion model).
    svm_l2: float = 1e-2
    svm_max_iter: int = 20000
    #: Ridge penalties (× number of training clips) of the word-space map; the validation clips
    #: choose one.
    ridge_alphas: tuple[float, ...] = (1e-3, 1e-2, 0.1, 1.0, 10.0)


def stream_seed(seed: int, stream: str) -> int:
    """The seed of one stream's initialisation and clip order: a function of the run's seed and
    the stream's name only, so a stream trains the same whichever other streams there are."""
    return int(seed) * 1_000_003 + zlib.crc32(stream.encode())


class StreamEncoder(nn.Module):
    """One stream's recurrent encoder (seed 003 §III.E, §IV.D).

    ``embed``: input dropout → ``num_layers`` stacked bidirectional GRUs (dropout between
    layers) → the last layer's final forward and backward hidden states, concatenated
    (``2·hidden_size``). ``forward``: that embedding → dropout → dense layer over the training
    classes (softmax cross-entropy trains the stream).
    """

    def __init__(self, input_dim: int, config: MultistreamConfig, num_classes: int) -> None:
        super().__init__()
        self.input_dropout = nn.Dropout(config.dropout)
        self.gru = nn.GRU(
            input_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=True,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.output_dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(2 * config.hidden_size, max(num_classes, 1))

    def embed(self, sequence: Tensor, lengths: Tensor) -> Tensor:
        """``(B, 2H)`` stream embeddings of ``(B, T, D)`` padded sequences; zeros for an empty
        sequence (a clip without this stream)."""
        valid = lengths > 0
        packed = pack_padded_sequence(
            self.input_dropout(sequence),
            lengths.clamp(min=1).cpu(),
            batch_first=True,
            enforce_sorted=False,
        )
        _, final = self.gru(packed)  # (layers · 2, B, H); the last two are the top layer's
        embedding = torch.cat([final[-2], final[-1]], dim=1)
        return embedding * valid[:, None].to(embedding.dtype)

    def forward(self, sequence: Tensor, lengths: Tensor) -> Tensor:
        """Class logits of the stream's own softmax head (training only)."""
        return self.classifier(self.output_dropout(self.embed(sequence, lengths)))


class MultistreamModel(JointEmbeddingModel):
    """Seed 003: per-stream BiGRU encoders, a linear-SVM fusion, and a ridge map to words.

    ``forward(features, lengths)`` returns ``(word-space embedding (B, word_dim), SVM decision
    values (B, num_classes))``. :meth:`video_embedding` gives the concatenated stream embeddings
    (what the fusion SVM and the word map read; seed 003 §VII's video embedding).
    """

    def __init__(self, config: MultistreamConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.streams = tuple(s for s in config.streams if s in shape.input_dims)
        if not self.streams:
            raise ActionLensError(
                f"multistream reads {', '.join(config.streams)}; the features have "
                f"{', '.join(sorted(shape.input_dims)) or 'none'} — extract features with one of them"
            )
        self.num_classes = shape.num_classes
        self.input_dims = {s: int(shape.input_dims[s]) for s in self.streams}
        self.encoders = nn.ModuleDict(
            {s: StreamEncoder(self.input_dims[s], config, shape.num_classes) for s in self.streams}
        )
        #: streams that may be missing: one presence column each in the fusion input
        self.optional = tuple(s for s in self.streams if s in OPTIONAL_STREAMS)
        fused = 2 * config.hidden_size * len(self.streams) + len(self.optional)
        self.fused_dim = fused
        classes = max(shape.num_classes, 1)
        self.register_buffer("svm_weight", torch.zeros(classes, fused))
        self.register_buffer("svm_bias", torch.zeros(classes))
        self.register_buffer("svm_c", torch.zeros(()))
        self.register_buffer("word_weight", torch.zeros(shape.word_dim, fused))
        self.register_buffer("word_bias", torch.zeros(shape.word_dim))
        self.register_buffer("ridge_alpha", torch.zeros(()))

    def video_embedding(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> Tensor:
        """``(B, fused_dim)``: every stream's embedding, concatenated in ``streams`` order, with a
        0/1 presence column after each optional stream (its embedding is zeros where absent)."""
        parts = []
        for stream in self.streams:
            encoder: StreamEncoder = self.encoders[stream]  # type: ignore[assignment]
            parts.append(encoder.embed(features[stream], lengths[stream]))
            if stream in self.optional:
                parts.append((lengths[stream] > 0).to(parts[-1].dtype)[:, None])
        return torch.cat(parts, dim=1)

    def forward(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        fused = self.video_embedding(features, lengths)
        logits = fused @ self.get_buffer("svm_weight").T + self.get_buffer("svm_bias")
        embedding = fused @ self.get_buffer("word_weight").T + self.get_buffer("word_bias")
        return embedding, logits

    # ------------------------------------------------------------------ training
    def fit_run(self, context: Any) -> Any:
        """Train every stream separately, then fit the fusion SVM and the word map.

        Parameters
        ----------
        context
            A :class:`desktop_app.training.trainer.FitContext`: ``config.lr`` (initial learning
            rate), ``batch_size``, ``epochs`` (per stream), ``patience`` (epochs without a lower
            validation loss before a stream stops), ``seed``, ``grad_clip``, ``weight_decay``.

        Returns
        -------
        TrainResult
            ``best_val_accuracy``: the word-space accuracy on the validation clips (nearest
            training label vector, as for every model); the history has one record per stream
            epoch (``stream``, ``loss``, ``val_loss``, ``val_accuracy`` of the stream's softmax,
            ``lr``) and a last ``fusion`` record (SVM and word-space validation accuracy).
        """
        from desktop_app.training.trainer import TrainResult, load_checkpoint

        device = context.device
        progress = context.progress
        state: dict[str, Any] = {"history": [], "done": [], "stream": None}
        if context.resume and context.checkpoint_path is not None and context.checkpoint_path.is_file():
            saved = load_checkpoint(context.checkpoint_path, context.args)
            self.load_state_dict(saved["model"])
            state = {
                **saved,
                "history": list(saved.get("history", [])),
                "done": list(saved.get("stage", {}).get("done", [])),
            }
            state["stream"] = saved.get("stage", {}).get("stream")
        self.to(device)
        started = time.perf_counter()
        seen = 0
        stopped_early = False
        for index, stream in enumerate(self.streams):
            if stream in state["done"]:
                continue
            resume_from = state if state.get("stream") == stream else None
            outcome = self._train_stream(context, index, stream, resume_from, state)
            seen += outcome["seen"]
            stopped_early = stopped_early or outcome["stopped_early"]
            state["done"].append(stream)
            state["stream"] = None
        seconds = time.perf_counter() - started
        progress.set_progress(0.97, "fitting the fusion SVM and the word map")
        record = self._fit_heads(context)
        history = [*state["history"], record]
        self._save(
            context, state, history, {"stream": None, "done": list(self.streams), "fused": True}, {}, {}
        )
        self.to("cpu").eval()
        progress.set_progress(
            1.0,
            f"fusion SVM val acc {record['svm_val_accuracy']:.1%}, word space val acc {record['val_accuracy']:.1%}",
        )
        return TrainResult(
            model=self,
            history=history,
            best_epoch=len(history) - 1,
            best_val_accuracy=float(record["val_accuracy"]),
            epochs_run=sum(1 for r in history if "stream" in r),
            stopped_early=stopped_early,
            train_clips_per_second=seen / seconds if seconds > 0 and seen else math.nan,
        )

    def _clips_of(
        self, stream: str, clips: np.ndarray, targets: np.ndarray, cache: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """The clips (and targets) that have ``stream`` (all of them for a required stream)."""
        if stream not in self.optional:
            return clips, targets
        having = np.isin(clips, np.asarray(cache.source.clip_ids(stream)))
        return clips[having], targets[having]

    def _train_stream(
        self,
        context: Any,
        index: int,
        stream: str,
        resume_from: dict[str, Any] | None,
        state: dict[str, Any],
    ) -> dict[str, Any]:
        """Train one stream's encoder from its own seed; keep its lowest-validation-loss weights."""
        data, train, cache, device, progress = (
            context.data,
            context.config,
            context.cache,
            context.device,
            context.progress,
        )
        seed = stream_seed(train.seed, stream)
        train_clips, train_targets = self._clips_of(stream, data.train_clips, data.train_targets, cache)
        val_clips, val_targets = self._clips_of(stream, data.val_clips, data.val_targets, cache)
        if len(train_clips) == 0:
            raise ActionLensError(
                f"no training clip has {stream!r} features; extract them, or leave the stream out"
            )
        torch.manual_seed(seed)
        encoder = StreamEncoder(self.input_dims[stream], self.config, self.num_classes).to(device)
        self.encoders[stream] = encoder
        optimizer = torch.optim.SGD(
            encoder.parameters(),
            lr=train.lr,
            momentum=self.config.momentum,
            nesterov=True,
            weight_decay=train.weight_decay,
        )
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer,
            mode="min",
            factor=self.config.lr_factor,
            patience=self.config.lr_patience,
            min_lr=self.config.min_lr,
        )
        best_loss, bad, first_epoch = math.inf, 0, 0
        best_state = {k: v.detach().cpu().clone() for k, v in encoder.state_dict().items()}
        if resume_from is not None:
            prefix = f"encoders.{stream}."
            encoder.load_state_dict(
                {k[len(prefix) :]: v for k, v in resume_from["model"].items() if k.startswith(prefix)}
            )
            optimizer.load_state_dict(resume_from["optimizer"])
            scheduler.load_state_dict(resume_from["lr_scheduler"])
            stopping = resume_from.get("early_stopping", {})
            best_loss = float(stopping.get("best_val_loss", math.inf))
            bad = int(stopping.get("bad_epochs", 0))
            best_state = dict(resume_from.get("best_model") or best_state)
            first_epoch = int(resume_from.get("stage", {}).get("stream_epoch", -1)) + 1
        total = len(self.streams)
        seen = 0
        stopped_early = False
        for epoch in range(first_epoch, train.epochs):
            if bad >= train.patience > 0:
                stopped_early = True
                break
            torch.manual_seed(seed + 7919 * (epoch + 1))  # dropout masks depend on (seed, stream, epoch)
            encoder.train()
            order = np.random.default_rng([seed, epoch]).permutation(len(train_clips))
            loss_sum = 0.0
            for start in range(0, len(order), train.batch_size):
                progress.check_cancelled()
                chunk = order[start : start + train.batch_size]
                sequence, lengths = stream_batch(cache, train_clips[chunk], stream, device)
                logits = encoder(sequence, lengths)
                loss = F.cross_entropy(logits, torch.as_tensor(train_targets[chunk], device=device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if train.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(encoder.parameters(), train.grad_clip)
                optimizer.step()
                loss_sum += float(loss.detach()) * len(chunk)
                seen += len(chunk)
            val_loss, val_accuracy = self._stream_validation(
                encoder, cache, val_clips, val_targets, stream, device
            )
            monitored = val_loss if len(val_clips) else loss_sum / len(order)
            scheduler.step(monitored)
            if monitored < best_loss:
                best_loss, bad = monitored, 0
                best_state = {k: v.detach().cpu().clone() for k, v in encoder.state_dict().items()}
            else:
                bad += 1
            record = {
                "stream": stream,
                "epoch": float(epoch),
                "loss": loss_sum / len(order),
                "val_loss": val_loss,
                "val_accuracy": val_accuracy,
                "lr": float(optimizer.param_groups[0]["lr"]),
            }
            state["history"].append(record)
            progress.set_progress(
                0.95 * (index + (epoch + 1) / train.epochs) / total,
                f"{stream} epoch {epoch + 1}/{train.epochs} loss {record['loss']:.3f} "
                f"val loss {val_loss:.3f} val acc {val_accuracy:.1%}",
            )
            self._save(
                context,
                state,
                state["history"],
                {"stream": stream, "stream_epoch": epoch, "done": list(state["done"])},
                optimizer.state_dict(),
                scheduler.state_dict(),
                best_state,
                {"best_val_loss": best_loss, "bad_epochs": bad},
            )
        encoder.load_state_dict(best_state)
        encoder.eval()
        return {"seen": seen, "stopped_early": stopped_early}

    @staticmethod
    def _stream_validation(
        encoder: StreamEncoder, cache: Any, clips: np.ndarray, targets: np.ndarray, stream: str, device: Any
    ) -> tuple[float, float]:
        """Mean cross-entropy and softmax accuracy of one stream on the validation clips."""
        if len(clips) == 0:
            return math.nan, math.nan
        encoder.eval()
        loss_sum, correct = 0.0, 0
        with torch.inference_mode():
            for start in range(0, len(clips), 128):
                sequence, lengths = stream_batch(cache, clips[start : start + 128], stream, device)
                logits = encoder(sequence, lengths)
                truth = torch.as_tensor(targets[start : start + 128], device=device)
                loss_sum += float(F.cross_entropy(logits, truth, reduction="sum"))
                correct += int((logits.argmax(dim=1) == truth).sum())
        encoder.train()
        return loss_sum / len(clips), correct / len(clips)

    def fused_embeddings(self, cache: Any, clips: np.ndarray, device: Any = "cpu") -> np.ndarray:
        """:meth:`video_embedding` of clips read through ``cache``, in eval mode, ``(N, fused_dim)``."""
        was_training = self.training
        self.eval()
        rows = []
        with torch.inference_mode():
            for batch in cache.batches(np.asarray(clips, dtype=np.int64), 128):
                batch = batch.to(device)
                rows.append(self.video_embedding(batch.features, batch.lengths).float().cpu().numpy())
        self.train(was_training)
        return np.concatenate(rows).astype(np.float64) if rows else np.zeros((0, self.fused_dim))

    def _fit_heads(self, context: Any) -> dict[str, float]:
        """Fit the fusion SVM (§IV.G) and the ridge word map on the training clips' embeddings."""
        from desktop_app.models.svm import fit_linear_svm, fit_ridge

        data, device = context.data, context.device
        train_x = self.fused_embeddings(context.cache, data.train_clips, device)
        val_x = self.fused_embeddings(context.cache, data.val_clips, device)
        train_y, val_y = np.asarray(data.train_targets), np.asarray(data.val_targets)
        n = len(train_x)
        # λ‖w‖² + (1/n)Σ hinge  ≡  ½‖w‖² + C Σ hinge  with  C = 1 / (2 λ n)
        c = 1.0 / (2.0 * self.config.svm_l2 * n)
        svm_weight, svm_bias = fit_linear_svm(
            train_x,
            train_y,
            max(self.num_classes, 1),
            c=c,
            seed=context.config.seed,
            loss="hinge",
            max_iter=self.config.svm_max_iter,
        )
        svm_val = (
            float(np.mean(np.argmax(val_x @ svm_weight + svm_bias, axis=1) == val_y))
            if len(val_x)
            else math.nan
        )
        # the penalty α·n chosen among ridge_alphas on the validation clips
        word_weight, word_bias, alpha, word_val = fit_ridge(
            train_x,
            train_y,
            np.asarray(data.label_vectors, dtype=np.float64),
            self.config.ridge_alphas,
            val_x,
            val_y,
        )
        with torch.no_grad():
            self.get_buffer("svm_weight").copy_(torch.from_numpy(np.ascontiguousarray(svm_weight.T)))
            self.get_buffer("svm_bias").copy_(torch.from_numpy(svm_bias))
            self.get_buffer("svm_c").fill_(c)
            self.get_buffer("word_weight").copy_(torch.from_numpy(np.ascontiguousarray(word_weight.T)))
            self.get_buffer("word_bias").copy_(torch.from_numpy(word_bias))
            self.get_buffer("ridge_alpha").fill_(alpha)
        return {
            "fusion": 1.0,
            "loss": math.nan,
            "svm_c": c,
            "svm_val_accuracy": svm_val,
            "ridge_alpha": float(alpha),
            "val_accuracy": float(word_val),
        }

    def _save(
        self,
        context: Any,
        state: dict[str, Any],
        history: list[dict[str, Any]],
        stage: dict[str, Any],
        optimizer: dict[str, Any],
        lr_scheduler: dict[str, Any],
        best_model: dict[str, Any] | None = None,
        early_stopping: dict[str, Any] | None = None,
    ) -> None:
        """Write the checkpoint in the trainer's format, with where in the streams training is."""
        from desktop_app.training.trainer import save_checkpoint

        if context.checkpoint_path is None or not context.distributed.is_main:
            return
        save_checkpoint(
            context.checkpoint_path,
            {
                "format": CHECKPOINT_FORMAT,
                "model": self.state_dict(),
                "optimizer": optimizer,
                "lr_scheduler": lr_scheduler,
                "epoch": len([r for r in history if "stream" in r]) - 1,
                "args": context.args,
                "best_model": best_model,
                "early_stopping": early_stopping or {},
                "history": history,
                "stage": stage,
            },
        )


def stream_batch(cache: Any, clip_ids: np.ndarray, stream: str, device: Any) -> tuple[Tensor, Tensor]:
    """One stream of clips, zero-padded: ``(B, T, D)`` and lengths ``(B,)`` on ``device``."""
    sequences = [cache.sequence(int(c), stream) for c in clip_ids]
    steps = max([len(s) for s in sequences] + [1])
    padded = np.zeros((len(sequences), steps, cache.source.dim(stream)), np.float32)
    for i, sequence in enumerate(sequences):
        padded[i, : len(sequence)] = sequence
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    return torch.from_numpy(padded).to(device), lengths.to(device)


_SGD = {"optimizer": "sgd", "lr_halve_every": 0, "batch_size": 32, "patience": 10}

register_model(
    ModelSpec(
        name="multistream",
        task=JOINT_EMBEDDING,
        summary="seed 003: per-stream 2-layer BiGRU trained separately (softmax, Nesterov SGD), linear-SVM fusion; ridge to the word space",
        config_cls=MultistreamConfig,
        builder=MultistreamModel,
        presets={
            # §IV.D: SGD (Nesterov) from 1e-2, batch 32, stop after 10 epochs without a lower val loss.
            "paper": {"model": {}, "train": {**_SGD, "lr": 1e-2, "epochs": 200}},
            # lr, input_scale and epochs chosen on split 1's validation clips (docs/multistream.md)
            "small": {
                "model": {"hidden_size": 64},
                "train": {**_SGD, "lr": 3e-2, "epochs": 60, "input_scale": 1.0},
            },
        },
        fit="custom",
    )
)
