"""Hostile dataset files at import (issue 11, findings 3 and 4, and the import tracebacks).

Each test is one case of the table in ``tests/hostile/README.md``: the input a hostile (or just
unlucky) user gives, and the right result or the one-line message that names the file, row or
word and what to do. Every dataset here is generated (tiny real MP4s and hand-written indexes).
"""

from __future__ import annotations

import fractions
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from desktop_app.atomic import read_json
from desktop_app.data.importers import import_dataset
from desktop_app.data.records import ClipRecord
from desktop_app.errors import ActionLensError, WorkspaceError
from desktop_app.workspace import Workspace

from .conftest import actionlens_command, subprocess_env

WriteClip = Callable[..., Path]
DEEP = "[" * 100_000 + "]" * 100_000


def _reasons(result: object) -> dict[str, str]:
    return {s.path: s.reason for s in result.skipped}  # type: ignore[attr-defined]


def _notes(result: object) -> dict[str, str]:
    return {n.path: n.note for n in result.notes}  # type: ignore[attr-defined]


def write_av(
    path: Path, frames: int = 30, rate: fractions.Fraction | int = 10, faststart: bool = False
) -> Path:
    """An MPEG-4 video written by PyAV; ``faststart`` puts the frame index before the data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", options={"movflags": "+faststart"} if faststart else {}) as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(frames):
            image = rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


# ------------------------------------------------------------------ symlink loops (finding 3)


def test_directory_symlink_loop_is_followed_once_and_reported(folder_dataset: Path) -> None:
    (folder_dataset / "jump" / "up").symlink_to("..")  # jump/up/jump/up/… reaches every clip again
    (folder_dataset / "run" / "again").symlink_to(folder_dataset / "run")
    result = import_dataset("folder", folder_dataset)
    assert sorted(c.path for c in result.clips) == sorted(
        f"{cls}/{cls}_{i}.mp4" for cls in ("jump", "run", "wave") for i in range(2)
    )
    reasons = _reasons(result)
    assert reasons["jump/up"].startswith("a symlink loop to folder '.'")
    assert reasons["run/again"].startswith("a symlink loop to folder 'run'")


def test_second_link_to_a_class_folder_is_read_once(folder_dataset: Path) -> None:
    (folder_dataset / "hop").symlink_to(folder_dataset / "jump")
    result = import_dataset("folder", folder_dataset)
    assert len(result.clips) == 6 and {c.class_name for c in result.clips} == {"jump", "run", "wave"}
    assert _reasons(result)["hop"].startswith("a second link to folder 'jump'")


def test_kinetics_follows_linked_folders_once(tmp_path: Path, write_clip: WriteClip) -> None:
    root = tmp_path / "kinetics"
    elsewhere = tmp_path / "other disk" / "jumping"
    write_clip(elsewhere / "abc_000001_000011.mp4")
    root.mkdir()
    (root / "train").mkdir()
    (root / "train" / "jumping").symlink_to(elsewhere)  # a legitimate link to another disk
    (elsewhere / "loop").symlink_to(root)  # … and a loop back
    (root / "train.csv").write_text("label,youtube_id,time_start,time_end,split\njumping,abc,1,11,train\n")
    result = import_dataset("kinetics", root)
    assert [c.path for c in result.clips] == ["train/jumping/abc_000001_000011.mp4"]
    assert _reasons(result)["train/jumping/loop"].startswith("a symlink loop to folder '.'")


# ------------------------------------------------------------------ damaged videos (finding 4)


def test_faststart_mp4_cut_in_its_data_counts_the_frames_that_decode(tmp_path: Path) -> None:
    whole = write_av(tmp_path / "whole.mp4", frames=30, faststart=True)
    data = tmp_path / "data"
    cut = data / "jump" / "cut.mp4"
    cut.parent.mkdir(parents=True)
    blob = whole.read_bytes()
    cut.write_bytes(blob[: len(blob) // 2])
    result = import_dataset("folder", data)
    (clip,) = result.clips
    assert clip.info is not None and 0 < clip.info.frame_count < 30
    assert clip.info.duration == pytest.approx(clip.info.frame_count / 10.0)
    assert _notes(result)["jump/cut.mp4"].startswith(f"only {clip.info.frame_count} of the 30 frames")


def test_absurd_frame_rate_is_refused_not_a_30720_second_clip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_av(data / "jump" / "slow.mp4", frames=30, rate=fractions.Fraction(1, 1024))
    write_av(data / "jump" / "fine.mp4", frames=30)
    result = import_dataset("folder", data)
    assert [c.path for c in result.clips] == ["jump/fine.mp4"]
    assert _reasons(result)["jump/slow.mp4"].startswith("implausible frame rate 0.000976562 fps")


# ------------------------------------------------------------------ split lists and class index


@pytest.fixture
def ucf_root(tmp_path: Path, write_clip: WriteClip) -> Path:
    root = tmp_path / "ucf"
    for cls in ("ApplyEyeMakeup", "Drumming"):
        for g in (1, 2):
            write_clip(root / cls / f"v_{cls}_g0{g}_c01.avi", seed=g)
    (root / "classInd.txt").write_text("1 ApplyEyeMakeup\n2 Drumming\n")
    (root / "trainlist01.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1\nDrumming/v_Drumming_g01_c01.avi 2\n"
    )
    (root / "testlist01.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi\nDrumming/v_Drumming_g02_c01.avi\n"
        "Drumming/v_Drumming_g01_c01.avi\n"  # also in trainlist01: a leak
    )
    return root


def test_ucf101_clip_in_train_and_test_list_is_refused(ucf_root: Path) -> None:
    with pytest.raises(
        ActionLensError, match=r"train/test leak.*Drumming/v_Drumming_g01_c01\.avi.*--allow-split-overlap"
    ):
        import_dataset("ucf101", ucf_root, probe=False)


def test_ucf101_split_overlap_allowed_drops_the_role_and_says_so(ucf_root: Path, tmp_path: Path) -> None:
    result = import_dataset("ucf101", ucf_root, probe=False, allow_split_overlap=True)
    by_path = {c.path: c for c in result.clips}
    assert by_path["Drumming/v_Drumming_g01_c01.avi"].splits == {}
    assert by_path["Drumming/v_Drumming_g02_c01.avi"].splits == {"1": "test"}
    assert "train/test leak" in _notes(result)["Drumming/v_Drumming_g01_c01.avi"]
    # Through the command: refused in one line, then imported with the flag, the change listed.
    ws = tmp_path / "ws"
    refused = subprocess.run(
        actionlens_command("import", "ucf101", str(ucf_root), "-w", str(ws), "--no-probe"),
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "train/test leak" in refused.stderr
    assert not ws.exists()
    done = subprocess.run(
        actionlens_command(
            "import", "ucf101", str(ucf_root), "-w", str(ws), "--no-probe", "--allow-split-overlap"
        ),
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "imported with changes (1):" in done.stdout and "Drumming/v_Drumming_g01_c01.avi" in done.stdout


def test_hmdb51_clip_marked_train_and_test_is_refused(tmp_path: Path, write_clip: WriteClip) -> None:
    root = tmp_path / "hmdb"
    write_clip(root / "wave" / "a.avi")
    write_clip(root / "wave" / "b.avi", seed=1)
    (root / "wave_test_split1.txt").write_text("a.avi 1\nb.avi 2\na.avi 2\n")
    with pytest.raises(
        ActionLensError,
        match=r"hmdb51 import: 1 clip\(s\).*wave/a\.avi in wave_test_split1\.txt:1 \(train\) and wave_test_split1\.txt:3 \(test\)",
    ):
        import_dataset("hmdb51", root, probe=False)
    result = import_dataset("hmdb51", root, probe=False, allow_split_overlap=True)
    assert {c.path: c.splits for c in result.clips} == {"wave/a.avi": {}, "wave/b.avi": {"1": "test"}}


def test_duplicate_class_number_in_classind_is_reported_not_replacing(ucf_root: Path) -> None:
    (ucf_root / "testlist01.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi\n")
    (ucf_root / "classInd.txt").write_text("1 ApplyEyeMakeup\n2 Drumming\n2 Skiing\n3 Drumming\n")
    result = import_dataset("ucf101", ucf_root, probe=False)
    assert [c.name for c in result.classes] == ["ApplyEyeMakeup", "Drumming"]
    reasons = _reasons(result)
    assert reasons["classInd.txt:3"] == "class number 2 given again ('Skiing'); kept 'Drumming'"
    assert reasons["classInd.txt:4"] == "class 'Drumming' numbered again (3); kept number 2"


# ------------------------------------------------------------------ ActivityNet timestamps


def test_activitynet_timestamps_outside_negative_and_overlapping_are_fixed_and_noted(
    tmp_path: Path, write_clip: WriteClip
) -> None:
    root = tmp_path / "anet"
    write_clip(root / "v_one.mp4", frames=40)  # 4 s on disk
    captions = {
        "v_one": {
            "duration": 5.0,
            "timestamps": [[-1.0, 1.0], [0.5, 2.0], [3.0, 9.0], [6.0, 7.0]],
            "sentences": ["a", "b", "c", "d"],
        }
    }
    (root / "train.json").write_text(json.dumps(captions))
    result = import_dataset("activitynet", root)
    (clip,) = result.clips
    assert [(c.start, c.end) for c in clip.captions] == [(0.0, 1.0), (0.5, 2.0), (3.0, 4.0)]
    notes = [n.note for n in result.notes]
    assert "1 timestamp(s) start before 0 s; clamped to 0 s" in notes
    assert "1 sentence(s) start at or after the end of the video (5 s); dropped" in notes
    assert "1 sentence(s) overlap the one before; kept as they are" in notes
    assert "1 timestamp(s) end after the video (5 s); clamped to 5 s" in notes
    assert "1 timestamp(s) end after the video (4 s); clamped to 4 s (length of the video file)" in notes


# ------------------------------------------------------------------ tracebacks at import


def _kinetics(root: Path, write_clip: WriteClip, rows: str, *, bom: bool = False) -> Path:
    write_clip(root / "abc_000001_000011.mp4")
    write_clip(root / "def_000000_000010.mp4", seed=1)
    text = "label,youtube_id,time_start,time_end,split\n" + rows
    (root / "train.csv").write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return root


def test_kinetics_csv_with_byte_order_mark_keeps_its_labels(tmp_path: Path, write_clip: WriteClip) -> None:
    root = _kinetics(tmp_path / "k", write_clip, "jumping,abc,1,11,train\nwaving,def,0,10,val\n", bom=True)
    result = import_dataset("kinetics", root, probe=False)
    assert {c.class_name for c in result.clips} == {"jumping", "waving"}
    assert len(result.classes) == 2


def test_kinetics_unknown_split_is_reported_and_the_rest_imported(
    tmp_path: Path, write_clip: WriteClip
) -> None:
    root = _kinetics(tmp_path / "k", write_clip, "jumping,abc,1,11,holdout\nwaving,def,0,10,train\n")
    result = import_dataset("kinetics", root, probe=False)
    assert [c.name for c in result.clips] == ["def_000000_000010"]
    assert _reasons(result)["train.csv:2"] == "split 'holdout' is not train, val or test (or an alias of one)"
    with Workspace.create(tmp_path / "ws") as ws:
        assert ws.add_import(result).clips_added == 1


def test_catalog_refuses_a_foreign_role_in_one_line(tmp_path: Path) -> None:
    with Workspace.create(tmp_path / "ws") as ws, pytest.raises(WorkspaceError, match="split role 'holdout'"):
        ws.catalog.add_clips([ClipRecord("a", "a.mp4", None, {"official": "holdout"})], {})


@pytest.mark.parametrize("start", ["inf", "nan", "-5", "1e400"])
def test_kinetics_time_that_is_not_seconds_is_reported(
    tmp_path: Path, write_clip: WriteClip, start: str
) -> None:
    root = _kinetics(tmp_path / "k", write_clip, f"jumping,abc,{start},11,train\nwaving,def,0,10,train\n")
    result = import_dataset("kinetics", root, probe=False)
    assert [c.name for c in result.clips] == ["def_000000_000010"]
    assert _reasons(result)["train.csv:2"].startswith("malformed row (youtube_id/time_start/time_end")


def test_deeply_nested_workspace_json_is_one_line_in_every_command(folder_workspace: Path) -> None:
    (folder_workspace / "workspace.json").write_text(DEEP)
    with pytest.raises(WorkspaceError, match=r"workspace\.json is damaged \(nested too deeply"):
        Workspace.open(folder_workspace)
    for command in (["info"], ["extract", "--workers", "1"], ["query", "--text", "jump"]):
        done = subprocess.run(
            actionlens_command(command[0], "-w", str(folder_workspace), *command[1:]),
            capture_output=True,
            text=True,
            env=subprocess_env(),
            timeout=120,
        )
        assert done.returncode in (1, 2), (command, done.stderr)
        if done.returncode == 1:  # 2: that command's own argument check came first
            assert done.stderr.count("\n") == 1 and "nested too deeply" in done.stderr, done.stderr
            assert "Traceback" not in done.stderr


def test_read_json_names_the_file_of_deep_nesting(tmp_path: Path) -> None:
    path = tmp_path / "meta.json"
    path.write_text(DEEP)
    with pytest.raises(ActionLensError, match=rf"{path} is damaged \(nested too deeply.*\); train again"):
        read_json(path, "train again")


def test_deeply_nested_activitynet_captions_is_one_line(tmp_path: Path, write_clip: WriteClip) -> None:
    root = tmp_path / "anet"
    write_clip(root / "v_one.mp4")
    (root / "train.json").write_text(DEEP)
    with pytest.raises(ActionLensError, match=r"train\.json is nested too deeply to be a captions JSON"):
        import_dataset("activitynet", root)
