"""The Library's clip filter over column arrays: one vectorised pass per change, never one
Python call per clip (issue 12: 2.2 s per keystroke at a million clips with
``QSortFilterProxyModel.filterAcceptsRow``).

A clip passes when it is of the chosen class, its class has the chosen verb and noun, it has the
chosen role in the chosen split, it is selected (with "selected only"), its anomaly score passes
the anomaly filters, and every typed word occurs in its name or in its class's name, phrase,
verb or noun (lower case, as a substring). Names are a ``pyarrow.StringArray`` matched by
``pyarrow.compute.match_substring`` (one C loop per word); the class fields are matched per
class, a few hundred strings, and spread to the clips by their class id.

Qt-free: the Library panel (:mod:`desktop_app.gui.panels.library`) holds a :class:`ClipFilter`
and shows the rows of :func:`filter_mask`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop_app.workspace.catalog import ROLE_CODES, ClassRow


@dataclass
class ClipFilter:
    """What the Library's filter controls say (``None`` / empty: that filter is off)."""

    class_id: int | None = None
    verb: str | None = None
    noun: str | None = None
    #: ``(split, role)``.
    split_role: tuple[str, str] | None = None
    #: Lower-case words that must each occur in the clip's text.
    words: list[str] = field(default_factory=list)
    selected_only: bool = False
    #: Keep only clips whose anomaly score is at least this …
    anomaly_min: float | None = None
    #: … and only the ``anomaly_top`` highest-scored clips.
    anomaly_top: int | None = None


def class_search_text(cls: ClassRow) -> str:
    """The class fields free-text filtering matches, lower case (name, phrase, verb, noun)."""
    return f"{cls.name} {cls.phrase} {cls.verb or ''} {cls.noun or ''}".lower()


def anomaly_cut(scores: np.ndarray, anomaly_min: float | None, anomaly_top: int | None) -> float:
    """The lowest anomaly score a clip may have to pass the anomaly filters."""
    cut = -np.inf if anomaly_min is None else float(anomaly_min)
    known = scores[~np.isnan(scores)]
    if anomaly_top is not None and len(known):
        k = min(int(anomaly_top), len(known))
        cut = max(cut, float(np.partition(known, len(known) - k)[len(known) - k]))
    return cut


def _bools(array: Any) -> np.ndarray:
    """A ``pyarrow.BooleanArray`` as numpy ``bool`` (nulls False), read from its bitmaps.

    Not ``to_numpy``: that imports pandas on first use (a second on the GUI thread).
    """
    if hasattr(array, "combine_chunks"):  # a ChunkedArray
        array = array.combine_chunks()
    n, offset = len(array), array.offset

    def bits(buffer: Any) -> np.ndarray:
        packed = np.frombuffer(buffer, dtype=np.uint8)
        return np.unpackbits(packed, count=offset + n, bitorder="little")[offset:].astype(bool)

    validity, values = array.buffers()[:2]
    out = bits(values)
    if array.null_count and validity is not None:
        out &= bits(validity)
    return out


def text_mask(
    words: Sequence[str],
    names_lower: Any,
    class_id: np.ndarray,
    classes: Mapping[int, ClassRow],
) -> np.ndarray:
    """``bool`` by clip id: every word occurs in the clip's lower-case name or class text.

    Words hold no whitespace (they come from ``str.split``), so a word occurs in the
    space-joined text of a clip exactly when it occurs in one of its fields.
    """
    import pyarrow.compute as pc

    mask = np.ones(len(class_id), dtype=bool)
    texts = {cid: class_search_text(cls) for cid, cls in classes.items()}
    for word in words:
        hit = _bools(pc.match_substring(names_lower, word))
        in_class = [cid for cid, text in texts.items() if word in text]
        if in_class:
            hit |= np.isin(class_id, in_class)
        mask &= hit
    return mask


def filter_mask(
    spec: ClipFilter,
    *,
    class_id: np.ndarray,
    names_lower: Any,
    classes: Mapping[int, ClassRow],
    role_codes: np.ndarray | None = None,
    selected: Iterable[int] = (),
    anomaly: np.ndarray | None = None,
) -> np.ndarray:
    """``bool`` by clip id: which clips pass ``spec``.

    Parameters
    ----------
    spec
        The filters.
    class_id
        ``int64`` class of each clip (-1: none).
    names_lower
        Lower-case clip names (``pyarrow.StringArray`` or anything ``pyarrow`` reads as strings).
    classes
        The catalog's classes by id.
    role_codes
        ``int8`` role of each clip in ``spec.split_role``'s split (:data:`ROLE_CODES`); needed
        when that filter is on.
    selected
        The selected clip ids (for ``selected_only``).
    anomaly
        Each clip's anomaly score (NaN: none), for the anomaly filters.
    """
    n = len(class_id)
    mask = np.ones(n, dtype=bool)
    if spec.class_id is not None:
        mask &= class_id == int(spec.class_id)
    wanted_classes = [
        cid
        for cid, cls in classes.items()
        if (spec.verb is None or (cls.verb or "") == spec.verb)
        and (spec.noun is None or (cls.noun or "") == spec.noun)
    ]
    if spec.verb is not None or spec.noun is not None:
        mask &= np.isin(class_id, wanted_classes)
    if spec.split_role is not None:
        role = spec.split_role[1]
        if role_codes is None or role not in ROLE_CODES:
            mask[:] = False
        else:
            mask &= np.asarray(role_codes[:n]) == ROLE_CODES.index(role)
    if spec.selected_only:
        ids = id_array(selected)
        chosen = np.zeros(n, dtype=bool)
        chosen[ids[(ids >= 0) & (ids < n)]] = True
        mask &= chosen
    if spec.anomaly_min is not None or spec.anomaly_top is not None:
        scores = anomaly if anomaly is not None and len(anomaly) == n else np.full(n, np.nan)
        cut = anomaly_cut(scores, spec.anomaly_min, spec.anomaly_top)
        with np.errstate(invalid="ignore"):
            mask &= ~np.isnan(scores) & (scores >= cut)
    if spec.words and mask.any():
        mask &= text_mask(spec.words, names_lower, class_id, classes)
    return mask


def anomaly_order(rows: np.ndarray, anomaly: np.ndarray) -> np.ndarray:
    """``rows`` most anomalous first, clips without a score last, ties in catalog order."""
    scores = anomaly[rows] if len(anomaly) else np.full(len(rows), np.nan)
    missing = np.isnan(scores)
    return rows[np.lexsort((rows, -np.where(missing, 0.0, scores), missing))]


def is_open(spec: ClipFilter) -> bool:
    """Whether ``spec`` lets every clip through (no filter on)."""
    return (
        spec.class_id is None
        and spec.verb is None
        and spec.noun is None
        and spec.split_role is None
        and not spec.words
        and not spec.selected_only
        and spec.anomaly_min is None
        and spec.anomaly_top is None
    )


def narrows(new: ClipFilter, old: ClipFilter) -> bool:
    """Whether every clip passing ``new`` passes ``old``, as seen from the specs alone: only the
    words differ, and each old word is part of a new one (typing on: ``sp`` → ``spi``).

    Then ``new`` need only be tested on ``old``'s rows (:func:`filter_rows`' ``within``). Not
    with "selected only" (the selection may have changed in between).
    """
    if new.selected_only or not new.words:
        return False
    same = all(
        getattr(new, name) == getattr(old, name)
        for name in ClipFilter.__dataclass_fields__
        if name != "words"
    )
    return same and all(any(word in w for w in new.words) for word in old.words)


def id_array(clip_ids: Iterable[int]) -> np.ndarray:
    """Clip ids as an ``int64`` array: a numpy array or a ``ClipIdSet``'s ``.ids`` as they are
    (no copy), anything else (a ``frozenset``) read once."""
    if isinstance(clip_ids, np.ndarray):
        return clip_ids.astype(np.int64, copy=False)
    ids = getattr(clip_ids, "ids", None)
    if isinstance(ids, np.ndarray):
        return ids.astype(np.int64, copy=False)
    items = clip_ids if isinstance(clip_ids, Sequence | set | frozenset) else list(clip_ids)
    return np.fromiter((int(i) for i in items), dtype=np.int64, count=len(items))


def filter_rows(
    spec: ClipFilter,
    *,
    class_id: np.ndarray,
    names_lower: Any,
    classes: Mapping[int, ClassRow],
    role_codes: np.ndarray | None = None,
    selected: Iterable[int] = (),
    anomaly: np.ndarray | None = None,
    by_anomaly: bool = False,
    within: np.ndarray | None = None,
) -> np.ndarray | None:
    """The clip ids passing ``spec``, in the order the Library lists them (``int64``), or
    ``None`` when every clip passes in catalog order (no array of a million ids is made).

    The arguments are :func:`filter_mask`'s; ``by_anomaly`` lists the most anomalous first
    (:func:`anomaly_order`); ``within`` is the rows of an earlier spec that ``spec``
    :func:`narrows`, so only those are tested against the words (``sp`` → ``spi`` reads the
    names of the clips ``sp`` kept, not all of them). Qt-free: the Library runs it in a worker
    for a large workspace.
    """
    n = len(class_id)
    scores = anomaly
    if scores is not None and len(scores) != n:  # no scores read (yet): NaN, none passes a cut
        padded = np.full(n, np.nan)
        padded[: min(n, len(scores))] = scores[:n]
        scores = padded
    if within is not None:
        import pyarrow as pa

        base = np.sort(np.asarray(within, dtype=np.int64))
        base = base[(base >= 0) & (base < n)]
        hit = text_mask(spec.words, names_lower.take(pa.array(base)), class_id[base], classes)
        rows = base[hit]
    elif is_open(spec) and not by_anomaly:
        return None
    else:
        mask = filter_mask(
            spec,
            class_id=class_id,
            names_lower=names_lower,
            classes=classes,
            role_codes=role_codes,
            selected=selected,
            anomaly=scores,
        )
        rows = np.flatnonzero(mask).astype(np.int64)
    if by_anomaly:
        rows = anomaly_order(rows, scores if scores is not None else np.zeros(0))
    return rows
