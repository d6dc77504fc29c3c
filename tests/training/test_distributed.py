"""Two gloo processes on CPU (under torchrun) train the same model as one process."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from desktop_app.models import ModelShape, get_model_spec
from desktop_app.training.synthetic import synthetic_actions
from desktop_app.training.trainer import TrainConfig, TrainingData, train_model

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, torch
sys.path.insert(0, {tests!r})
from training.test_distributed import train_tiny
result = train_tiny()
if torch.distributed.get_rank() == 0:
    torch.save(result.model.state_dict(), sys.argv[1])
torch.distributed.destroy_process_group()
"""


def train_tiny():
    """STE (no dropout, per-clip losses) on tiny synthetic data, 2 epochs of batches of 10."""
    d = synthetic_actions(num_classes=4, clips_per_class=8, word_dim=8, seed=2)
    ids = np.array(sorted(d.clip_classes))
    labels = np.array([d.clip_classes[i] for i in ids])
    val = ids % 8 == 0
    shape = ModelShape({s: d.source.dim(s) for s in d.source.streams}, 8, 4)
    data = TrainingData(d.source, ids[~val], labels[~val], ids[val], labels[val], d.label_vectors)
    config = TrainConfig(epochs=2, lr=5e-3, batch_size=10, patience=0, num_threads=1)
    return train_model("ste", get_model_spec("ste").config("small"), shape, data, config)


def test_two_gloo_processes_match_one(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT.format(tests=str(REPO / "tests")))
    out = tmp_path / "ddp.pt"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node=2",
            "--standalone",
            str(script),
            str(out),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    distributed = torch.load(out, weights_only=True)
    single = train_tiny().model.state_dict()
    for key, value in single.items():
        assert torch.allclose(value, distributed[key], atol=2e-4), key
    # training moved the weights, so the match is not between two fresh initialisations
    torch.manual_seed(0)
    fresh = get_model_spec("ste").build(
        get_model_spec("ste").config("small"), ModelShape({"appearance": 24, "motion": 12}, 8, 4)
    )
    assert not torch.allclose(fresh.state_dict()["mlp.0.weight"], single["mlp.0.weight"], atol=1e-3)
