"""Semantic and temporal embedding ("STE") of seed 000 (000_0384707f35a90c8c).

Two independent GRUs encode the appearance (RGB) and the motion (optical flow) feature
sequences (§III.B, eqs. 1–4; 1024 units each); their outputs are mean-pooled over time, combined
by the weighted concatenation ``E_v = [½·E_app ; 3/2·E_of]`` and projected by an MLP
2048–1200–D into the word space (§III.C). The loss is the hinge rank loss of eq. (5) plus the
softmax loss of eqs. (6)–(7), summed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from desktop_app.models.base import TASK_ZSL, JointEmbeddingModel, StepInfo, masked_mean
from desktop_app.models.losses import hinge_rank_loss, softmax_loss
from desktop_app.models.registry import JOINT_EMBEDDING, ModelShape, ModelSpec, register_model


@dataclass(frozen=True)
class STEConfig:
    """Settings of :class:`SemanticTemporalEmbedding` (defaults: the ``paper`` preset)."""

    #: GRU units per stream (seed 000 §III.B: 1024).
    hidden_size: int = 1024
    #: Hidden layer of the MLP (seed 000 §IV: 2048–1200–500, the output being the word dimension).
    mlp_hidden: int = 1200
    appearance_stream: str = "appearance"
    motion_stream: str = "motion"
    #: Weights of the concatenation ``[½·E_app ; 3/2·E_of]`` (seed 000 §III.B, after LRCN).
    appearance_weight: float = 0.5
    motion_weight: float = 1.5
    #: Hinge margins of eq. (5): 0.4 for zero-shot, 0.55 otherwise (seed 000 §IV).
    margin_zsl: float = 0.4
    margin_recognition: float = 0.55
    #: Longest sequence read, in feature steps (the seed's GRUs are variable-length; this caps
    #: memory: 300 steps = 30 s at the seed's 10 fps).
    max_len: int = 300
    #: Weight of the softmax loss of eq. (6) beside eq. (5) in zero-shot runs (the seed sums them:
    #: 1; it calls eq. (6) "a fine-tuning part … effective when performing video recognition",
    #: so recognition runs always weigh it 1).
    softmax_weight_zsl: float = 1.0
    #: Score eq. (5) on the L2-normalised embedding (cosine, as zero-shot assignment and retrieval
    #: do) instead of the raw dot product the seed writes (False).
    normalize_embedding: bool = False
    #: Legacy factor on the input features before the GRUs, kept so that runs made before the
    #: run-level input options load and embed as they did. New runs leave it at 1: the scale is
    #: the training option ``input_scale``, applied by the run's input transform for every model
    #: (``desktop_app/training/inputs.py``).
    input_scale: float = 1.0


class SemanticTemporalEmbedding(JointEmbeddingModel):
    """Seed 000's two-GRU + MLP embedding with a softmax head (eqs. 1–7)."""

    def __init__(self, config: STEConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.streams = (config.appearance_stream, config.motion_stream)
        for stream in self.streams:
            if stream not in shape.input_dims:
                raise ValueError(
                    f"STE needs a {stream!r} feature stream; the features have {sorted(shape.input_dims)}"
                )
        self.appearance_gru = nn.GRU(
            shape.input_dims[config.appearance_stream], config.hidden_size, batch_first=True
        )
        self.motion_gru = nn.GRU(shape.input_dims[config.motion_stream], config.hidden_size, batch_first=True)
        self.mlp = nn.Sequential(
            nn.Linear(2 * config.hidden_size, config.mlp_hidden),
            nn.ReLU(),
            nn.Linear(config.mlp_hidden, shape.word_dim),
        )
        # Eq. (7): P(l_v = n | g(E_v)) ∝ exp(g(E_v)·w_n) — a bias-free linear layer.
        self.classifier = nn.Linear(shape.word_dim, shape.num_classes, bias=False)

    def encode(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> Tensor:
        """``E_v``: the weighted concatenation of the mean-pooled GRU outputs, ``(B, 2H)``."""
        app_stream, motion_stream = self.streams
        # Unidirectional GRUs: outputs at valid steps do not depend on the zero padding after them,
        # so a masked mean over the padded batch equals the variable-length result.
        scale = self.config.input_scale
        app, _ = self.appearance_gru(features[app_stream] * scale)
        motion, _ = self.motion_gru(features[motion_stream] * scale)
        e_app = masked_mean(app, lengths[app_stream])
        e_motion = masked_mean(motion, lengths[motion_stream])
        return torch.cat([e_app * self.config.appearance_weight, e_motion * self.config.motion_weight], dim=1)

    def forward(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        embedding = self.mlp(self.encode(features, lengths))
        return embedding, self.classifier(embedding)

    def loss(
        self, embedding: Tensor, logits: Tensor | None, targets: Tensor, label_vectors: Tensor, step: StepInfo
    ) -> Tensor:
        """Eq. (5) + eq. (6), per clip (eq. 6 weighted by ``softmax_weight_zsl`` in zero-shot runs)."""
        zsl = step.task == TASK_ZSL
        margin = self.config.margin_zsl if zsl else self.config.margin_recognition
        softmax_weight = self.config.softmax_weight_zsl if zsl else 1.0
        assert logits is not None
        scored = embedding.float()
        if self.config.normalize_embedding:
            scored = F.normalize(scored, dim=1)
        hinge = hinge_rank_loss(scored, targets, label_vectors, margin)
        # Eq. (6) is always computed, so the classifier takes part in every step (DDP needs that).
        return hinge + softmax_weight * softmax_loss(logits, targets)


register_model(
    ModelSpec(
        name="ste",
        task=JOINT_EMBEDDING,
        summary="seed 000: two GRUs (appearance, motion), mean pooling, MLP into the word space; hinge rank + softmax loss",
        config_cls=STEConfig,
        builder=SemanticTemporalEmbedding,
        presets={
            # Seed 000 §IV: lr 1e-4 halved every 15 epochs, batch 30.
            "paper": {
                "model": {},
                "train": {"optimizer": "adam", "lr": 1e-4, "lr_halve_every": 15, "epochs": 60},
            },
            "small": {
                # See docs/models.md for the measurements behind each setting.
                "model": {
                    "hidden_size": 128,
                    "mlp_hidden": 256,
                    "max_len": 64,
                    "normalize_embedding": True,
                    "softmax_weight_zsl": 1.0,
                },
                # input_scale, lr and softmax_weight_zsl: chosen by `actionlens tune` on development folds (docs/models.md, "Tuning the small presets").
                "train": {
                    "optimizer": "adam",
                    "lr": 1e-3,
                    "lr_halve_every": 15,
                    "epochs": 30,
                    "input_scale": 1.0,
                },
            },
        },
    )
)
