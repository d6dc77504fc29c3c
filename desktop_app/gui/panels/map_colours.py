"""Colouring of the Map panel: the categorical palette, a colour group per legend entry, each
point's group, and the legend list filled from the groups.

Split out of :mod:`desktop_app.gui.panels.map` (issue 12). The functions take arrays and return
arrays (a group index per point, never an object per point) plus one :class:`ColourGroup` per
legend entry, so recolouring a million points costs array work and a legend of a few hundred
rows. Categorical colours are colorcet's Glasbey palette, imported off the GUI thread
(:func:`warm_palette`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from desktop_app.atomic import atomic_path
from desktop_app.gc_pause import long_lived
from desktop_app.gui.panels.map_widgets import LEGEND_ROLE, OPERAND_ROLE
from desktop_app.paths import user_cache_dir

#: Score colouring quantises scores to this many colours (one brush each).
SCORE_LEVELS = 32

_PALETTE: np.ndarray | None = None
_WARMING: threading.Thread | None = None


def _palette() -> np.ndarray:
    """colorcet's ``glasbey_category10`` as ``(256, 3)`` uint8 (read once, lazily)."""
    global _PALETTE
    if _PALETTE is None:
        _PALETTE = _cached_palette()
    return _PALETTE


def _palette_cache() -> Path:
    """Where the palette is kept, by colorcet's version (a new colorcet is read again)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        tag = version("colorcet")
    except PackageNotFoundError:
        tag = "unknown"
    return user_cache_dir() / "palettes" / f"glasbey_category10-{tag}.npy"


def _cached_palette() -> np.ndarray:
    """The palette from the user cache, or from colorcet (then kept in the cache).

    Importing colorcet costs most of a second and imports matplotlib to register ~200
    colormaps: pure-Python work that, on a worker thread while a workspace opens, made the
    GUI thread wait 100-250 ms at a time for the GIL (issue 12). The 768 bytes it is needed for
    are read from the cache after the first time; a missing or damaged entry is made again.
    """
    path = _palette_cache()
    try:
        cached = np.load(path, allow_pickle=False)
        if cached.shape == (256, 3) and cached.dtype == np.uint8:
            return cached
    except (OSError, ValueError):
        pass
    # colorcet imports matplotlib's colormaps: tens of thousands of lasting objects, built
    # without full garbage collections holding the GIL (desktop_app/gc_pause.py).
    with long_lived():
        import colorcet

    palette = np.round(np.asarray(colorcet.glasbey_category10, dtype=np.float64) * 255).astype(np.uint8)
    with contextlib.suppress(OSError):  # an unwritable cache only costs the import next time
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".npy") as tmp:
            np.save(tmp, palette, allow_pickle=False)
    return palette


def warm_palette() -> None:
    """Start reading the palette (from the cache, or the first time by importing colorcet: most
    of a second, and matplotlib's colormaps with it) on a thread of its own, once, so that the map's task does not wait for it: the task's numpy and
    SQLite work lets go of the interpreter lock, the import runs meanwhile, and :func:`_palette`
    at the task's end finds it done (or waits on the import lock for the rest)."""
    global _WARMING
    if _PALETTE is None and _WARMING is None:
        _WARMING = threading.Thread(target=_palette, name="actionlens-palette", daemon=True)
        _WARMING.start()


def categorical_colour(index: int) -> QColor:
    """The ``index``-th colour of a perceptual categorical palette.

    colorcet's Glasbey palette (``glasbey_category10``: matplotlib's ten category colours, then
    246 more chosen by Glasbey's method to be as far apart as possible in CAM02-UCS), so hundreds
    of classes get colours an eye tells apart. Beyond 256 the palette repeats (the legend and the
    hover card still name the class); ``docs/map_render.md`` says why not the ``glasbey`` package.
    """
    r, g, b = (int(v) for v in _palette()[index % len(_palette())])
    return QColor(r, g, b)


def dimmed(colour: QColor) -> QColor:
    """``colour`` as drawn for a point outside the emphasis (a faint version of it)."""
    dim = QColor(colour)
    dim.setAlpha(45)
    return dim


@dataclass
class ColourGroup:
    """One legend entry: a colour shared by the points of a class, verb, noun, split role…"""

    label: str
    colour: QColor
    count: int
    operand: dict[str, Any] | None  # what dragging the legend entry carries


def _groups_of(
    names: list[str], group_of_point: np.ndarray, operands: Mapping[str, dict[str, Any] | None]
) -> tuple[list[ColourGroup], np.ndarray]:
    counts = (
        np.bincount(group_of_point, minlength=len(names))
        if len(group_of_point)
        else np.zeros(len(names), int)
    )
    groups = [
        ColourGroup(name, categorical_colour(i), int(counts[i]), operands.get(name))
        for i, name in enumerate(names)
    ]
    return groups, group_of_point


def split_groups(
    ids: np.ndarray, codes: np.ndarray, clips_of_class: Mapping[int, np.ndarray] | None
) -> tuple[list[ColourGroup], np.ndarray]:
    """Colour by a split: each point's role in it (``codes``: role codes by clip id, see
    :meth:`~desktop_app.workspace.catalog.Catalog.split_role_codes`).

    On a map of clips a point's role is its clip's (array look-ups); on a class-means map it is
    the role every clip of the class shares, ``"mixed"`` when they differ, ``"none"`` when none
    is in the split. Groups are the roles present, sorted by name.
    """
    from desktop_app.workspace.catalog import ROLE_CODES

    if clips_of_class is None:
        known = (ids >= 0) & (ids < len(codes))
        point_codes = np.zeros(len(ids), dtype=np.int64)
        point_codes[known] = codes[ids[known]]
        present = np.flatnonzero(np.bincount(point_codes, minlength=len(ROLE_CODES)))
        names = sorted((ROLE_CODES[int(c)] for c in present), key=str.lower)
        group_of_code = np.zeros(len(ROLE_CODES), dtype=np.int64)
        for i, name in enumerate(names):
            group_of_code[ROLE_CODES.index(name)] = i
        return _groups_of(names, group_of_code[point_codes], {})
    found = []
    for c in ids.tolist():  # one entry per class, not per clip
        clips = clips_of_class.get(int(c), np.zeros(0, dtype=np.int64))
        roles = {ROLE_CODES[int(r)] for r in np.unique(codes[clips[clips < len(codes)]])}
        found.append(roles.pop() if len(roles) == 1 else ("mixed" if roles else "none"))
    names = sorted(set(found), key=str.lower)
    index_of = {name: i for i, name in enumerate(names)}
    return _groups_of(names, np.array([index_of[label] for label in found], dtype=np.int64), {})


def class_groups(
    key: str, point_classes: np.ndarray, classes: Mapping[int, Any]
) -> tuple[list[ColourGroup], np.ndarray]:
    """Colour by ``"class"``, ``"verb"`` or ``"noun"``: one label per class present (its phrase,
    verb or noun; ``"unlabelled"`` for points without a class, ``"—"`` for a class without that
    word), mapped to the points by one ``searchsorted``. Class and word entries carry the
    operand that dragging them to the Analogy panel hands over."""
    # The classes present by counting (O(n)), not by np.unique's sort of a million points.
    shifted = np.asarray(point_classes, dtype=np.int64) + 1  # -1 (no class) counts in bin 0
    class_ids = np.flatnonzero(np.bincount(shifted)) - 1 if len(shifted) else np.zeros(0, dtype=np.int64)
    labels: list[str] = []
    operands: dict[str, dict[str, Any] | None] = {}
    for class_id in class_ids.tolist():
        cls = classes.get(class_id)
        if cls is None:
            label = "unlabelled"
        elif key == "class":
            label = cls.phrase or cls.name
            operands[label] = {"kind": "class", "id": cls.id, "label": label}
        else:
            label = (cls.verb if key == "verb" else cls.noun) or "—"
            if label != "—":
                operands[label] = {"kind": "word", "text": label, "label": label}
        labels.append(label)
    names = sorted(set(labels), key=str.lower)
    index_of = {name: i for i, name in enumerate(names)}
    group_of_class = np.zeros(int(class_ids.max(initial=-1)) + 2, dtype=np.int64)
    group_of_class[class_ids + 1] = [index_of[label] for label in labels]
    # One look-up per point in a table by class id (+1), not a binary search.
    return _groups_of(names, group_of_class[shifted], operands)


def level_groups(
    point_scores: np.ndarray, label: str, colour_map_name: str, fmt: str
) -> tuple[list[ColourGroup], np.ndarray]:
    """Continuous scores as :data:`SCORE_LEVELS` colour groups of a colour map (+ "no score",
    the last group, for the NaN ones)."""
    colour_map = pg.colormap.get(colour_map_name)
    known = ~np.isnan(point_scores)
    groups: list[ColourGroup] = []
    group_of_point = np.full(len(point_scores), SCORE_LEVELS, dtype=np.int64)
    if known.any():
        lo, hi = float(np.nanmin(point_scores)), float(np.nanmax(point_scores))
        span = hi - lo or 1.0
        levels = np.clip(
            ((point_scores[known] - lo) / span * (SCORE_LEVELS - 1)).round(), 0, SCORE_LEVELS - 1
        )
        group_of_point[known] = levels.astype(np.int64)
        counts = np.bincount(group_of_point, minlength=SCORE_LEVELS + 1)
        for level in range(SCORE_LEVELS):
            value = lo + span * level / (SCORE_LEVELS - 1)
            colour = colour_map.map(level / (SCORE_LEVELS - 1), mode="qcolor")
            groups.append(ColourGroup(f"{label} {value:{fmt}}", QColor(colour), int(counts[level]), None))
    group_of_point[~known] = len(groups)
    groups.append(ColourGroup("no score", QColor(150, 150, 150, 120), int((~known).sum()), None))
    return groups, group_of_point


_SWATCHES: dict[tuple[int, int, int, int, float], QIcon] = {}


def swatch(colour: QColor, ratio: float) -> QIcon:
    """A 12 × 12 (logical pixels) icon filled with ``colour``, made once per colour and ratio."""
    key = (colour.red(), colour.green(), colour.blue(), colour.alpha(), ratio)
    icon = _SWATCHES.get(key)
    if icon is None:
        pixmap = QPixmap(int(12 * ratio), int(12 * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(colour)
        icon = _SWATCHES[key] = QIcon(pixmap)
    return icon


def fill_legend(
    legend: QListWidget,
    groups: list[ColourGroup],
    key: str,
    ratio: float,
    have_scores: bool,
    anomaly: Any = None,
) -> None:
    """Fill ``legend`` with an entry per group (a categorical colouring) or a few sample levels
    and "no score" (``key`` ``"score"`` or ``"anomaly"``).

    ``have_scores``: for ``"score"``, whether there is a query (else the legend says to type
    one); ``anomaly``: the ``AnomalyScores`` whose run and source the anomaly legend names.
    Entries carry their group index (:data:`LEGEND_ROLE`) and operand (:data:`OPERAND_ROLE`).
    """
    legend.setUpdatesEnabled(False)
    try:
        legend.clear()
        gradient = key in ("score", "anomaly")
        if gradient:
            # A gradient legend: a few sample levels from best to worst, plus "no score".
            levels = list(enumerate(groups[:-1]))[::-1]
            no_score = (len(groups) - 1, groups[-1])
            have = have_scores if key == "score" else len(levels) > 0
            entries = [*levels[:: max(1, len(levels) // 6)], no_score] if have else [no_score]
        else:
            entries = list(enumerate(groups))
        for index, group in entries:
            text = group.label if gradient else f"{group.label} ({group.count})"
            item = QListWidgetItem(swatch(group.colour, ratio), text)
            item.setData(LEGEND_ROLE, index)
            item.setData(OPERAND_ROLE, group.operand)
            tip = f"{group.count} points"
            if group.operand is not None:
                tip += "; click to highlight, double-click to select, drag to the Analogy panel"
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsDragEnabled)
            else:
                tip += "; click to highlight, double-click to select"
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDragEnabled)
            item.setToolTip(tip)
            legend.addItem(item)
        if key == "score" and not have_scores:
            legend.insertItem(0, "Type a query in the Query panel to colour by its scores.")
        if key == "anomaly" and anomaly is not None:
            title = QListWidgetItem(f"Anomaly score ({anomaly.run_id}): reconstruction error, high = unusual")
            title.setToolTip(
                "Seed 003 §VII: an autoencoder trained on the embeddings of "
                f"{anomaly.source_run}; a clip it reconstructs badly is unlike the clips it learned from"
            )
            title.setFlags(Qt.ItemFlag.ItemIsEnabled)
            legend.insertItem(0, title)
    finally:
        legend.setUpdatesEnabled(True)
