"""The demo generator's anomalies option (seed 003 §VII): impossible motions, marked, by seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from desktop_app.data.demo import generate_demo_dataset, plan_anomalies, plan_clips
from desktop_app.data.demo_scenes import (
    ANOMALY_KINDS,
    DEMO_NOUNS,
    DEMO_VERBS,
    Anomaly,
    apply_anomaly,
    clip_objects,
)
from desktop_app.errors import ActionLensError

W, H, FPS, N = 160, 120, 15.0, 38


def _main(verb: str, seed: int):
    rng = np.random.default_rng(seed)
    return clip_objects(
        verb, DEMO_NOUNS[seed % len(DEMO_NOUNS)], W, H, FPS, N, 120.0, rng, distractors=False
    )[0]


def _steps(traj) -> np.ndarray:
    return np.hypot(np.diff(traj.x), np.diff(traj.y))


@pytest.fixture(scope="module")
def largest_normal_step() -> float:
    """The largest frame-to-frame move of any normal main object, over every verb."""
    return max(float(_steps(_main(v, s)[1]).max()) for v in DEMO_VERBS for s in range(6))


@pytest.mark.parametrize("verb", ["fall", "roll", "orbit", "shake"])
def test_a_teleport_jumps_further_than_any_normal_step(verb: str, largest_normal_step: float) -> None:
    main = _main(verb, 3)
    (_, traj), *rest = apply_anomaly(main, Anomaly("teleport", 17, seed=5), W, H)
    steps = _steps(traj)
    assert not rest
    assert steps.argmax() == 16  # between frames 16 and 17
    assert steps.max() > 1.5 * largest_normal_step
    # the rest of the clip moves as before, only elsewhere
    assert np.allclose(np.diff(traj.x)[:16], np.diff(main[1].x)[:16])


def test_antigravity_accelerates_upwards_from_the_onset() -> None:
    main = _main("fall", 2)
    (_, traj), *_ = apply_anomaly(main, Anomaly("antigravity", 12, seed=1), W, H)
    assert np.array_equal(traj.y[:13], main[1].y[:13])
    lift = main[1].y - traj.y  # how far above its normal path it is
    assert lift[-1] > 0.3 * H or traj.y[-1] <= traj.y.min() + 1e-9  # it climbed (or reached the top)
    assert (np.diff(lift[12:]) >= -1e-9).all()  # and never sank back
    # a fall's vertical acceleration is downwards (+y); after the onset it is upwards
    accel = np.diff(traj.y[12:20], 2)
    assert (accel < 0).mean() > 0.5


def test_a_split_adds_a_twin_that_flies_apart() -> None:
    main = _main("spin", 4)
    (s1, a), (s2, b) = apply_anomaly(main, Anomaly("split", 15, seed=2), W, H)
    assert s1 == s2 == main[0]  # the same look: one object became two
    assert not b.visible[:15].any() and b.visible[15:].all()
    gap = np.abs(a.x - b.x)
    assert gap[15] < 1e-6 and gap[-1] > 0.3 * W
    assert a.facts["anomaly"] == "split"


def test_plan_is_deterministic_and_leaves_the_default_demo_unchanged() -> None:
    default = plan_clips("small", seed=0)
    assert plan_clips("small", seed=0, anomalies=0.0) == default
    assert all(c.anomaly is None for c in default)
    marked = plan_clips("small", seed=0, anomalies=0.05)
    anomalous = [c for c in marked if c.anomaly is not None]
    assert len(anomalous) == round(0.05 * len(default))
    assert [c.anomaly.kind for c in anomalous][:3] == list(ANOMALY_KINDS)
    assert plan_anomalies(default, 0.05, 0) == plan_anomalies(default, 0.05, 0)
    assert plan_anomalies(default, 0.05, 1) != plan_anomalies(default, 0.05, 0)
    # everything else about each clip is its default plan
    assert [(c.path, c.n_frames, c.split) for c in marked] == [(c.path, c.n_frames, c.split) for c in default]
    for c in anomalous:
        assert 0.3 * c.n_frames <= c.anomaly.onset <= 0.7 * c.n_frames
    with pytest.raises(ActionLensError, match=r"between 0 and 0\.5"):
        plan_anomalies(default, 0.9, 0)


def test_generated_anomalies_are_listed_marked_and_only_they_differ(tmp_path: Path) -> None:
    from desktop_app.data.importers import get_importer
    from desktop_app.evaluation.anomaly import mark_demo_anomalies
    from desktop_app.workspace import building

    plain = generate_demo_dataset(tmp_path / "plain", "tiny", seed=0)
    odd = generate_demo_dataset(tmp_path / "odd", "tiny", seed=0, anomalies=0.25)
    assert plain.n_anomalies == 0 and odd.n_anomalies == 6
    index = json.loads((tmp_path / "odd" / "demo.json").read_text())
    listed = {e["path"]: e["kind"] for e in index["anomalies"]}
    assert len(listed) == 6 and set(listed.values()) == set(ANOMALY_KINDS)
    assert "anomalies" not in json.loads((tmp_path / "plain" / "demo.json").read_text())
    for clip in index["clips"]:
        same = (tmp_path / "plain" / clip["path"]).read_bytes() == (
            tmp_path / "odd" / clip["path"]
        ).read_bytes()
        assert same == (clip["path"] not in listed), clip["path"]

    result = get_importer("ucf101")(tmp_path / "odd")
    with building(tmp_path / "ws", dataset="ucf101") as ws:
        ws.add_import(result)
        assert mark_demo_anomalies(ws, tmp_path / "odd") == 6
        ids, kinds = ws.catalog.anomaly_marks()
        by_id = {c.id: c.path for c in ws.catalog.iter_clips()}
        assert {by_id[int(i)]: k for i, k in zip(ids, kinds, strict=True)} == listed
    with building(tmp_path / "ws2", dataset="ucf101") as ws:
        ws.add_import(get_importer("ucf101")(tmp_path / "plain"))
        assert mark_demo_anomalies(ws, tmp_path / "plain") == 0
        assert len(ws.catalog.anomaly_marks()[0]) == 0
