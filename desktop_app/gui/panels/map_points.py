"""Qt-free helpers of the Map panel: which points a lasso encloses, the point under the cursor,
the density image, the CSV.

Kept apart from :mod:`desktop_app.gui.panels.map` so they can be tested (and reused by a script)
without a display: they take and return numpy arrays and plain Python values.

:class:`PointIndex` is built once per map, in the task that loads it, so that a lasso over a
million points and the hover look-up stay interactive: points sorted by ``y`` for the lasso (each
edge of the outline only tests the points in its own horizontal band) and a
:class:`scipy.spatial.cKDTree` for the nearest point.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from desktop_app.atomic import atomic_open

#: Columns of the CSV that :func:`write_map_csv` writes.
CSV_COLUMNS = ("id", "name", "class", "x", "y", "selected")


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """A boolean mask of the ``points`` inside a closed ``polygon`` (even-odd rule).

    Parameters
    ----------
    points
        ``(n, 2)`` coordinates.
    polygon
        ``(m, 2)`` vertices of a freehand lasso or a rectangle, in the same coordinates; the
        last vertex joins the first. Fewer than three vertices enclose nothing.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool. Ray casting, vectorised over the points, one pass per edge, so a lasso of
        a few hundred vertices over 100 000 points takes milliseconds.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    polygon = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    inside = np.zeros(len(points), dtype=bool)
    if len(polygon) < 3 or len(points) == 0:
        return inside
    x, y = points[:, 0], points[:, 1]
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for ax, ay, bx, by in zip(x0, y0, x1, y1, strict=True):
        crosses = (ay > y) != (by > y)
        if not crosses.any():
            continue
        # x where the edge meets the horizontal line through each point (only where it crosses).
        with np.errstate(divide="ignore", invalid="ignore"):
            at = ax + (y - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (x < at)
    return inside


#: Points the hover look-up re-ranks in screen pixels: the nearest in map units (the two orders
#: differ only where the view is stretched, and then only among close points).
NEAREST_CANDIDATES = 32


class PointIndex:
    """Look-ups over one map's points: inside a polygon, nearest to a position.

    Parameters
    ----------
    coords
        ``(n, 2)`` coordinates; the index keeps a float64 copy sorted by ``y`` and a k-d tree.

    Building takes about 0.3 s (sort) + 0.45 s (tree) at a million points: do it in a task.
    """

    def __init__(self, coords: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        self.size = len(coords)
        self._order = np.argsort(coords[:, 1], kind="stable")
        self._sorted = np.ascontiguousarray(coords[self._order])
        self._tree: Any = cKDTree(coords, balanced_tree=False, compact_nodes=False) if len(coords) else None

    def inside(self, polygon: np.ndarray) -> np.ndarray:
        """Boolean mask of the points inside ``polygon``: the same even-odd rule (and the same
        arithmetic) as :func:`points_in_polygon`, but each edge tests only the points whose ``y``
        lies in its band, found by binary search in the ``y``-sorted copy."""
        polygon = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        mask = np.zeros(self.size, dtype=bool)
        if len(polygon) < 3 or self.size == 0:
            return mask
        xs, ys = self._sorted[:, 0], self._sorted[:, 1]
        x0, y0 = polygon[:, 0], polygon[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        # An edge crosses the horizontal line through y when min(ay, by) <= y < max(ay, by).
        starts = np.searchsorted(ys, np.minimum(y0, y1), side="left")
        stops = np.searchsorted(ys, np.maximum(y0, y1), side="left")
        sorted_inside = np.zeros(self.size, dtype=bool)
        for edge in np.flatnonzero(stops > starts).tolist():
            lo, hi = int(starts[edge]), int(stops[edge])
            ax, ay, bx, by = x0[edge], y0[edge], x1[edge], y1[edge]
            at = ax + (ys[lo:hi] - ay) * (bx - ax) / (by - ay)
            sorted_inside[lo:hi] ^= xs[lo:hi] < at
        mask[self._order] = sorted_inside
        return mask

    def nearest(self, x: float, y: float, pixel: tuple[float, float], radius_px: float) -> int | None:
        """The row of the point nearest to ``(x, y)`` in screen pixels, if within ``radius_px``.

        ``pixel`` is the size of a screen pixel in map units along x and y (they differ when the
        view is stretched), so "nearest" is measured as the eye sees it.
        """
        px, py = abs(float(pixel[0])), abs(float(pixel[1]))
        if self._tree is None or px <= 0 or py <= 0:
            return None
        # The k nearest in map units (arrays from C; a ball query returns a Python list, tens of
        # thousands of points long where a zoomed-out million-point map is dense), re-ranked in
        # screen pixels below.
        _, found = self._tree.query(
            [x, y], k=min(NEAREST_CANDIDATES, self.size), distance_upper_bound=radius_px * max(px, py)
        )
        found = np.atleast_1d(found)
        candidates = found[found < self.size].astype(np.int64)
        if not len(candidates):
            return None
        d2 = ((self._tree.data[candidates, 0] - x) / px) ** 2 + (
            (self._tree.data[candidates, 1] - y) / py
        ) ** 2
        best = int(np.argmin(d2))
        return int(candidates[best]) if d2[best] <= radius_px**2 else None


def nearest_point(
    coords: np.ndarray, x: float, y: float, pixel: tuple[float, float], radius_px: float
) -> int | None:
    """:meth:`PointIndex.nearest` without an index (a scan of every point), for maps streamed
    while they converge, before their index is built."""
    px, py = abs(float(pixel[0])), abs(float(pixel[1]))
    if not len(coords) or px <= 0 or py <= 0:
        return None
    d2 = ((coords[:, 0] - x) / px) ** 2 + ((coords[:, 1] - y) / py) ** 2
    row = int(np.argmin(d2))
    return row if d2[row] <= radius_px**2 else None


def density_image(
    coords: np.ndarray,
    bins: int = 96,
    bounds: tuple[float, float, float, float] | None = None,
    smooth: float = 1.5,
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """A smoothed 2-D histogram of the points for drawing density under the scatter.

    ``smooth`` is the standard deviation, in bins, of the Gaussian that blurs the counts
    (0: none), so sparse maps read as soft regions rather than isolated squares.

    Returns
    -------
    (image, (x0, y0, width, height))
        ``image`` is ``(bins, bins)`` float32, C-contiguous, indexed ``[x_bin, y_bin]`` (the
        axis order pyqtgraph's ``ImageItem`` expects by default), log-scaled (``log1p`` of the
        counts) so a few very dense clusters do not hide the rest; the rectangle it covers.
    """
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    if bounds is None:
        if len(coords) == 0:
            bounds = (0.0, 0.0, 1.0, 1.0)
        else:
            lo, hi = coords.min(axis=0), coords.max(axis=0)
            span = np.maximum(hi - lo, 1e-9)
            lo, span = lo - 0.02 * span, span * 1.04
            bounds = (float(lo[0]), float(lo[1]), float(span[0]), float(span[1]))
    x0, y0, w, h = bounds
    counts, _, _ = np.histogram2d(coords[:, 0], coords[:, 1], bins=bins, range=[[x0, x0 + w], [y0, y0 + h]])
    if smooth > 0:
        radius = max(1, int(round(3 * smooth)))
        offsets = np.arange(-radius, radius + 1)
        kernel = np.exp(-0.5 * (offsets / smooth) ** 2)
        kernel /= kernel.sum()
        # Separable blur: rows then columns, same size as the input.
        counts = np.apply_along_axis(np.convolve, 0, counts, kernel, mode="same")
        counts = np.apply_along_axis(np.convolve, 1, counts, kernel, mode="same")
    return np.ascontiguousarray(np.log1p(counts), dtype=np.float32), (x0, y0, w, h)


def write_map_csv(
    path: str | os.PathLike[str],
    ids: Sequence[int] | np.ndarray,
    coords: np.ndarray,
    names: Sequence[str],
    classes: Sequence[str],
    selected: Iterable[int] = (),
    only_selected: bool = False,
) -> int:
    """Write a map's points as CSV (``id,name,class,x,y,selected``), atomically.

    Parameters
    ----------
    path
        Where to write.
    ids, coords
        The map's point ids (clip or class ids) and ``(n, 2)`` coordinates, row for row.
    names, classes
        Per point: its name (clip name or class phrase) and class phrase.
    selected
        Ids of the selected points (the column ``selected`` is 1 for them, else 0).
    only_selected
        Write only the selected points (exporting the selection).

    Returns
    -------
    int
        The number of rows written (the header not counted).
    """
    ids = np.asarray(ids, dtype=np.int64)
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    if not (len(ids) == len(coords) == len(names) == len(classes)):
        raise ValueError("ids, coords, names and classes must have one entry per point")
    chosen = {int(i) for i in selected}
    written = 0
    with atomic_open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for point_id, (x, y), name, cls in zip(ids.tolist(), coords.tolist(), names, classes, strict=True):
            is_selected = point_id in chosen
            if only_selected and not is_selected:
                continue
            writer.writerow([point_id, name, cls, f"{x:.6g}", f"{y:.6g}", int(is_selected)])
            written += 1
    return written


def row_lookup(ids: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(row_of_id, ids_sorted)``: int64 by point id, its row (-1: not on the map), and whether
    the ids increase row by row (then the clips of a set of rows need no sort)."""
    ids = np.asarray(ids, dtype=np.int64)
    size = int(ids.max()) + 1 if len(ids) else 0
    row_of_id = np.full(size, -1, dtype=np.int64)
    row_of_id[ids] = np.arange(len(ids))
    return row_of_id, bool(len(ids) < 2 or (ids[1:] > ids[:-1]).all())


class PreparedMap:
    """A map with what the panel needs to draw and link it at any size, computed in its task.

    The task hands it to the panel twice (issue 12): first without its :attr:`index`, as soon as
    the map and the per-point columns are ready (the panel draws it), then, once
    :meth:`build_index` has run, the same object again (the lasso and hover use the index from
    then on; before, they scan the points). Split role codes are read on first use
    (:meth:`read_split_codes`, from the panel's task), not for every split when the map loads.

    Attributes
    ----------
    map
        The :class:`~desktop_app.analysis.maps.Map2D`.
    index
        The :class:`PointIndex` of its points, or ``None`` until :meth:`build_index`.
    class_of_point
        int64 per point: its class (the clip's class, or the class itself on a class-means map;
        -1 for a clip without one).
    clips_of_class
        On a class-means map, the embedded clips of each class (``{class_id: ids}``); else ``None``.
    embedded
        How many clips (classes on a class-means map) have an embedding: the "of M" of "N of M".
    clip_class
        int64 by clip id: each clip's class (-1: none), the catalog's column.
    row_of_id, ids_sorted
        :func:`row_lookup` of the map's ids.
    split_codes
        The role codes by clip id (:meth:`Catalog.split_role_codes`) of the splits read so far.
    """

    def __init__(self, map2d: Any, space: Any, ws: Any, index: bool = True) -> None:
        self.map = map2d
        self._ws = ws
        ids = np.asarray(map2d.ids, dtype=np.int64)
        self.index: PointIndex | None = None
        # The space's column: the app's space holds the one the workspace model read at open.
        clip_class = np.asarray(space.clip_class_ids, dtype=np.int64)
        self.clip_class = clip_class
        self.clips_of_class: dict[int, np.ndarray] | None = None
        if map2d.of == "clips":
            known = (ids >= 0) & (ids < len(clip_class))
            self.class_of_point = np.where(
                known, clip_class[np.clip(ids, 0, max(len(clip_class) - 1, 0))], -1
            )
            self.embedded = int(len(space.embedded_clip_ids))
        else:
            self.class_of_point = ids.copy()
            embedded = space.embedded_clip_ids
            classes = clip_class[embedded]
            order = np.argsort(classes, kind="stable")
            bounds = np.searchsorted(classes[order], ids)
            ends = np.searchsorted(classes[order], ids, side="right")
            self.clips_of_class = {
                int(c): embedded[order[lo:hi]] for c, lo, hi in zip(ids.tolist(), bounds, ends, strict=True)
            }
            self.embedded = int(len(space.class_ids))
        self.row_of_id, self.ids_sorted = row_lookup(ids)
        self.split_codes: dict[str, np.ndarray] = {}
        if index:
            self.build_index()

    def build_index(self) -> PointIndex:
        """Build (once) and return the :class:`PointIndex` of the map's points."""
        if self.index is None:
            self.index = PointIndex(self.map.coords)
        return self.index

    def read_split_codes(self, split: str) -> np.ndarray:
        """``split``'s role codes by clip id, read from the catalog once (a second at a million
        clips: call it from a task)."""
        codes = self.split_codes.get(split)
        if codes is None:
            codes = self._ws.catalog.split_role_codes(split, size=len(self.clip_class))
            self.split_codes[split] = codes
        return codes
