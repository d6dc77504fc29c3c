"""Fixtures that write tiny real videos (and broken ones) into ``tmp_path``."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

VIDEO_WIDTH, VIDEO_HEIGHT, VIDEO_FRAMES, VIDEO_FPS = 32, 24, 8, 10.0


def write_video(
    path: Path,
    *,
    frames: int = VIDEO_FRAMES,
    width: int = VIDEO_WIDTH,
    height: int = VIDEO_HEIGHT,
    fps: float = VIDEO_FPS,
    seed: int = 0,
) -> Path:
    """Write an MPEG-4 Part 2 (``mp4v``) video of moving noise; ``.avi`` and ``.mp4`` both work."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened(), f"cannot write {path}"
    rng = np.random.default_rng(seed)
    for _ in range(frames):
        writer.write(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    writer.release()
    return path


@pytest.fixture(name="write_video")
def write_video_fixture() -> Callable[..., Path]:
    """The :func:`write_video` function, for tests that encode videos of their own."""
    return write_video


@pytest.fixture(scope="session")
def reference_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real 8-frame 32×24 mp4, written once; copy it rather than re-encoding."""
    return write_video(tmp_path_factory.mktemp("reference") / "reference.mp4")


@pytest.fixture
def make_video(reference_mp4: Path) -> Callable[..., Path]:
    """``make_video(path, **write_video_kwargs)``: a real video at ``path``.

    With no keyword arguments and an ``.mp4`` name it copies the reference clip (fast); otherwise
    it encodes a new one.
    """

    def make(path: Path, **kwargs: object) -> Path:
        if not kwargs and path.suffix == ".mp4":
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(reference_mp4, path)
            return path
        return write_video(path, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_bad_file(reference_mp4: Path) -> Callable[[Path, str], Path]:
    """``make_bad_file(path, kind)`` with kind ``empty``, ``truncated``, ``text`` or ``directory``."""

    def make(path: Path, kind: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "empty":
            path.write_bytes(b"")
        elif kind == "truncated":  # the header of a real mp4 without its frames or index
            path.write_bytes(reference_mp4.read_bytes()[:200])
        elif kind == "text":
            path.write_text("this is not a video\n", encoding="utf-8")
        elif kind == "directory":
            path.mkdir()
        else:
            raise ValueError(kind)
        return path

    return make
