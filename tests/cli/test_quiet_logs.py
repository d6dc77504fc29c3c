"""The terminal shows ActionLens's own report of unreadable videos, not OpenCV's or FFmpeg's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_import_of_broken_videos_prints_only_our_lines(tmp_path: Path) -> None:
    folder = tmp_path / "videos" / "Jump"
    folder.mkdir(parents=True)
    (folder / "v_noise.mp4").write_bytes(os.urandom(4000))
    (folder / "v_header_only.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    command = ["import", "folder", str(tmp_path / "videos"), "--workspace", str(tmp_path / "ws")]
    result = subprocess.run(
        [sys.executable, "-m", "desktop_app", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("actionlens:") for line in lines), result.stderr
    assert "no usable videos" in result.stderr
