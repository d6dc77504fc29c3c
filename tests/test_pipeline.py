"""The demo pipeline: cancelled builds resume, and a finished demo opens without PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.errors import TaskCancelled
from desktop_app.pipeline import DEMO_STAGES, build_demo_workspace, demo_zsl_run_ids
from desktop_app.progress import ProgressBase
from desktop_app.workspace import Workspace


class _CancelDuring(ProgressBase):
    """Cancels the build once a message of ``stage`` arrives."""

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage

    def set_progress(self, fraction: float, message: str = "") -> None:
        super().set_progress(fraction, message)
        if message.startswith(self.stage):
            self.cancel()


def test_cancelled_demo_build_resumes_and_a_finished_one_needs_no_torch(tmp_path: Path) -> None:
    ws, data = tmp_path / "ws", tmp_path / "data"
    with pytest.raises(TaskCancelled):
        build_demo_workspace(ws, data=data, preset="tiny", progress=_CancelDuring("extract"))
    with Workspace.open(ws) as opened:  # imported, not yet embedded
        assert opened.catalog.num_clips() == 24 and not list(opened.embeddings_dir.iterdir())

    build = build_demo_workspace(ws, data=data, preset="tiny")
    assert build.done == [name for name, _, _ in DEMO_STAGES]
    with Workspace.open(ws) as opened:
        run = opened.manifest["active_run"]
        assert (opened.embeddings_dir / run / "clips.npy").is_file()
        assert len(list(opened.maps_dir.glob("*.json"))) == 4  # one JSON per map (map format 2)
        # the evaluate stage: the demo's zero-shot runs, complete and evaluated
        for run_id in demo_zsl_run_ids():
            meta = json.loads((opened.runs_dir / run_id / "meta.json").read_text(encoding="utf-8"))
            assert meta["status"] == "complete" and meta["metrics"]["zsl"]["accuracy"] is not None
    assert build.report["zsl"]["folds"] == len(demo_zsl_run_ids())

    code = (
        "import sys; from pathlib import Path; from desktop_app.pipeline import build_demo_workspace;"
        f"build_demo_workspace(Path({str(ws)!r}), data=Path({str(data)!r}), preset='tiny');"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_demos_zero_shot_run_ids_are_the_protocols() -> None:
    from desktop_app.pipeline import (
        DEMO_PRESET,
        DEMO_ZSL_FOLDS,
        DEMO_ZSL_MODEL,
        DEMO_ZSL_SEED,
        DEMO_ZSL_SPLIT,
    )
    from desktop_app.training.experiment import default_run_id

    expected = [
        default_run_id(DEMO_ZSL_MODEL, DEMO_PRESET, DEMO_ZSL_SPLIT, fold, "1", DEMO_ZSL_SEED)
        for fold in range(DEMO_ZSL_FOLDS)
    ]
    assert demo_zsl_run_ids() == expected
