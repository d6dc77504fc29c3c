"""2-D maps of a run's embeddings: PCA, UMAP, t-SNE, semantic axes and imported layouts.

Every map is computed from the **L2-normalised** embeddings (clips or class means), so distances
on the map reflect the cosine geometry that retrieval and the seeds' nearest-label tests use
(seed 000 ranks by cosine; on unit vectors Euclidean distance is a monotone function of cosine).

Maps are cached in ``ws.maps_dir`` as ``<key>.npy`` (``(n, 2)`` float32) beside ``<key>.json``
(format, method, params, run, ``of``, the clip or class ids of the rows, quality, timings,
subsampling, and a fingerprint of the embeddings they were computed from). The key is
``<run>.<of>.<method>.<hash of params>``; a cached map whose fingerprint no longer matches the
run's embeddings is stale and is recomputed by :func:`load_or_compute_map`.

Long computations are plain functions of (inputs, progress) that call
``progress.check_cancelled()``; t-SNE streams partial layouts through ``on_partial``.

Every embedded clip is on every computed map: a layout fitted on a random sample (PCA above
200 000 points, UMAP and t-SNE above their ``max_points``) places the other clips by the method's
own transform (:mod:`desktop_app.analysis.layouts`), and the map's ``placement`` says how many
were fitted and how many placed, by what. The quality figure is measured on bounded samples
(:mod:`desktop_app.analysis.map_quality`). ``docs/maps.md`` has the measurements behind these
choices and the metadata keys.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.analysis.layouts import (
    BLOCK_ROWS,
    PCA_FIT_POINTS,
    Placement,
    pca_fit_place,
    pca_layout,
    tsne_fit_place,
    tsne_layout,
    umap_epochs,
    umap_fit_place,
    umap_layout,
    use_persistent_numba_cache,
)
from desktop_app.analysis.map_quality import QUALITY_K, QUALITY_SAMPLE, map_quality, trustworthiness
from desktop_app.atomic import read_json, write_json, write_npy
from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress, SubProgress

if TYPE_CHECKING:
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.words.vectors import WordVectors
    from desktop_app.workspace import Workspace

__all__ = [
    "DEFAULT_PARAMS",
    "MAP_FORMAT",
    "MAP_VERSION",
    "METHODS",
    "OF_CHOICES",
    "QUALITY_K",
    "QUALITY_SAMPLE",
    "Map2D",
    "MapInfo",
    "Placement",
    "cached_maps",
    "compute_map",
    "embeddings_fingerprint",
    "first_map",
    "import_layout",
    "load_map",
    "load_or_compute_map",
    "map_inputs",
    "map_key",
    "map_quality",
    "normalize_params",
    "parse_axes",
    "pca_layout",
    "save_map",
    "semantic_axes_layout",
    "semantic_axes_map",
    "trustworthiness",
    "tsne_layout",
    "umap_epochs",
    "umap_layout",
    "use_persistent_numba_cache",
]

MAP_FORMAT = "actionlens-map"
#: 2: ids in ``<key>.ids.npy`` (not a JSON list) and a ``placement`` field; version 1 still opens.
MAP_VERSION = 2
METHODS = ("pca", "umap", "tsne", "axes", "imported")
OF_CHOICES = ("clips", "classes")

#: Defaults of each method's parameters; a map's key hashes the filled-in parameters.
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    # PCA is fitted on at most max_points random clips and projects every clip.
    "pca": {"max_points": PCA_FIT_POINTS, "seed": 0},
    # max_points: UMAP and t-SNE are fitted on at most that many random points and place the
    # rest by their transform; 0 fits every point.
    # n_epochs None: 500 below 10 000 points, else 200 (umap-learn's own rule), and 100 above
    # 50 000 points, where the PCA start is already close (measured in docs/maps.md).
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "n_epochs": None, "seed": 0, "max_points": 60_000},
    "tsne": {
        "perplexity": 30.0,
        "n_iter": 500,
        "early_exaggeration_iter": 250,
        "seed": 0,
        "max_points": 100_000,
        "partial_every": 25,
    },
    "axes": {"axes": None},
    "imported": {"source": None, "sha1": None},
}

OnPartial = Callable[[np.ndarray], None]


# ----------------------------------------------------------------------------------- results
@dataclass
class Map2D:
    """A 2-D layout of clips or class means.

    Attributes
    ----------
    coords
        ``(n, 2)`` float32; row ``i`` is the position of ``ids[i]``.
    ids
        ``(n,)`` int64 clip ids (``of == "clips"``) or class ids (``of == "classes"``).
    quality
        ``trustworthiness`` and ``knn_preservation`` with the sample they were measured on
        (see :func:`map_quality`), plus method-specific figures (explained variance for PCA).
    subsampled
        ``None`` when every embedded row is on the map (every map computed since map version 2);
        a version-1 map cached before that may hold ``{"from", "to", "seed", "reason"}``: only
        ``to`` of ``from`` rows are on it.
    placement
        How the rows got their positions: ``{"total", "fitted", "placed", "placed_by", "seed"}``
        (:class:`~desktop_app.analysis.layouts.Placement`); ``None`` for version-1 maps, semantic
        axes and imported layouts (nothing fitted).
    from_cache
        True when :func:`load_or_compute_map` read the map from the workspace.
    """

    coords: np.ndarray
    ids: np.ndarray
    of: str
    method: str
    params: dict[str, Any]
    quality: dict[str, Any]
    run_id: str
    subsampled: dict[str, Any] | None = None
    placement: dict[str, Any] | None = None
    key: str = ""
    elapsed: float = 0.0
    created: str = ""
    from_cache: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.coords.shape[0])


@dataclass(frozen=True)
class MapInfo:
    """What a cached map's JSON says, without loading its coordinates."""

    key: str
    method: str
    of: str
    run_id: str
    params: dict[str, Any]
    num_points: int
    quality: dict[str, Any]
    created: str
    elapsed: float
    subsampled: dict[str, Any] | None
    stale: bool
    placement: dict[str, Any] | None = None


# ------------------------------------------------------------------------------ parameters
def normalize_params(method: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """The method's defaults updated with ``params``; unknown names are an error."""
    if method not in METHODS:
        raise ActionLensError(f"unknown map method {method!r}; choose one of {', '.join(METHODS)}")
    defaults = DEFAULT_PARAMS[method]
    given = dict(params or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ActionLensError(
            f"map method {method!r} has no parameter {', '.join(unknown)}; it takes {', '.join(defaults) or 'none'}"
        )
    merged = {**defaults, **given}
    if method == "axes":
        merged["axes"] = list(parse_axes(merged["axes"]))
    return merged


def parse_axes(axes: str | Sequence[str] | None) -> tuple[str, str, str, str]:
    """``"slow,fast,down,up"`` (or a 4-sequence) → ``("slow", "fast", "down", "up")``."""
    if axes is None:
        raise ActionLensError('the axes map needs four words or phrases, e.g. --axes "slow,fast,down,up"')
    parts = [p.strip() for p in axes.split(",")] if isinstance(axes, str) else [str(p).strip() for p in axes]
    if len(parts) != 4 or not all(parts):
        raise ActionLensError(
            f"axes {axes!r}: give four comma-separated words or phrases, x from A to B and y from C to D, "
            'e.g. "slow,fast,down,up"'
        )
    return parts[0], parts[1], parts[2], parts[3]


def map_key(run_id: str, method: str, of: str, params: dict[str, Any]) -> str:
    """The cache key ``<run>.<of>.<method>.<10 hex of sha1(params)>`` (params already normalised)."""
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode("utf-8")).hexdigest()[:10]
    safe_run = re.sub(r"[^A-Za-z0-9_-]", "_", run_id)
    return f"{safe_run}.{of}.{method}.{digest}"


# ---------------------------------------------------------------------------- fingerprints
def embeddings_fingerprint(path: Path) -> str:
    """A content fingerprint of an embeddings file that is cheap for large files.

    Hashes the size, the first and last MiB, and 64 blocks of 4 KiB spread over the file:
    a re-embedding changes every row, so any block catches it, and a copied workspace (new
    mtimes) keeps its maps.
    """
    size = path.stat().st_size
    h = hashlib.sha1(str(size).encode())
    with open(path, "rb") as fh:
        h.update(fh.read(1 << 20))
        for i in range(64):
            fh.seek(size * i // 64)
            h.update(fh.read(4096))
        fh.seek(max(0, size - (1 << 20)))
        h.update(fh.read(1 << 20))
    return h.hexdigest()


def _source_file(ws: Workspace, run_id: str, of: str) -> Path:
    name = "clips.npy" if of == "clips" else "class_means.npy"
    return ws.embeddings_dir / run_id / name


# ------------------------------------------------------------------------------ the inputs
def _unit_rows(matrix: np.ndarray, owned: bool = False) -> np.ndarray:
    """Rows scaled to unit length, as float32; ``owned``: ``matrix`` is a fresh float32 array
    that may be scaled in place (no second copy of a million rows)."""
    out = matrix if owned and matrix.dtype == np.float32 else np.array(matrix, dtype=np.float32)
    for start in range(0, len(out), BLOCK_ROWS):
        block = out[start : start + BLOCK_ROWS]
        block /= np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
    return out


class UnitRows:
    """Rows ``ids`` of an embedding matrix scaled to unit length, read only where indexed.

    What :func:`map_inputs` returns, without its copy: PCA reads its fit sample and then every
    row in blocks, the quality figure its samples, so the 1 M × D float32 copy (200 MB at
    D = 50, a second of page faults) is never made. Indexing with an integer array or a slice
    returns a fresh float32 block (each row divided by its norm, as :func:`_unit_rows` does).
    """

    def __init__(self, matrix: np.ndarray, ids: np.ndarray) -> None:
        self.matrix = matrix
        self.ids = np.asarray(ids, dtype=np.int64)
        self.shape = (len(self.ids), int(matrix.shape[1]))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, rows: Any) -> np.ndarray:
        return _unit_rows(np.asarray(self.matrix[self.ids[rows]]), owned=True)


def map_inputs(space: EmbeddingSpace, of: str) -> tuple[np.ndarray, np.ndarray]:
    """The ids and unit-normalised vectors that a map of ``of`` places (only embedded clips)."""
    if of not in OF_CHOICES:
        raise ActionLensError(f"a map is of 'clips' or 'classes', not {of!r}")
    if of == "clips":
        ids = np.asarray(space.embedded_clip_ids, dtype=np.int64)
        vectors = np.asarray(space.clip_embeddings[ids])  # fancy indexing: a fresh copy
    else:
        ids = np.asarray(space.class_ids, dtype=np.int64)
        vectors = np.array(space.class_means)
    if len(ids) == 0:
        raise ActionLensError(f"run {space.run_id!r} has no embedded {of} to place on a map")
    return ids, _unit_rows(vectors, owned=True)


def semantic_axes_layout(
    vectors: np.ndarray, word_vectors: WordVectors, axes: Sequence[str]
) -> tuple[np.ndarray, dict[str, Any]]:
    """Place unit vectors on two word-defined directions (the Embedding Projector's custom
    projection, with word vectors where it uses search-result centroids; Smilkov et al. 2016).

    With ``â = a/‖a‖`` the unit phrase vector of each axis end (a phrase is the mean of its word
    vectors, seed 000 section III.C) and ``u_i = e_i/‖e_i‖`` a unit embedding::

        d_x = b̂ − â,   x_i = u_i · d_x / ‖d_x‖
        d_y = d̂ − ĉ,   y_i = u_i · d_y / ‖d_y‖

    so ``x`` grows from A towards B and ``y`` from C towards D. The directions are not forced to
    be orthogonal (neither are the Projector's); their cosine is returned so a reader can tell.

    Raises
    ------
    UnknownWordError
        A word of an axis is not in the word vectors (with suggestions).
    """
    a, b, c, d = (_unit_rows(word_vectors.phrase_vector(w)[None, :])[0] for w in axes)
    directions = []
    for start, end, names in ((a, b, axes[0:2]), (c, d, axes[2:4])):
        diff = end - start
        norm = float(np.linalg.norm(diff))
        if norm < 1e-6:
            raise ActionLensError(
                f"axis {names[0]!r} → {names[1]!r} has no direction: the two vectors are the same"
            )
        directions.append(diff / norm)
    basis = np.stack(directions, axis=1).astype(np.float32)  # (D, 2)
    if basis.shape[0] != vectors.shape[1]:
        raise ActionLensError(
            f"the word vectors have dimension {basis.shape[0]} but the embeddings {vectors.shape[1]}; "
            "use the word vectors the run was trained with"
        )
    coords = np.asarray(vectors, dtype=np.float32) @ basis
    cosine = float(directions[0] @ directions[1])
    return coords.astype(np.float32), {"axes_cosine": round(cosine, 4)}


# ------------------------------------------------------------------------------ public API
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def compute_map(
    space: EmbeddingSpace,
    method: str,
    of: str = "clips",
    params: dict[str, Any] | None = None,
    progress: Progress | None = None,
    on_partial: OnPartial | None = None,
    word_vectors: WordVectors | None = None,
    measure: bool = True,
) -> Map2D:
    """Compute a 2-D map of a run's clips or class means (not cached; see :func:`load_or_compute_map`).

    Parameters
    ----------
    space
        The run's embeddings.
    method
        ``"pca"``, ``"umap"``, ``"tsne"`` or ``"axes"`` (``params={"axes": "slow,fast,down,up"}``).
    of
        ``"clips"`` (embedded clips only; the map's ``ids`` are their clip ids) or ``"classes"``.
    params
        Overrides of :data:`DEFAULT_PARAMS`; PCA, UMAP and t-SNE above ``max_points`` are fitted
        on a random sample and place every other point by their transform (``Map2D.placement``
        says how many of each).
    progress
        Progress and cancellation handle; a cancel raises :class:`~desktop_app.errors.TaskCancelled`.
    on_partial
        t-SNE only: called with each partial layout of the fitted rows (every row when the map
        is not fitted on a sample; see :func:`~desktop_app.analysis.layouts.tsne_fit_place`).
    word_vectors
        For ``"axes"``: the vectors the words are looked up in (default: the run's).
    measure
        Measure the map's quality figure (:func:`map_quality`); ``False`` leaves it to
        :func:`measure_map` (the map is shown first, the figure follows).
    """
    progress = progress or NullProgress()
    if method == "imported":
        raise ActionLensError("imported maps are not computed; use import_layout(ws, run_id, path)")
    params = normalize_params(method, params)
    started = time.perf_counter()
    if method == "pca" and of == "clips":
        # Blocks read from the memory map as PCA walks them: no copy of every embedding.
        ids = np.asarray(space.embedded_clip_ids, dtype=np.int64)
        if len(ids) == 0:
            raise ActionLensError(f"run {space.run_id!r} has no embedded {of} to place on a map")
        vectors: Any = UnitRows(space.clip_embeddings, ids)
    else:
        ids, vectors = map_inputs(space, of)
    extra: dict[str, Any] = {}
    placement: Placement | None = None
    layout_progress = SubProgress(progress, 0.0, 0.9, method.upper())
    if method == "pca":
        coords, ratios, placement = pca_fit_place(vectors, params["max_points"], int(params["seed"]))
        extra["explained_variance_ratio"] = [round(float(r), 4) for r in ratios]
    elif method == "umap":
        coords, placement = umap_fit_place(vectors, params, layout_progress)
    elif method == "tsne":
        coords, placement = tsne_fit_place(vectors, params, layout_progress, on_partial)
    else:
        space.require_word_space("semantic axes")
        coords, axes_info = semantic_axes_layout(vectors, word_vectors or space.word_vectors, params["axes"])
        extra.update(axes_info)
    progress.check_cancelled()
    quality = dict(extra)
    if measure:
        progress.set_progress(0.9, "measuring the map's quality")
        quality = {**map_quality(vectors, coords), **extra}
    progress.set_progress(1.0, "done")
    params_out = dict(params)
    if method == "umap" and params_out["n_epochs"] is None:
        quality["n_epochs"] = umap_epochs(placement.fitted if placement else len(ids))
    return Map2D(
        coords=np.ascontiguousarray(coords, dtype=np.float32),
        ids=ids.astype(np.int64),
        of=of,
        method=method,
        params=params_out,
        quality=quality,
        run_id=space.run_id,
        placement=placement.as_dict() if placement else None,
        key=map_key(space.run_id, method, of, params),
        elapsed=round(time.perf_counter() - started, 3),
        created=_now(),
    )


def measure_map(space: EmbeddingSpace, result: Map2D, progress: Progress | None = None) -> Map2D:
    """Add the quality figure (:func:`map_quality`) to a map computed with ``measure=False``,
    in place (the figure first, then the map's own figures, as :func:`compute_map` orders them);
    returns ``result``. Reads only the sampled rows of the embeddings."""
    progress = progress or NullProgress()
    started = time.perf_counter()
    progress.set_progress(0.9, "measuring the map's quality")
    if result.of == "clips":
        vectors: Any = UnitRows(space.clip_embeddings, result.ids)
    else:
        vectors = map_inputs(space, "classes")[1]  # a class-means map's rows, in their order
    result.quality = {**map_quality(vectors, result.coords), **result.quality}
    result.elapsed = round(result.elapsed + time.perf_counter() - started, 3)
    progress.set_progress(1.0, "done")
    return result


def semantic_axes_map(
    space: EmbeddingSpace,
    axes: str | tuple[str, str, str, str],
    of: str = "clips",
    word_vectors: WordVectors | None = None,
) -> Map2D:
    """A map whose x axis runs from word/phrase A to B and y axis from C to D.

    ``axes`` is ``("slow", "fast", "down", "up")`` or ``"slow,fast,down,up"``; see
    :func:`semantic_axes_layout` for the formula. Instant (a matrix product), so not cached by
    itself; :func:`load_or_compute_map` with ``method="axes"`` caches it.
    """
    return compute_map(space, "axes", of, {"axes": list(parse_axes(axes))}, word_vectors=word_vectors)


def save_map(ws: Workspace, result: Map2D) -> None:
    """Write ``<key>.npy`` (coordinates), ``<key>.ids.npy`` (the rows' ids) then ``<key>.json``,
    each atomically (the JSON last: it marks the map complete)."""
    source = _source_file(ws, result.run_id, result.of)
    fingerprint = embeddings_fingerprint(source) if source.is_file() else None
    write_npy(ws.maps_dir / f"{result.key}.npy", result.coords.astype(np.float32))
    write_npy(ws.maps_dir / f"{result.key}.ids.npy", np.asarray(result.ids, dtype=np.int64))
    write_json(
        ws.maps_dir / f"{result.key}.json",
        {
            "format": MAP_FORMAT,
            "version": MAP_VERSION,
            "key": result.key,
            "method": result.method,
            "of": result.of,
            "run_id": result.run_id,
            "params": result.params,
            "quality": result.quality,
            "created": result.created,
            "elapsed": result.elapsed,
            "subsampled": result.subsampled,
            "placement": result.placement,
            "num_points": len(result),
            "embeddings_fingerprint": fingerprint,
            "extra": result.extra,
            "ids_file": f"{result.key}.ids.npy",
        },
    )


def _read_map_json(path: Path) -> dict[str, Any]:
    meta = read_json(path, "delete it or compute the map again with --force")
    if not isinstance(meta, dict) or meta.get("format") != MAP_FORMAT:
        raise ActionLensError(f"{path} is not an ActionLens map file; delete it")
    if int(meta.get("version", 0)) > MAP_VERSION:
        raise ActionLensError(
            f"{path} has map version {meta.get('version')}, newer than this ActionLens; upgrade it"
        )
    return meta


def _map_ids(ws: Workspace, key: str, meta: dict[str, Any]) -> np.ndarray:
    """The ids of a map's rows: ``<key>.ids.npy`` (version 2) or the JSON's list (version 1)."""
    if "ids_file" not in meta:
        return np.asarray(meta["ids"], dtype=np.int64)
    path = ws.maps_dir / str(meta["ids_file"])
    try:
        return np.asarray(np.load(path, allow_pickle=False), dtype=np.int64)
    except (OSError, ValueError) as exc:
        raise ActionLensError(
            f"{path} is missing or damaged ({exc}); compute the map again with --force"
        ) from exc


def load_map(ws: Workspace, key: str) -> Map2D:
    """Read a cached map by its key (no staleness check; see :func:`cached_maps`)."""
    meta = _read_map_json(ws.maps_dir / f"{key}.json")
    npy = ws.maps_dir / f"{key}.npy"
    try:
        coords = np.load(npy, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ActionLensError(f"{npy} is damaged ({exc}); compute the map again with --force") from exc
    ids = _map_ids(ws, key, meta)
    if coords.shape != (len(ids), 2):
        raise ActionLensError(
            f"{npy} has shape {coords.shape} but the map lists {len(ids)} ids; compute it again with --force"
        )
    return Map2D(
        coords=coords.astype(np.float32, copy=False),
        ids=ids,
        of=meta["of"],
        method=meta["method"],
        params=meta["params"],
        quality=meta.get("quality") or {},
        run_id=meta["run_id"],
        subsampled=meta.get("subsampled"),
        placement=meta.get("placement"),
        key=key,
        elapsed=float(meta.get("elapsed") or 0.0),
        created=meta.get("created", ""),
        from_cache=True,
        extra=meta.get("extra") or {},
    )


def _is_stale(ws: Workspace, meta: dict[str, Any], fingerprints: dict[tuple[str, str], str | None]) -> bool:
    if meta["method"] == "imported":
        return False  # a user's layout does not depend on the embeddings
    slot = (meta["run_id"], meta["of"])
    if slot not in fingerprints:
        source = _source_file(ws, *slot)
        fingerprints[slot] = embeddings_fingerprint(source) if source.is_file() else None
    return fingerprints[slot] is None or fingerprints[slot] != meta.get("embeddings_fingerprint")


def cached_maps(ws: Workspace) -> list[MapInfo]:
    """Every map cached in the workspace, newest first, with whether it is stale.

    A map is stale when its run's embeddings changed since it was computed (imported layouts
    never are). Unreadable files are skipped.
    """
    fingerprints: dict[tuple[str, str], str | None] = {}
    infos = []
    for path in ws.maps_dir.glob("*.json"):
        if path.stem.endswith(".ids"):
            continue
        try:
            meta = _read_map_json(path)
        except ActionLensError:
            continue
        if not (ws.maps_dir / f"{path.stem}.npy").is_file():
            continue
        infos.append(
            MapInfo(
                key=path.stem,
                method=meta["method"],
                of=meta["of"],
                run_id=meta["run_id"],
                params=meta["params"],
                num_points=int(meta.get("num_points", len(meta.get("ids", [])))),
                quality=meta.get("quality") or {},
                created=meta.get("created", ""),
                elapsed=float(meta.get("elapsed") or 0.0),
                subsampled=meta.get("subsampled"),
                stale=_is_stale(ws, meta, fingerprints),
                placement=meta.get("placement"),
            )
        )
    return sorted(infos, key=lambda i: i.created, reverse=True)


def load_or_compute_map(
    ws: Workspace,
    run_id: str | None = None,
    method: str = "pca",
    of: str = "clips",
    params: dict[str, Any] | None = None,
    progress: Progress | None = None,
    on_partial: OnPartial | None = None,
    force: bool = False,
    space: EmbeddingSpace | None = None,
    on_unmeasured: Callable[[Map2D], None] | None = None,
) -> Map2D:
    """The cached map for (run, method, of, params) if it is current, else compute and cache it.

    Reading a cached map costs a JSON read, a small ``.npy`` read and a fingerprint of the
    embeddings file (a few MiB read). ``force`` recomputes. ``run_id`` defaults to the
    workspace's default run; ``space`` is its embedding space where the caller holds it
    (loaded here otherwise). ``on_unmeasured``, where a map is computed, is called with it
    before its quality figure is measured (a view draws it meanwhile); the map is cached once
    measured, and returned (the same object, its ``quality`` filled in).
    """
    from desktop_app.analysis.space import EmbeddingSpace, default_run

    run_id = run_id or default_run(ws)
    normalized = normalize_params(method, params)
    key = map_key(run_id, method, of, normalized)
    json_path = ws.maps_dir / f"{key}.json"
    if not force and json_path.is_file() and (ws.maps_dir / f"{key}.npy").is_file():
        try:
            meta = _read_map_json(json_path)
            if not _is_stale(ws, meta, {}):
                return load_map(ws, key)
        except ActionLensError:
            pass  # a damaged cache entry is recomputed below
    if method == "imported":
        raise ActionLensError(f"no imported map {key} in {ws.maps_dir}; import the layout again")
    if space is None or space.run_id != run_id:
        space = EmbeddingSpace.load(ws, run_id)
    result = compute_map(space, method, of, normalized, progress, on_partial, measure=on_unmeasured is None)
    if on_unmeasured is not None:
        on_unmeasured(result)
        measure_map(space, result, progress)
    save_map(ws, result)
    return result


def first_map(
    ws: Workspace,
    run_id: str | None = None,
    of: str = "clips",
    space: EmbeddingSpace | None = None,
    on_unmeasured: Callable[[Map2D], None] | None = None,
) -> Map2D:
    """The map to show the moment a workspace opens: the newest current cached map of the run
    that has every embedded clip on it, else a PCA map (computed and cached: about a second for
    100 000 clips, a few for a million).

    A map cached before map version 2 with only a subsample on it (``subsampled``) is passed
    over: it would leave clips off the first map. A view shows the result at once and may then
    start UMAP or t-SNE in the background. ``space`` and ``on_unmeasured``: as for
    :func:`load_or_compute_map` (a computed PCA map is handed over before its quality figure).
    """
    from desktop_app.analysis.space import default_run

    run_id = run_id or default_run(ws)
    for info in cached_maps(ws):
        if info.run_id == run_id and info.of == of and not info.stale and not info.subsampled:
            try:
                return load_map(ws, info.key)
            except ActionLensError:
                continue
    return load_or_compute_map(ws, run_id, "pca", of, space=space, on_unmeasured=on_unmeasured)


# ------------------------------------------------------------------------------ import
def import_layout(ws: Workspace, run_id: str | None, path: str | os.PathLike[str]) -> Map2D:
    """Import a 2-D layout a user already has and cache it as a map (method ``"imported"``).

    Accepted files:

    * ``.npy``: ``(num_clips, 2)`` numbers, row = clip id (every clip of the workspace);
      NaN rows are allowed only for clips without an embedding and are left off the map;
    * ``.csv`` with a header naming ``x`` and ``y`` and either ``clip_id`` (or ``id``) or
      ``clip`` / ``name`` (the catalog's clip names).

    Raises
    ------
    ActionLensError
        Naming the file and what is wrong: shape, unknown clip names or ids, NaN, missing columns.
    """
    from desktop_app.analysis.space import default_run

    path = Path(path)
    run_id = run_id or default_run(ws)
    if not path.is_file():
        raise ActionLensError(f"{path} does not exist; give a .csv or .npy layout file")
    started = time.perf_counter()
    clips = ws.catalog.clips()
    num_clips = len(clips)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        ids, coords = _read_layout_npy(path, num_clips, ws, run_id)
    elif suffix == ".csv":
        ids, coords = _read_layout_csv(path, {c.name: c.id for c in clips}, num_clips)
    else:
        raise ActionLensError(f"{path}: a layout must be a .csv (clip,x,y) or a .npy (N×2) file")
    sha1 = hashlib.sha1(path.read_bytes()).hexdigest()
    params = normalize_params("imported", {"source": str(path.absolute()), "sha1": sha1})
    quality: dict[str, Any] = {}
    embeddings = ws.embeddings_dir / run_id / "clips.npy"
    if embeddings.is_file():
        high = np.load(embeddings, mmap_mode="r", allow_pickle=False)
        embedded = ~np.isnan(np.asarray(high[ids, 0]))
        if embedded.sum() >= 4:  # measured on the clips that have an embedding
            quality = map_quality(_unit_rows(np.asarray(high[ids[embedded]])), coords[embedded])
    result = Map2D(
        coords=coords,
        ids=ids,
        of="clips",
        method="imported",
        params=params,
        quality=quality,
        run_id=run_id,
        key=map_key(run_id, "imported", "clips", params),
        elapsed=round(time.perf_counter() - started, 3),
        created=_now(),
    )
    save_map(ws, result)
    return result


def _read_layout_npy(path: Path, num_clips: int, ws: Workspace, run_id: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ActionLensError(f"{path} is not a readable .npy array ({exc})") from exc
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] != num_clips:
        raise ActionLensError(
            f"{path} has shape {array.shape}; a layout .npy must be ({num_clips}, 2): one row per clip id"
        )
    if not np.issubdtype(array.dtype, np.number):
        raise ActionLensError(f"{path} holds {array.dtype} values; a layout must hold numbers")
    coords = array.astype(np.float32)
    nan_rows = np.isnan(coords).any(axis=1)
    if nan_rows.any():
        embeddings = ws.embeddings_dir / run_id / "clips.npy"
        missing = (
            np.isnan(np.asarray(np.load(embeddings, mmap_mode="r", allow_pickle=False)[:, 0]))
            if embeddings.is_file()
            else np.zeros(num_clips, dtype=bool)
        )
        bad = np.flatnonzero(nan_rows & ~missing)
        if len(bad):
            raise ActionLensError(
                f"{path} has NaN coordinates for {len(bad)} embedded clips (first clip ids {bad[:5].tolist()}); "
                "give every embedded clip a position"
            )
    ids = np.flatnonzero(~nan_rows).astype(np.int64)
    return ids, np.ascontiguousarray(coords[ids])


def _read_layout_csv(
    path: Path, ids_by_name: dict[str, int], num_clips: int
) -> tuple[np.ndarray, np.ndarray]:
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ActionLensError(f"{path} is not a readable CSV file ({exc})") from exc
    if not rows:
        raise ActionLensError(
            f"{path} has no rows; a layout CSV has a header (clip,x,y) and one row per clip"
        )
    columns = {c.strip().lower(): c for c in rows[0] if c is not None}
    if "x" not in columns or "y" not in columns:
        raise ActionLensError(f"{path} lacks an 'x' and a 'y' column (it has {', '.join(columns)})")
    id_column = next((columns[c] for c in ("clip_id", "id") if c in columns), None)
    name_column = next((columns[c] for c in ("clip", "name", "clip_name") if c in columns), None)
    if id_column is None and name_column is None:
        raise ActionLensError(f"{path} needs a 'clip' (clip name) or 'clip_id' column beside x and y")
    ids, coords, unknown = [], [], []
    for line, row in enumerate(rows, start=2):
        if id_column is not None:
            raw = (row.get(id_column) or "").strip()
            try:
                clip_id = int(raw)
            except ValueError:
                raise ActionLensError(f"{path} line {line}: clip id {raw!r} is not an integer") from None
            if not 0 <= clip_id < num_clips:
                unknown.append(raw)
                continue
        else:
            name = (row.get(name_column or "") or "").strip()
            if name not in ids_by_name:
                unknown.append(name)
                continue
            clip_id = ids_by_name[name]
        try:
            x, y = float(row[columns["x"]]), float(row[columns["y"]])
        except (TypeError, ValueError):
            raise ActionLensError(f"{path} line {line}: x and y must be numbers") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ActionLensError(
                f"{path} line {line}: coordinates must be finite numbers, not NaN or infinity"
            )
        ids.append(clip_id)
        coords.append((x, y))
    if unknown:
        raise ActionLensError(
            f"{path} names {len(unknown)} clips the workspace does not have "
            f"({', '.join(repr(u) for u in unknown[:5])}); use the names or ids of `actionlens info`"
        )
    id_array = np.asarray(ids, dtype=np.int64)
    if len(np.unique(id_array)) != len(id_array):
        raise ActionLensError(f"{path} gives some clips more than one position; keep one row per clip")
    order = np.argsort(id_array)
    return id_array[order], np.asarray(coords, dtype=np.float32)[order]
