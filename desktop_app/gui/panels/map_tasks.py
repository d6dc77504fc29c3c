"""What the Map panel runs in tasks (:mod:`desktop_app.gui.tasks`): load or compute a map and
prepare it for drawing, read anomaly scores and split roles, place the Player's track.

Split out of :mod:`desktop_app.gui.panels.map` (issue 12). Each function is ``fn(*args,
progress)`` and knows nothing of Qt. A map is handed to the panel in two steps (see
:class:`~desktop_app.gui.panels.map_points.PreparedMap`): as a partial result as soon as it can
be drawn, then, with its point index built, as the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from desktop_app.gui.panels.map_colours import _palette, warm_palette
from desktop_app.gui.panels.map_points import PreparedMap


def _hand_over(ws: Any, run_id: str, result: Any, space: Any, progress: Any) -> PreparedMap:
    """The map with its per-point columns, handed to the panel to draw, then its point index
    built (and handed over again: the same object, the lasso and hover now use the index)."""
    from desktop_app.analysis.space import EmbeddingSpace

    prepared = PreparedMap(
        result, space if space is not None else EmbeddingSpace.load(ws, run_id), ws, index=False
    )
    _palette()  # colorcet's import happens here (or on warm_palette's thread), not on the GUI thread
    progress.check_cancelled()
    progress.set_partial_result(prepared)  # drawn now; the lasso and hover scan until the index
    prepared.build_index()
    progress.check_cancelled()
    progress.set_partial_result(prepared)
    return prepared


def load_anomaly_scores(ws: Any, run_id: str, progress: Any) -> Any:
    """The anomaly scores to show beside ``run_id`` (seed 003 §VII), or ``None``."""
    from desktop_app.training.anomaly import scores_for_run

    return scores_for_run(ws, run_id)


def load_first_map(ws: Any, run_id: str, of: str, space: Any, progress: Any) -> PreparedMap:
    """:func:`~desktop_app.analysis.maps.first_map` of ``run_id``, prepared; ``space``: the
    panel's embedding space (``None``: loaded here)."""
    from desktop_app.analysis.maps import first_map

    warm_palette()
    progress.set_progress(0.0, "reading the map")
    handed: list[PreparedMap] = []

    def drawable(result: Any) -> None:  # a computed map, before its quality figure is measured
        handed.append(_hand_over(ws, run_id, result, space, progress))

    result = first_map(ws, run_id, of, space=space, on_unmeasured=drawable)
    if not handed:  # read from the cache, quality and all
        return _hand_over(ws, run_id, result, space, progress)
    prepared = handed[0]
    prepared.map = result  # the same Map2D, its quality measured now
    return prepared


def load_or_compute(ws: Any, run_id: str, method: str, of: str, progress: Any) -> PreparedMap:
    """Cached map or a fresh one; t-SNE's partial layouts go out as ``(ids, coords)``."""
    from desktop_app.analysis.maps import load_or_compute_map, map_inputs

    warm_palette()
    on_partial: Callable[[np.ndarray], None] | None = None
    if method == "tsne":
        from desktop_app.analysis.space import EmbeddingSpace

        ids = map_inputs(EmbeddingSpace.load(ws, run_id), of)[0]

        def on_partial(coords: np.ndarray) -> None:
            # A subsampled map places other rows than map_inputs lists: no partials then.
            if len(coords) == len(ids):
                progress.set_partial_result((ids, coords))

    result = load_or_compute_map(ws, run_id, method, of, None, progress, on_partial)
    return _hand_over(ws, run_id, result, None, progress)


def read_split_codes(prepared: PreparedMap, split: str, progress: Any) -> np.ndarray:
    """``split``'s role codes by clip id, read into ``prepared`` (see its ``read_split_codes``)."""
    return prepared.read_split_codes(split)


def place_track(space: Any, of: str, ids: Any, coords: Any, track: Any, progress: Any) -> Any:
    """The Player's prefix track placed on the current map (no layout recomputed)."""
    from desktop_app.analysis.temporal import track_map_positions

    return track_map_positions(space, of, ids, coords, track)


def compute_axes(space: Any, of: str, axes: Sequence[str], progress: Any) -> PreparedMap:
    """The semantic-axes map of ``axes`` (four words or phrases), prepared."""
    from desktop_app.analysis.maps import compute_map

    progress.set_progress(0.0, "loading the word vectors")
    result = compute_map(space, "axes", of, {"axes": list(axes)}, progress)
    return _hand_over(space.ws, space.run_id, result, space, progress)
