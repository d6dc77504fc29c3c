"""Seed 004: Hierarchical Sequence Embedding (HSE) of videos and paragraphs, and its flat
baseline (FSE).

A video is a sequence of clips (its captioned segments), a clip a sequence of frame features;
a paragraph is a sequence of sentences, a sentence a sequence of word vectors. HSE encodes both
hierarchically with GRUs (eq. 3) and learns from matching losses at both levels (eq. 4–5, or the
weak-correspondence eq. 13–14), clustering losses (eq. 6–7) and layer-wise reconstruction
(eq. 8–10) weighted by τ (eq. 11). FSE (eq. 1) runs one GRU over all frames and one over all
words and learns from the high-level matching loss only.

Choices where the paper is silent follow the authors' code (Sha-Lab/CMHSE) and are listed in
``docs/hse.md``: GRU outputs max-pooled over the valid steps, one margin (0.2) for every hinge,
Adam 1e-3 cut ×0.1 every 10 epochs, batch 64 videos, embedding 1024, detached reconstruction
targets. The hinges are written ``[margin + MATCH(negative) − MATCH(positive)]_+``: the paper's
eq. 4–7 print the two MATCH terms the other way round, which would push matched pairs apart.

This module holds the ``nn.Module``s, the losses and their registration; the batches of
videos and paragraphs are built by :mod:`desktop_app.training.paragraphs`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from desktop_app.models.base import concat_streams, lengths_mask

# VIDEO_PARAGRAPH (the kind of model that embeds videos and paragraphs into one space) lives in
# the torch-free registry so that the analysis layer can test for it; re-exported here.
from desktop_app.models.registry import VIDEO_PARAGRAPH, ModelShape, ModelSpec, register_model


@dataclass
class HSEConfig:
    """Settings of :class:`HierarchicalSequenceEmbedding` and :class:`FlatSequenceEmbedding`.

    Attributes
    ----------
    embed_size
        Width of every GRU and of the joint space (CMHSE: 1024).
    streams
        Feature streams read (concatenated per time step); empty: every stream of the store but
        audio, filled in when the run is trained.
    word_vector_dim
        Dimension of the word vectors the sentence encoder reads; 0: the run's word vectors',
        filled in when the run is trained.
    margin
        α = β = γ = η = β' of eq. 4–7 and 14 (CMHSE: one margin, 0.2).
    tau
        Weight of the reconstruction loss, eq. 11 (seed: 5e-4, tuned on ActivityNet val2).
    low_level
        ``"strong"`` (eq. 5: clip i matches sentence i), ``"weak"`` (eq. 13–14: only video ↔
        paragraph pairs known) or ``"none"`` (Table 3's ×: no ℓ^LOW).
    cluster
        Add the clustering losses, eq. 6 (and eq. 7 where ``low_level`` is not ``"none"``).
    clip_steps
        At most this many feature rows per clip (a longer clip is sampled uniformly).
    max_clips
        At most this many clips (and sentences) per video / paragraph (the first ones).
    max_words
        At most this many words per sentence (FSE: per paragraph, ``max_words * max_clips``).
    lr_step
        Cut the learning rate ×0.1 every this many epochs (CMHSE: 10).
    val_fraction
        Share of the training videos held out to choose the checkpoint.
    """

    embed_size: int = 1024
    streams: tuple[str, ...] = ()
    word_vector_dim: int = 0
    margin: float = 0.2
    tau: float = 5e-4
    low_level: str = "strong"
    cluster: bool = True
    clip_steps: int = 64
    max_clips: int = 16
    max_words: int = 32
    lr_step: int = 10
    val_fraction: float = 0.2


# ------------------------------------------------------------------------------------ losses
def cosine_matrix(a: Tensor, b: Tensor) -> Tensor:
    """``MATCH`` of eq. 2 between every row of ``a`` and every row of ``b``: ``(len(a), len(b))``."""
    return F.normalize(a, dim=-1, eps=1e-8) @ F.normalize(b, dim=-1, eps=1e-8).T


def matching_hinge(scores: Tensor, margin: float, positives: Tensor | None = None) -> Tensor:
    """Bidirectional ranking hinge of eq. 4 (and eq. 5, 14) over a score matrix.

    ``scores[k, k']`` is ``MATCH(v_k, p_k')``; the diagonal holds the matched pairs. For every
    ``k`` and every ``k' ≠ k``: ``[m + MATCH(v_k', p_k) − MATCH(v_k, p_k)]_+ + [m + MATCH(v_k,
    p_k') − MATCH(v_k, p_k)]_+``, summed. ``positives`` (optional, boolean like ``scores``)
    marks further pairs that are not negatives (none by default).
    """
    n = scores.shape[0]
    diagonal = scores.diagonal()
    not_negative = torch.eye(n, dtype=torch.bool, device=scores.device)
    if positives is not None:
        not_negative = not_negative | positives
    # column k: paragraph k against every video k' (first term); row k: video k against p_k'.
    video_side = (margin + scores - diagonal[None, :]).clamp(min=0).masked_fill(not_negative, 0.0)
    paragraph_side = (margin + scores - diagonal[:, None]).clamp(min=0).masked_fill(not_negative, 0.0)
    return video_side.sum() + paragraph_side.sum()


def clustering_hinge(embeddings: Tensor, margin: float) -> Tensor:
    """Clustering loss of eq. 6 (and eq. 7) within one modality.

    ``Σ_k Σ_{k' ≠ k} [m + MATCH(x_k', x_k) − MATCH(x_k, x_k)]_+`` with ``MATCH(x_k, x_k) = 1``:
    zero once different items are at least ``m`` below the cosine of an item with itself.
    """
    scores = cosine_matrix(embeddings, embeddings)
    n = scores.shape[0]
    off = ~torch.eye(n, dtype=torch.bool, device=scores.device)
    return (margin + scores - 1.0).clamp(min=0)[off].sum()


def weak_match_matrix(
    clips: Tensor, clip_video: Tensor, sentences: Tensor, sentence_para: Tensor, n: int
) -> Tensor:
    """``MATCH̄(v_k, p_k')`` of eq. 13 for every pair: the mean cosine of their clips and sentences.

    ``clip_video[i]`` / ``sentence_para[j]`` say which video / paragraph (``0 … n-1``) clip ``i``
    and sentence ``j`` belong to.
    """
    scores = cosine_matrix(clips, sentences)
    clip_onehot = F.one_hot(clip_video, n).to(scores.dtype)  # (Nc, n)
    sentence_onehot = F.one_hot(sentence_para, n).to(scores.dtype)  # (Ns, n)
    sums = clip_onehot.T @ scores @ sentence_onehot  # (n, n)
    counts = clip_onehot.sum(0)[:, None] * sentence_onehot.sum(0)[None, :]
    return sums / counts.clamp(min=1.0)


def reconstruction_loss(
    generated_clips: Tensor,
    clips: Tensor,
    generated_frames: Tensor,
    frames: Tensor,
    frame_lengths: Tensor,
) -> Tensor:
    """One side of eq. 10, summed over the batch: ``Σ_i ‖ĉ_i − c_i‖² + (1/n_i) Σ_j ‖x̂_ij − x_ij‖²``.

    ``clips`` / ``generated_clips`` are ``(N, H)`` (every clip of the batch); ``frames`` /
    ``generated_frames`` ``(N, L, D)`` zero-padded, ``frame_lengths`` ``(N,)`` the ``n_i``.
    The targets are detached (CMHSE): the decoders learn to reproduce the encoders, the
    encoders are not pulled towards what the decoders can produce.
    """
    clip_term = ((generated_clips - clips.detach()) ** 2).sum()
    mask = lengths_mask(frame_lengths, frames.shape[1]).to(frames.dtype)
    per_frame = ((generated_frames - frames.detach()) ** 2).sum(-1) * mask
    frame_term = (per_frame.sum(1) / frame_lengths.clamp(min=1).to(frames.dtype)).sum()
    return clip_term + frame_term


# ---------------------------------------------------------------------------------- encoders
def masked_max(sequence: Tensor, lengths: Tensor) -> Tensor:
    """Max over the valid steps of a ``(B, T, H)`` sequence (CMHSE's pooling; zeros when empty)."""
    mask = lengths_mask(lengths, sequence.shape[1])
    filled = sequence.masked_fill(~mask[:, :, None], float("-inf"))
    pooled = filled.max(dim=1).values
    return torch.where(lengths[:, None] > 0, pooled, torch.zeros_like(pooled))


class SequenceEncoder(nn.Module):
    """A one-layer GRU whose outputs are max-pooled over the valid steps.

    The GRU runs forwards only, so the outputs at valid steps do not depend on the padding after
    them, and the pooled vector of a padded sequence is that of the sequence alone.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)

    def forward(self, sequence: Tensor, lengths: Tensor) -> Tensor:
        if sequence.shape[0] == 0:
            return sequence.new_zeros((0, self.gru.hidden_size))
        outputs, _ = self.gru(sequence)
        return masked_max(outputs, lengths)


class SequenceDecoder(nn.Module):
    """A GRU that unrolls a code into ``steps`` outputs (eq. 8–9's DEC): the code is the input
    at every step and a linear layer maps each hidden state to the target's width."""

    def __init__(self, code_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.gru = nn.GRU(code_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)

    def forward(self, code: Tensor, steps: int) -> Tensor:
        if code.shape[0] == 0 or steps == 0:
            return code.new_zeros((code.shape[0], steps, self.out.out_features))
        outputs, _ = self.gru(code[:, None, :].expand(-1, steps, -1).contiguous())
        return self.out(outputs)


def group(items: Tensor, counts: Tensor) -> tuple[Tensor, Tensor]:
    """``(N, H)`` rows of consecutive groups of ``counts`` rows → ``(B, max count, H)`` padded."""
    b = len(counts)
    steps = int(counts.max()) if b else 0
    out = items.new_zeros((b, max(steps, 1), items.shape[-1]))
    owner = torch.repeat_interleave(torch.arange(b, device=items.device), counts)
    starts = torch.cumsum(counts, 0) - counts
    position = torch.arange(len(items), device=items.device) - starts[owner]
    out[owner, position] = items
    return out, counts


@dataclass
class HierarchyBatch:
    """A batch of videos and their paragraphs (:mod:`desktop_app.training.paragraphs`).

    ``clip_frames`` ``(Nc, L, D)`` and ``clip_lengths`` hold every clip of the batch in video
    order, ``clips_per_video`` ``(B,)`` how many each video has; ``sentence_words`` ``(Ns, W,
    Dw)``, ``sentence_lengths`` and ``sentences_per_paragraph`` the same for the text side. With
    strong correspondence clip ``i`` of a video goes with sentence ``i`` of its paragraph.
    """

    clip_frames: Tensor
    clip_lengths: Tensor
    clips_per_video: Tensor
    sentence_words: Tensor
    sentence_lengths: Tensor
    sentences_per_paragraph: Tensor

    def to(self, device: Any) -> HierarchyBatch:
        return HierarchyBatch(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


def flatten_groups(items: Tensor, lengths: Tensor, counts: Tensor, limit: int) -> tuple[Tensor, Tensor]:
    """Concatenate the valid steps of each group's sequences: ``(N, L, D)`` rows in groups of
    ``counts`` → ``(B, ≤ limit, D)`` sequences (FSE reads a video as one run of frames)."""
    mask = lengths_mask(lengths, items.shape[1])
    owner_of_item = torch.repeat_interleave(torch.arange(len(counts), device=items.device), counts)
    owner = owner_of_item[:, None].expand_as(mask)[mask]
    steps = items[mask]
    totals = torch.bincount(owner, minlength=len(counts))
    rank = torch.arange(len(owner), device=items.device) - (torch.cumsum(totals, 0) - totals)[owner]
    keep = rank < limit
    width = max(1, min(limit, int(totals.max()) if len(totals) else 1))
    out = items.new_zeros((len(counts), width, items.shape[-1]))
    out[owner[keep], rank[keep]] = steps[keep]
    return out, totals.clamp(max=limit)


class _SeedFourModel(nn.Module):
    """What HSE and FSE share: the app's ``forward`` and the training loop."""

    config: HSEConfig
    #: ``forward`` embeds a clip as one clip of the low level (HSE) / one flat video (FSE).
    streams: tuple[str, ...] = ()

    def clip_embedding(self, frames: Tensor, lengths: Tensor) -> Tensor:
        raise NotImplementedError

    def sentence_embedding(self, words: Tensor, lengths: Tensor) -> Tensor:
        raise NotImplementedError

    def encode(self, batch: HierarchyBatch) -> dict[str, Tensor]:
        raise NotImplementedError

    def loss_terms(self, batch: HierarchyBatch) -> dict[str, Tensor]:
        raise NotImplementedError

    def forward(self, features: dict[str, Tensor], lengths: dict[str, Tensor]) -> tuple[Tensor, None]:
        """``(embedding (B, embed_size), None)``: each clip encoded as one clip of the low-level
        space (HSE; FSE: as a one-clip video), the space in which class names are encoded as
        sentences for zero-shot recognition (seed §4.4). Whole videos with their segments are
        embedded by :meth:`encode` (:mod:`desktop_app.training.paragraphs`)."""
        frames, length = concat_streams(features, lengths, self.streams)
        frames, length = subsample_steps(frames, length, self.config.clip_steps)
        return self.clip_embedding(frames, length), None


def subsample_steps(frames: Tensor, lengths: Tensor, limit: int) -> tuple[Tensor, Tensor]:
    """At most ``limit`` steps per sequence, taken uniformly over its valid steps."""
    if frames.shape[1] <= limit:
        return frames, lengths
    new_lengths = lengths.clamp(max=limit)
    position = torch.arange(limit, device=frames.device)[None, :].to(frames.dtype)
    index = torch.floor(position * lengths[:, None].to(frames.dtype) / new_lengths.clamp(min=1)[:, None])
    index = index.long().clamp(max=frames.shape[1] - 1)
    picked = torch.gather(frames, 1, index[:, :, None].expand(-1, -1, frames.shape[2]))
    valid = lengths_mask(new_lengths, limit)
    return picked * valid[:, :, None].to(frames.dtype), new_lengths


class HierarchicalSequenceEmbedding(_SeedFourModel):
    """HSE (seed 004 §3.3): clip and video encoders, sentence and paragraph encoders, and the
    layer-wise decoders of eq. 8–9 (built only where τ > 0)."""

    def __init__(self, config: HSEConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.streams = tuple(config.streams) or tuple(s for s in shape.input_dims if s != "audio")
        frame_dim = sum(shape.input_dims[s] for s in self.streams)
        self.frame_dim = frame_dim
        word_dim = config.word_vector_dim or shape.word_dim
        h = config.embed_size
        self.clip_encoder = SequenceEncoder(frame_dim, h)  # ENC_v^(1)
        self.video_encoder = SequenceEncoder(h, h)  # ENC_v^(2)
        self.sentence_encoder = SequenceEncoder(word_dim, h)  # ENC_p^(1)
        self.paragraph_encoder = SequenceEncoder(h, h)  # ENC_p^(2)
        self.decoders = nn.ModuleDict()
        if config.tau > 0:
            self.decoders["video"] = SequenceDecoder(h, h, h)  # DEC_v^(2): v → ĉ_i
            self.decoders["clip"] = SequenceDecoder(h, h, frame_dim)  # DEC_v^(1): ĉ_i → x̂_ij
            self.decoders["paragraph"] = SequenceDecoder(h, h, h)  # DEC_p^(2): p → ŝ_i
            self.decoders["sentence"] = SequenceDecoder(h, h, word_dim)  # DEC_p^(1): ŝ_i → ŵ_ij

    def clip_embedding(self, frames: Tensor, lengths: Tensor) -> Tensor:
        """``c_i = ENC_v^(1)({x_ij})`` (eq. 3)."""
        return self.clip_encoder(frames, lengths)

    def sentence_embedding(self, words: Tensor, lengths: Tensor) -> Tensor:
        """``s_i = ENC_p^(1)({w_ij})`` (eq. 3)."""
        return self.sentence_encoder(words, lengths)

    def encode(self, batch: HierarchyBatch) -> dict[str, Tensor]:
        """Every embedding of eq. 3: clips ``c``, videos ``v``, sentences ``s``, paragraphs ``p``."""
        clips = self.clip_encoder(batch.clip_frames, batch.clip_lengths)
        sentences = self.sentence_encoder(batch.sentence_words, batch.sentence_lengths)
        videos = self.video_encoder(*group(clips, batch.clips_per_video))
        paragraphs = self.paragraph_encoder(*group(sentences, batch.sentences_per_paragraph))
        return {"clips": clips, "videos": videos, "sentences": sentences, "paragraphs": paragraphs}

    def loss_terms(self, batch: HierarchyBatch) -> dict[str, Tensor]:
        """The terms of eq. 11–12 for one batch (each summed over the batch)."""
        cfg = self.config
        e = self.encode(batch)
        m = cfg.margin
        n = len(batch.clips_per_video)
        terms = {"match_high": matching_hinge(cosine_matrix(e["videos"], e["paragraphs"]), m)}
        if cfg.cluster:
            terms["cluster_high"] = clustering_hinge(e["videos"], m) + clustering_hinge(e["paragraphs"], m)
        if cfg.low_level == "strong":
            # clip i of video k goes with sentence i of paragraph k (same count on both sides)
            terms["match_low"] = matching_hinge(cosine_matrix(e["clips"], e["sentences"]), m)
        elif cfg.low_level == "weak":
            clip_video = torch.repeat_interleave(
                torch.arange(n, device=e["clips"].device), batch.clips_per_video
            )
            sentence_para = torch.repeat_interleave(
                torch.arange(n, device=e["clips"].device), batch.sentences_per_paragraph
            )
            terms["match_low"] = matching_hinge(
                weak_match_matrix(e["clips"], clip_video, e["sentences"], sentence_para, n), m
            )
        if cfg.cluster and cfg.low_level != "none":
            terms["cluster_low"] = clustering_hinge(e["clips"], m) + clustering_hinge(e["sentences"], m)
        if cfg.tau > 0:
            terms["reconstruct"] = cfg.tau * self._reconstruction(batch, e)
        return terms

    def _reconstruction(self, batch: HierarchyBatch, e: dict[str, Tensor]) -> Tensor:
        """``Σ_k ℓ_RECONSTRUCT(v_k, p_k)`` of eq. 10 (decoders of eq. 8–9)."""

        def side(
            top: Tensor, counts: Tensor, low: Tensor, items: Tensor, lengths: Tensor, upper: str, lower: str
        ) -> Tensor:
            generated = self.decoders[upper](top, int(counts.max()))  # (B, n, H)
            mask = lengths_mask(counts, generated.shape[1])
            generated_low = generated[mask]  # (N, H), in the order of ``low``
            generated_items = self.decoders[lower](generated_low, items.shape[1])
            return reconstruction_loss(generated_low, low, generated_items, items, lengths)

        video = side(
            e["videos"],
            batch.clips_per_video,
            e["clips"],
            batch.clip_frames,
            batch.clip_lengths,
            "video",
            "clip",
        )
        text = side(
            e["paragraphs"],
            batch.sentences_per_paragraph,
            e["sentences"],
            batch.sentence_words,
            batch.sentence_lengths,
            "paragraph",
            "sentence",
        )
        return video + text


class FlatSequenceEmbedding(_SeedFourModel):
    """FSE (seed 004 §3.2, eq. 1): one GRU over all the frames of a video, one over all the words
    of its paragraph, trained with the high-level matching loss (eq. 4) only."""

    def __init__(self, config: HSEConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.streams = tuple(config.streams) or tuple(s for s in shape.input_dims if s != "audio")
        frame_dim = sum(shape.input_dims[s] for s in self.streams)
        self.frame_dim = frame_dim
        word_dim = config.word_vector_dim or shape.word_dim
        self.video_encoder = SequenceEncoder(frame_dim, config.embed_size)  # ENC_v
        self.paragraph_encoder = SequenceEncoder(word_dim, config.embed_size)  # ENC_p

    def clip_embedding(self, frames: Tensor, lengths: Tensor) -> Tensor:
        return self.video_encoder(frames, lengths)

    def sentence_embedding(self, words: Tensor, lengths: Tensor) -> Tensor:
        return self.paragraph_encoder(words, lengths)

    def encode(self, batch: HierarchyBatch) -> dict[str, Tensor]:
        """``v = ENC_v({x_ij})``, ``p = ENC_p({w_ij})``: the same frames and words as HSE, with
        the clip and sentence boundaries dropped."""
        cfg = self.config
        frames, frame_lengths = flatten_groups(
            batch.clip_frames, batch.clip_lengths, batch.clips_per_video, cfg.clip_steps * cfg.max_clips
        )
        words, word_lengths = flatten_groups(
            batch.sentence_words,
            batch.sentence_lengths,
            batch.sentences_per_paragraph,
            cfg.max_words * cfg.max_clips,
        )
        return {
            "videos": self.video_encoder(frames, frame_lengths),
            "paragraphs": self.paragraph_encoder(words, word_lengths),
        }

    def loss_terms(self, batch: HierarchyBatch) -> dict[str, Tensor]:
        e = self.encode(batch)
        return {"match_high": matching_hinge(cosine_matrix(e["videos"], e["paragraphs"]), self.config.margin)}


# ------------------------------------------------------------------------------- evaluation
def retrieval_metrics(scores: np.ndarray, ks: tuple[int, ...] = (1, 5, 50)) -> dict[str, float]:
    """R@K (%) and median rank of retrieving column ``i`` for row ``i`` of ``scores``.

    ``scores[i, j]`` is the similarity of query ``i`` to candidate ``j``; candidate ``i`` is the
    right one. A tie counts against the query (its rank is 1 + the number of candidates scored
    at least as high, other than itself), so a constant score matrix is not a perfect one.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = scores.shape[0]
    if n == 0:
        return {**{f"r{k}": math.nan for k in ks}, "medr": math.nan, "meanr": math.nan}
    right = scores[np.arange(n), np.arange(n)]
    others = scores >= right[:, None]
    others[np.arange(n), np.arange(n)] = False
    ranks = 1 + others.sum(axis=1)
    out = {f"r{k}": float(100.0 * np.mean(ranks <= k)) for k in ks}
    out["medr"] = float(np.median(ranks))
    out["meanr"] = float(np.mean(ranks))
    return out


def chance_metrics(n: int, ks: tuple[int, ...] = (1, 5, 50)) -> dict[str, float]:
    """R@K and median rank of a random ranking of ``n`` candidates: ``100 min(K, n)/n``, ``(n+1)/2``."""
    if n == 0:
        return {**{f"r{k}": math.nan for k in ks}, "medr": math.nan}
    return {**{f"r{k}": 100.0 * min(k, n) / n for k in ks}, "medr": (n + 1) / 2}


# ------------------------------------------------------------------------------ registration
def _build_hse(config: HSEConfig, shape: ModelShape) -> HierarchicalSequenceEmbedding:
    return HierarchicalSequenceEmbedding(config, shape)


def _build_fse(config: HSEConfig, shape: ModelShape) -> FlatSequenceEmbedding:
    return FlatSequenceEmbedding(config, shape)


#: ``paper``: the seed's sizes (CMHSE's embedding 1024, batch 64, 30 epochs …); ``small``:
#: trains on the demo's stories in a minute or two on one core.
_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {
        "model": {"embed_size": 1024, "clip_steps": 64, "max_clips": 16, "max_words": 32},
        "train": {"epochs": 30, "batch_size": 64, "lr": 1e-3, "grad_clip": 2.0, "pca_dims": 500},
    },
    # embed_size chosen on the validation videos of the demo's stories (docs/hse.md)
    "small": {
        "model": {"embed_size": 512, "clip_steps": 16, "max_clips": 8, "max_words": 16},
        "train": {"epochs": 25, "batch_size": 16, "lr": 1e-3, "grad_clip": 2.0, "pca_dims": 64},
    },
}

register_model(
    ModelSpec(
        "hse",
        VIDEO_PARAGRAPH,
        "hierarchical GRU embedding of videos and paragraphs (seed 004)",
        HSEConfig,
        _build_hse,
        _PRESETS,
        # trained by desktop_app.training.paragraphs (train_paragraph_run → fit_paragraph_model)
        fit="custom",
    )
)
register_model(
    ModelSpec(
        "fse",
        VIDEO_PARAGRAPH,
        "flat GRU embedding of videos and paragraphs (seed 004's baseline)",
        HSEConfig,
        _build_fse,
        {
            name: {
                "model": {**p["model"], "tau": 0.0, "cluster": False, "low_level": "none"},
                "train": p["train"],
            }
            for name, p in _PRESETS.items()
        },
        fit="custom",
    )
)

__all__ = [
    "VIDEO_PARAGRAPH",
    "FlatSequenceEmbedding",
    "HSEConfig",
    "HierarchicalSequenceEmbedding",
    "HierarchyBatch",
    "chance_metrics",
    "retrieval_metrics",
]
