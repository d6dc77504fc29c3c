"""Losses of the joint video–word embedding models (seeds 000 and 001).

Every loss returns **one value per clip** (``reduction="none"``): the trainer sums them and
divides by the global batch size, so that a batch split over several distributed processes
gives the same gradient as the whole batch in one process.

Label vectors are the word vectors of the class phrases (mean of the words, seed 000 §III.C),
L2-normalised once by the caller; the training classes' rows form ``label_vectors`` and
``targets`` index into them.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

#: Seed 000, §IV: hinge margin 0.4 for zero-shot classification …
STE_MARGIN_ZSL = 0.4
#: … and 0.55 for recognition and word-to-video retrieval.
STE_MARGIN_RECOGNITION = 0.55


def hinge_rank_loss(embeddings: Tensor, targets: Tensor, label_vectors: Tensor, margin: float) -> Tensor:
    """Hinge rank loss of seed 000, eq. (5), per clip.

    ``loss = Σ_{j≠n} max(0, margin − m_n·g(E_v) + m_j·g(E_v))`` where ``m_n`` is the clip's own
    label vector and ``m_j`` every other training class's label vector. (The seed prints a
    leading minus sign; the loss to minimise is the positive sum, as in DeViSE which it follows.)
    Similarities are plain dot products, as written.

    Parameters
    ----------
    embeddings
        ``(B, D)`` clip embeddings ``g(E_v)``.
    targets
        ``(B,)`` class indices into ``label_vectors``.
    label_vectors
        ``(C, D)`` label vectors of the training classes.
    margin
        0.4 for zero-shot, 0.55 otherwise (:data:`STE_MARGIN_ZSL`, :data:`STE_MARGIN_RECOGNITION`).

    Returns
    -------
    ``(B,)`` losses.
    """
    scores = embeddings @ label_vectors.T  # (B, C)
    positive = scores.gather(1, targets[:, None])  # (B, 1)
    violation = (margin - positive + scores).clamp(min=0)
    own = F.one_hot(targets, num_classes=label_vectors.shape[0]).bool()
    return violation.masked_fill(own, 0.0).sum(dim=1)


def softmax_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Softmax loss of seed 000, eqs. (6)–(7), per clip.

    ``logits`` are ``g(E_v)·w_n`` for every class ``n`` (a bias-free linear layer on the
    embedding); the loss is ``−log P(l_v = n | g(E_v))`` of the clip's class.
    """
    return F.cross_entropy(logits.float(), targets, reduction="none")


def pairwise_ranking_loss(
    embeddings: Tensor,
    targets: Tensor,
    label_vectors: Tensor,
    margin: float,
    hard_negatives: bool = True,
) -> Tensor:
    """Pairwise ranking loss L_PR on cosine similarity of seed 001 (§3.2), per clip.

    For a clip ``i`` of class ``c`` with embedding ``a_i`` and verb (label) vector ``v_c``::

        max(0, α − s(a_i, v_c) + s(a_i, v_k))      contrastive verbs v_k, k ≠ c
      + max(0, α − s(v_c, a_i) + s(v_c, a_x))      contrastive clips a_x of the batch, class ≠ c

    with ``s`` the cosine similarity. The seed's formula is garbled in our copy; this is the
    bidirectional ranking loss of Kiros et al. that it cites. With ``hard_negatives`` each sum
    over contrastive items is replaced by its largest term (hard-negative mining, as the seed
    says, in the form of VSE++); otherwise all terms are summed.

    Returns
    -------
    ``(B,)`` losses; a clip with no contrastive clip in the batch contributes only the first term.
    """
    a = F.normalize(embeddings.float(), dim=1)
    v = F.normalize(label_vectors.float(), dim=1)
    sim_verbs = a @ v.T  # (B, C): s(a_i, v_k)
    positive = sim_verbs.gather(1, targets[:, None])  # (B, 1): s(a_i, v_c)
    own_class = F.one_hot(targets, num_classes=v.shape[0]).bool()
    verb_terms = (margin - positive + sim_verbs).clamp(min=0).masked_fill(own_class, 0.0)

    # s(v_c, a_x) for every clip x of the batch: row i holds the clip i's verb against all clips.
    sim_clips = v[targets] @ a.T  # (B, B)
    same_class = targets[:, None] == targets[None, :]
    clip_terms = (margin - positive + sim_clips).clamp(min=0).masked_fill(same_class, 0.0)
    if hard_negatives:
        return verb_terms.max(dim=1).values + clip_terms.max(dim=1).values
    return verb_terms.sum(dim=1) + clip_terms.sum(dim=1)


def sigmoid_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy of seed 001's classification branch, per clip.

    The seed's last layer is a fully connected layer "with the same dimensionality of the one-hot
    action class labels, and with a sigmoid activation"; the loss is the binary cross-entropy of
    those sigmoids against the one-hot label, summed over classes.
    """
    one_hot = F.one_hot(targets, num_classes=logits.shape[1]).to(logits.dtype)
    return F.binary_cross_entropy_with_logits(logits.float(), one_hot.float(), reduction="none").sum(dim=1)


def dual_loss_weight(
    epoch: int, epoch_fraction: float, final: float = 0.02, initial: float = 1.0, switch: float = 0.75
) -> float:
    """λ of seed 001's dual loss: ``final`` (0.02) from 75 % of the first epoch's iterations on.

    The seed does not say what λ is before that point; we use ``initial`` = 1 (the
    classification term helps the embedding out of its random start, then is scaled down so the
    ranking loss dominates), see ``docs/models.md``.

    Parameters
    ----------
    epoch
        Zero-based epoch.
    epoch_fraction
        Fraction of this epoch's iterations done before the current one, in ``[0, 1)``.
    """
    if epoch > 0 or epoch_fraction >= switch:
        return final
    return initial


def dual_loss(
    embeddings: Tensor,
    logits: Tensor,
    targets: Tensor,
    label_vectors: Tensor,
    weight: float,
    margin: float,
    hard_negatives: bool = True,
) -> Tensor:
    """Seed 001's ``L_Dual = L_PR + λ·L_CE`` per clip (see :func:`pairwise_ranking_loss`,
    :func:`sigmoid_cross_entropy`, :func:`dual_loss_weight`)."""
    ranking = pairwise_ranking_loss(embeddings, targets, label_vectors, margin, hard_negatives)
    if weight == 0.0:
        return ranking
    return ranking + weight * sigmoid_cross_entropy(logits, targets)


def as_unit_rows(vectors: Tensor) -> Tensor:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    return F.normalize(vectors.float(), dim=-1)


__all__ = [
    "STE_MARGIN_RECOGNITION",
    "STE_MARGIN_ZSL",
    "as_unit_rows",
    "dual_loss",
    "dual_loss_weight",
    "hinge_rank_loss",
    "pairwise_ranking_loss",
    "sigmoid_cross_entropy",
    "softmax_loss",
]
