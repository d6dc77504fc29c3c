"""Seed 003 §VII: anomaly detection by an autoencoder over video embeddings.

"Autoencoder model consists of an encoder, a bottleneck, and a decoder […] because the hidden
layer (bottleneck) has much lower dimensionality than the input, it only learns the most
frequent features […] anomalous examples would have a higher reconstruction error than the
normal ones. The video embedding vectors can be used as an input to autoencoder." (§VII)

``autoencoder`` reads the embeddings of another run (its *source run*: ``ste``, ``multistream``
…) as a one-step feature stream ``"embedding"`` (:mod:`desktop_app.training.anomaly` builds
that source and the run), and learns to reconstruct them through a bottleneck narrower than
the embedding:

``x ↦ D(E(x))``, ``E: word_dim → hidden → bottleneck``, ``D: bottleneck → hidden → word_dim``
(ReLU between layers, linear bottleneck and output), trained with the mean squared error
``‖x − D(E(x))‖² / word_dim`` (§VII: "can be, for example, a mean squared error") by Adam, with
early stopping on the same error over validation clips drawn from the training clips. A clip's
**anomaly score** is its reconstruction error.

Its ``forward`` returns the reconstruction (a point of the word space, so the run works in the
app like any other) and no logits. The seed gives no layer sizes; the presets' choices are in
``docs/anomaly.md``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from desktop_app.errors import ActionLensError
from desktop_app.models.registry import ModelShape, ModelSpec, register_model

#: The registry kind of anomaly models (not a joint embedding: recognition tables skip them).
ANOMALY = "anomaly"
#: The one stream an autoencoder reads: its source run's clip embeddings, one step per clip.
EMBEDDING_STREAM = "embedding"


@dataclass(frozen=True)
class AutoencoderConfig:
    """Settings of :class:`EmbeddingAutoencoder`.

    Attributes
    ----------
    hidden_size
        Width of the encoder's and decoder's hidden layer.
    bottleneck_size
        Width of the bottleneck; must be below the embedding dimension (§VII).
    dropout
        Dropout on the hidden layers while training.
    source_run
        The run whose embeddings the autoencoder reads (recorded for the app and evaluation).
    max_len
        Steps read per clip (an embedding is one step).
    """

    hidden_size: int = 64
    bottleneck_size: int = 16
    dropout: float = 0.0
    source_run: str = ""
    max_len: int = 1


class EmbeddingAutoencoder(nn.Module):
    """An MLP autoencoder with a bottleneck over clip embeddings (seed 003 §VII)."""

    streams: tuple[str, ...] = (EMBEDDING_STREAM,)

    def __init__(self, config: AutoencoderConfig, shape: ModelShape) -> None:
        super().__init__()
        dim = int(shape.input_dims.get(EMBEDDING_STREAM, shape.word_dim))
        if not 1 <= config.bottleneck_size < dim:
            raise ActionLensError(
                f"autoencoder: bottleneck_size {config.bottleneck_size} must be between 1 and the "
                f"embedding dimension ({dim}) less one; choose a smaller one"
            )
        self.config = config
        self.input_dim = dim
        self.word_dim = shape.word_dim
        self.encoder = nn.Sequential(
            nn.Linear(dim, config.hidden_size),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden_size, config.bottleneck_size),
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.bottleneck_size, config.hidden_size),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden_size, dim),
        )

    def reconstruct(self, x: Tensor) -> Tensor:
        """``D(E(x))`` of embeddings ``(B, word_dim)``."""
        return self.decoder(self.encoder(x))

    def reconstruction_error(self, x: Tensor) -> Tensor:
        """Per-clip anomaly score ``‖x − D(E(x))‖² / word_dim`` of embeddings ``(B, word_dim)``."""
        return ((self.reconstruct(x) - x) ** 2).mean(dim=1)

    def forward(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> tuple[Tensor, None]:
        """The reconstruction of each clip's embedding (the first step of its one-step stream)."""
        return self.reconstruct(features[EMBEDDING_STREAM][:, 0, :]), None

    # ------------------------------------------------------------------ training
    def fit_run(self, context: Any) -> Any:
        """Train on ``context.data``'s training clips (labels unused: the method is
        unsupervised), stop early on the validation clips' reconstruction error.

        Each epoch visits the training clips in an order that depends only on ``(seed,
        epoch)``; the weights of the epoch with the lowest validation error are kept. A
        checkpoint after every epoch lets an interrupted run continue (``context.resume``).
        """
        from desktop_app.training.trainer import (
            CHECKPOINT_FORMAT,
            TrainResult,
            load_checkpoint,
            save_checkpoint,
        )

        config, data, progress = context.config, context.data, context.progress
        device = context.device
        train_x = _rows(context.cache, data.train_clips).to(device)
        val_x = _rows(context.cache, data.val_clips).to(device)
        if len(train_x) < 2:
            raise ActionLensError(
                "the autoencoder needs at least 2 training clips with embeddings; train its source run on more clips"
            )
        if len(val_x) == 0:  # a tiny split without validation clips: validate on the training ones
            val_x = train_x
        self.to(device)
        optimizer = torch.optim.Adam(self.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        history: list[dict[str, float]] = []
        best_state: dict[str, Tensor] | None = None
        best_val, best_epoch, bad_epochs, start_epoch = math.inf, -1, 0, 0
        path = context.checkpoint_path
        if context.resume and path is not None and path.is_file():
            state = load_checkpoint(path, context.args)
            self.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            start_epoch = int(state["epoch"]) + 1
            best_state = state.get("best_model")
            stopping = state.get("early_stopping", {})
            best_val = float(stopping.get("best_val_error", math.inf))
            best_epoch = int(stopping.get("best_epoch", -1))
            bad_epochs = int(stopping.get("bad_epochs", 0))
            history = list(state.get("history", []))
        n = len(train_x)
        seen, seconds, stopped_early = 0, 0.0, False
        epoch = start_epoch - 1
        for epoch in range(start_epoch, config.epochs):
            if bad_epochs >= config.patience > 0:
                stopped_early = True
                break
            torch.manual_seed(config.seed * 100_003 + epoch * 1009)
            self.train()
            started = time.perf_counter()
            order = np.random.default_rng([config.seed, epoch]).permutation(n)
            loss_sum = 0.0
            for start in range(0, n, config.batch_size):
                progress.check_cancelled()
                batch = train_x[torch.as_tensor(order[start : start + config.batch_size], device=device)]
                loss = self.reconstruction_error(batch).mean()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                loss_sum += float(loss.detach()) * len(batch)
                seen += len(batch)
            seconds += time.perf_counter() - started
            self.eval()
            with torch.no_grad():
                val_error = float(self.reconstruction_error(val_x).mean())
            history.append({"epoch": float(epoch), "loss": loss_sum / n, "val_reconstruction": val_error})
            if val_error < best_val:
                best_val, best_epoch, bad_epochs = val_error, epoch, 0
                best_state = {k: v.detach().cpu().clone() for k, v in self.state_dict().items()}
            else:
                bad_epochs += 1
            progress.set_progress(
                (epoch + 1) / config.epochs,
                f"epoch {epoch + 1}/{config.epochs} reconstruction {loss_sum / n:.4f} val {val_error:.4f}",
            )
            if path is not None and context.distributed.is_main:
                save_checkpoint(
                    path,
                    {
                        "format": CHECKPOINT_FORMAT,
                        "model": self.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "lr_scheduler": {},
                        "epoch": epoch,
                        "args": context.args,
                        "best_model": best_state,
                        "early_stopping": {
                            "best_val_error": best_val,
                            "best_epoch": best_epoch,
                            "bad_epochs": bad_epochs,
                        },
                        "history": history,
                    },
                )
        if best_state is not None:
            self.load_state_dict(best_state)
        self.to("cpu").eval()
        return TrainResult(
            model=self,
            history=history,
            best_epoch=best_epoch,
            # no accuracy to report: the validation figure is the reconstruction error
            best_val_accuracy=float("nan"),
            epochs_run=epoch + 1,
            stopped_early=stopped_early,
            train_clips_per_second=seen / seconds if seconds > 0 else math.nan,
        )


def _rows(cache: Any, clip_ids: np.ndarray) -> Tensor:
    """The one-step embedding rows of ``clip_ids`` as ``(N, word_dim)``."""
    if len(clip_ids) == 0:
        return torch.zeros((0, int(cache.source.dim(EMBEDDING_STREAM))))
    batch = cache.collate(np.asarray(clip_ids, dtype=np.int64))
    return batch.features[EMBEDDING_STREAM][:, 0, :].float()


register_model(
    ModelSpec(
        name="autoencoder",
        task=ANOMALY,
        summary="seed 003 §VII: MLP autoencoder with a bottleneck over another run's clip embeddings; "
        "reconstruction error = anomaly score",
        config_cls=AutoencoderConfig,
        builder=EmbeddingAutoencoder,
        fit="custom",
        presets={
            # The seed gives no sizes or schedule; see docs/anomaly.md for these choices.
            "paper": {
                "model": {"hidden_size": 128, "bottleneck_size": 32},
                "train": {"epochs": 400, "batch_size": 32, "lr": 1e-3, "patience": 40, "pca_dims": 0},
            },
            "small": {
                "model": {"hidden_size": 64, "bottleneck_size": 8},
                "train": {"epochs": 300, "batch_size": 32, "lr": 1e-3, "patience": 30, "pca_dims": 0},
            },
        },
    )
)
