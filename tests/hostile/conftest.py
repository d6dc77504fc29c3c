"""Tiny generated datasets and workspaces for the hostile-input cases (no downloaded data)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

WIDTH, HEIGHT, FPS = 48, 32, 10.0
REPO = Path(__file__).resolve().parents[2]


def write_clip(path: Path, frames: int = 10, seed: int = 0, fps: float = FPS) -> Path:
    """A small ``mp4v`` clip of a bright square moving over noise (real frames, decodable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened(), f"cannot write {path}"
    rng = np.random.default_rng(seed)
    background = rng.integers(0, 80, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    for i in range(frames):
        frame = background.copy()
        x = (3 * i + 5 * seed) % (WIDTH - 10)
        frame[10:20, x : x + 10] = 255
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(name="write_clip")
def write_clip_fixture() -> Callable[..., Path]:
    """The :func:`write_clip` helper."""
    return write_clip


@pytest.fixture
def folder_dataset(tmp_path: Path) -> Path:
    """``data/<class>/<clip>.mp4``: 3 classes × 2 clips, for the folder importer."""
    data = tmp_path / "data"
    for k, cls in enumerate(("jump", "run", "wave")):
        for i in range(2):
            write_clip(data / cls / f"{cls}_{i}.mp4", frames=8 + i, seed=2 * k + i)
    return data


@pytest.fixture
def folder_workspace(tmp_path: Path, folder_dataset: Path) -> Path:
    """A workspace holding :func:`folder_dataset` (6 clips), built through the importer."""
    from desktop_app.data.importers import import_dataset
    from desktop_app.workspace import Workspace

    with Workspace.create(tmp_path / "ws") as ws:
        ws.add_import(import_dataset("folder", folder_dataset))
    return tmp_path / "ws"


def actionlens_command(*args: str) -> list[str]:
    """``python -m desktop_app ARGS``, run with this interpreter."""
    return [sys.executable, "-m", "desktop_app", *args]


def subprocess_env() -> dict[str, str]:
    """The environment for child processes: one thread each, this checkout first on the path."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        QT_QPA_PLATFORM="offscreen",
    )
    return env


HOLDER_SCRIPT = """
import sys
from pathlib import Path
from desktop_app.workspace.lock import WorkspaceLock
lock = WorkspaceLock(Path(sys.argv[1]), sys.argv[2])
lock.acquire()
print("held", flush=True)
sys.stdin.readline()
lock.release()
"""


@pytest.fixture
def hold_lock() -> Iterator[Callable[[Path, str], subprocess.Popen[str]]]:
    """``hold_lock(ws, resource)``: another process that holds the lock until its stdin closes."""
    started: list[subprocess.Popen[str]] = []

    def start(ws: Path, resource: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER_SCRIPT, str(ws), resource],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=30)
