"""The map's point index: hover look-ups agree with a scan of every point."""

from __future__ import annotations

import numpy as np

from desktop_app.gui.panels.map_points import PointIndex, nearest_point


def test_nearest_matches_a_scan_where_points_are_dense_and_the_view_stretched():
    rng = np.random.default_rng(0)
    coords = np.concatenate([rng.normal(0, 0.05, (200_000, 2)), rng.uniform(-3, 3, (2_000, 2))])
    index = PointIndex(coords)
    for pixel in ((0.01, 0.01), (0.01, 0.015), (0.002, 0.002)):
        for x, y in rng.uniform(-1, 1, (40, 2)):
            expected = nearest_point(coords, x, y, pixel, 8.0)
            assert index.nearest(x, y, pixel, 8.0) == expected
    # nothing within the radius: no point
    assert index.nearest(50.0, 50.0, (0.01, 0.01), 8.0) is None
