"""An interrupted ``train`` continues when the same command runs again, as its message says."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load_file

from desktop_app.errors import TaskCancelled
from desktop_app.progress import NullProgress
from desktop_app.training.experiment import train_in_workspace
from desktop_app.training.runs import CHECKPOINT, WEIGHTS
from desktop_app.training.synthetic import synthetic_actions, synthetic_workspace


class CancelAfter(NullProgress):
    """Cancels once training reports ``fraction`` done (a Ctrl-C mid-run)."""

    def __init__(self, fraction: float) -> None:
        super().__init__()
        self.at = fraction

        self.seen: list[float] = []

    def set_progress(self, fraction: float, message: str = "") -> None:
        self.seen.append(fraction)
        if fraction >= self.at:
            self.cancel()


def test_the_same_command_resumes_an_interrupted_run_and_overwrite_starts_over(tmp_path):
    data = synthetic_actions(num_classes=4, clips_per_class=6, word_dim=8, seed=3)
    ws, vectors = synthetic_workspace(tmp_path / "ws", data)
    kw = {"source": data.source, "vectors": vectors, "epochs": 4, "train_overrides": {"patience": 10}}
    with pytest.raises(TaskCancelled):
        train_in_workspace(ws, "lstm", run_id="cut", progress=CancelAfter(0.6), **kw)
    assert (ws.runs_dir / "cut" / CHECKPOINT).is_file()
    second = CancelAfter(2.0)  # records, never cancels
    resumed = train_in_workspace(ws, "lstm", run_id="cut", progress=second, **kw)  # no --resume
    # it continued from the checkpoint: no progress of the first epochs, trained before the cut
    assert not any(0 < f < 0.5 for f in second.seen)
    whole = train_in_workspace(ws, "lstm", run_id="whole", **kw)
    assert resumed.meta["training"]["epochs_run"] == whole.meta["training"]["epochs_run"] == 4
    a, b = load_file(str(resumed.run_dir / WEIGHTS)), load_file(str(whole.run_dir / WEIGHTS))
    assert all(np.array_equal(a[k], b[k]) for k in a)  # the resumed run is the uninterrupted one
    with pytest.raises(TaskCancelled):
        train_in_workspace(ws, "lstm", run_id="again", progress=CancelAfter(0.6), **kw)
    restarted = train_in_workspace(ws, "lstm", run_id="again", overwrite=True, **kw)
    assert restarted.meta["training"]["epochs_run"] == 4
    ws.close()
