"""Qt-free helpers of the Map panel: which points a lasso encloses, the density image, the CSV.

Kept apart from :mod:`desktop_app.gui.panels.map` so they can be tested (and reused by a script)
without a display: they take and return numpy arrays and plain Python values.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence

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
