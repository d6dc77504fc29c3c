"""Seed 003 §VII's anomaly autoencoder: it ranks off-manifold clips first, and its run round-trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from desktop_app.errors import ActionLensError
from desktop_app.evaluation.anomaly import class_mean_scores, precision_at_k, roc_auc
from desktop_app.models.anomaly import EMBEDDING_STREAM, AutoencoderConfig, EmbeddingAutoencoder
from desktop_app.models.registry import ModelShape, get_model_spec
from desktop_app.training.data import InMemorySequenceSource
from desktop_app.training.runs import Run, save_run
from desktop_app.training.trainer import TrainConfig, TrainingData, train_model

DIM = 16


def _clusters(rng: np.random.Generator, n_per: int, centres: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Points of Gaussian clusters that lie near a 3-d subspace of the embedding space."""
    rows = []
    for centre in centres:
        rows.append(centre + rng.normal(0, 0.15, (n_per, basis.shape[0])) @ basis)
    return np.concatenate(rows) + rng.normal(0, 0.01, (n_per * len(centres), DIM))


def _case(seed: int = 0):
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((DIM, 3)))[0].T  # (3, DIM), orthonormal rows
    centres = rng.normal(0, 1.0, (4, 3)) @ basis
    normal = _clusters(rng, 60, centres, basis)
    # off the clusters' subspace: a large component along directions the clusters never use
    ortho = np.linalg.qr(np.concatenate([basis.T, rng.standard_normal((DIM, DIM - 3))], axis=1))[0][:, 3:]
    off = centres[rng.integers(0, 4, 12)] + (rng.normal(0, 1.0, (12, DIM - 3)) @ ortho.T) * 1.2
    classes = np.repeat(np.arange(4), 60)
    train_rows = rng.permutation(len(normal))[:180]
    test_rows = np.setdiff1d(np.arange(len(normal)), train_rows)
    # the unsupervised setting: two anomalies sit unmarked among the training clips
    train_x = np.concatenate([normal[train_rows], off[:2]])
    test_x = np.concatenate([normal[test_rows], off[2:]])
    test_truth = np.r_[np.zeros(len(test_rows), bool), np.ones(10, bool)]
    test_classes = np.r_[classes[test_rows], rng.integers(0, 4, 10)]
    train_classes = np.r_[classes[train_rows], rng.integers(0, 4, 2)]
    return train_x.astype(np.float32), train_classes, test_x.astype(np.float32), test_classes, test_truth


def _train(train_x: np.ndarray, epochs: int = 150) -> EmbeddingAutoencoder:
    torch.set_num_threads(1)
    n = len(train_x)
    val = np.arange(n) % 6 == 0
    source = InMemorySequenceSource({EMBEDDING_STREAM: {i: train_x[i : i + 1] for i in range(n)}})
    ids = np.arange(n)
    data = TrainingData(
        source,
        ids[~val],
        np.zeros((~val).sum(), np.int64),
        ids[val],
        np.zeros(val.sum(), np.int64),
        np.eye(2, DIM),
    )
    config = get_model_spec("autoencoder").config("small", bottleneck_size=3, hidden_size=32)
    train = TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, patience=30, device="cpu", num_threads=1)
    result = train_model("autoencoder", config, ModelShape({EMBEDDING_STREAM: DIM}, DIM, 2), data, train)
    assert (
        result.best_epoch >= 0
        and result.history[result.best_epoch]["val_reconstruction"] < result.history[0]["val_reconstruction"]
    )
    model: EmbeddingAutoencoder = result.model
    return model


def test_reconstruction_error_ranks_off_manifold_clips_first() -> None:
    train_x, train_classes, test_x, test_classes, truth = _case()
    model = _train(train_x)
    with torch.no_grad():
        scores = model.reconstruction_error(torch.from_numpy(test_x)).numpy()
    assert roc_auc(scores, truth) > 0.95
    assert precision_at_k(scores, truth) >= 0.8
    # the class-mean baseline on the same clips, means from the training clips only
    baseline = class_mean_scores(train_x, train_classes, test_x, test_classes)
    assert np.isfinite(baseline["distance"]).all() and np.isfinite(baseline["cosine"]).all()
    # anomalies far from their class's cluster are far from its mean too
    assert roc_auc(baseline["distance"], truth) > 0.8


def test_forward_returns_the_reconstruction_in_the_word_space() -> None:
    model = EmbeddingAutoencoder(
        AutoencoderConfig(hidden_size=8, bottleneck_size=2), ModelShape({EMBEDDING_STREAM: DIM}, DIM, 3)
    )
    x = torch.randn(5, DIM)
    emb, logits = model(
        {EMBEDDING_STREAM: x[:, None, :]}, {EMBEDDING_STREAM: torch.ones(5, dtype=torch.long)}
    )
    assert emb.shape == (5, DIM) and logits is None
    assert torch.allclose(model.reconstruction_error(x), ((emb - x) ** 2).mean(dim=1))


def test_the_bottleneck_must_be_narrower_than_the_embedding() -> None:
    with pytest.raises(ActionLensError, match="bottleneck_size 16"):
        EmbeddingAutoencoder(
            AutoencoderConfig(bottleneck_size=16), ModelShape({EMBEDDING_STREAM: DIM}, DIM, 3)
        )


def test_a_saved_run_loads_and_scores_the_same(tmp_path) -> None:
    train_x, *_ = _case(1)
    model = _train(train_x, epochs=5)
    spec = get_model_spec("autoencoder")
    config = spec.config("small", bottleneck_size=3, hidden_size=32)
    from desktop_app.models.registry import config_to_json

    meta = {
        "run_id": "ae",
        "status": "complete",
        "model": {
            "name": "autoencoder",
            "preset": "small",
            "config": config_to_json(config),
            "shape": {"input_dims": {EMBEDDING_STREAM: DIM}, "word_dim": DIM, "num_classes": 2},
        },
        "classes": [
            {"id": 0, "name": "a", "phrase": "a", "train_index": 0},
            {"id": 1, "name": "b", "phrase": "b", "train_index": 1},
        ],
        "features": {"name": "run:src", "settings": {}, "streams": [EMBEDDING_STREAM]},
    }
    save_run(tmp_path / "ae", model, np.eye(2, DIM, dtype=np.float32), meta)
    run = Run.load(tmp_path / "ae")
    x = torch.from_numpy(train_x[:20])
    with torch.no_grad():
        assert torch.allclose(run.model.reconstruction_error(x), model.reconstruction_error(x))
    source = InMemorySequenceSource({EMBEDDING_STREAM: {i: train_x[i : i + 1] for i in range(20)}})
    embedded, logits = run.embed(source, np.arange(20))
    assert logits is None and embedded.shape == (20, DIM)
    with torch.no_grad():
        assert np.allclose(embedded, model.reconstruct(x).numpy(), atol=1e-6)
