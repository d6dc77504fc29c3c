"""Placing new embeddings on a map that is already drawn, without recomputing it.

Used for a user's own clip (``actionlens add-clips``, :mod:`desktop_app.analysis.new_clips`) and
for the prefix track of the clip in the Player (:mod:`desktop_app.analysis.temporal`). A map
stores its points' ids and coordinates, not the fitted reducer (ActionLens never unpickles), so
the placement is recovered from the map itself:

* a PCA or semantic-axes map is an affine function of the unit embeddings; the least-squares
  affine fit of the map's coordinates on its points recovers it exactly (relative residual below
  :data:`LINEAR_TOLERANCE`), and new points go through it — ``"linear"``;
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
    x = to_unit(map_vectors)
    y = np.asarray(map_coords, dtype=np.float64)
    query = to_unit(new)
    if len(x) == 0:
        raise ActionLensError("the map has no points to place new ones among; compute the map again")
    if affine or (affine is None and len(x) > x.shape[1] + 1):
        design = np.hstack([x, np.ones((len(x), 1))])
        weights, *_ = np.linalg.lstsq(design, y, rcond=None)
        spread = max(float(np.linalg.norm(y - y.mean(axis=0))), 1e-12)
        if np.linalg.norm(design @ weights - y) / spread < LINEAR_TOLERANCE:
            coords = np.hstack([query, np.ones((len(query), 1))]) @ weights
            return coords.astype(np.float32), "linear"
    k = max(1, min(k, len(x)))
    distances = np.sqrt(np.maximum(2.0 - 2.0 * (query @ x.T), 0.0))  # unit rows: ‖a−b‖² = 2 − 2a·b
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :k]
    near = np.take_along_axis(distances, nearest, axis=1)
    w = 1.0 / np.maximum(near, 1e-12)
    coords = (w[:, :, None] * y[nearest]).sum(axis=1) / w.sum(axis=1, keepdims=True)
    exact = near[:, 0] < 1e-6
    coords[exact] = y[nearest[exact, 0]]
    return coords.astype(np.float32), "neighbours"
