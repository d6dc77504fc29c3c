"""What every joint-embedding model (clip → word space) shares: its call signature, the training
step it is told about, and masked sequence helpers.

A model's ``forward(features, lengths)`` takes ``{stream: (B, T, D_stream)}`` zero-padded
feature sequences and ``{stream: (B,)}`` valid lengths and returns ``(embedding, logits)``:
``embedding`` is ``(B, word_dim)`` in the word space, ``logits`` is ``(B, num_classes)`` of its
classification head (or ``None`` for a model without one). ``loss(...)`` turns those into one
loss per clip. Everything with parameters runs inside ``forward`` so DistributedDataParallel sees
every gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

#: A run trained for zero-shot recognition (its classes are the seen classes of a fold) …
TASK_ZSL = "zsl"
#: … or for recognition on a dataset split (all classes).
TASK_RECOGNITION = "recognition"


@dataclass(frozen=True)
class StepInfo:
    """Where training is, for losses whose weights change during training.

    Attributes
    ----------
    epoch
        Zero-based epoch.
    epoch_fraction
        Fraction of this epoch's iterations done before this one, in ``[0, 1)``.
    task
        ``"zsl"`` or ``"recognition"`` (seed 000's hinge margin depends on it).
    """

    epoch: int = 0
    epoch_fraction: float = 0.0
    task: str = TASK_RECOGNITION


class JointEmbeddingModel(nn.Module):
    """Base class of models that embed clips into the word-vector space."""

    #: Feature streams the model reads, in order.
    streams: tuple[str, ...] = ()

    def loss(
        self, embedding: Tensor, logits: Tensor | None, targets: Tensor, label_vectors: Tensor, step: StepInfo
    ) -> Tensor:
        """One loss per clip ``(B,)``; ``targets`` index the rows of ``label_vectors``."""
        raise NotImplementedError


def lengths_mask(lengths: Tensor, max_len: int) -> Tensor:
    """``(B, max_len)`` boolean mask, true at valid time steps."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def masked_mean(sequence: Tensor, lengths: Tensor) -> Tensor:
    """Mean over the valid time steps of a ``(B, T, H)`` sequence (an empty clip gives zeros)."""
    mask = lengths_mask(lengths, sequence.shape[1]).to(sequence.dtype)
    total = (sequence * mask[:, :, None]).sum(dim=1)
    return total / lengths.clamp(min=1).to(sequence.dtype)[:, None]


def last_valid(sequence: Tensor, lengths: Tensor) -> Tensor:
    """The ``(B, H)`` output at each sequence's last valid step (step 0 for an empty one)."""
    index = (lengths - 1).clamp(min=0).long()
    return sequence[torch.arange(sequence.shape[0], device=sequence.device), index]


def concat_streams(
    features: dict[str, Tensor], lengths: dict[str, Tensor], streams: tuple[str, ...]
) -> tuple[Tensor, Tensor]:
    """Concatenate streams per time step into one ``(B, T, ΣD)`` sequence.

    Streams sampled at the same rate have the same length; where they differ, the shorter one
    decides (the tail of the longer one has no partner step).
    """
    steps = min(features[s].shape[1] for s in streams)
    joined = torch.cat([features[s][:, :steps] for s in streams], dim=-1)
    length = torch.stack([lengths[s] for s in streams]).min(dim=0).values.clamp(max=steps)
    return joined, length
