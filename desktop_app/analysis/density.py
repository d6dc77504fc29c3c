"""Screen-resolution aggregation of a 2-D map: per-pixel counts and mixed class colours.

When a map of a million clips is zoomed out, most screen pixels hold several points and drawing
each one as a disc costs a frame of 200 ms (pyqtgraph paints every point in view). Datashader's
idea instead: bin the points into one cell per screen pixel, count them, mix the colours of the
points that fall into a cell (weighted by how many of each), and draw the result as one image.

This module is that aggregation, on numpy only: :func:`aggregate` bins and mixes with
``np.bincount`` (one unweighted and three colour-weighted passes over the points in view) and
:func:`shade` turns the counts and colours into an RGBA image (alpha from the log of the count,
points spread by a pixel so single ones stay visible). ``docs/map_render.md`` has the measurements
behind choosing it over ``datashader`` itself (its import, its numba compilation and its
per-category count arrays for hundreds of classes).

No Qt here: the Map panel (:mod:`desktop_app.gui.map_render`) hands over arrays and draws the
image it gets back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Aggregate",
    "Raster",
    "aggregate",
    "pixel_of_points",
    "render_highlight",
    "render_layers",
    "shade",
]


@dataclass(frozen=True)
class Raster:
    """A rectangle of the map cut into ``width`` × ``height`` pixels.

    ``x0, y0`` is the lower-left corner in map coordinates and ``x1, y1`` the upper right; pixel
    row 0 is the bottom row (``y0``), as an image item placed with this rectangle draws it.
    """

    x0: float
    y0: float
    x1: float
    y1: float
    width: int
    height: int

    @property
    def pixel_size(self) -> tuple[float, float]:
        """The size of one pixel in map units, along x and y."""
        return (self.x1 - self.x0) / self.width, (self.y1 - self.y0) / self.height

    def contains(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """Whether the rectangle ``(x0, y0)``–``(x1, y1)`` lies inside this one."""
        return self.x0 <= x0 and self.y0 <= y0 and x1 <= self.x1 and y1 <= self.y1


@dataclass(frozen=True)
class Aggregate:
    """Per-pixel figures of a :class:`Raster`, row-major ``(height, width)``.

    Attributes
    ----------
    raster
        The rectangle and resolution aggregated.
    counts
        ``float32``: the (weighted) number of points in each pixel.
    rgb_sum
        ``float32`` ``(height, width, 3)``: the (weighted) sum of the colours (0–255) of the
        points in each pixel; :attr:`rgb` divides it by the count.
    points
        How many points fell inside the raster.
    """

    raster: Raster
    counts: np.ndarray
    rgb_sum: np.ndarray
    points: int

    @property
    def rgb(self) -> np.ndarray:
        """The count-weighted mean colour of each pixel (0 where it is empty)."""
        return self.rgb_sum / np.maximum(self.counts, np.float32(1e-12))[..., None]


def pixel_of_points(coords: np.ndarray, raster: Raster) -> tuple[np.ndarray, np.ndarray]:
    """Which points fall inside ``raster`` and the flat pixel index (``row * width + col``) of each.

    Parameters
    ----------
    coords
        ``(n, 2)`` map coordinates.
    raster
        The rectangle and resolution.

    Returns
    -------
    (rows, pixels)
        ``rows``: int64 indices into ``coords`` of the points inside; ``pixels``: int64, their
        pixel, in the same order.
    """
    coords = np.asarray(coords).reshape(-1, 2)
    sx = raster.width / max(raster.x1 - raster.x0, 1e-300)
    sy = raster.height / max(raster.y1 - raster.y0, 1e-300)
    # float32 arithmetic on float32 maps: half the memory traffic of float64 on the hot path.
    col = (coords[:, 0] - np.float32(raster.x0)) * np.float32(sx)
    row = (coords[:, 1] - np.float32(raster.y0)) * np.float32(sy)
    inside = (col >= 0) & (col < raster.width) & (row >= 0) & (row < raster.height)
    rows = np.flatnonzero(inside)
    pixels = row[rows].astype(np.int64) * raster.width + col[rows].astype(np.int64)
    # A point a rounding error below the top edge still belongs to the last pixel.
    np.clip(pixels, 0, raster.width * raster.height - 1, out=pixels)
    return rows, pixels


def aggregate(
    coords: np.ndarray,
    raster: Raster,
    group_of_point: np.ndarray | None = None,
    group_rgb: np.ndarray | None = None,
    weight: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> Aggregate:
    """Count the points of each pixel of ``raster`` and mix their colours.

    Datashader's categorical shading (``count_cat`` then colour-key mixing), computed without its
    per-category count cube: the mean colour of a pixel is the count-weighted mean of its points'
    group colours, accumulated directly with three weighted ``np.bincount`` passes.

    Parameters
    ----------
    coords
        ``(n, 2)`` map coordinates of every point.
    raster
        The rectangle and resolution to aggregate into.
    group_of_point
        ``(n,)`` int: each point's colour group (index into ``group_rgb``); ``None``: no colours.
    group_rgb
        ``(groups, 3)`` colours (0–255) of the groups.
    weight
        ``(n,)`` how much each point counts (1 for all when ``None``): dimmed points count less,
        so emphasised ones dominate both the count and the colour of their pixels.
    rows
        Aggregate only these rows of ``coords`` (all when ``None``).

    Returns
    -------
    Aggregate
    """
    coords = np.asarray(coords).reshape(-1, 2)
    if rows is not None:
        coords = coords[rows]
    inside, pixels = pixel_of_points(coords, raster)
    if rows is not None:
        inside = np.asarray(rows)[inside]
    size = raster.width * raster.height
    shape = (raster.height, raster.width)
    w = None if weight is None else np.asarray(weight, dtype=np.float64)[inside]
    counts = np.bincount(pixels, weights=w, minlength=size).astype(np.float32)
    rgb_sum = np.zeros((*shape, 3), dtype=np.float32)
    if group_of_point is not None and group_rgb is not None and len(pixels):
        colours = np.asarray(group_rgb, dtype=np.float64).reshape(-1, 3)
        groups = np.asarray(group_of_point)[inside]
        flat = rgb_sum.reshape(size, 3)
        for channel in range(3):
            value = colours[groups, channel]
            if w is not None:
                value *= w
            flat[:, channel] = np.bincount(pixels, weights=value, minlength=size)
    return Aggregate(raster, counts.reshape(shape), rgb_sum, int(len(pixels)))


def _spread(values: np.ndarray, radius: int) -> np.ndarray:
    """Sum of each pixel's ``(2 radius + 1)²`` neighbourhood (a box filter, zero outside)."""
    if radius <= 0:
        return values
    out = values.copy()
    for axis in (0, 1):
        source = out.copy()
        for shift in range(1, radius + 1):
            lo = [slice(None)] * values.ndim
            hi = [slice(None)] * values.ndim
            lo[axis], hi[axis] = slice(shift, None), slice(None, -shift)
            out[tuple(lo)] += source[tuple(hi)]
            out[tuple(hi)] += source[tuple(lo)]
    return out


def shade(
    agg: Aggregate,
    spread: int = 1,
    min_alpha: int = 90,
    max_alpha: int = 255,
    rgb: tuple[int, int, int] | None = None,
) -> np.ndarray:
    """An RGBA image of an :class:`Aggregate`: mixed colours, alpha rising with the log count.

    Parameters
    ----------
    agg
        What :func:`aggregate` returned.
    spread
        Each point also colours the pixels within this many pixels of it (datashader's
        ``spread``), so a lone point reads as a dot, not a speck; 0: one pixel per point.
    min_alpha, max_alpha
        Alpha of the emptiest and of the densest occupied pixel; empty pixels are transparent.
    rgb
        One colour for every point (a selection overlay) instead of the mixed colours.

    Returns
    -------
    numpy.ndarray
        ``uint8`` ``(height, width, 4)``, C-contiguous, row 0 at the raster's bottom.
    """
    counts, sums = agg.counts, agg.rgb_sum
    if spread > 0:
        counts = _spread(counts, spread)
        sums = _spread(sums, spread)
    image = np.zeros((*counts.shape, 4), dtype=np.uint8)
    top = float(counts.max()) if counts.size else 0.0
    if top <= 0:
        return image
    occupied = counts > 0
    if rgb is None:
        mixed = sums / np.maximum(counts, np.float32(1e-12))[..., None]
        np.clip(mixed, 0, 255, out=mixed)
        image[..., :3] = mixed
    else:
        image[..., :3] = np.asarray(rgb, dtype=np.uint8)
    fraction = np.log1p(counts) * np.float32(1.0 / np.log1p(top))
    alpha = np.float32(min_alpha) + np.float32(max_alpha - min_alpha) * fraction
    image[..., 3] = np.where(occupied, alpha, 0)
    return image


def render_layers(
    coords: np.ndarray,
    raster: Raster,
    group_of_point: np.ndarray,
    group_rgb: np.ndarray,
    emphasis: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """The RGBA image of the map's aggregate level of detail over ``raster``.

    Every point (or only ``rows``) in its group's colour; with an ``emphasis`` mask the others
    form a faint layer (alpha 25–60) and the emphasised ones are drawn over it at full strength.
    What the Map panel's worker computes for the view (``docs/map_render.md``).
    """
    if emphasis is None:
        return shade(aggregate(coords, raster, group_of_point, group_rgb, rows=rows))
    image = shade(aggregate(coords, raster, group_of_point, group_rgb, rows=rows), min_alpha=25, max_alpha=60)
    strong_rows = np.flatnonzero(emphasis) if rows is None else rows[emphasis[rows]]
    strong = shade(aggregate(coords, raster, group_of_point, group_rgb, rows=strong_rows))
    over = strong[..., 3] > 0
    image[over] = strong[over]
    return image


def render_highlight(
    coords: np.ndarray, raster: Raster, rows: np.ndarray, rgb: tuple[int, int, int]
) -> np.ndarray:
    """A translucent RGBA tint in ``rgb`` over the pixels of the points ``rows`` (the selection
    drawn as an image over the aggregate)."""
    return shade(aggregate(coords, raster, rows=rows), spread=1, min_alpha=110, max_alpha=170, rgb=rgb)
