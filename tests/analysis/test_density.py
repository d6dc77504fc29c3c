"""Screen-resolution aggregation of map points (desktop_app.analysis.density), no Qt."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.analysis.density import Raster, aggregate, pixel_of_points, shade


def test_pixel_of_points_bins_by_position_and_drops_points_outside():
    raster = Raster(0.0, 0.0, 4.0, 2.0, 4, 2)  # pixels of 1 x 1, row 0 at the bottom
    coords = np.array([[0.5, 0.5], [3.5, 1.5], [3.999, 1.999], [4.5, 0.5], [-0.1, 1.0], [1.2, 1.7]])
    rows, pixels = pixel_of_points(coords, raster)
    assert rows.tolist() == [0, 1, 2, 5]
    assert pixels.tolist() == [0, 1 * 4 + 3, 1 * 4 + 3, 1 * 4 + 1]


def test_aggregate_counts_points_and_mixes_their_colours_by_count():
    raster = Raster(0.0, 0.0, 2.0, 2.0, 2, 2)
    # Pixel (row 0, col 0): three red points and one blue; pixel (row 1, col 1): one green.
    coords = np.array([[0.2, 0.2], [0.4, 0.3], [0.6, 0.9], [0.5, 0.5], [1.5, 1.5]], dtype=np.float32)
    group = np.array([0, 0, 0, 2, 1])
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=np.float64)
    agg = aggregate(coords, raster, group, colours)
    assert agg.points == 5
    assert agg.counts.tolist() == [[4, 0], [0, 1]]
    assert agg.rgb[0, 0] == pytest.approx([255 * 3 / 4, 0, 255 / 4])
    assert agg.rgb[1, 1] == pytest.approx([0, 255, 0])
    assert agg.rgb[0, 1] == pytest.approx([0, 0, 0])


def test_weights_let_emphasised_points_dominate_a_pixel():
    raster = Raster(0.0, 0.0, 1.0, 1.0, 1, 1)
    coords = np.array([[0.5, 0.5], [0.5, 0.5]])
    colours = np.array([[200, 0, 0], [0, 0, 200]], dtype=np.float64)
    agg = aggregate(coords, raster, np.array([0, 1]), colours, weight=np.array([1.0, 0.25]))
    assert float(agg.counts[0, 0]) == pytest.approx(1.25)
    assert agg.rgb[0, 0] == pytest.approx([160, 0, 40])


def test_aggregate_of_some_rows_matches_aggregate_of_those_points():
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(5000, 2)).astype(np.float32)
    group = rng.integers(0, 7, 5000)
    colours = rng.integers(0, 256, (7, 3)).astype(np.float64)
    raster = Raster(-2.0, -1.5, 2.0, 1.5, 40, 30)
    rows = np.flatnonzero(coords[:, 0] > 0)
    some = aggregate(coords, raster, group, colours, rows=rows)
    direct = aggregate(coords[rows], raster, group[rows], colours)
    np.testing.assert_allclose(some.counts, direct.counts)
    np.testing.assert_allclose(some.rgb_sum, direct.rgb_sum, rtol=1e-5)
    # Every point inside the raster is counted once.
    inside = (np.abs(coords[:, 0]) < 2) & (np.abs(coords[:, 1]) < 1.5)
    assert float(aggregate(coords, raster).counts.sum()) == inside.sum()


def test_shade_is_transparent_where_empty_and_more_opaque_where_dense():
    raster = Raster(0.0, 0.0, 10.0, 1.0, 10, 1)
    coords = np.array([[0.5, 0.5]] * 50 + [[8.5, 0.5]])
    agg = aggregate(coords, raster, np.zeros(51, dtype=int), np.array([[10.0, 20.0, 30.0]]))
    image = shade(agg, spread=0)
    assert image.shape == (1, 10, 4) and image.dtype == np.uint8 and image.flags.c_contiguous
    alpha = image[0, :, 3]
    assert alpha[0] == 255 and 0 < alpha[8] < alpha[0]
    assert (alpha[[1, 2, 3, 4, 5, 6, 7, 9]] == 0).all()
    assert image[0, 0, :3].tolist() == [10, 20, 30]
    spread = shade(agg, spread=1)[0, :, 3]
    assert spread[1] > 0 and spread[7] > 0 and spread[9] > 0 and spread[4] == 0  # a pixel around each
    tint = shade(agg, spread=0, rgb=(1, 2, 3))
    assert tint[0, 8, :3].tolist() == [1, 2, 3]
