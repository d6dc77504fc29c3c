"""Tiny real workspaces for feature tests: a few generated videos plus deliberately broken files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop_app.data.records import ClassRecord, ClipRecord, VideoInfo
from desktop_app.data.video import VideoError, probe_video
from desktop_app.workspace import Workspace

WIDTH, HEIGHT = 96, 72


def write_video(
    path: Path, speeds: Sequence[float], fps: float = 25.0, colour: tuple[int, int, int] = (40, 200, 90)
) -> Path:
    """A textured square moving horizontally; ``speeds[i]`` is its displacement (px) into frame ``i``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened()
    rng = np.random.default_rng(len(speeds))
    background = rng.integers(0, 60, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    texture = rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)
    texture[:, :] = (texture * 0.5 + np.array(colour) * 0.5).astype(np.uint8)
    x = 5.0
    for speed in speeds:
        x = (x + speed) % (WIDTH - 25)
        frame = background.copy()
        xi = int(round(x))
        frame[26:46, xi : xi + 20] = texture
        writer.write(frame)
    writer.release()
    return path


def make_workspace(
    root: Path, clips: Sequence[tuple[str, str, str, dict[str, str]]], data_root: Path
) -> Workspace:
    """A workspace whose catalog lists ``(name, relative path, class, splits)`` clips under ``data_root``."""
    ws = Workspace.create(root / "ws")
    classes = sorted({c[2] for c in clips})
    class_ids = ws.catalog.add_classes(
        [ClassRecord(name=c, phrase=c.lower(), verb=None, noun=None) for c in classes]
    )
    ws.catalog.add_clips(
        [
            ClipRecord(name=n, path=p, class_name=c, splits=s, info=_probe(data_root / p))
            for n, p, c, s in clips
        ],
        class_ids,
    )
    ws.update_manifest(data_root=str(data_root))
    return ws


def _probe(path: Path) -> VideoInfo | None:
    try:
        return probe_video(path)
    except VideoError:
        return None


SPEEDS = {"Slow": 1.0, "Fast": 4.0, "Still": 0.0}


@pytest.fixture
def small_workspace(tmp_path: Path) -> Callable[..., Workspace]:
    """Factory: ``n_per_class`` clips of 3 classes (train/test split '1'), optional broken files."""

    built = 0

    def build(n_per_class: int = 3, broken: bool = False, splits: bool = True) -> Workspace:
        nonlocal built
        built += 1
        base = tmp_path / f"case{built}"
        data = base / "data dir ü"  # spaces and non-ASCII in the path on purpose
        clips = []
        for k, (cls, speed) in enumerate(SPEEDS.items()):
            for i in range(n_per_class):
                name = f"v_{cls}_g{i:02d}"
                rel = f"{cls}/{name}.mp4"
                write_video(data / rel, [speed] * (12 + 3 * i), colour=((60 * k) % 255, 120, 200 - 50 * k))
                role = "train" if i < n_per_class - 1 else "test"
                clips.append((name, rel, cls, {"1": role} if splits else {}))
        if broken:
            (data / "Broken").mkdir(parents=True)
            (data / "Broken" / "empty.mp4").write_bytes(b"")
            (data / "Broken" / "text.mp4").write_text("this is not a video\n")
            good = write_video(base / "whole.mp4", [2.0] * 40)
            blob = good.read_bytes()
            (data / "Broken" / "truncated.mp4").write_bytes(blob[: len(blob) // 3])
            (data / "Broken" / "folder.mp4").mkdir()
            for stem in ("empty", "text", "truncated", "folder"):
                clips.append(
                    (f"bad_{stem}", f"Broken/{stem}.mp4", "Broken", {"1": "train"} if splits else {})
                )
        return make_workspace(base, clips, data)

    return build


@pytest.fixture
def video_file() -> Callable[..., Path]:
    """The :func:`write_video` helper, as a fixture."""
    return write_video
