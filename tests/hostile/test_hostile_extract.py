"""Extraction that meets a file replaced since import, and a parent killed with ``SIGKILL``."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.workspace import Workspace

from .conftest import actionlens_command, subprocess_env, write_clip


def test_video_replaced_after_import_is_reported_not_extracted(
    folder_workspace: Path, folder_dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another video under an imported clip's name would get the catalog's label: the clip is
    marked bad, naming the change, and every other clip is extracted."""
    replaced = folder_dataset / "jump" / "jump_0.mp4"
    write_clip(replaced, frames=12, seed=17)  # the same name, another video
    rc = main(["extract", "--workspace", str(folder_workspace), "--workers", "1"])
    err = capsys.readouterr().err
    assert rc == 0
    assert "bad clip jump_0" in err and "changed since it was imported" in err
    with Workspace.open(folder_workspace) as ws:
        bad = [c for c in ws.catalog.iter_clips() if c.status != "ok"]
        assert [c.name for c in bad] == ["jump_0"]
        assert "content hash" in (bad[0].status_reason or "")
        assert len(ws.catalog.clips(status="ok")) == 5


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_extract_killed_with_sigkill_leaves_no_worker_behind(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for k in range(2):
        for i in range(8):
            write_clip(data / f"c{k}" / f"c{k}_{i}.mp4", frames=40, seed=10 * k + i)
    assert main(["import", "folder", str(data), "--workspace", str(tmp_path / "ws")]) == 0
    proc = subprocess.Popen(
        actionlens_command("extract", "--workspace", str(tmp_path / "ws"), "--workers", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=subprocess_env(),
    )
    try:
        # the pool's workers (and multiprocessing's resource tracker) are children of the command
        assert _wait_for(lambda: len(_children(proc.pid)) >= 2, 120), "the pool never started"
        children = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert _wait_for(lambda: not any(_alive(c) for c in children), 60), [c for c in children if _alive(c)]
    finally:
        if proc.poll() is None:
            proc.kill()
