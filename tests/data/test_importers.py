"""Each importer on a tiny fake dataset in its own layout, with broken files among the good ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from desktop_app.data.importers import IMPORTERS, get_importer, import_dataset
from desktop_app.data.records import ImportResult
from desktop_app.errors import ActionLensError, TaskCancelled
from desktop_app.progress import ProgressBase

MakeVideo = Callable[..., Path]
MakeBad = Callable[[Path, str], Path]


def _clips(result: ImportResult) -> dict[str, tuple[str | None, dict[str, str]]]:
    return {clip.path: (clip.class_name, clip.splits) for clip in result.clips}


def _skipped(result: ImportResult) -> dict[str, str]:
    reasons: dict[str, str] = {}
    for item in result.skipped:
        assert item.path not in reasons, f"{item.path} reported twice"
        reasons[item.path] = item.reason
    return reasons


def _assert_classes(result: ImportResult, names: list[str]) -> None:
    from desktop_app.words.labels import normalise_label

    assert result.classes == [replace(normalise_label(name), index=i) for i, name in enumerate(names)]
    assert all(c.phrase for c in result.classes)


class RecordingProgress(ProgressBase):
    def __init__(self) -> None:
        super().__init__()
        self.fractions: list[float] = []

    def set_progress(self, fraction: float, message: str = "") -> None:
        super().set_progress(fraction, message)
        self.fractions.append(self.fraction)


# ---------------------------------------------------------------------------------------- UCF101


@pytest.fixture
def ucf101_root(tmp_path: Path, write_video: MakeVideo, make_bad_file: MakeBad) -> Path:
    root = tmp_path / "UCF 101 ü"
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    # The official lists end lines with CRLF.
    (lists / "classInd.txt").write_bytes(b"1 ApplyEyeMakeup\r\n2 BoxingPunchingBag\r\n3 Drumming\r\n")
    (lists / "trainlist01.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1\r\n"
        "BoxingPunchingBag/v_BoxingPunchingBag_g01_c01.avi 2\r\n"
        "BoxingPunchingBag/v_BoxingPunchingBag_g02_c01.avi 2\r\n"
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g09_c01.avi 1\r\n"
        "Skiing/v_Skiing_g01_c01.avi 4\r\n",
        encoding="utf-8",
    )
    (lists / "testlist01.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi\r\nDrumming/v_Drumming_g01_c01.mp4\r\n\r\n",
        encoding="utf-8",
    )
    (lists / "trainlist02.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi 1\n", encoding="utf-8"
    )
    (lists / "testlist02.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\n", encoding="utf-8")
    (lists / "trainlist03.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g03_c01.avi 2\n", encoding="utf-8"
    )

    apply = root / "ApplyEyeMakeup"
    for group in ("g01", "g02", "g03"):
        write_video(apply / f"v_ApplyEyeMakeup_{group}_c01.avi")
    write_video(apply / "v_ApplyEyeMakeup g04 é.avi")  # unicode and spaces, listed nowhere
    boxing = root / "BoxingPunchingBag"
    write_video(boxing / "v_BoxingPunchingBag_g01_c01.avi")
    make_bad_file(boxing / "v_BoxingPunchingBag_g02_c01.avi", "empty")
    make_bad_file(boxing / "v_BoxingPunchingBag_g03_c01.mp4", "truncated")
    make_bad_file(boxing / "v_BoxingPunchingBag_g05_c01.mp4", "text")
    make_bad_file(boxing / "v_BoxingPunchingBag_g06_c01.avi", "directory")
    (boxing / "notes.txt").write_text("not a clip", encoding="utf-8")
    (boxing / ".DS_Store").write_bytes(b"\0")
    make_bad_file(root / "Drumming" / "v_Drumming_g01_c01.mp4", "truncated")
    write_video(root / "Juggling" / "v_Juggling_g01_c01.avi")
    return root


def test_ucf101_imports_good_clips_with_their_splits(ucf101_root: Path) -> None:
    result = get_importer("ucf101")(ucf101_root, max_workers=2)
    assert result.dataset == "ucf101"
    assert result.data_root == str(ucf101_root.resolve())
    assert _clips(result) == {
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi": ("ApplyEyeMakeup", {"1": "train", "2": "test"}),
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi": ("ApplyEyeMakeup", {"1": "test", "2": "train"}),
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g03_c01.avi": ("ApplyEyeMakeup", {}),
        "ApplyEyeMakeup/v_ApplyEyeMakeup g04 é.avi": ("ApplyEyeMakeup", {}),
        "BoxingPunchingBag/v_BoxingPunchingBag_g01_c01.avi": ("BoxingPunchingBag", {"1": "train"}),
    }
    assert {clip.name for clip in result.clips} >= {"v_ApplyEyeMakeup_g01_c01", "v_ApplyEyeMakeup g04 é"}
    assert all(clip.info is not None and clip.info.frame_count == 8 for clip in result.clips)
    # Drumming lost its only clip; the order is classInd's.
    _assert_classes(result, ["ApplyEyeMakeup", "BoxingPunchingBag"])

    skipped = _skipped(result)
    assert skipped["ApplyEyeMakeup/v_ApplyEyeMakeup_g09_c01.avi"] == "listed in trainlist01.txt but missing"
    assert "not in classInd" in skipped["Skiing/v_Skiing_g01_c01.avi"]
    assert "disagrees" in skipped["ApplyEyeMakeup/v_ApplyEyeMakeup_g03_c01.avi"]
    assert skipped["BoxingPunchingBag/v_BoxingPunchingBag_g02_c01.avi"] == "empty file"
    assert skipped["BoxingPunchingBag/v_BoxingPunchingBag_g03_c01.mp4"].startswith("not a video")
    assert skipped["BoxingPunchingBag/v_BoxingPunchingBag_g05_c01.mp4"].startswith("not a video")
    assert skipped["BoxingPunchingBag/v_BoxingPunchingBag_g06_c01.avi"] == "a directory, not a video file"
    assert skipped["BoxingPunchingBag/notes.txt"].startswith("not a video file")
    assert skipped["Drumming/v_Drumming_g01_c01.mp4"].startswith("not a video")
    # A folder that classInd.txt does not list is reported once, not once per video.
    assert skipped["Juggling/"] == "1 videos in a class folder that is not in classInd.txt"
    assert len(skipped) == 10


def test_ucf101_without_probing_keeps_undecoded_files(ucf101_root: Path) -> None:
    result = get_importer("ucf101")(ucf101_root, probe=False)
    clips = _clips(result)
    assert all(clip.info is None for clip in result.clips)
    # Not decoded, so the truncated and text files pass; stat-level faults are still refused.
    assert "BoxingPunchingBag/v_BoxingPunchingBag_g03_c01.mp4" in clips
    assert "BoxingPunchingBag/v_BoxingPunchingBag_g02_c01.avi" not in clips
    assert _skipped(result)["BoxingPunchingBag/v_BoxingPunchingBag_g02_c01.avi"] == "empty file"
    _assert_classes(result, ["ApplyEyeMakeup", "BoxingPunchingBag", "Drumming"])


def test_ucf101_official_zip_layout_and_flat_lists(tmp_path: Path, make_video: MakeVideo) -> None:
    root = tmp_path / "ucf"
    make_video(root / "UCF-101" / "Biking" / "v_Biking_g01_c01.mp4")
    make_video(root / "UCF-101" / "Archery" / "v_Archery_g01_c01.mp4")
    (root / "classInd.txt").write_text("1 Archery\n2 Biking\n", encoding="utf-8")
    (root / "trainlist01.txt").write_text("Biking/v_Biking_g01_c01.mp4 2\n", encoding="utf-8")
    (root / "testlist01.txt").write_text(
        "Archery/v_Archery_g01_c01.mp4\nSki/v_Ski_g01_c01.avi\n", encoding="utf-8"
    )
    (root / "testlist02.txt").write_text("Ski/v_Ski_g01_c01.avi\n", encoding="utf-8")
    result = get_importer("ucf101")(root)
    assert _clips(result) == {
        "UCF-101/Archery/v_Archery_g01_c01.mp4": ("Archery", {"1": "test"}),
        "UCF-101/Biking/v_Biking_g01_c01.mp4": ("Biking", {"1": "train"}),
    }
    # Reported once, with its path under the data root.
    assert _skipped(result) == {
        "UCF-101/Ski/v_Ski_g01_c01.avi": "class 'Ski' in testlist01.txt is not in classInd.txt"
    }
    with pytest.raises(ActionLensError, match="splits_dir"):
        get_importer("ucf101")(root, splits_dir=root / "nowhere")
    _assert_classes(result, ["Archery", "Biking"])


# ---------------------------------------------------------------------------------------- HMDB51


@pytest.fixture
def hmdb51_root(tmp_path: Path, write_video: MakeVideo, make_bad_file: MakeBad) -> Path:
    root = tmp_path / "hmdb51"
    for name in ("a.avi", "b.avi", "d é f.avi"):
        write_video(root / "brush_hair" / name)
    make_bad_file(root / "brush_hair" / "c.avi", "empty")
    write_video(root / "cartwheel" / "x.avi")
    make_bad_file(root / "cartwheel" / "y.mp4", "text")
    make_bad_file(root / "cartwheel" / "z.avi", "directory")
    make_bad_file(root / "cartwheel" / "t.mp4", "truncated")
    splits = root / "testTrainMulti_7030_splits"
    splits.mkdir()
    (splits / "brush_hair_test_split1.txt").write_text(
        "a.avi 1 \nb.avi 2 \nc.avi 1 \nmissing.avi 1 \nunused_missing.avi 0 \n", encoding="utf-8"
    )
    (splits / "brush_hair_test_split2.txt").write_text("a.avi 2\nb.avi 0\n", encoding="utf-8")
    (splits / "cartwheel_test_split1.txt").write_text("x.avi 1\nt.mp4 2\nx.avi 7\n", encoding="utf-8")
    (splits / "climb_test_split1.txt").write_text("gone.avi 2\n", encoding="utf-8")
    return root


def test_hmdb51_imports_good_clips_with_their_splits(hmdb51_root: Path) -> None:
    result = get_importer("hmdb51")(hmdb51_root)
    assert _clips(result) == {
        "brush_hair/a.avi": ("brush_hair", {"1": "train", "2": "test"}),
        "brush_hair/b.avi": ("brush_hair", {"1": "test"}),
        "brush_hair/d é f.avi": ("brush_hair", {}),
        "cartwheel/x.avi": ("cartwheel", {"1": "train"}),
    }
    _assert_classes(result, ["brush_hair", "cartwheel"])
    skipped = _skipped(result)
    assert skipped.pop("brush_hair/c.avi") == "empty file"
    assert skipped.pop("brush_hair/missing.avi") == "listed in brush_hair_test_split1.txt but missing"
    assert skipped.pop("climb/gone.avi") == "listed in climb_test_split1.txt but missing"
    assert skipped.pop("cartwheel/y.mp4").startswith("not a video")
    assert skipped.pop("cartwheel/t.mp4").startswith("not a video")
    assert skipped.pop("cartwheel/z.avi") == "a directory, not a video file"
    assert skipped.pop("cartwheel_test_split1.txt:3").startswith("malformed line")
    assert skipped == {}  # unused_missing.avi is marked 0: nothing to report


def test_hmdb51_splits_dir_option(tmp_path: Path, make_video: MakeVideo) -> None:
    root = tmp_path / "videos"
    make_video(root / "kiss" / "k1.mp4")
    elsewhere = tmp_path / "my splits"
    elsewhere.mkdir()
    (elsewhere / "kiss_test_split3.txt").write_text("k1.mp4 2\n", encoding="utf-8")
    result = get_importer("hmdb51")(root, splits_dir=elsewhere)
    assert _clips(result) == {"kiss/k1.mp4": ("kiss", {"3": "test"})}


# -------------------------------------------------------------------------------------- Kinetics


@pytest.fixture
def kinetics_root(
    tmp_path: Path, make_video: MakeVideo, write_video: MakeVideo, make_bad_file: MakeBad
) -> Path:
    root = tmp_path / "kinetics"
    make_video(root / "train" / "abseiling" / "aaa_000010_000020.mp4")
    make_video(root / "air drumming" / "bbb_000000_000010.mp4")
    write_video(root / "ccc_000005_000015.avi")
    make_bad_file(root / "train" / "air drumming" / "eee_000002_000012.mp4", "truncated")
    make_bad_file(root / "train" / "zumba" / "fff_000003_000013.mp4", "text")
    make_bad_file(root / "train" / "zumba" / "ggg_000004_000014.mp4", "directory")
    make_video(root / "train" / "café dancing" / "iii_000000_000010.mp4")
    make_video(root / "train" / "abseiling" / "zzz_000000_000010.mp4")
    (root / "kinetics_400.csv").write_text(
        "label,youtube_id,time_start,time_end,split,is_cc\n"
        "abseiling,aaa,10,20,train,0\n"
        "air drumming,bbb,0,10,validate,0\n"
        "abseiling,ccc,5.0,15.0,test,0\n"
        "abseiling,ddd,1,11,train,0\n"
        "air drumming,eee,2,12,train,0\n"
        "zumba,fff,3,13,train,0\n"
        "zumba,ggg,4,14,train,0\n"
        "abseiling,aaa,10,20,train,0\n"
        "abseiling,hhh,x,20,train,0\n"
        "café dancing,iii,0,10,train,1\n",
        encoding="utf-8",
    )
    return root


def test_kinetics_imports_listed_clips_from_any_layout(kinetics_root: Path) -> None:
    result = get_importer("kinetics")(kinetics_root)
    assert _clips(result) == {
        "train/abseiling/aaa_000010_000020.mp4": ("abseiling", {"official": "train"}),
        "air drumming/bbb_000000_000010.mp4": ("air drumming", {"official": "val"}),
        "ccc_000005_000015.avi": ("abseiling", {"official": "test"}),
        "train/café dancing/iii_000000_000010.mp4": ("café dancing", {"official": "train"}),
    }
    assert {clip.name for clip in result.clips} == {
        "aaa_000010_000020",
        "bbb_000000_000010",
        "ccc_000005_000015",
        "iii_000000_000010",
    }
    _assert_classes(result, ["abseiling", "air drumming", "café dancing"])
    skipped = _skipped(result)
    assert skipped.pop("ddd_000001_000011.mp4") == "listed in kinetics_400.csv but missing"
    assert skipped.pop("train/air drumming/eee_000002_000012.mp4").startswith("not a video")
    assert skipped.pop("train/zumba/fff_000003_000013.mp4").startswith("not a video")
    assert skipped.pop("train/zumba/ggg_000004_000014.mp4") == "a directory, not a video file"
    assert skipped.pop("kinetics_400.csv:9").startswith("duplicate row")
    assert skipped.pop("kinetics_400.csv:10").startswith("malformed row")
    assert skipped.pop("train/abseiling/zzz_000000_000010.mp4") == "not listed in the CSV"
    assert skipped == {}


def test_kinetics_csv_option_and_split_from_file_name(tmp_path: Path, make_video: MakeVideo) -> None:
    root = tmp_path / "k"
    make_video(root / "abc_000000_000010.mp4")
    annotations = tmp_path / "annotations" / "validate.csv"
    annotations.parent.mkdir()
    annotations.write_text("youtube_id,time_start,time_end\nabc,0,10\n", encoding="utf-8")
    with pytest.raises(ActionLensError, match="no Kinetics CSV"):
        get_importer("kinetics")(root)
    result = get_importer("kinetics")(root, csv=annotations)
    assert _clips(result) == {"abc_000000_000010.mp4": (None, {"official": "val"})}
    assert result.classes == []


# ----------------------------------------------------------------------------------- ActivityNet


def _paragraph(n: int, sentences: int | None = None) -> dict[str, object]:
    return {
        "duration": 10.0,
        "timestamps": [[float(i), float(i) + 1.5] for i in range(n)],
        "sentences": [f" Sentence {i} of the story. " for i in range(n if sentences is None else sentences)],
    }


@pytest.fixture
def activitynet_root(tmp_path: Path, make_video: MakeVideo, make_bad_file: MakeBad) -> Path:
    root = tmp_path / "activitynet"
    captions = root / "captions"
    captions.mkdir(parents=True)
    train = {
        "v_aaa": {
            "duration": 3.0,
            "timestamps": [[0, 1.0], [2.5, 0.5]],
            "sentences": ["A man walks.", " He sits. "],
        },
        "v_bbb": _paragraph(2, sentences=3),
        "v_ccc": _paragraph(1),
        "v_ddd": _paragraph(1),
        "v_fff é": _paragraph(2),
    }
    (captions / "train.json").write_text(json.dumps(train), encoding="utf-8")
    (captions / "val_1.json").write_text(json.dumps({"v_eee": _paragraph(3)}), encoding="utf-8")
    (captions / "val_2.json").write_text(json.dumps({"v_eee": _paragraph(1)}), encoding="utf-8")
    make_video(root / "v_aaa.mp4")
    make_video(root / "stories" / "v_bbb.mp4")
    make_bad_file(root / "v_ddd.mp4", "truncated")
    make_video(root / "videos" / "eee.mp4", frames=40)  # 4 s: all three sentences lie inside
    make_video(root / "videos" / "v_fff é.mp4")
    make_video(root / "videos" / "v_unlisted.mp4")
    return root


def test_activitynet_imports_videos_with_captions(activitynet_root: Path) -> None:
    result = get_importer("activitynet")(activitynet_root)
    assert _clips(result) == {
        "v_aaa.mp4": (None, {"official": "train"}),
        "videos/v_fff é.mp4": (None, {"official": "train"}),
        "videos/eee.mp4": (None, {"official": "val"}),
    }
    by_name = {clip.name: clip for clip in result.clips}
    # The JSON says 3 s; the file has 8 frames at 10 fps: stamps are clamped to its 0.8 s, and noted.
    assert [(c.start, c.end, c.sentence) for c in by_name["v_aaa"].captions] == [
        (0.0, 0.8, "A man walks."),
        (0.5, 0.8, "He sits."),
    ]
    assert {(n.path, n.note) for n in result.notes} >= {
        (
            "v_aaa.mp4",
            "2 timestamp(s) end after the video (0.8 s); clamped to 0.8 s (length of the video file)",
        )
    }
    assert len(by_name["v_eee"].captions) == 3  # val_1's paragraph, not val_2's
    assert result.classes == []
    skipped = _skipped(result)
    assert skipped.pop("train.json:v_bbb") == "2 timestamps but 3 sentences"
    assert skipped.pop("v_ccc.mp4") == "listed in train.json but missing"
    assert skipped.pop("v_ddd.mp4").startswith("not a video")
    assert skipped.pop("val_2.json:v_eee") == "second caption set; kept val_1.json"
    assert skipped.pop("videos/v_unlisted.mp4") == "not listed in any captions JSON"
    assert skipped == {}


def test_activitynet_without_json_is_an_error(tmp_path: Path, make_video: MakeVideo) -> None:
    make_video(tmp_path / "v_x.mp4")
    with pytest.raises(ActionLensError, match="no captions JSON"):
        get_importer("activitynet")(tmp_path)


# ---------------------------------------------------------------------------------------- folder


def test_folder_imports_class_folders(tmp_path: Path, make_video: MakeVideo, make_bad_file: MakeBad) -> None:
    root = tmp_path / "my clips"
    make_video(root / "juggle" / "a.mp4")
    make_video(root / "juggle" / "session 2" / "b.mp4")
    make_video(root / "spin" / "a.mp4")
    make_video(root / "spin" / "ü c.mp4")
    make_bad_file(root / "spin" / "bad.avi", "empty")
    make_bad_file(root / "spin" / "broken.mp4", "truncated")
    make_bad_file(root / "spin" / "fake.mp4", "text")
    make_bad_file(root / "spin" / "folder.mkv", "directory")
    (root / "spin" / "readme.txt").write_text("hello", encoding="utf-8")
    make_video(root / "loose.mp4")
    make_video(root / ".hidden" / "x.mp4")
    make_video(root / "___" / "q.mp4")  # a class name with no words cannot be embedded
    result = import_dataset("folder", root)
    assert _clips(result) == {
        "juggle/a.mp4": ("juggle", {}),
        "juggle/session 2/b.mp4": ("juggle", {}),
        "spin/a.mp4": ("spin", {}),
        "spin/ü c.mp4": ("spin", {}),
    }
    # Two clips named "a": their names fall back to the path, so names stay unique.
    assert sorted(clip.name for clip in result.clips) == ["b", "juggle/a", "spin/a", "ü c"]
    _assert_classes(result, ["juggle", "spin"])
    skipped = _skipped(result)
    assert skipped.pop("spin/bad.avi") == "empty file"
    assert skipped.pop("spin/broken.mp4").startswith("not a video")
    assert skipped.pop("spin/fake.mp4").startswith("not a video")
    assert skipped.pop("spin/folder.mkv") == "a directory, not a video file"
    assert skipped.pop("spin/readme.txt").startswith("not a video file")
    assert skipped.pop("loose.mp4") == "not inside a class folder"
    assert "has no words" in skipped.pop("___/q.mp4")
    assert skipped == {}


# ------------------------------------------------------------------------ registry and progress


def test_registry_names_and_errors(tmp_path: Path) -> None:
    assert set(IMPORTERS) == {"ucf101", "hmdb51", "kinetics", "activitynet", "folder"}
    assert get_importer(" UCF101 ") is IMPORTERS["ucf101"]
    with pytest.raises(ActionLensError, match="ucf101, hmdb51, kinetics, activitynet, folder"):
        get_importer("sports1m")
    with pytest.raises(ActionLensError, match="unknown option"):
        get_importer("folder")(tmp_path, splits_dir=tmp_path)
    with pytest.raises(ActionLensError, match="not a folder"):
        get_importer("folder")(tmp_path / "nowhere")


def test_progress_reaches_one_and_cancel_stops(tmp_path: Path, make_video: MakeVideo) -> None:
    for i in range(6):
        make_video(tmp_path / "walk" / f"{i}.mp4")
    progress = RecordingProgress()
    result = import_dataset("folder", tmp_path, progress=progress, max_workers=3)
    assert len(result.clips) == 6
    assert progress.fractions[-1] == 1.0
    assert progress.fractions == sorted(progress.fractions)

    cancelled = RecordingProgress()
    cancelled.cancel()
    with pytest.raises(TaskCancelled):
        import_dataset("folder", tmp_path, progress=cancelled)
