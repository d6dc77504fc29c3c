"""Your own clip in the space: ``add_clips`` / ``query_clip_file`` and their CLI on the tiny demo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from desktop_app.analysis.maps import cached_maps, load_map, load_or_compute_map
from desktop_app.analysis.new_clips import add_clips, query_clip_file
from desktop_app.analysis.space import EmbeddingSpace
from desktop_app.cli import main
from desktop_app.data.demo_scenes import render_clip, write_video
from desktop_app.errors import TaskCancelled
from desktop_app.features.store import FeatureStore
from desktop_app.pipeline import build_demo_workspace
from desktop_app.progress import ProgressBase
from desktop_app.workspace import Workspace

RUN = "ridge"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny demo (6 classes: fall/rise/spin × ball/box, 64×48 at 15 fps) with a pooled-ridge
    run as the active one, beside the demo's own ste run."""
    root = tmp_path_factory.mktemp("new-clips")
    ws = root / "ws"
    build_demo_workspace(ws, data=root / "data", preset="tiny")
    assert main(["train", "--workspace", str(ws), "--model", "pooled-ridge", "--run-id", RUN]) == 0
    assert main(["embed", "--workspace", str(ws), "--run", RUN]) == 0
    with Workspace.open(ws) as opened:
        opened.update_manifest(active_run=RUN)
    return ws


@pytest.fixture()
def workspace(built: Path, tmp_path: Path) -> Path:
    """A fresh copy per test: adding clips changes the workspace."""
    return Path(shutil.copytree(built, tmp_path / "ws"))


@pytest.fixture()
def fall_ball(tmp_path: Path) -> Path:
    """A new video of a known motion (a ball falling), rendered like the demo's clips."""
    video = render_clip("fall", "ball", width=64, height=48, fps=15.0, n_frames=22, rng=4242)
    path = tmp_path / "my fall.mp4"
    write_video(path, video.frames, 15.0)
    return path


@pytest.fixture()
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"this is not a video")
    return path


def _state(ws_path: Path) -> tuple[int, set[int], dict[str, bytes]]:
    """What must not change when nothing is added: catalog size, store records, embeddings."""
    with Workspace.open(ws_path, readonly=True) as ws:
        num = ws.catalog.num_clips()
        done = FeatureStore.open(ws).done_clip_ids()
    tables = {p.parent.name: p.read_bytes() for p in (ws_path / "embeddings").glob("*/clips.npy")}
    return num, done, tables


def test_added_clip_gets_features_embedding_neighbours_and_map_point(
    workspace: Path, fall_ball: Path
) -> None:
    with Workspace.open(workspace) as ws:
        before = load_or_compute_map(ws, RUN, "pca", "clips")
        old = np.load(ws.embeddings_dir / RUN / "clips.npy")
        num = ws.catalog.num_clips()
        summary = add_clips(ws, [fall_ball], k=3)
        [clip] = summary.clips
        assert clip.status == "added" and clip.clip_id == num and clip.name == "user/my fall"
        row = ws.catalog.clip(num)
        assert row.class_id is None and row.path == str(fall_ball)
        assert all(num not in ws.catalog.split(s) for s in ws.catalog.split_names())
        store = FeatureStore.open(ws)
        assert store.complete and num in store.clip_ids("appearance")
        assert (ws.thumbnails_dir / f"{num}.jpg").is_file()
        space = EmbeddingSpace.load(ws, RUN)
        assert np.isfinite(space.clip_embeddings[num]).all()
        other = EmbeddingSpace.load(ws, "ste-small-rec-s1")  # still current, with no row for it
        assert other.clip_embeddings.shape[0] == num + 1 and np.isnan(other.clip_embeddings[num]).all()
        assert summary.padded_runs == ["ste-small-rec-s1"]
        phrases = {c.phrase for c in space.classes.values()}
        assert len(clip.neighbours.classes) == 5 and {h.phrase for h in clip.neighbours.classes} <= phrases
        assert [h.clip_id for h in clip.neighbours.clips] and num not in [
            h.clip_id for h in clip.neighbours.clips
        ]
        assert clip.neighbours.words
        # the cached PCA map is current and holds the clip at its projection on the map's own
        # components (sklearn's PCA of the map's clips, signs matched to the map)
        from sklearn.decomposition import PCA

        [info] = [m for m in cached_maps(ws) if m.key == before.key]
        assert not info.stale
        after = load_map(ws, before.key)
        assert after.ids[-1] == num and np.array_equal(after.coords[:-1], before.coords)
        unit = old[before.ids] / np.linalg.norm(old[before.ids], axis=1, keepdims=True)
        pca = PCA(2).fit(unit)
        signs = np.sign((pca.transform(unit) * before.coords).sum(axis=0))
        new = space.clip_embeddings[num] / np.linalg.norm(space.clip_embeddings[num])
        expected = pca.transform(new[None, :])[0] * signs
        np.testing.assert_allclose(after.coords[-1], expected, atol=1e-4)
        assert after.extra["placed"] == {str(num): "exact"}


def test_a_copy_of_a_catalogued_clip_embeds_as_that_clip(workspace: Path, tmp_path: Path) -> None:
    """Same encoder, sampling and input transform as the store's clips: the same embedding."""
    with Workspace.open(workspace) as ws:
        original = ws.catalog.clip(0)
        copy = tmp_path / "copy.mp4"
        shutil.copyfile(ws.clip_path(original.path), copy)
        summary = add_clips(ws, [copy], k=1)
        space = EmbeddingSpace.load(ws, RUN)
        [clip] = summary.clips
        np.testing.assert_allclose(space.clip_embeddings[clip.clip_id], space.clip_embeddings[0], atol=1e-5)
        assert clip.neighbours.clips[0].clip_id == 0 and clip.neighbours.clips[0].score > 0.9999


def test_a_broken_file_is_named_and_nothing_changes(workspace: Path, broken: Path) -> None:
    before = _state(workspace)
    with Workspace.open(workspace) as ws:
        summary = add_clips(ws, [broken])
    assert summary.clips == []
    [failed] = summary.failed
    assert failed.path == str(broken) and "\n" not in failed.message and str(broken) in failed.message
    assert _state(workspace) == before


def test_a_broken_file_beside_a_good_one(
    workspace: Path, broken: Path, fall_ball: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    argv = ["add-clips", "--workspace", str(workspace), str(broken), str(fall_ball), "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.strip()]
    assert len(errors) == 1 and str(broken) in errors[0]
    out = json.loads(captured.out)
    assert [c["name"] for c in out["clips"]] == ["user/my fall"]
    assert main(["add-clips", "--workspace", str(workspace), str(broken)]) == 1


def test_query_clip_file_gives_the_added_clips_classes_and_adds_nothing(
    workspace: Path, fall_ball: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _state(workspace)
    capsys.readouterr()
    assert main(["query", "--workspace", str(workspace), "--clip-file", str(fall_ball), "--json"]) == 0
    queried = json.loads(capsys.readouterr().out)
    assert _state(workspace) == before
    assert main(["add-clips", "--workspace", str(workspace), str(fall_ball), "--json"]) == 0
    added = json.loads(capsys.readouterr().out)["clips"][0]
    assert queried["run"] == RUN
    assert [c["class_id"] for c in queried["classes"]] == [c["class_id"] for c in added["classes"]]
    np.testing.assert_allclose(
        [c["score"] for c in queried["classes"]], [c["score"] for c in added["classes"]], atol=1e-5
    )


def test_adding_again_reuses_the_clip(workspace: Path, fall_ball: Path) -> None:
    with Workspace.open(workspace) as ws:
        first = add_clips(ws, [fall_ball.parent]).clips  # a folder: its one video
        num = ws.catalog.num_clips()
        again = add_clips(ws, [fall_ball]).clips
        assert ws.catalog.num_clips() == num
    assert [c.clip_id for c in again] == [c.clip_id for c in first]
    assert [c.status for c in again] == ["already added"]


class _CancelWhileEmbedding(ProgressBase):
    def set_progress(self, fraction: float, message: str = "") -> None:
        super().set_progress(fraction, message)
        if message.startswith("embed"):
            self.cancel()


def test_cancelled_while_embedding_writes_nothing(workspace: Path, fall_ball: Path) -> None:
    before = _state(workspace)
    with Workspace.open(workspace) as ws, pytest.raises(TaskCancelled):
        add_clips(ws, [fall_ball], progress=_CancelWhileEmbedding())
    assert _state(workspace) == before


def test_query_clip_file_core_refuses_a_broken_file(workspace: Path, broken: Path) -> None:
    from desktop_app.errors import ActionLensError

    with Workspace.open(workspace, readonly=True) as ws, pytest.raises(ActionLensError, match=r"broken\.mp4"):
        query_clip_file(ws, broken)


def test_a_rerun_finishes_an_add_interrupted_before_the_embeddings(
    workspace: Path, fall_ball: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the catalog and store writes: the rerun adds the embedding rows and map point."""
    from desktop_app.analysis import new_clips

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with Workspace.open(workspace) as ws:
        pca = load_or_compute_map(ws, RUN, "pca", "clips")
        num = ws.catalog.num_clips()
        with monkeypatch.context() as patched:
            patched.setattr(new_clips, "_update_embeddings", killed)
            with pytest.raises(KeyboardInterrupt):
                add_clips(ws, [fall_ball])
        assert ws.catalog.num_clips() == num + 1 and num in FeatureStore.open(ws).done_clip_ids()
        [clip] = add_clips(ws, [fall_ball]).clips
        assert clip.clip_id == num and clip.status == "already added"
        for run_id in (RUN, "ste-small-rec-s1"):
            assert EmbeddingSpace.load(ws, run_id).clip_embeddings.shape[0] == num + 1
        assert np.isfinite(EmbeddingSpace.load(ws, RUN).clip_embeddings[num]).all()
        [info] = [m for m in cached_maps(ws) if m.key == pca.key]
        assert not info.stale and info.num_points == len(pca) + 1
