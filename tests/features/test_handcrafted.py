"""Object-centred hand-crafted descriptors: dimensions, tracking, and that they see what they should."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from desktop_app.features.flow import OpticalFlow, flow_magnitude
from desktop_app.features.handcrafted import (
    APPEARANCE_DIM,
    DYNAMICS_DIM,
    KINEMATICS_DIM,
    MOTION_DIM,
    SHAPE_DIM,
    TRAJECTORY_OFFSETS,
    _box_transform,
    _crop,
    camera_motion,
    describe_clip,
    track_dominant_object,
)

H, W = 90, 120


def _background(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(60, 200, (6, 8, 3), dtype=np.uint8)
    return cv2.resize(coarse, (W + 40, H + 40), interpolation=cv2.INTER_CUBIC)


def _clip(shape: str, path: Sequence[tuple[float, float]], pan: int = 0) -> list[np.ndarray]:
    """Frames of one shape moving along ``path`` over a smooth background panned ``pan`` px a frame."""
    background = _background()
    frames = []
    for i, (x, y) in enumerate(path):
        frame = background[20 : 20 + H, 20 + i * pan : 20 + i * pan + W].copy()
        if shape == "disc":
            cv2.circle(frame, (int(x), int(y)), 9, (30, 40, 220), -1, cv2.LINE_AA)
        else:
            cv2.rectangle(frame, (int(x) - 9, int(y) - 4), (int(x) + 9, int(y) + 4), (30, 40, 220), -1)
        cv2.circle(frame, (int(W - 12 - 2 * i), 10), 3, (200, 200, 40), -1)  # a faint small distractor
        frames.append(np.ascontiguousarray(frame))
    return frames


def _flows(frames: list[np.ndarray]) -> list[np.ndarray]:
    flow = OpticalFlow("dis")
    grays = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
    return [flow(grays[t], grays[t + 1]) for t in range(len(grays) - 1)]


def test_dimensions_and_finiteness() -> None:
    frames = _clip("disc", [(30 + 5 * i, 50) for i in range(6)])
    out = describe_clip(frames, _flows(frames))
    assert out["appearance"].shape == (6, APPEARANCE_DIM) and out["motion"].shape == (6, MOTION_DIM)
    assert out["appearance"].dtype == np.float32 and out["motion"].dtype == np.float32
    assert np.all(np.isfinite(out["appearance"])) and np.all(np.isfinite(out["motion"]))
    single = describe_clip(frames[:1], [])  # one frame: zero flow, still the same widths
    assert single["motion"].shape == (1, MOTION_DIM) and single["appearance"].shape == (1, APPEARANCE_DIM)
    assert "appearance" not in describe_clip(frames, _flows(frames), appearance=False)


def test_tracker_follows_the_main_object_under_camera_pan() -> None:
    path = [(30 + 6 * i, 40 + 2 * i) for i in range(7)]
    frames = _clip("disc", path, pan=2)
    flows = _flows(frames)
    track = track_dominant_object(frames, flows)
    error = np.hypot(*(track.centres - np.asarray(path, np.float32)).T)
    assert float(np.median(error)) < 4.0
    assert np.all(track.sides >= 12) and np.all(track.sides < 60)
    # the background slides left by 2 px a frame: the camera's motion, not the object's
    assert abs(float(camera_motion(flows[0])[0]) + 2.0) < 0.75


def test_motion_separates_directions_and_appearance_separates_shapes() -> None:
    right = _clip("disc", [(30 + 6 * i, 45) for i in range(7)])
    left = _clip("disc", [(90 - 6 * i, 45) for i in range(7)])
    still = _clip("disc", [(60, 45)] * 7)
    assert flow_magnitude(_flows(right)[0]) > flow_magnitude(_flows(still)[0])
    m_right = describe_clip(right, _flows(right))["motion"].mean(0)
    m_left = describe_clip(left, _flows(left))["motion"].mean(0)
    m_right_again = describe_clip(right, _flows(right))["motion"].mean(0)
    assert np.array_equal(m_right, m_right_again)  # deterministic
    assert np.linalg.norm(m_right - m_left) > 0.5
    # the silhouette block (the last SHAPE_DIM values) ignores where the shape stands
    disc = describe_clip(still, _flows(still))["appearance"][:, -SHAPE_DIM:].mean(0)
    bar = _clip("bar", [(60, 45)] * 7)
    bar_desc = describe_clip(bar, _flows(bar))["appearance"][:, -SHAPE_DIM:].mean(0)
    other_disc = _clip("disc", [(40, 60)] * 7)  # same shape elsewhere in the frame
    disc_elsewhere = describe_clip(other_disc, _flows(other_disc))["appearance"][:, -SHAPE_DIM:].mean(0)
    assert np.linalg.norm(disc - bar_desc) > 2 * np.linalg.norm(disc - disc_elsewhere)


def test_tracker_keeps_the_object_salient_throughout_over_a_one_frame_distractor() -> None:
    path = [(30 + 5 * i, 45) for i in range(7)]
    frames = _clip("disc", path)
    # a larger, brighter square flashes once at the far corner: most salient in that frame only
    cv2.rectangle(frames[3], (95, 65), (117, 87), (255, 255, 255), -1)
    track = track_dominant_object(frames, _flows(frames))
    error = np.hypot(*(track.centres - np.asarray(path, np.float32)).T)
    assert float(error.max()) < 6.0


def test_motion_does_not_say_where_in_the_frame_the_object_is() -> None:
    # the same motion 30 px (a third of the frame) lower: the position block of the kinematics
    # (after the trajectory window) is where the box is relative to the clip's mean position, so
    # it stays the same; the frame position it replaced (version 3) differed by 0.33 in y
    high = _clip("disc", [(30 + 6 * i, 25) for i in range(7)])
    low = _clip("disc", [(30 + 6 * i, 55) for i in range(7)])
    first = MOTION_DIM - DYNAMICS_DIM - KINEMATICS_DIM + 2 * len(TRAJECTORY_OFFSETS)
    position = slice(first, first + 2)
    p_high = describe_clip(high, _flows(high))["motion"][:, position]
    p_low = describe_clip(low, _flows(low))["motion"][:, position]
    assert float(np.abs(p_high - p_low).max()) < 0.1


def test_a_box_over_the_frame_edge_is_padded_with_a_constant() -> None:
    # a disc at the left edge: the box reaches outside, where it shows the frame's mean colour
    frames = _clip("disc", [(4, 45)] * 4)
    crop = _crop(frames[0], _box_transform(np.array([4.0, 45.0], np.float32), 24.0), cv2.mean(frames[0])[:3])
    outside = crop[:, :2].reshape(-1, 3).astype(np.float32)
    assert np.allclose(outside, np.array(cv2.mean(frames[0])[:3], np.float32), atol=1.0)


def _turning_bar(
    degrees_per_frame: float, centre: tuple[float, float] = (60, 45), n: int = 8
) -> list[np.ndarray]:
    """A 24 × 8 bar turning about its centre (positive: clockwise on screen, image y down)."""
    frames = []
    for i in range(n):
        frame = _background()[20 : 20 + H, 20 : 20 + W].copy()
        corners = cv2.boxPoints((centre, (24, 8), degrees_per_frame * i)).astype(np.int32)
        cv2.fillPoly(frame, [corners], (30, 40, 220), cv2.LINE_AA)
        frames.append(frame)
    return frames


def _dynamics(frames: list[np.ndarray]) -> np.ndarray:
    return describe_clip(frames, _flows(frames), appearance=False)["motion"][:, MOTION_DIM - DYNAMICS_DIM :]


def test_dynamics_read_the_turn_of_a_spinning_object() -> None:
    # rotation is the 5th-last block: turn (rad / step), its size, confidence, 3-step mean, signed by travel
    rotation = DYNAMICS_DIM - 5
    clockwise = _dynamics(_turning_bar(12.0))[:, rotation]
    counter = _dynamics(_turning_bar(-12.0))[:, rotation]
    still = _dynamics(_turning_bar(0.0))[:, rotation]
    assert abs(float(np.median(clockwise)) - np.radians(12.0)) < np.radians(3.0)
    assert abs(float(np.median(counter)) + np.radians(12.0)) < np.radians(3.0)
    assert float(np.abs(np.median(still))) < np.radians(2.0)


def test_dynamics_are_changes_not_levels() -> None:
    # the same motion a third of the frame lower: the same typical velocity (the silhouette of
    # a disc on this textured background slips on single steps, hence medians over steps)
    high = _dynamics(_clip("disc", [(30 + 6 * i, 25) for i in range(7)]))
    low = _dynamics(_clip("disc", [(30 + 6 * i, 55) for i in range(7)]))
    assert float(np.abs(np.median(high[:, :4], axis=0) - np.median(low[:, :4], axis=0)).max()) < 0.25
    # velocity (first two columns: x, y in tanh(20 v / H)) says right, not up or down
    assert float(np.median(high[:, 0])) > 0.5 and float(np.abs(np.median(high[:, 1]))) < 0.1
    # a growing disc's log-area rate (column 13) is positive, a shrinking one's negative
    grow, shrink = [], []
    for radius in range(6, 16):
        frame = _background()[20 : 20 + H, 20 : 20 + W].copy()
        cv2.circle(frame, (60, 45), radius, (30, 40, 220), -1, cv2.LINE_AA)
        grow.append(frame)
    shrink = grow[::-1]
    assert float(np.median(_dynamics(grow)[:, 13])) > 0.5
    assert float(np.median(_dynamics(shrink)[:, 13])) < -0.5
