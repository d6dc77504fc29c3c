"""Action2Vec of seed 001 (001_2c0e6cadd74a018c), §3.2.

A hierarchical RNN: the (zero-padded, clipped) feature sequence is cut into non-overlapping
sub-sequences of ``subseq_len`` steps; LSTM-1 (1024 units, dropout 0.5) runs over each
sub-sequence on its own (states do not carry over) and emits its output at the sub-sequence's
last step — "every s-th hidden unit"; LSTM-2 (512 units) runs over those outputs and its last
output goes through a fully connected layer to the word dimension. Soft attention (the Bahdanau
form the seed writes out) sits before LSTM-1 and between the LSTMs: at step ``t``

    e_j(t) = wᵀ tanh(W_a x_j + U_a h_{t−1} + b_a),   α_j(t) = softmax_j e_j(t),   c_t = Σ_j α_j(t) x_j

Two readings of what the LSTM then reads (``Action2VecConfig.attention_form``):

* ``"input-feeding"`` (model ``action2vec``): ``[x_t; c_t]`` — the context beside the step's own
  input, as Bahdanau's decoder reads its previous output beside ``c_i`` (``s_i = f(s_{i−1},
  y_{i−1}, c_i)``) and Luong et al.'s "input feeding" does. The LSTM still walks the steps in
  order, so the embedding depends on time order.
* ``"literal"`` (model ``action2vec-literal``, and every ``action2vec`` run saved before the
  option existed): ``c_t`` replaces ``x_t``, as seed 001 words it ("instead of … (x1, …, xn) … a
  new sequence (c1, …, cn)"). The scores depend on content and ``h_{t−1}`` only, and ``c_t`` is a
  sum over all steps, so by induction from ``h_0 = 0`` every ``h_t`` is the same under any
  permutation of the steps: LSTM-1 cannot tell the order inside a sub-sequence, LSTM-2 the order
  of the sub-sequences, and a reversed clip gets the same embedding.

The loss is ``L_Dual = L_PR + λ·L_CE`` (:func:`desktop_app.models.losses.dual_loss`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from desktop_app.errors import ActionLensError
from desktop_app.models.base import JointEmbeddingModel, StepInfo, concat_streams, last_valid, lengths_mask
from desktop_app.models.losses import dual_loss, dual_loss_weight
from desktop_app.models.registry import JOINT_EMBEDDING, ModelShape, ModelSpec, register_model


class SoftAttention(nn.Module):
    """Seed 001's soft attention over a set of inputs, queried by the previous hidden state.

    ``e_j = wᵀ tanh(W_a x_j + U_a h + b_a)``; returns ``c = Σ_j softmax(e)_j x_j``.
    """

    def __init__(self, input_size: int, hidden_size: int, attention_size: int) -> None:
        super().__init__()
        self.input_proj = nn.Linear(input_size, attention_size, bias=True)  # W_a, b_a
        self.hidden_proj = nn.Linear(hidden_size, attention_size, bias=False)  # U_a
        self.score = nn.Linear(attention_size, 1, bias=False)  # w

    def keys(self, inputs: Tensor) -> Tensor:
        """``W_a x_j + b_a`` for every input, computed once per sequence."""
        return self.input_proj(inputs)

    def forward(self, inputs: Tensor, keys: Tensor, hidden: Tensor, mask: Tensor) -> Tensor:
        scores = self.score(torch.tanh(keys + self.hidden_proj(hidden)[:, None, :])).squeeze(-1)
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=1)
        return torch.bmm(weights[:, None, :], inputs).squeeze(1)


#: What the LSTM reads at step t: ``[x_t; c_t]`` (order-aware) or ``c_t`` alone (seed 001 literally).
ATTENTION_FORMS = ("input-feeding", "literal")


class AttentiveLSTM(nn.Module):
    """An LSTM over a ``(N, L, D)`` sequence whose step ``t`` reads the attention context ``c_t``
    beside ``x_t`` (``form="input-feeding"``), ``c_t`` alone (``form="literal"``), or ``x_t``
    alone when ``attention`` is false; returns all outputs ``(N, L, H)``."""

    def __init__(
        self, input_size: int, hidden_size: int, attention: bool, attention_size: int, form: str = "literal"
    ) -> None:
        super().__init__()
        if form not in ATTENTION_FORMS:
            raise ActionLensError(f"unknown attention_form {form!r}; use one of {', '.join(ATTENTION_FORMS)}")
        self.hidden_size = hidden_size
        self.feed_input = attention and form == "input-feeding"
        self.cell = nn.LSTMCell(input_size * (2 if self.feed_input else 1), hidden_size)
        self.attention = SoftAttention(input_size, hidden_size, attention_size) if attention else None

    def forward(self, inputs: Tensor, mask: Tensor) -> Tensor:
        n, steps, _ = inputs.shape
        h = inputs.new_zeros(n, self.hidden_size)
        c = inputs.new_zeros(n, self.hidden_size)
        # A sequence with no valid step attends to its (zero) padding rather than to nothing.
        attend_mask = mask | ~mask.any(dim=1, keepdim=True)
        keys = self.attention.keys(inputs) if self.attention is not None else None
        outputs = []
        for t in range(steps):
            if self.attention is not None and keys is not None:
                step_input = self.attention(inputs, keys, h, attend_mask)
                if self.feed_input:
                    step_input = torch.cat([inputs[:, t], step_input], dim=1)
            else:
                step_input = inputs[:, t]
            h, c = self.cell(step_input, (h, c))
            outputs.append(h)
        return torch.stack(outputs, dim=1)


def seed001_loss(
    config: Any,
    embedding: Tensor,
    logits: Tensor | None,
    targets: Tensor,
    label_vectors: Tensor,
    step: StepInfo,
) -> Tensor:
    """``L_Dual`` of seed 001 per clip for a model whose ``config`` has ``loss``, ``margin``,
    ``hard_negatives``, ``ce_weight`` and ``ce_weight_initial``; ``loss="cosine"`` drops the
    classification term (the "only CosSim loss" ablation of seed 001's Table 1)."""
    weight = dual_loss_weight(
        step.epoch, step.epoch_fraction, final=config.ce_weight, initial=config.ce_weight_initial
    )
    # Hard-negative mining from a random start collapses the embedding (seen on the demo data, and
    # known from VSE++): the first ``hard_negative_warmup`` epochs sum over all negatives.
    hard = config.hard_negatives and step.epoch >= config.hard_negative_warmup
    if config.loss == "cosine" or logits is None:
        return dual_loss(embedding, embedding, targets, label_vectors, 0.0, config.margin, hard)
    return dual_loss(embedding, logits, targets, label_vectors, weight, config.margin, hard)


@dataclass(frozen=True)
class Action2VecConfig:
    """Settings of :class:`Action2Vec` (defaults: the ``paper`` preset, seed 001 §3.2)."""

    #: Streams concatenated per time step into the one feature sequence (the seed uses C3D).
    streams: tuple[str, ...] = ("appearance", "motion")
    #: Fixed sequence length: longer clips are clipped, shorter ones zero-padded (seed: 52).
    max_len: int = 52
    #: Length of LSTM-1's non-overlapping sub-sequences, i.e. its output stride (seed: 6).
    subseq_len: int = 6
    lstm1_size: int = 1024
    lstm1_dropout: float = 0.5
    lstm2_size: int = 512
    attention: bool = True
    #: ``"input-feeding"``: the LSTM reads ``[x_t; c_t]`` (order-aware; both presets of
    #: ``action2vec``); ``"literal"``: ``c_t`` replaces ``x_t`` (blind to time order; the
    #: ``action2vec-literal`` ablation). The default is ``"literal"`` because run metadata saved
    #: before this field existed describes that model; see ``docs/models.md``.
    attention_form: str = "literal"
    #: Width of the attention's hidden layer (not given in the seed).
    attention_size: int = 256
    #: ``"dual"`` (L_PR + λ·L_CE) or ``"cosine"`` (L_PR only).
    loss: str = "dual"
    #: Ranking margin α (not given in the seed; VSE++'s 0.2).
    margin: float = 0.2
    hard_negatives: bool = True
    #: Epochs of summed (not hardest) negatives before hard-negative mining starts (not in the seed).
    hard_negative_warmup: int = 2
    #: λ from 75 % of the first epoch on (seed: 0.02), and before that (not given: 1).
    ce_weight: float = 0.02
    ce_weight_initial: float = 1.0
    #: Legacy factor on the input features, kept so that runs made before the run-level input
    #: options load as they did; new runs leave it at 1 (the training option ``input_scale``).
    input_scale: float = 1.0


class Action2Vec(JointEmbeddingModel):
    """Seed 001's hierarchical RNN with soft attention and a sigmoid classification head."""

    def __init__(self, config: Action2VecConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.streams = tuple(config.streams)
        missing = [s for s in self.streams if s not in shape.input_dims]
        if missing:
            raise ValueError(
                f"Action2Vec needs feature streams {missing}; the features have {sorted(shape.input_dims)}"
            )
        input_size = sum(shape.input_dims[s] for s in self.streams)
        form = config.attention_form
        self.lstm1 = AttentiveLSTM(
            input_size, config.lstm1_size, config.attention, config.attention_size, form
        )
        self.dropout = nn.Dropout(config.lstm1_dropout)
        self.lstm2 = AttentiveLSTM(
            config.lstm1_size, config.lstm2_size, config.attention, config.attention_size, form
        )
        self.projection = nn.Linear(config.lstm2_size, shape.word_dim)
        self.classifier = nn.Linear(shape.word_dim, shape.num_classes)

    def forward(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        sequence, length = concat_streams(features, lengths, self.streams)
        sequence = sequence * self.config.input_scale
        batch, steps, dim = sequence.shape
        s = self.config.subseq_len
        pieces = max(1, -(-steps // s))
        sequence = nn.functional.pad(sequence, (0, 0, 0, pieces * s - steps))
        # LSTM-1 over every sub-sequence independently: (B·P, s, D).
        sub = sequence.reshape(batch * pieces, s, dim)
        sub_len = (length[:, None] - torch.arange(pieces, device=length.device)[None, :] * s).clamp(0, s)
        sub_len = sub_len.reshape(-1)
        out1 = self.lstm1(sub, lengths_mask(sub_len, s))
        summary = self.dropout(last_valid(out1, sub_len)).reshape(batch, pieces, -1)
        valid_pieces = (sub_len.reshape(batch, pieces) > 0).sum(dim=1)
        out2 = self.lstm2(summary, lengths_mask(valid_pieces, pieces))
        embedding = self.projection(last_valid(out2, valid_pieces))
        return embedding, self.classifier(embedding)

    def loss(
        self, embedding: Tensor, logits: Tensor | None, targets: Tensor, label_vectors: Tensor, step: StepInfo
    ) -> Tensor:
        """``L_Dual`` per clip (:func:`seed001_loss`)."""
        return seed001_loss(self.config, embedding, logits, targets, label_vectors, step)


#: Tuning of both Action2Vec models; the attention form is added per model below.
_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {
        "model": {},
        "train": {"optimizer": "adam", "lr": 1e-3, "lr_halve_every": 0, "epochs": 60},
    },
    "small": {
        "model": {
            "hard_negatives": False,
            "max_len": 48,
            "subseq_len": 6,
            "lstm1_size": 128,
            "lstm2_size": 96,
            "attention_size": 64,
        },
        # input_scale, lr and hard_negatives: chosen by `actionlens tune` on development folds (docs/models.md, "Tuning the small presets")
        # (action2vec and action2vec-literal chose the same setting).
        "train": {"optimizer": "adam", "lr": 1e-3, "lr_halve_every": 15, "epochs": 30, "input_scale": 3.0},
    },
}


def _presets(attention_form: str) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        name: {**parts, "model": {**parts["model"], "attention_form": attention_form}}
        for name, parts in _PRESETS.items()
    }


register_model(
    ModelSpec(
        name="action2vec",
        task=JOINT_EMBEDDING,
        summary=(
            "seed 001: hierarchical LSTM (1024 over sub-sequences, 512) with soft attention "
            "read beside each step's input (order-aware); dual loss"
        ),
        config_cls=Action2VecConfig,
        builder=Action2Vec,
        presets=_presets("input-feeding"),
    )
)
register_model(
    ModelSpec(
        name="action2vec-literal",
        task=JOINT_EMBEDDING,
        summary=(
            "seed 001 ablation: action2vec with the attention context in place of each step's input, "
            "as written (blind to time order)"
        ),
        config_cls=Action2VecConfig,
        builder=Action2Vec,
        presets=_presets("literal"),
    )
)
