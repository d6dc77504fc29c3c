"""Placing new embeddings on a map that is already drawn, without recomputing it.

Used for a user's own clip (``actionlens add-clips``, :mod:`desktop_app.analysis.new_clips`) and
for the prefix track of the clip in the Player (:mod:`desktop_app.analysis.temporal`). A map
stores its points' ids and coordinates, not the fitted reducer (ActionLens never unpickles), so
the placement is recovered from the map itself:

* a PCA or semantic-axes map is an affine function of the unit embeddings; the least-squares
  affine fit of the map's coordinates on its points (at most :data:`AFFINE_FIT_POINTS` random
  ones) recovers it exactly (relative residual below :data:`LINEAR_TOLERANCE`), and new points
  go through it — ``"linear"``;
* otherwise (UMAP, t-SNE, imported layouts) a new point lands at the mean position of its ``k``
  nearest map points weighted by ``1 / distance`` (a point at distance 0 takes that point's
  position), which is where umap-learn's and openTSNE's ``transform`` start before their
  optimisation — ``"neighbours"``.
"""

from __future__ import annotations

import numpy as np

from desktop_app.analysis.analogy import to_unit
from desktop_app.errors import ActionLensError

#: Relative residual under which the map is taken to be affine in the embeddings.
LINEAR_TOLERANCE = 1e-4
#: The affine fit uses at most this many random map points: an affine map is recovered exactly
#: from any D + 1 points in general position, so a million-point map costs what 20 000 do.
AFFINE_FIT_POINTS = 20_000


def place_on_map(
    map_vectors: np.ndarray,
    map_coords: np.ndarray,
    new: np.ndarray,
    k: int = 5,
    affine: bool | None = None,
) -> tuple[np.ndarray, str]:
    """``(positions (N, 2) float32, "linear" | "neighbours")`` of the ``new`` embeddings on a map
    whose points have embeddings ``map_vectors`` ``(n, D)`` and positions ``map_coords`` ``(n, 2)``.

    ``affine``: ``True`` when the map is known to be affine in the embeddings (PCA, semantic
    axes: the fit is used even with fewer points than dimensions, where its minimum-norm solution
    is the projection itself), ``False`` when it is known not to be, ``None`` to find out — only
    with more points than dimensions, since fewer are fitted exactly by any map.

    Raises
    ------
    ActionLensError
        When the map has no points.
    """
    n, dim = np.shape(map_vectors)
    y = np.asarray(map_coords, dtype=np.float64)
    query = to_unit(new)
    if n == 0:
        raise ActionLensError("the map has no points to place new ones among; compute the map again")
    if affine or (affine is None and n > dim + 1):
        fit = (
            np.sort(np.random.default_rng(0).choice(n, AFFINE_FIT_POINTS, replace=False))
            if n > AFFINE_FIT_POINTS
            else np.arange(n)
        )
        design = np.hstack([to_unit(map_vectors[fit]), np.ones((len(fit), 1))])
        weights, *_ = np.linalg.lstsq(design, y[fit], rcond=None)
        spread = max(float(np.linalg.norm(y[fit] - y[fit].mean(axis=0))), 1e-12)
        if np.linalg.norm(design @ weights - y[fit]) / spread < LINEAR_TOLERANCE:
            coords = np.hstack([query, np.ones((len(query), 1))]) @ weights
            return coords.astype(np.float32), "linear"
    x = to_unit(map_vectors)
    k = max(1, min(k, len(x)))
    distances = np.sqrt(np.maximum(2.0 - 2.0 * (query @ x.T), 0.0))  # unit rows: ‖a−b‖² = 2 − 2a·b
    # the k nearest by a partial sort (a full sort of a million-wide row per new point is not
    # needed), then in order, ties by map row as the stable sort had them
    if k < len(x):
        part = np.sort(np.argpartition(distances, k - 1, axis=1)[:, :k], axis=1)
    else:
        part = np.broadcast_to(np.arange(len(x)), (len(query), len(x)))
    order = np.argsort(np.take_along_axis(distances, part, axis=1), axis=1, kind="stable")
    nearest = np.take_along_axis(part, order, axis=1)
    near = np.take_along_axis(distances, nearest, axis=1)
    w = 1.0 / np.maximum(near, 1e-12)
    coords = (w[:, :, None] * y[nearest]).sum(axis=1) / w.sum(axis=1, keepdims=True)
    exact = near[:, 0] < 1e-6
    coords[exact] = y[nearest[exact, 0]]
    return coords.astype(np.float32), "neighbours"
