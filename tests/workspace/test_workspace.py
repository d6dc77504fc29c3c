"""The workspace format: creation, import, migration, and refusal of what it cannot read."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from desktop_app.data.records import Caption, ClassRecord, ClipRecord, ImportResult, Skipped, VideoInfo
from desktop_app.errors import WorkspaceError
from desktop_app.workspace import SCHEMA_VERSION, Workspace, building
from desktop_app.workspace.catalog import _SCHEMA_V1


def _result(root: Path, names: list[str]) -> ImportResult:
    info = VideoInfo(fps=25.0, frame_count=50, width=64, height=48, duration=2.0, content_hash="ab" * 16)
    return ImportResult(
        dataset="ucf101",
        data_root=str(root),
        classes=[
            ClassRecord("BounceBall", "bounce ball", "bounce", "ball", 1),
            ClassRecord("RollBox", "roll box", "roll", "box", 2),
        ],
        clips=[
            ClipRecord(
                n, f"{n.split('_')[1]}/{n}.mp4", n.split("_")[1], {"1": "train" if i % 2 else "test"}, info
            )
            for i, n in enumerate(names)
        ],
        skipped=[Skipped("RollBox/broken.mp4", "zero decodable frames")],
    )


def test_create_import_and_reopen(tmp_path: Path) -> None:
    names = ["v_BounceBall_g01_c01", "v_BounceBall_g02_c01", "v_RollBox_g01_c01"]
    with building(tmp_path / "ws", dataset="ucf101") as ws:
        summary = ws.add_import(_result(tmp_path / "data", names))
    assert summary.clips_added == 3 and summary.classes == 2
    assert summary.to_json()["skipped"] == [{"path": "RollBox/broken.mp4", "reason": "zero decodable frames"}]

    with Workspace.open(tmp_path / "ws") as ws:
        clips = ws.catalog.clips()
        assert [c.id for c in clips] == [0, 1, 2]  # dense ids: a clip's id is its row in every array
        assert [c.class_name for c in clips] == ["BounceBall", "BounceBall", "RollBox"]
        assert clips[0].width == 64 and clips[0].duration == 2.0
        assert (
            ws.clip_path(clips[2].path)
            == (tmp_path / "data" / "RollBox" / "v_RollBox_g01_c01.mp4").absolute()
        )
        assert ws.catalog.split("1") == {0: "test", 1: "train", 2: "test"}
        assert [(c.name, c.verb, c.noun) for c in ws.catalog.classes()] == [
            ("BounceBall", "bounce", "ball"),
            ("RollBox", "roll", "box"),
        ]
        # Importing again adds nothing and says so.
        again = ws.add_import(_result(tmp_path / "data", [*names, "v_RollBox_g02_c01"]))
        assert (again.clips_added, again.clips_present) == (1, 3)
        assert ws.catalog.num_clips() == 4


def test_captions_and_bad_marks_round_trip(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    clip = ClipRecord(
        "story1",
        "stories/story1.mp4",
        None,
        {"official": "train"},
        captions=[Caption(0.0, 1.5, "A ball bounces."), Caption(1.5, 3.0, "Then it rolls.")],
    )
    ws.add_import(ImportResult("activitynet", str(tmp_path), clips=[clip]))
    assert [c.sentence for c in ws.catalog.captions(0)] == ["A ball bounces.", "Then it rolls."]
    ws.catalog.mark_bad(0, "truncated stream")
    assert ws.catalog.clip(0).status == "bad" and ws.catalog.clip(0).status_reason == "truncated stream"
    assert ws.catalog.clips(status="ok") == []
    ws.close()


def test_import_from_another_data_root_is_refused(tmp_path: Path) -> None:
    with Workspace.create(tmp_path / "ws") as ws:
        ws.add_import(_result(tmp_path / "a", ["v_BounceBall_g01_c01"]))
        with pytest.raises(WorkspaceError, match="new workspace"):
            ws.add_import(_result(tmp_path / "b", ["v_BounceBall_g09_c01"]))


def test_building_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), building(tmp_path / "ws") as ws:
        ws.add_import(_result(tmp_path / "data", ["v_BounceBall_g01_c01"]))
        raise RuntimeError("import cancelled halfway")
    assert list(tmp_path.iterdir()) == []


def test_create_refuses_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("mine")
    with pytest.raises(WorkspaceError, match="not empty"):
        Workspace.create(tmp_path / "ws")
    assert (tmp_path / "ws" / "notes.txt").read_text() == "mine"


def test_older_schema_is_migrated(tmp_path: Path) -> None:
    root = tmp_path / "old"
    root.mkdir()
    con = sqlite3.connect(root / "catalog.sqlite")
    con.executescript(_SCHEMA_V1)
    con.execute("INSERT INTO classes (id, name, phrase) VALUES (0, 'Walking', 'walk')")
    con.execute("INSERT INTO clips (id, name, path, class_id) VALUES (0, 'c0', 'Walking/c0.avi', 0)")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    (root / "workspace.json").write_text(
        json.dumps({"format": "actionlens-workspace", "schema_version": 1, "data_root": str(tmp_path)})
    )

    with Workspace.open(root) as ws:
        assert ws.manifest["schema_version"] == SCHEMA_VERSION
        assert ws.catalog.clip(0).has_audio is False  # a column that version 1 lacked
        assert ws.catalog.captions(0) == []
        assert ws.features_dir.is_dir()
    assert json.loads((root / "workspace.json").read_text())["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda root: (root / "workspace.json").unlink(), "workspace.json is missing"),
        (lambda root: (root / "workspace.json").write_text("{not json"), "workspace.json is damaged"),
        (
            lambda root: (root / "workspace.json").write_text('{"format": "something-else"}'),
            "not an ActionLens workspace",
        ),
        (
            lambda root: (root / "workspace.json").write_text(
                json.dumps({"format": "actionlens-workspace", "schema_version": SCHEMA_VERSION + 1})
            ),
            "newer than this ActionLens supports",
        ),
        (lambda root: (root / "catalog.sqlite").write_bytes(b"garbage" * 100), "catalog.sqlite is damaged"),
        (lambda root: (root / "catalog.sqlite").unlink(), "catalog.sqlite is missing"),
    ],
)
def test_damaged_or_newer_workspace_is_refused(tmp_path: Path, damage, message: str) -> None:
    Workspace.create(tmp_path / "ws").close()
    damage(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match=message) as err:
        Workspace.open(tmp_path / "ws")
    assert str(tmp_path / "ws") in str(err.value)  # the message names the file


def test_newer_catalog_version_is_refused(tmp_path: Path) -> None:
    Workspace.create(tmp_path / "ws").close()
    con = sqlite3.connect(tmp_path / "ws" / "catalog.sqlite")
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(WorkspaceError, match="upgrade ActionLens"):
        Workspace.open(tmp_path / "ws")
