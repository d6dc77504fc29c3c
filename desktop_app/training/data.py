"""Feature sequences as training batches.

Models read clips through a :class:`SequenceSource`: a few named feature streams
(``"appearance"``, ``"motion"`` …) of ``(T, D)`` float32 sequences per clip id. The workspace's
feature store is one; :class:`InMemorySequenceSource` is another (tests, benchmarks). Batches
hold every stream zero-padded to the longest clip of the batch, with the valid lengths; each
stream is clipped to the model's ``max_len`` first (seed 001 clips long videos the same way).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from desktop_app.errors import ActionLensError

if TYPE_CHECKING:
    import torch


@runtime_checkable
class SequenceSource(Protocol):
    """What the trainer needs of a feature store."""

    @property
    def streams(self) -> Sequence[str]:
        """Names of the feature streams."""
        ...

    def dim(self, stream: str) -> int:
        """Feature dimension of ``stream``."""
        ...

    def clip_ids(self, stream: str | None = None) -> np.ndarray:
        """Ids of the clips that have features (of ``stream``, or of every stream)."""
        ...

    def get(self, clip_id: int, stream: str, reduced: bool = True) -> np.ndarray:
        """The ``(T, D)`` float32 feature sequence of a clip."""
        ...


class InMemorySequenceSource:
    """A :class:`SequenceSource` over ``{stream: {clip_id: (T, D) array}}``."""

    def __init__(self, sequences: Mapping[str, Mapping[int, np.ndarray]], name: str = "in-memory") -> None:
        self.name = name
        self.settings: dict[str, Any] = {"kind": "in-memory"}
        self._sequences = {
            s: {int(k): np.asarray(v, dtype=np.float32) for k, v in clips.items()}
            for s, clips in sequences.items()
        }
        self._dims = {s: next(iter(clips.values())).shape[1] for s, clips in self._sequences.items() if clips}

    @property
    def streams(self) -> list[str]:
        return list(self._sequences)

    def dim(self, stream: str) -> int:
        return int(self._dims[stream])

    def clip_ids(self, stream: str | None = None) -> np.ndarray:
        if stream is not None:
            return np.array(sorted(self._sequences[stream]), dtype=np.int64)
        common = set.intersection(*(set(c) for c in self._sequences.values())) if self._sequences else set()
        return np.array(sorted(common), dtype=np.int64)

    def get(self, clip_id: int, stream: str, reduced: bool = True) -> np.ndarray:
        try:
            return self._sequences[stream][int(clip_id)]
        except KeyError:
            raise ActionLensError(f"clip {clip_id} has no {stream!r} features") from None

    def length(self, clip_id: int, stream: str) -> int:
        return int(self.get(clip_id, stream).shape[0])


def source_name(source: SequenceSource) -> str:
    """The feature store's name (``"in-memory"`` for a source without one)."""
    return str(getattr(source, "name", "in-memory"))


def source_settings(source: SequenceSource) -> dict[str, Any]:
    """The feature store's JSON-able settings (empty for a source without them)."""
    return dict(getattr(source, "settings", {}) or {})


#: Streams a clip may lack: a clip without sound has no audio rows (seed 003 §III.C). Where
#: another stream is named, :func:`clips_with_streams` does not require them and
#: :class:`SequenceCache` gives a clip without them an empty sequence (length 0).
OPTIONAL_STREAMS = ("audio",)


def clips_with_streams(source: SequenceSource, streams: Sequence[str]) -> np.ndarray:
    """Sorted ids of the clips that have features of every one of ``streams`` (an optional
    stream, :data:`OPTIONAL_STREAMS`, counts only when no other stream is named)."""
    ids: np.ndarray | None = None
    for stream in [s for s in streams if s not in OPTIONAL_STREAMS] or list(streams):
        have = np.unique(np.asarray(source.clip_ids(stream), dtype=np.int64))
        ids = have if ids is None else np.intersect1d(ids, have, assume_unique=True)
    return ids if ids is not None else np.zeros(0, dtype=np.int64)


@dataclass
class SequenceBatch:
    """A padded batch: ``features[s]`` ``(B, T_s, D_s)``, ``lengths[s]`` ``(B,)``, ``targets``
    ``(B,)`` (−1 where unknown) and the clip ids."""

    features: dict[str, torch.Tensor]
    lengths: dict[str, torch.Tensor]
    targets: torch.Tensor
    clip_ids: np.ndarray

    def to(self, device: torch.device | str) -> SequenceBatch:
        """The batch on ``device``."""
        return SequenceBatch(
            {s: t.to(device, non_blocking=True) for s, t in self.features.items()},
            {s: t.to(device) for s, t in self.lengths.items()},
            self.targets.to(device),
            self.clip_ids,
        )

    def __len__(self) -> int:
        return len(self.clip_ids)


class SequenceCache:
    """Clipped sequences of a set of clips, read from a source once and kept in memory."""

    def __init__(self, source: SequenceSource, streams: Sequence[str], max_len: int) -> None:
        self.source, self.streams, self.max_len = source, tuple(streams), int(max_len)
        self._cache: dict[tuple[int, str], np.ndarray] = {}
        self._have: dict[str, set[int]] = {}

    def sequence(self, clip_id: int, stream: str) -> np.ndarray:
        """The clip's ``stream`` sequence, clipped to ``max_len`` steps (``(0, D)`` for a clip
        without an optional stream, :data:`OPTIONAL_STREAMS`)."""
        key = (int(clip_id), stream)
        seq = self._cache.get(key)
        if seq is None:
            if stream in OPTIONAL_STREAMS and int(clip_id) not in self._clips_having(stream):
                seq = np.zeros((0, self.source.dim(stream)), np.float32)
            else:
                seq = np.asarray(self.source.get(int(clip_id), stream), dtype=np.float32)[: self.max_len]
            self._cache[key] = seq
        return seq

    def _clips_having(self, stream: str) -> set[int]:
        if stream not in self._have:
            self._have[stream] = {int(c) for c in self.source.clip_ids(stream)}
        return self._have[stream]

    def collate(self, clip_ids: np.ndarray, targets: np.ndarray | None = None) -> SequenceBatch:
        """Stack the clips into a :class:`SequenceBatch` padded to its longest clip per stream."""
        import torch

        features: dict[str, torch.Tensor] = {}
        lengths: dict[str, torch.Tensor] = {}
        for stream in self.streams:
            seqs = [self.sequence(c, stream) for c in clip_ids]
            dim = self.source.dim(stream)
            steps = max([len(s) for s in seqs] + [1])
            padded = np.zeros((len(seqs), steps, dim), dtype=np.float32)
            for i, seq in enumerate(seqs):
                padded[i, : len(seq)] = seq
            features[stream] = torch.from_numpy(padded)
            lengths[stream] = torch.tensor([len(s) for s in seqs], dtype=torch.long)
        if targets is None:
            targets = np.full(len(clip_ids), -1, dtype=np.int64)
        return SequenceBatch(
            features, lengths, torch.from_numpy(np.asarray(targets, dtype=np.int64)), np.asarray(clip_ids)
        )

    def batches(
        self, clip_ids: np.ndarray, batch_size: int, targets: np.ndarray | None = None
    ) -> Iterator[SequenceBatch]:
        """Consecutive batches of ``clip_ids`` in the given order."""
        for start in range(0, len(clip_ids), batch_size):
            stop = start + batch_size
            yield self.collate(clip_ids[start:stop], None if targets is None else targets[start:stop])


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a validation subset: ``fraction`` of each class (at least one clip of a
    class with three or more), drawn deterministically from ``seed``."""
    rng = np.random.default_rng([seed, 7919])
    holdout = np.zeros(len(labels), dtype=bool)
    if fraction <= 0:
        return holdout
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < 3:
            continue
        count = max(1, int(round(fraction * len(members))))
        holdout[rng.choice(members, size=count, replace=False)] = True
    return holdout
