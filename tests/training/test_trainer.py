"""The trainer on tiny synthetic sequences: learning, checkpoints, resume."""

import numpy as np
import pytest
import torch

from desktop_app.models import ModelShape, get_model_spec
from desktop_app.models.base import TASK_RECOGNITION
from desktop_app.training.synthetic import synthetic_actions
from desktop_app.training.trainer import TrainConfig, TrainingData, train_model


@pytest.fixture(scope="module")
def data():
    d = synthetic_actions(num_classes=5, clips_per_class=10, word_dim=8, seed=1)
    ids = np.array(sorted(d.clip_classes))
    labels = np.array([d.clip_classes[i] for i in ids])
    val = ids % 5 == 0
    return d, TrainingData(
        d.source, ids[~val], labels[~val], ids[val], labels[val], d.label_vectors, TASK_RECOGNITION
    )


def _shape(d):
    return ModelShape({s: d.source.dim(s) for s in d.source.streams}, 8, 5)


@pytest.mark.parametrize("name", ["ste", "action2vec", "pooled-ridge"])
def test_training_beats_chance(data, name):
    d, td = data
    spec = get_model_spec(name)
    result = train_model(
        name, spec.config("small"), _shape(d), td, TrainConfig(epochs=3, lr=5e-3, num_threads=1)
    )
    assert result.best_val_accuracy > 0.4  # chance is 0.2
    assert not result.model.training


def test_resume_continues_exactly(data, tmp_path):
    d, td = data
    spec = get_model_spec("action2vec")  # has dropout: the RNG must be reproduced too
    config = TrainConfig(epochs=2, lr=5e-3, num_threads=1, patience=0)
    straight = train_model("action2vec", spec.config("small"), _shape(d), td, config)
    ckpt = tmp_path / "checkpoint.pt"
    first = TrainConfig(epochs=1, lr=5e-3, num_threads=1, patience=0)
    train_model("action2vec", spec.config("small"), _shape(d), td, first, checkpoint_path=ckpt)
    state = torch.load(ckpt, weights_only=True)
    assert {"model", "optimizer", "lr_scheduler", "epoch", "args"} <= set(state)
    assert state["epoch"] == 0
    resumed = train_model(
        "action2vec", spec.config("small"), _shape(d), td, config, checkpoint_path=ckpt, resume=True
    )
    assert [h["loss"] for h in resumed.history] == pytest.approx([h["loss"] for h in straight.history])
    for key, value in straight.model.state_dict().items():
        assert torch.allclose(value, resumed.model.state_dict()[key], atol=1e-6), key
    assert torch.load(ckpt, weights_only=True)["epoch"] == 1


def test_learning_rate_halves_every_15_epochs(data):
    d, td = data
    spec = get_model_spec("lstm")
    small = TrainingData(
        td.source,
        td.train_clips[:6],
        td.train_targets[:6],
        td.val_clips[:2],
        td.val_targets[:2],
        td.label_vectors,
    )
    result = train_model(
        "lstm",
        spec.config("small"),
        _shape(d),
        small,
        TrainConfig(epochs=16, lr=1e-3, lr_halve_every=15, patience=0, num_threads=1),
    )
    lrs = [h["lr"] for h in result.history]
    assert lrs[13] == pytest.approx(1e-3) and lrs[14] == pytest.approx(5e-4)
