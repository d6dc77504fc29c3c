"""The synthetic scale workspace (``desktop_app/data/scale.py``) opens like an imported one."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from desktop_app.cli import main
from desktop_app.data.records import ClipRecord, VideoInfo
from desktop_app.data.scale import build_scale_workspace
from desktop_app.errors import ActionLensError
from desktop_app.workspace import ClipRow


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny demo workspace (6 classes = 3 verbs × 2 nouns, 24 clips): the builder's source."""
    from desktop_app.pipeline import build_demo_workspace

    base = tmp_path_factory.mktemp("scale-demo")
    return build_demo_workspace(base / "ws", data=base / "data", preset="tiny").workspace


@pytest.fixture(scope="module")
def scale_ws(tiny_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20 000-clip workspace of 40 classes built from the tiny demo."""
    return build_scale_workspace(
        tmp_path_factory.mktemp("scale") / "ws", 20_000, n_classes=40, source=tiny_demo
    )


def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_info_counts_the_clips_classes_split_and_run(
    scale_ws: Path, tiny_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    info = _cli_json(capsys, "info", "--workspace", str(scale_ws))
    assert (info["clips"], info["classes"], info["bad_clips"]) == (20_000, 40, [])
    assert sum(info["splits"]["1"].values()) == 20_000
    assert [r["id"] for r in info["runs"]] == info["embeddings"] == ["ste-small-rec-s1"]
    from desktop_app.workspace import Workspace

    with Workspace.open(scale_ws, readonly=True) as ws:
        assert ws.catalog.num_clips() == 20_000
        assert len(ws.catalog.classes()) == 40
        counts = ws.catalog.split_counts()["1"]
        assert counts["train"] + counts["test"] == 20_000
        assert counts["test"] == pytest.approx(5_000, abs=40)
        columns = ws.catalog.clip_columns()
        # contiguous class blocks of 500 clips, every class used
        assert np.array_equal(np.bincount(columns.class_id)[1:], np.full(40, 500))
        assert columns.ok.all()
        # every clip points at a demo video that exists
        paths = {r[0] for r in ws.catalog.transaction().execute("SELECT DISTINCT path FROM clips")}
        assert paths and all(ws.clip_path(p).is_file() for p in paths)
        assert ws.manifest["active_run"] == "ste-small-rec-s1"
    with Workspace.open(tiny_demo, readonly=True) as demo:
        demo_classes = [(c.id, c.name, c.phrase) for c in demo.catalog.classes()]
    with Workspace.open(scale_ws, readonly=True) as ws:
        assert [(c.id, c.name, c.phrase) for c in ws.catalog.classes()][: len(demo_classes)] == demo_classes


def test_a_word_query_returns_clips_of_its_class(scale_ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_app.workspace import Workspace

    with Workspace.open(scale_ws, readonly=True) as ws:
        wanted = ws.catalog.classes()[-1]  # a class the builder made, not one of the demo's
    result = _cli_json(capsys, "query", "--workspace", str(scale_ws), "-k", "10", *wanted.phrase.split())
    hits = [hit["class_name"] for hit in result["clips"]]
    assert len(hits) == 10
    assert hits.count(wanted.name) >= 8, hits
    assert result["classes"][0]["phrase"] == wanted.phrase


def test_the_copied_run_and_its_embeddings_load(scale_ws: Path) -> None:
    from desktop_app.analysis.space import EmbeddingSpace
    from desktop_app.training.runs import Run
    from desktop_app.workspace import Workspace

    with Workspace.open(scale_ws, readonly=True) as ws:
        space = EmbeddingSpace.load(ws)
        assert space.clip_embeddings.shape == (20_000, 50)
        assert np.allclose(np.linalg.norm(space.clip_embeddings[::997], axis=1), 1.0, atol=1e-5)
        assert sorted(space.class_ids.tolist()) == [c.id for c in ws.catalog.classes()]
        run = Run.load(ws.runs_dir / space.run_id)
        assert sorted(run.class_ids.tolist()) == [c.id for c in ws.catalog.classes()]
        assert run.label_vectors.shape == (40, 50)
        assert not (ws.runs_dir / space.run_id / "checkpoint.pt").exists()
        assert [r["id"] for r in ws.catalog.runs()] == [space.run_id]


def test_bulk_rows_are_the_rows_add_clips_writes(tiny_demo: Path, tmp_path: Path) -> None:
    """The builder's ``executemany`` path writes what ``Catalog.add_clips`` would."""
    from desktop_app.workspace import Workspace

    built = build_scale_workspace(tmp_path / "bulk", 64, n_classes=8, source=tiny_demo)
    with Workspace.open(built, readonly=True) as ws:
        classes = ws.catalog.classes()
        clips = ws.catalog.clips()
        splits = ws.catalog.split("1")
        con = ws.catalog.transaction()
        bulk_rows = con.execute("SELECT * FROM clips ORDER BY id").fetchall()
        bulk_splits = con.execute("SELECT * FROM clip_splits ORDER BY clip_id").fetchall()
    from desktop_app.data.records import ClassRecord

    with Workspace.create(tmp_path / "api") as ws:
        ids = ws.catalog.add_classes(
            ClassRecord(c.name, c.phrase, c.verb, c.noun, c.dataset_index) for c in classes
        )
        records = [
            ClipRecord(
                c.name,
                c.path,
                c.class_name,
                {"1": splits[c.id]},
                _video_info(c),
            )
            for c in clips
        ]
        assert ws.catalog.add_clips(records, ids) == (64, 0)
    con = sqlite3.connect(tmp_path / "api" / "catalog.sqlite")
    assert con.execute("SELECT * FROM clips ORDER BY id").fetchall() == bulk_rows
    assert con.execute("SELECT * FROM clip_splits ORDER BY clip_id").fetchall() == bulk_splits
    con.close()


def _video_info(clip: ClipRow) -> VideoInfo:
    """The probed video of a catalogued clip (every demo clip has one)."""
    fps, frames, width, height = clip.fps, clip.frame_count, clip.width, clip.height
    assert fps is not None and frames is not None and width is not None and height is not None
    assert clip.duration is not None and clip.content_hash is not None
    return VideoInfo(fps, frames, width, height, clip.duration, clip.content_hash, clip.has_audio)


def test_the_same_seed_writes_the_same_embeddings(tiny_demo: Path, tmp_path: Path) -> None:
    a = build_scale_workspace(tmp_path / "a", 300, n_classes=5, seed=3, source=tiny_demo)
    b = build_scale_workspace(tmp_path / "b", 300, n_classes=5, seed=3, source=tiny_demo)
    c = build_scale_workspace(tmp_path / "c", 300, n_classes=5, seed=4, source=tiny_demo)
    run = "embeddings/ste-small-rec-s1/clips.npy"
    assert np.array_equal(np.load(a / run), np.load(b / run))
    assert not np.array_equal(np.load(a / run), np.load(c / run))


def test_bad_requests_fail_with_one_line(tiny_demo: Path, tmp_path: Path) -> None:
    with pytest.raises(ActionLensError, match="1 … 10 classes"):
        build_scale_workspace(tmp_path / "x", 10, n_classes=11, source=tiny_demo)
    with pytest.raises(ActionLensError, match="embeds in 50-d"):
        build_scale_workspace(tmp_path / "x", 10, n_classes=2, dim=64, source=tiny_demo)
    with pytest.raises(ActionLensError, match="not a workspace"):
        build_scale_workspace(tmp_path / "x", 10, n_classes=2, source=tmp_path / "missing")
    with pytest.raises(ActionLensError, match="make only"):
        build_scale_workspace(tmp_path / "x", 5_000, n_classes=5_000, source=tiny_demo)
    assert not (tmp_path / "x").exists()
