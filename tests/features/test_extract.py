"""End-to-end extraction into a feature store: shapes, bad clips, raw rows only, resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_app.errors import ActionLensError, TaskCancelled
from desktop_app.features import (
    ExtractSettings,
    FeatureStore,
    describe_feature_stores,
    extract_features,
    list_feature_stores,
)
from desktop_app.features.handcrafted import APPEARANCE_DIM, MOTION_DIM
from desktop_app.progress import ProgressBase


class CancelAfter(ProgressBase):
    """Cancels the task once ``k`` clips are reported done."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def set_progress(self, fraction: float, message: str = "") -> None:
        super().set_progress(fraction, message)
        if message.split("/")[0].isdigit() and int(message.split("/")[0]) >= self.k:
            self.cancel()


def test_extract_with_broken_files(small_workspace) -> None:
    ws = small_workspace(n_per_class=3, broken=True)
    summary = extract_features(ws, workers=1)
    assert summary.clips_total == 13
    assert summary.clips_extracted == 9
    bad = {b["name"]: b["reason"] for b in summary.bad_clips}
    assert set(bad) == {"bad_empty", "bad_text", "bad_truncated", "bad_folder"}
    assert bad["bad_empty"] == "empty file" and "directory" in bad["bad_folder"]
    rows = {c.name: c for c in ws.catalog.clips()}
    assert rows["bad_text"].status == "bad" and rows["bad_text"].status_reason
    assert rows["v_Fast_g00"].status == "ok"

    store = FeatureStore.open(ws)
    assert store.name == "handcrafted-fps10-dis" and store.complete
    assert store.streams == ["appearance", "motion"]  # the generated videos have no sound
    assert store.raw_dim("appearance") == APPEARANCE_DIM and store.raw_dim("motion") == MOTION_DIM
    good_ids = [rows[f"v_{c}_g{i:02d}"].id for c in ("Slow", "Fast", "Still") for i in range(3)]
    assert store.clip_ids("motion").tolist() == sorted(good_ids)
    clip = rows["v_Fast_g02"]  # 18 frames at 25 fps (t = 0 … 0.68 s) -> 7 steps at 10 fps
    raw = store.get(clip.id, "appearance", reduced=False)
    assert raw.shape == (7, APPEARANCE_DIM) and raw.dtype == np.float32
    reduced = store.get(clip.id, "motion")
    assert reduced.shape == (7, store.dim("motion")) and store.length(clip.id, "motion") == 7
    np.testing.assert_allclose(np.linalg.norm(reduced, axis=1), 1.0, rtol=1e-5)
    assert store.dim("appearance") <= 500
    with pytest.raises(KeyError):
        store.get(rows["bad_text"].id, "appearance")
    assert (ws.thumbnails_dir / f"{clip.id}.jpg").stat().st_size > 0
    assert (ws.thumbnails_dir / f"{clip.id}_strip.jpg").stat().st_size > 0
    info = describe_feature_stores(ws)[0]
    assert info["clips_done"] == 13 and info["bad_clips"] == 4 and info["missing"] == 0
    assert info["streams"]["motion"]["clips"] == 9
    # motion features tell the still class from the fast one: the no-motion bins of the object
    # box's HOF (the first block, 2 × 2 cells of 8 directions + 1 still bin) hold less when it moves
    fast = store.get(rows["v_Fast_g00"].id, "motion", reduced=False)[:, 8:36:9].mean()
    still = store.get(rows["v_Still_g00"].id, "motion", reduced=False)[:, 8:36:9].mean()
    assert still > fast + 0.1


def test_the_store_fits_no_statistic_of_the_features(small_workspace) -> None:
    """Runs fit their own input transform on their training clips; a store holds raw rows only."""
    ws = small_workspace(n_per_class=3)
    extract_features(ws, workers=1)
    store = FeatureStore.open(ws)
    assert not list(store.directory.glob("pca_*")) and "pca_dims" not in store.settings
    for stream in store.streams:
        assert store.pca_info(stream) is None and store.dim(stream) == store.raw_dim(stream)
        clip = int(store.clip_ids(stream)[0])
        raw = store.get(clip, stream, reduced=False)
        expected = raw / np.linalg.norm(raw, axis=1, keepdims=True)
        np.testing.assert_allclose(store.get(clip, stream), expected, rtol=1e-5, atol=1e-6)


def test_an_old_store_with_a_pca_still_opens_and_reduces(small_workspace) -> None:
    """Stores made before per-run input transforms carry a PCA; old runs read through it."""
    import json

    ws = small_workspace(n_per_class=2, splits=False)
    extract_features(ws, workers=1)
    directory = FeatureStore.open(ws).directory
    raw_store = FeatureStore.open(ws)
    dim = raw_store.raw_dim("appearance")
    rng = np.random.default_rng(0)
    mean = rng.standard_normal(dim).astype(np.float32)
    components = np.linalg.qr(rng.standard_normal((dim, 4)))[0].T.astype(np.float32)
    np.save(directory / "pca_appearance_mean.npy", mean)
    np.save(directory / "pca_appearance_components.npy", components)
    meta = json.loads((directory / "meta.json").read_text())
    meta["pca"] = {
        "appearance": {
            "mean": "pca_appearance_mean.npy",
            "components": "pca_appearance_components.npy",
            "dims": 4,
            "role": "all",
            "clips": 6,
        }
    }
    (directory / "meta.json").write_text(json.dumps(meta))
    store = FeatureStore.open(ws)
    info = store.pca_info("appearance")
    assert info is not None and info["role"] == "all" and store.dim("appearance") == 4
    raw = store.get(0, "appearance", reduced=False)
    projected = (raw - mean) @ components.T
    expected = projected / np.linalg.norm(projected, axis=1, keepdims=True)
    np.testing.assert_allclose(store.get(0, "appearance"), expected, rtol=1e-4, atol=1e-5)


def test_cancelled_run_resumes_and_equals_an_uninterrupted_one(small_workspace, tmp_path: Path) -> None:
    ws = small_workspace(n_per_class=3)
    with pytest.raises(TaskCancelled):
        extract_features(ws, progress=CancelAfter(4), workers=1)
    assert list_feature_stores(ws) == ["handcrafted-fps10-dis"]
    with pytest.raises(ActionLensError, match="unfinished"):
        FeatureStore.open(ws)
    # a crash mid-clip leaves a torn tail: rows and a partial index record past the last done clip
    store_dir = ws.features_dir / "handcrafted-fps10-dis"
    with open(store_dir / "motion.f32", "ab") as fh:
        fh.write(b"\0" * 4 * MOTION_DIM * 3)
    with open(store_dir / "motion.index", "ab") as fh:
        fh.write(b"\1" * 10)
    resumed = extract_features(ws, workers=1)
    assert resumed.clips_already_done == 4 and resumed.clips_extracted == 5

    reference_ws = small_workspace(n_per_class=3)  # same files, same catalog
    extract_features(reference_ws, workers=1)
    a, b = FeatureStore.open(ws), FeatureStore.open(reference_ws)
    assert a.clip_ids().tolist() == b.clip_ids().tolist()
    for stream in ("appearance", "motion"):
        assert a.dim(stream) == b.dim(stream)
        for clip_id in a.clip_ids(stream):
            np.testing.assert_array_equal(
                a.get(clip_id, stream, reduced=False), b.get(clip_id, stream, reduced=False)
            )
            np.testing.assert_allclose(a.get(clip_id, stream), b.get(clip_id, stream), atol=1e-5)


def test_process_pool_matches_in_process(small_workspace) -> None:
    ws = small_workspace(n_per_class=2, broken=True)
    pooled = extract_features(ws, workers=2)
    assert pooled.clips_extracted == 6 and len(pooled.bad_clips) == 4
    store = FeatureStore.open(ws)
    single_ws = small_workspace(n_per_class=2, broken=True)
    extract_features(single_ws, workers=1)
    single = FeatureStore.open(single_ws)
    for clip_id in single.clip_ids("motion"):
        np.testing.assert_array_equal(
            store.get(clip_id, "motion", reduced=False), single.get(clip_id, "motion", reduced=False)
        )


def test_fixed_steps_pad_with_zeros_and_adaptive_store(small_workspace) -> None:
    ws = small_workspace(n_per_class=3)  # 12, 15, 18 frames at 25 fps: mean 0.6 s -> 6 steps
    summary = extract_features(ws, ExtractSettings(steps="mean"), workers=1)
    store = FeatureStore.open(ws, summary.store)
    steps = store.steps
    assert steps is not None and summary.store.endswith(f"steps{steps}-dis")
    lengths = [store.length(c, "appearance") for c in store.clip_ids("appearance")]
    assert min(lengths) < steps
    short = int(store.clip_ids("appearance")[int(np.argmin(lengths))])
    padded = store.get(short, "appearance")
    assert padded.shape == (steps, store.dim("appearance"))
    assert np.all(padded[min(lengths) :] == 0) and np.all(
        np.linalg.norm(padded[: min(lengths)], axis=1) > 0.99
    )

    adaptive = extract_features(ws, ExtractSettings(adaptive=True), workers=1)
    assert adaptive.store == "handcrafted-adaptive10-dis"
    assert sorted(list_feature_stores(ws)) == sorted([summary.store, adaptive.store])
    assert FeatureStore.open(ws).name == adaptive.store  # the most recent complete store


def test_open_without_features_says_what_to_do(small_workspace) -> None:
    ws = small_workspace(n_per_class=1)
    with pytest.raises(ActionLensError, match="actionlens extract"):
        FeatureStore.open(ws)
    extract_features(ws, workers=1)
    with pytest.raises(ActionLensError, match="handcrafted-fps10-dis"):
        FeatureStore.open(ws, "nope")
