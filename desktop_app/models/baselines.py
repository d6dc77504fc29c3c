"""Baselines that seed 001 compares Action2Vec against (its Table 1), in the same registry.

* ``pooled-ridge``: the "Pooled C3D fc7" row — features mean-pooled over time, mapped to the
  word space by ridge regression (the seed uses kernel ridge regression with Laplacian
  regularisation; we use linear ridge in closed form, with the penalty chosen on the validation
  split). It has no classification head: recognition uses the nearest label vector.
* ``lstm``: the "Single LSTM w/dual loss" row — one LSTM over the feature sequence, its last
  output through a fully connected layer to the word dimension, seed 001's dual loss.
* ``stacked-lstm``: the "Stacked LSTM w/dual loss" row — two stacked LSTMs (1024, 512) over the
  whole sequence, the same head and loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from desktop_app.models.action2vec import seed001_loss
from desktop_app.models.base import JointEmbeddingModel, StepInfo, concat_streams, last_valid, masked_mean
from desktop_app.models.registry import JOINT_EMBEDDING, ModelShape, ModelSpec, register_model


@dataclass(frozen=True)
class SequenceLSTMConfig:
    """Settings of :class:`SequenceLSTM` (defaults: the ``paper`` preset of ``stacked-lstm``)."""

    streams: tuple[str, ...] = ("appearance", "motion")
    max_len: int = 52
    #: One LSTM per entry, stacked (``(1024,)`` single, ``(1024, 512)`` stacked).
    hidden_sizes: tuple[int, ...] = (1024, 512)
    dropout: float = 0.5
    loss: str = "dual"
    margin: float = 0.2
    hard_negatives: bool = True
    hard_negative_warmup: int = 2
    ce_weight: float = 0.02
    ce_weight_initial: float = 1.0


class SequenceLSTM(JointEmbeddingModel):
    """One or more stacked LSTMs over the whole sequence → FC into the word space (dual loss)."""

    def __init__(self, config: SequenceLSTMConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.streams = tuple(config.streams)
        size = sum(shape.input_dims[s] for s in self.streams)
        layers = []
        for hidden in config.hidden_sizes:
            layers.append(nn.LSTM(size, hidden, batch_first=True))
            size = hidden
        self.lstms = nn.ModuleList(layers)
        self.dropout = nn.Dropout(config.dropout)
        self.projection = nn.Linear(size, shape.word_dim)
        self.classifier = nn.Linear(shape.word_dim, shape.num_classes)

    def forward(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        sequence, length = concat_streams(features, lengths, self.streams)
        for i, lstm in enumerate(self.lstms):
            sequence, _ = lstm(sequence)
            if i < len(self.lstms) - 1:
                sequence = self.dropout(sequence)
        embedding = self.projection(last_valid(sequence, length))
        return embedding, self.classifier(embedding)

    def loss(
        self, embedding: Tensor, logits: Tensor | None, targets: Tensor, label_vectors: Tensor, step: StepInfo
    ) -> Tensor:
        """Seed 001's dual loss per clip."""
        return seed001_loss(self.config, embedding, logits, targets, label_vectors, step)


@dataclass(frozen=True)
class PooledRidgeConfig:
    """Settings of :class:`PooledRidge`."""

    streams: tuple[str, ...] = ("appearance", "motion")
    max_len: int = 300
    #: Ridge penalties tried; the one with the best validation accuracy is kept.
    alphas: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0)


class PooledRidge(JointEmbeddingModel):
    """Mean-pooled features (streams concatenated) → linear ridge regression to label vectors."""

    def __init__(self, config: PooledRidgeConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.streams = tuple(config.streams)
        size = sum(shape.input_dims[s] for s in self.streams)
        self.linear = nn.Linear(size, shape.word_dim)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.register_buffer("alpha", torch.zeros(()))

    def pool(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> Tensor:
        """Per-stream mean over valid steps, concatenated: ``(B, ΣD)``."""
        return torch.cat([masked_mean(features[s], lengths[s]) for s in self.streams], dim=1)

    def forward(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> tuple[Tensor, None]:
        return self.linear(self.pool(features, lengths)), None

    def fit(
        self,
        pooled: np.ndarray,
        targets: np.ndarray,
        label_vectors: np.ndarray,
        val_pooled: np.ndarray,
        val_targets: np.ndarray,
    ) -> dict[str, float]:
        """Solve ridge regression in closed form for every penalty, keep the best on validation.

        ``W = (XᵀX + α n I)⁻¹ XᵀY`` on centred ``X`` (pooled features) and ``Y`` (the clips' unit
        label vectors), solved once by an eigendecomposition of ``XᵀX`` for all ``α``
        (:func:`desktop_app.models.svm.fit_ridge`).

        Returns
        -------
        ``{"alpha": chosen penalty, "val_accuracy": its accuracy}``.
        """
        from desktop_app.models.svm import fit_ridge

        weight, bias, alpha, accuracy = fit_ridge(
            pooled, targets, label_vectors, self.config.alphas, val_pooled, val_targets
        )
        with torch.no_grad():
            self.linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight.T)))
            self.linear.bias.copy_(torch.from_numpy(bias))
            self.get_buffer("alpha").fill_(alpha)
        return {"alpha": float(alpha), "val_accuracy": accuracy}


_LSTM_TRAIN = {
    "paper": {"optimizer": "adam", "lr": 1e-3, "lr_halve_every": 0, "epochs": 60},
    "small": {"optimizer": "adam", "lr_halve_every": 15, "epochs": 30},
}
# input_scale, lr and hard_negatives of each small preset: chosen by `actionlens tune` on development folds (docs/models.md, "Tuning the small presets").
_LSTM_SMALL = {"lr": 3e-3, "input_scale": 1.0}
_STACKED_SMALL = {"lr": 1e-3, "input_scale": 3.0}

register_model(
    ModelSpec(
        name="lstm",
        task=JOINT_EMBEDDING,
        summary="seed 001 ablation: single LSTM over the sequence → FC; dual loss",
        config_cls=SequenceLSTMConfig,
        builder=SequenceLSTM,
        presets={
            "paper": {"model": {"hidden_sizes": (1024,)}, "train": _LSTM_TRAIN["paper"]},
            "small": {
                "model": {"hidden_sizes": (128,), "max_len": 48, "hard_negatives": True},
                "train": {**_LSTM_TRAIN["small"], **_LSTM_SMALL},
            },
        },
    )
)
register_model(
    ModelSpec(
        name="stacked-lstm",
        task=JOINT_EMBEDDING,
        summary="seed 001 ablation: two stacked LSTMs over the sequence → FC; dual loss",
        config_cls=SequenceLSTMConfig,
        builder=SequenceLSTM,
        presets={
            "paper": {"model": {"hidden_sizes": (1024, 512)}, "train": _LSTM_TRAIN["paper"]},
            "small": {
                "model": {"hidden_sizes": (128, 96), "max_len": 48, "hard_negatives": False},
                "train": {**_LSTM_TRAIN["small"], **_STACKED_SMALL},
            },
        },
    )
)
register_model(
    ModelSpec(
        name="pooled-ridge",
        task=JOINT_EMBEDDING,
        summary="seed 001 baseline: mean-pooled features → ridge regression to the word space",
        config_cls=PooledRidgeConfig,
        builder=PooledRidge,
        presets={
            "paper": {"model": {}, "train": {"epochs": 1}},
            # input_scale, pca_dims and the penalty grid: chosen by `actionlens tune` on development folds (docs/models.md, "Tuning the small presets").
            "small": {"model": {"max_len": 64}, "train": {"epochs": 1, "input_scale": 3.0}},
        },
        fit="closed-form",
    )
)
