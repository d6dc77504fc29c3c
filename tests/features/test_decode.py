"""Decoding, fixed-rate and adaptive sampling on small generated videos and broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_app.data.video import VideoError
from desktop_app.features.decode import Sampling, adaptive_indices, decode_frames, sample_clip


def test_fixed_rate_sampling_takes_ten_frames_per_second(tmp_path: Path, video_file) -> None:
    path = video_file(tmp_path / "a b ü.mp4", [1.0] * 50, fps=25.0)  # 2 s
    clip = decode_frames(path, rate=10.0, work_width=80)
    assert len(clip.frames) == 20
    assert clip.frames_decoded == 50
    assert clip.frames[0].shape == (60, 80, 3)
    assert np.all(np.diff(clip.times) > 0.079)
    assert clip.size == (96, 72)


def test_steps_clip_long_sequences(tmp_path: Path, video_file) -> None:
    path = video_file(tmp_path / "a.mp4", [1.0] * 50)
    clip = sample_clip(path, Sampling(fps=10.0, steps=7))
    assert len(clip.frames) == 7


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_text("not a video at all"), "not a video"),
        (lambda p: p.mkdir(), "a directory"),
        (lambda p: None, "file not found"),
    ],
)
def test_broken_files_raise_video_error_with_reason(tmp_path: Path, video_file, make, reason: str) -> None:
    path = tmp_path / "broken.mp4"
    make(path)
    with pytest.raises(VideoError) as info:
        decode_frames(path, rate=10.0)
    assert reason in info.value.reason


def test_truncated_file_gives_its_readable_frames_or_a_clear_error(tmp_path: Path, video_file) -> None:
    good = video_file(tmp_path / "good.mp4", [2.0] * 60)
    blob = good.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(blob[: len(blob) // 2])
    try:
        clip = decode_frames(cut, rate=10.0)
    except VideoError as err:  # mp4 keeps its index at the end: a cut file may not open at all
        assert err.reason
    else:
        assert 0 < len(clip.frames) <= 24


def test_adaptive_indices_follow_motion() -> None:
    motion = np.array([0.0] * 50 + [5.0] * 50)
    chosen = adaptive_indices(motion, 20)
    assert (chosen >= 50).sum() > 3 * (chosen < 50).sum()
    assert (chosen < 50).sum() >= 1  # the floor keeps still segments represented
    even = adaptive_indices(np.ones(100), 10)
    assert len(even) == 10 and np.all(np.diff(even) == 10)


def test_adaptive_sampling_takes_more_frames_in_fast_segments(tmp_path: Path, video_file) -> None:
    speeds = [0.0] * 40 + [5.0] * 40  # still for 1.6 s, then fast
    path = video_file(tmp_path / "mixed.mp4", speeds, fps=25.0)
    clip = sample_clip(path, Sampling(fps=10.0, adaptive=True))
    fast = int((clip.times >= 1.6).sum())
    slow = int((clip.times < 1.6).sum())
    assert fast > 2 * slow
    assert 8 <= len(clip.frames) <= 32
    fixed = sample_clip(path, Sampling(fps=10.0))
    assert int((fixed.times >= 1.6).sum()) <= int((fixed.times < 1.6).sum()) + 1
