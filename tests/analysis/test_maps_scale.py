"""Maps of a 100 000-clip workspace: every clip placed, the placement counted, PCA's placed points
on its projection, UMAP's transform placing a clip among its neighbours, a bounded quality figure,
and cached maps of map version 1 (ids in the JSON, subsampled) still opening."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from desktop_app.analysis.layouts import fit_rows
from desktop_app.analysis.map_quality import QUALITY_SAMPLE, REFERENCE_SAMPLE, map_quality
from desktop_app.analysis.maps import compute_map, first_map, load_map, load_or_compute_map
from desktop_app.analysis.space import EmbeddingSpace
from desktop_app.atomic import write_json, write_npy
from desktop_app.cli import main
from desktop_app.data.records import ClassRecord, ClipRecord, ImportResult
from desktop_app.evaluation.embed import class_means
from desktop_app.workspace import Workspace

RUN = "run-scale"
N_CLIPS = 100_000
N_CLASSES = 40
DIM = 50
NO_EMBEDDING = (3, 50_000, 99_999)  # clips left without an embedding (NaN rows)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("scale") / "ws"
    workspace = Workspace.create(root, dataset="scale")
    classes = [
        ClassRecord(f"Class{i:02d}", f"verb{i} noun{i}", f"verb{i}", f"noun{i}", i + 1)
        for i in range(N_CLASSES)
    ]
    labels = np.random.default_rng(1).integers(0, N_CLASSES, N_CLIPS)
    clips = [
        ClipRecord(f"clip{k:06d}", f"videos/{k}.mp4", classes[int(c)].name, {"1": "train"})
        for k, c in enumerate(labels)
    ]
    workspace.add_import(ImportResult("scale", str(root / "data"), clips=clips, classes=classes))
    workspace.catalog.add_run(RUN, "ste", "2024-01-01T00:00:00", "done", {})
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(N_CLASSES, DIM)).astype(np.float32)
    embeddings = centres[labels] + 0.35 * rng.normal(size=(N_CLIPS, DIM)).astype(np.float32)
    embeddings[list(NO_EMBEDDING)] = np.nan
    ids, means, counts = class_means(embeddings, labels.astype(np.int64) + 1)
    directory = workspace.embeddings_dir / RUN
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
    yield workspace
    workspace.close()


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_pca_places_every_clip_and_its_placed_clips_lie_on_the_fitted_projection(ws: Workspace) -> None:
    space = EmbeddingSpace.load(ws, RUN)
    embedded = space.embedded_clip_ids
    result = compute_map(space, "pca", params={"max_points": 20_000})
    assert len(embedded) == N_CLIPS - len(NO_EMBEDDING)
    np.testing.assert_array_equal(result.ids, embedded)
    assert np.isfinite(result.coords).all()
    placement = result.placement
    assert placement is not None and placement["placed_by"] == "pca projection"
    assert (placement["fitted"], placement["placed"]) == (20_000, len(embedded) - 20_000)
    assert placement["fitted"] + placement["placed"] == placement["total"] == len(result)

    # the principal axes of the fit sample, by an SVD here, project every clip where the map has it
    unit = _unit(space.clip_embeddings[embedded])
    fit = unit[fit_rows(len(unit), 20_000, 0)]
    mean = fit.mean(axis=0)
    _, _, vt = np.linalg.svd(fit - mean, full_matrices=False)
    expected = (unit - mean) @ vt[:2].T
    placed = np.ones(len(unit), dtype=bool)
    placed[fit_rows(len(unit), 20_000, 0)] = False
    for axis in range(2):
        sign = np.sign(expected[:, axis] @ result.coords[:, axis])
        np.testing.assert_allclose(result.coords[placed, axis], sign * expected[placed, axis], atol=2e-5)

    quality = result.quality
    assert quality["num_points"] == len(embedded) and quality["sampled"] is True
    assert quality["sampled_points"] <= QUALITY_SAMPLE and quality["reference_points"] <= REFERENCE_SAMPLE
    assert 0.5 < quality["trustworthiness"] <= 1.0


def test_umap_fitted_on_a_sample_places_the_rest_among_their_neighbours(ws: Workspace) -> None:
    space = EmbeddingSpace.load(ws, RUN)
    embedded = space.embedded_clip_ids
    result = compute_map(space, "umap", params={"max_points": 4000, "n_epochs": 30})
    assert len(result) == len(embedded) and np.isfinite(result.coords).all()
    assert result.placement == {
        "total": len(embedded),
        "fitted": 4000,
        "placed": len(embedded) - 4000,
        "placed_by": "umap transform",
        "seed": 0,
    }
    fitted = fit_rows(len(embedded), 4000, 0)
    assert fitted is not None
    others = np.setdiff1d(np.arange(len(embedded)), fitted)
    probe = np.random.default_rng(5).choice(others, size=200, replace=False)
    unit = _unit(space.clip_embeddings[embedded])
    # each probed clip's 10 nearest fitted clips in the full space, and where the map put them
    sims = unit[probe] @ unit[fitted].T
    nearest = fitted[np.argsort(-sims, axis=1)[:, :10]]
    to_neighbours = np.linalg.norm(result.coords[probe] - result.coords[nearest].mean(axis=1), axis=1)
    to_random = np.linalg.norm(
        result.coords[probe] - result.coords[np.random.default_rng(6).choice(fitted, 200)], axis=1
    )
    assert np.median(to_neighbours) < 0.1 * np.median(to_random)


def test_the_quality_figure_reads_only_its_bounded_samples() -> None:
    class CountingRows:
        """A (n, D) array that counts the rows read from it."""

        def __init__(self, array: np.ndarray) -> None:
            self.array, self.rows_read = array, 0
            self.shape = array.shape

        def __getitem__(self, rows: np.ndarray) -> np.ndarray:
            taken = self.array[rows]
            self.rows_read += len(taken)
            return taken

    rng = np.random.default_rng(2)
    n = 300_000
    plane = rng.normal(size=(n, 2)).astype(np.float32)
    high = CountingRows(np.hstack([plane, 0.01 * rng.normal(size=(n, 1)).astype(np.float32)]))
    low = CountingRows(plane)
    quality = map_quality(high, low)  # type: ignore[arg-type]
    assert high.rows_read <= REFERENCE_SAMPLE and low.rows_read <= REFERENCE_SAMPLE
    assert (quality["sampled_points"], quality["reference_points"], quality["num_points"]) == (
        QUALITY_SAMPLE,
        REFERENCE_SAMPLE,
        n,
    )
    assert quality["knn_preservation"] > 0.8  # the map drops a near-flat third axis


def test_a_cached_version_1_map_still_opens_but_first_map_skips_a_subsampled_one(ws: Workspace) -> None:
    pca = load_or_compute_map(ws, RUN, "pca")
    assert len(pca) == N_CLIPS - len(NO_EMBEDDING) and not pca.from_cache
    # a UMAP map cached by version 1: ids listed in the JSON, only a subsample on it, newest
    key = f"{RUN}.clips.umap.0123456789"
    meta = json.loads((ws.maps_dir / f"{pca.key}.json").read_text())
    sub_ids = pca.ids[::10]
    meta.update(
        version=1,
        key=key,
        method="umap",
        created="2999-01-01T00:00:00+00:00",
        ids=sub_ids.tolist(),
        num_points=len(sub_ids),
        subsampled={"from": len(pca), "to": len(sub_ids), "seed": 0, "reason": "max_points"},
    )
    del meta["ids_file"], meta["placement"]
    write_npy(ws.maps_dir / f"{key}.npy", pca.coords[::10])
    write_json(ws.maps_dir / f"{key}.json", meta)
    old = load_map(ws, key)
    np.testing.assert_array_equal(old.ids, sub_ids)
    assert old.subsampled is not None and old.placement is None
    shown = first_map(ws, RUN)
    assert shown.key == pca.key and len(shown) == len(pca) and shown.from_cache


def test_cli_project_says_how_many_clips_were_fitted_and_placed(
    ws: Workspace, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["project", "--workspace", str(ws.root), "--run", RUN, "--param", "max_points=30000"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    placed = N_CLIPS - len(NO_EMBEDDING) - 30_000
    assert f"placed      30000 fitted, {placed} placed by pca projection" in out
    assert main([*argv, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["placement"]["fitted"] == 30_000 and summary["points"] == N_CLIPS - len(NO_EMBEDDING)


def test_a_new_clip_on_a_100k_pca_map_goes_through_its_projection(ws: Workspace) -> None:
    from desktop_app.analysis.placement import AFFINE_FIT_POINTS, place_on_map

    space = EmbeddingSpace.load(ws, RUN)
    result = compute_map(space, "pca")
    high = np.asarray(space.clip_embeddings[result.ids])
    assert len(high) > AFFINE_FIT_POINTS  # the affine fit uses a sample of the map's points
    probe = np.arange(0, len(high), 9973)
    placed, how = place_on_map(high, result.coords, 3.0 * high[probe])  # scale does not matter
    assert how == "linear"
    np.testing.assert_allclose(placed, result.coords[probe], atol=1e-4)
