"""The clip sets that training and evaluation read, as arrays from the catalog's columns.

Training, evaluation and the embedding sources all start from "the decodable clips (with a class)
whose features the model can read"; at a million clips, building one :class:`ClipRow` per clip to
find them costs seconds, so they are computed here from :meth:`Catalog.clip_columns`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from desktop_app.workspace.catalog import Catalog


def ok_clips(
    catalog: Catalog,
    usable: Iterable[int] | np.ndarray | None = None,
    *,
    labelled: bool = True,
    classes: Iterable[int] | np.ndarray | None = None,
    split: str | None = None,
    role: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ids (ascending) and class ids of the clips that decode, optionally narrowed.

    Parameters
    ----------
    usable
        Keep only these clip ids (e.g. the clips whose features a model's streams have).
    labelled
        Keep only clips with a class (user clips have none).
    classes
        Keep only clips of these classes.
    split, role
        Keep only clips with ``role`` (``"train"``, ``"val"`` or ``"test"``) in dataset split ``split``.

    Returns
    -------
    ``(clip ids int64, class ids int64)``; a class id is ``-1`` for a clip without one.
    """
    columns = catalog.clip_columns()
    keep = columns.ok.copy()
    if labelled:
        keep &= columns.class_id >= 0
    if usable is not None:
        keep &= _member(
            np.fromiter(usable, dtype=np.int64) if not isinstance(usable, np.ndarray) else usable, len(keep)
        )
    if classes is not None:
        wanted = np.fromiter(classes, dtype=np.int64) if not isinstance(classes, np.ndarray) else classes
        keep &= np.isin(columns.class_id, wanted.astype(np.int64))
    if split is not None and role is not None:
        keep &= _member(catalog.split_clip_ids(split, role), len(keep))
    ids = np.flatnonzero(keep).astype(np.int64)
    return ids, columns.class_id[ids]


def _member(ids: np.ndarray, size: int) -> np.ndarray:
    """A boolean mask of length ``size`` that is true at ``ids`` (ids outside are ignored)."""
    mask = np.zeros(size, dtype=bool)
    ids = np.asarray(ids, dtype=np.int64)
    mask[ids[(ids >= 0) & (ids < size)]] = True
    return mask
