"""Maps: each method on a tiny workspace, the cache and its invalidation, t-SNE partial layouts,
cancellation, semantic axes with known projections, and imported layouts good and bad."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from desktop_app.analysis.maps import (
    cached_maps,
    compute_map,
    first_map,
    import_layout,
    load_or_compute_map,
    semantic_axes_map,
)
from desktop_app.analysis.space import EmbeddingSpace
from desktop_app.atomic import write_json, write_npy
from desktop_app.cli import main
from desktop_app.data.records import ClassRecord, ClipRecord, ImportResult
from desktop_app.errors import ActionLensError, TaskCancelled, UnknownWordError
from desktop_app.evaluation.embed import class_means
from desktop_app.progress import ProgressBase
from desktop_app.words.vectors import WordVectors
from desktop_app.workspace import Workspace

RUN = "run-a"
DIM = 8
CLASSES = ("bounce ball", "roll box", "spin top", "throw disc")
PER_CLASS = 25
MISSING_CLIP = 7  # a clip without an embedding (NaN row)


class RecordingProgress(ProgressBase):
    """Records every report; cancels itself after ``cancel_after`` reports when set."""

    def __init__(self, cancel_after: int | None = None) -> None:
        super().__init__()
        self.reports: list[float] = []
        self.cancel_after = cancel_after

    def set_progress(self, fraction: float, message: str = "") -> None:
        super().set_progress(fraction, message)
        self.reports.append(fraction)
        if self.cancel_after is not None and len(self.reports) >= self.cancel_after:
            self.cancel()


def _clustered_embeddings(seed: int, n_classes: int = len(CLASSES)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, DIM)) * 3.0
    labels = np.repeat(np.arange(n_classes), PER_CLASS)
    return (centres[labels] + rng.normal(size=(len(labels), DIM))).astype(np.float32), labels


def _write_embeddings(ws: Workspace, embeddings: np.ndarray, labels: np.ndarray) -> None:
    embeddings = embeddings.copy()
    embeddings[MISSING_CLIP] = np.nan
    directory = ws.embeddings_dir / RUN
    ids, means, counts = class_means(embeddings, labels.astype(np.int64) + 1)  # catalog class ids start at 1
    write_npy(directory / "clips.npy", embeddings)
    write_npy(directory / "class_means.npy", means)
    write_json(
        directory / "class_means.json",
        {
            "format": "actionlens-class-means",
            "version": 1,
            "run_id": RUN,
            "class_ids": ids.tolist(),
            "clip_counts": counts.tolist(),
            "dim": DIM,
        },
    )


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace.create(tmp_path / "ws", dataset="tiny")
    classes = [
        ClassRecord(p.title().replace(" ", ""), p, p.split()[0], p.split()[1], i + 1)
        for i, p in enumerate(CLASSES)
    ]
    clips = [
        ClipRecord(f"{c.name}_{k:02d}", f"{c.name}/{k}.mp4", c.name, {"1": "train" if k % 2 else "test"})
        for c in classes
        for k in range(PER_CLASS)
    ]
    workspace.add_import(ImportResult("tiny", str(tmp_path / "data"), clips=clips, classes=classes))
    workspace.catalog.add_run(RUN, "ste", "2024-01-01T00:00:00", "done", {})
    assert [c.id for c in workspace.catalog.clips()] == list(range(len(clips)))  # row = clip id
    embeddings, labels = _clustered_embeddings(0)
    _write_embeddings(workspace, embeddings, labels)
    yield workspace
    workspace.close()


def test_pca_map_places_embedded_clips_by_their_principal_components(ws: Workspace) -> None:
    space = EmbeddingSpace.load(ws, RUN)
    result = compute_map(space, "pca")
    assert result.ids.dtype == np.int64 and MISSING_CLIP not in result.ids
    assert result.coords.shape == (len(CLASSES) * PER_CLASS - 1, 2) and result.coords.dtype == np.float32
    unit = np.asarray(space.clip_embeddings[result.ids])
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    centred = unit - unit.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ vt[:2].T
    for axis in range(2):  # equal up to sign
        assert abs(np.corrcoef(result.coords[:, axis], expected[:, axis])[0, 1]) > 0.999
    assert result.quality["trustworthiness"] > 0.8 and 0 < result.quality["knn_preservation"] <= 1
    assert result.quality["sampled"] is False and result.subsampled is None

    classes = compute_map(space, "pca", of="classes")
    assert sorted(classes.ids.tolist()) == [1, 2, 3, 4] and classes.coords.shape == (4, 2)


def test_cache_hit_then_invalidation_when_embeddings_change(ws: Workspace) -> None:
    first_progress = RecordingProgress()
    first = load_or_compute_map(ws, RUN, "pca", progress=first_progress)
    assert not first.from_cache and first_progress.reports
    meta = json.loads((ws.maps_dir / f"{first.key}.json").read_text())
    ids_on_disk = np.load(ws.maps_dir / meta["ids_file"])
    assert ids_on_disk.tolist() == first.ids.tolist() and meta["run_id"] == RUN and meta["method"] == "pca"
    assert np.load(ws.maps_dir / f"{first.key}.npy").shape == (len(first.ids), 2)

    again_progress = RecordingProgress()
    again = load_or_compute_map(ws, RUN, "pca", progress=again_progress)
    assert again.from_cache and not again_progress.reports
    np.testing.assert_array_equal(again.coords, first.coords)
    assert [(i.key, i.stale) for i in cached_maps(ws)] == [(first.key, False)]
    assert first_map(ws, RUN).from_cache

    embeddings, labels = _clustered_embeddings(1)  # a re-embedding: new values, same shape
    _write_embeddings(ws, embeddings, labels)
    assert [i.stale for i in cached_maps(ws)] == [True]
    recomputed = load_or_compute_map(ws, RUN, "pca")
    assert not recomputed.from_cache and recomputed.key == first.key
    assert not np.allclose(recomputed.coords, first.coords)
    assert [i.stale for i in cached_maps(ws)] == [False]


def test_different_params_get_different_cache_entries(ws: Workspace) -> None:
    tiny = {"n_iter": 20, "early_exaggeration_iter": 20, "partial_every": 10}
    a = load_or_compute_map(ws, RUN, "tsne", params={**tiny, "perplexity": 5.0})
    b = load_or_compute_map(ws, RUN, "tsne", params={**tiny, "perplexity": 10.0})
    assert a.key != b.key and len(cached_maps(ws)) == 2
    with pytest.raises(ActionLensError, match="no parameter"):
        load_or_compute_map(ws, RUN, "tsne", params={"perplexty": 5})


def test_tsne_streams_partial_layouts_and_can_be_cancelled(ws: Workspace) -> None:
    space = EmbeddingSpace.load(ws, RUN)
    partials: list[np.ndarray] = []
    params = {"n_iter": 40, "early_exaggeration_iter": 20, "partial_every": 10, "perplexity": 10.0}
    result = compute_map(space, "tsne", params=params, on_partial=partials.append)
    assert len(partials) == 6
    assert all(p.shape == result.coords.shape and p.dtype == np.float32 for p in partials)
    assert result.quality["trustworthiness"] > 0.8  # four well separated clusters

    progress = RecordingProgress(cancel_after=3)
    with pytest.raises(TaskCancelled):
        compute_map(space, "tsne", params=params, progress=progress)


def test_a_sample_fitted_tsne_places_every_clip_and_says_so(ws: Workspace) -> None:
    space = EmbeddingSpace.load(ws, RUN)
    params = {
        "n_iter": 20,
        "early_exaggeration_iter": 20,
        "max_points": 40,
        "perplexity": 5.0,
        "partial_every": 10,
    }
    partials: list[np.ndarray] = []
    result = compute_map(space, "tsne", params=params, on_partial=partials.append)
    n = len(space.embedded_clip_ids)
    assert len(result) == n and result.subsampled is None and np.isfinite(result.coords).all()
    assert result.placement == {
        "total": n,
        "fitted": 40,
        "placed": n - 40,
        "placed_by": "tsne transform",
        "seed": 0,
    }
    assert partials and all(p.shape == (40, 2) for p in partials)  # frames of the fitted rows


def test_umap_map_and_its_cancellation(ws: Workspace) -> None:
    space = EmbeddingSpace.load(ws, RUN)
    progress = RecordingProgress()
    result = compute_map(space, "umap", params={"n_epochs": 30}, progress=progress)
    assert result.coords.shape == (len(space.embedded_clip_ids), 2) and np.isfinite(result.coords).all()
    assert result.quality["trustworthiness"] > 0.8
    assert any(0.35 < f < 0.9 for f in progress.reports)  # per-epoch reports arrived
    with pytest.raises(TaskCancelled):
        compute_map(space, "umap", params={"n_epochs": 30}, progress=RecordingProgress(cancel_after=5))


def test_semantic_axes_project_on_word_directions(ws: Workspace) -> None:
    space = EmbeddingSpace.load(ws, RUN)
    basis = np.eye(DIM, dtype=np.float32)
    words = WordVectors.from_arrays(
        ["slow", "fast", "down", "up", "quick"],
        np.stack([2 * basis[0], basis[1], basis[2], 5 * basis[3], basis[4]]),
    )
    result = semantic_axes_map(space, "slow,fast,down,up", word_vectors=words)
    unit = np.asarray(space.clip_embeddings[result.ids])
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    # word vectors are unit-normalised first, so the scales 2 and 5 do not matter
    np.testing.assert_allclose(result.coords[:, 0], (unit[:, 1] - unit[:, 0]) / np.sqrt(2), atol=1e-5)
    np.testing.assert_allclose(result.coords[:, 1], (unit[:, 3] - unit[:, 2]) / np.sqrt(2), atol=1e-5)
    assert result.quality["axes_cosine"] == 0.0

    phrase = semantic_axes_map(space, ("slow", "fast quick", "down", "up"), of="classes", word_vectors=words)
    assert phrase.coords.shape == (len(CLASSES), 2)
    with pytest.raises(UnknownWordError, match=r"'fsat'.*'fast'"):
        semantic_axes_map(space, "slow,fsat,down,up", word_vectors=words)
    with pytest.raises(ActionLensError, match="four"):
        semantic_axes_map(space, "slow,fast,down", word_vectors=words)


def test_import_csv_and_npy_layouts(ws: Workspace, tmp_path: Path) -> None:
    clips = ws.catalog.clips()
    csv_file = tmp_path / "layout.csv"
    csv_file.write_text(
        "clip,x,y\n" + "".join(f"{c.name},{c.id * 0.5},{-c.id}\n" for c in reversed(clips[:10]))
    )
    imported = import_layout(ws, RUN, csv_file)
    assert imported.method == "imported" and imported.ids.tolist() == list(range(10))
    np.testing.assert_allclose(imported.coords[:, 0], np.arange(10) * 0.5)
    cached = load_or_compute_map(ws, RUN, "imported", params=imported.params)
    assert cached.from_cache and cached.key == imported.key

    npy_file = tmp_path / "layout.npy"
    layout = np.random.default_rng(0).normal(size=(len(clips), 2))
    layout[MISSING_CLIP] = np.nan  # allowed: that clip has no embedding
    np.save(npy_file, layout)
    from_npy = import_layout(ws, RUN, npy_file)
    assert MISSING_CLIP not in from_npy.ids and len(from_npy) == len(clips) - 1
    assert "trustworthiness" in from_npy.quality


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", "clip,x,y\nNoSuchClip,1,2\n", "does not have.*NoSuchClip"),
        ("bad.csv", "clip,x\nBounceBall_00,1\n", "lacks an 'x' and a 'y'"),
        ("bad.csv", "clip,x,y\nBounceBall_00,nan,2\n", "line 2.*finite"),
        ("bad.csv", "clip_id,x,y\n9999,1,2\n", "does not have"),
        ("bad.npy", np.zeros((3, 2)), r"shape \(3, 2\)"),
        ("bad.npy", np.full((len(CLASSES) * PER_CLASS, 2), np.nan), "NaN coordinates"),
        ("bad.txt", "1 2", "must be a .csv"),
    ],
)
def test_import_rejects_bad_layouts_naming_the_file(
    ws: Workspace, tmp_path: Path, name: str, content: object, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(path, content)
    else:
        path.write_text(str(content))
    with pytest.raises(ActionLensError, match=message) as info:
        import_layout(ws, RUN, path)
    assert str(path) in str(info.value)
    assert not list(ws.maps_dir.glob("*.json"))


def test_cli_project_computes_then_opens_from_cache(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["project", "--workspace", str(ws.root), "--method", "pca", "--of", "classes", "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    second = json.loads(capsys.readouterr().out)
    assert (first["from_cache"], second["from_cache"]) == (False, True)
    assert first["key"] == second["key"] and first["points"] == len(CLASSES)
    assert main(["project", "--workspace", str(ws.root), "--method", "axes"]) == 1
    assert "--axes" in capsys.readouterr().err


def test_numpy_trustworthiness_matches_scikit_learn() -> None:
    from sklearn.manifold import trustworthiness as sklearn_trustworthiness

    from desktop_app.analysis.maps import trustworthiness

    rng = np.random.default_rng(3)
    high = rng.normal(size=(300, 20))
    low = high[:, :2] + 0.3 * rng.normal(size=(300, 2))
    assert trustworthiness(high, low, 7) == pytest.approx(
        sklearn_trustworthiness(high, low, n_neighbors=7), abs=1e-9
    )


def _trustworthiness_by_full_ranks(high: np.ndarray, low: np.ndarray, k: int) -> float:
    """The textbook computation (a stable argsort of every row, an n × n rank table): what the
    rank look-up of :func:`trustworthiness` must give to the integer, ties included."""
    n = len(high)
    sq_high = np.einsum("ij,ij->i", high, high)
    d_high = sq_high[:, None] - 2.0 * high @ high.T + sq_high[None, :]
    np.fill_diagonal(d_high, np.inf)
    sq_low = np.einsum("ij,ij->i", low, low)
    d_low = sq_low[:, None] - 2.0 * low @ low.T + sq_low[None, :]
    np.fill_diagonal(d_low, np.inf)
    order = np.argsort(d_high, axis=1, kind="stable")
    ranks = np.empty((n, n), dtype=np.int64)
    ranks[np.arange(n)[:, None], order] = np.arange(1, n + 1)[None, :]
    nn_low = np.argpartition(d_low, k - 1, axis=1)[:, :k]
    penalty = np.maximum(np.take_along_axis(ranks, nn_low, axis=1) - k, 0).sum()
    return float(1.0 - penalty * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)))


def test_trustworthiness_ranks_ties_as_a_stable_sort_does() -> None:
    from desktop_app.analysis.maps import trustworthiness

    rng = np.random.default_rng(5)
    # Coordinates rounded to a coarse grid: many exactly equal distances in both spaces.
    high = np.round(rng.normal(size=(400, 3)), 1)
    low = np.round(high[:, :2] + 0.2 * rng.normal(size=(400, 2)), 1)
    expected = _trustworthiness_by_full_ranks(high, low, 6)
    assert trustworthiness(high, low, 6) == expected
    assert 0.5 < expected < 1.0


def test_pca_reads_unit_rows_from_the_memory_map_as_map_inputs_copies_them(ws: Workspace) -> None:
    from desktop_app.analysis.maps import UnitRows, map_inputs

    space = EmbeddingSpace.load(ws, RUN)
    ids, vectors = map_inputs(space, "clips")
    lazy = UnitRows(space.clip_embeddings, ids)
    assert lazy.shape == vectors.shape and len(lazy) == len(ids)
    np.testing.assert_array_equal(lazy[np.array([0, 5, len(ids) - 1])], vectors[[0, 5, len(ids) - 1]])
    np.testing.assert_array_equal(lazy[3:40], vectors[3:40])
    assert MISSING_CLIP not in ids


def test_a_computed_map_is_handed_over_before_its_quality_and_cached_with_it(ws: Workspace) -> None:
    handed: list[tuple[object, dict]] = []
    result = first_map(ws, RUN, "clips", on_unmeasured=lambda m: handed.append((m, dict(m.quality))))
    assert len(handed) == 1
    early, quality_then = handed[0]
    assert early is result  # the same map, its quality filled in afterwards
    assert "trustworthiness" not in quality_then and "explained_variance_ratio" in quality_then
    assert "trustworthiness" in result.quality and "knn_preservation" in result.quality
    assert list(result.quality)[:2] == ["trustworthiness", "knn_preservation"]
    cached = first_map(ws, RUN, "clips", on_unmeasured=lambda m: handed.append((m, {})))
    assert len(handed) == 1  # read from the cache: nothing computed, nothing handed over early
    assert cached.quality == result.quality
    np.testing.assert_array_equal(cached.coords, result.coords)
    fresh = compute_map(EmbeddingSpace.load(ws, RUN), "pca", "clips")
    assert fresh.quality == result.quality  # measured later, measured the same
    np.testing.assert_array_equal(fresh.coords, result.coords)
