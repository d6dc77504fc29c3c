"""The selection shared by every panel, held as one sorted id array.

A lasso over a million-clip map selects hundreds of thousands of clips. Held as a ``frozenset``
of Python ints, that selection costs tens of megabytes and ~0.1 s to build, and every panel
that reacts to it iterates it again. :class:`ClipIdSet` keeps the ids in one sorted ``int64``
array (:attr:`ClipIdSet.ids`) that panels use with numpy (``np.isin``, ``np.searchsorted``,
boolean masks), while it still behaves as a read-only set of ints (``in``, ``len``, iteration,
``==``, ``|``, ``&``, ``-``) for code that reads a handful of ids.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Set
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal


def _id_array(clip_ids: Iterable[int] | np.ndarray) -> np.ndarray:
    """``clip_ids`` as a sorted array of unique ``int64`` ids (read-only)."""
    if isinstance(clip_ids, ClipIdSet):
        return clip_ids.ids
    if isinstance(clip_ids, np.ndarray):
        if clip_ids.size and not np.issubdtype(clip_ids.dtype, np.integer):
            raise TypeError(f"clip ids must be integers, not {clip_ids.dtype}")
        ids = clip_ids.astype(np.int64, copy=True).reshape(-1)
    else:
        ids = np.fromiter((operator.index(i) for i in clip_ids), dtype=np.int64)
    # Most callers hand over ids in increasing order (np.flatnonzero, a sorted column): check
    # that in one pass before paying for np.unique's sort.
    if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        ids = np.unique(ids)
    ids.setflags(write=False)
    return ids


class ClipIdSet(Set[int]):
    """An immutable set of clip ids over one sorted ``int64`` array.

    Parameters
    ----------
    clip_ids
        Any iterable of ids or an integer array, in any order, repeats allowed.
    """

    __slots__ = ("_cached_hash", "_ids")

    def __init__(self, clip_ids: Iterable[int] | np.ndarray = ()) -> None:
        self._ids = _id_array(clip_ids)
        self._cached_hash: int | None = None

    @classmethod
    def _from_iterable(cls, it: Iterable[Any]) -> ClipIdSet:  # type: ignore[override]
        return cls(it)

    @property
    def ids(self) -> np.ndarray:
        """The ids, sorted and unique (a read-only ``int64`` array)."""
        return self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids.tolist())

    def __contains__(self, clip_id: object) -> bool:
        if isinstance(clip_id, bool) or not isinstance(clip_id, (int, np.integer)):
            return False
        i = int(np.searchsorted(self._ids, clip_id))
        return i < len(self._ids) and int(self._ids[i]) == clip_id

    def contains(self, clip_ids: np.ndarray) -> np.ndarray:
        """A boolean mask: which of ``clip_ids`` (any integer array) are in the set."""
        query = np.asarray(clip_ids, dtype=np.int64)
        if not len(self._ids):
            return np.zeros(query.shape, dtype=bool)
        at = np.minimum(np.searchsorted(self._ids, query), len(self._ids) - 1)
        return np.asarray(self._ids[at] == query)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ClipIdSet):
            return bool(np.array_equal(self._ids, other._ids))
        return super().__eq__(other)

    def __hash__(self) -> int:
        # Set._hash: the same hash as a frozenset of the same ids (equal sets hash alike).
        if self._cached_hash is None:
            self._cached_hash = self._hash()
        return self._cached_hash

    def __or__(self, other: Iterable[Any]) -> ClipIdSet:
        return ClipIdSet(np.union1d(self._ids, _id_array(other)))

    def __and__(self, other: Iterable[Any]) -> ClipIdSet:
        return ClipIdSet(np.intersect1d(self._ids, _id_array(other), assume_unique=True))

    def __sub__(self, other: Iterable[Any]) -> ClipIdSet:
        return ClipIdSet(np.setdiff1d(self._ids, _id_array(other), assume_unique=True))

    def __repr__(self) -> str:
        shown = ", ".join(str(i) for i in self._ids[:8].tolist())
        more = f", … {len(self._ids) - 8} more" if len(self._ids) > 8 else ""
        return f"ClipIdSet({{{shown}{more}}})"


EMPTY = ClipIdSet()


class SelectionModel(QObject):
    """The set of selected clip ids, the same selection in every panel.

    Signals
    -------
    changed(ClipIdSet, str)
        The new selection and the ``source`` tag of whoever changed it.
    """

    changed = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clip_ids = EMPTY

    @property
    def clip_ids(self) -> ClipIdSet:
        """The selected clip ids."""
        return self._clip_ids

    @property
    def ids(self) -> np.ndarray:
        """The selected clip ids as a sorted ``int64`` array."""
        return self._clip_ids.ids

    def __len__(self) -> int:
        return len(self._clip_ids)

    def __contains__(self, clip_id: object) -> bool:
        return clip_id in self._clip_ids

    def set(self, clip_ids: Iterable[int] | np.ndarray, source: str = "") -> None:
        """Replace the selection (ids in any order; an integer array is taken as is)."""
        new = clip_ids if isinstance(clip_ids, ClipIdSet) else ClipIdSet(clip_ids)
        if new != self._clip_ids:
            self._clip_ids = new
            self.changed.emit(new, source)

    def add(self, clip_ids: Iterable[int] | np.ndarray, source: str = "") -> None:
        """Add clips to the selection."""
        self.set(self._clip_ids | ClipIdSet(clip_ids), source)

    def remove(self, clip_ids: Iterable[int] | np.ndarray, source: str = "") -> None:
        """Remove clips from the selection."""
        self.set(self._clip_ids - ClipIdSet(clip_ids), source)

    def clear(self, source: str = "") -> None:
        """Select nothing."""
        self.set(EMPTY, source)
