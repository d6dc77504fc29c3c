"""Seed 002's RNN Fisher vectors and its pooling baselines (``rnnfv``, ``gmmfv``, ``meanpool-svm``)."""

import numpy as np
import pytest
import torch

from desktop_app.models import ModelShape, config_to_json, get_model_spec
from desktop_app.models.base import TASK_RECOGNITION
from desktop_app.models.fisher import RegressionRNN, last_layer_fisher_vectors, next_step_loss
from desktop_app.models.svm import fit_linear_svm, fit_pca, power_l2
from desktop_app.training.data import InMemorySequenceSource, SequenceCache
from desktop_app.training.runs import Run, save_run
from desktop_app.training.trainer import TrainConfig, TrainingData, predict, train_model

FAST = TrainConfig(epochs=2, lr=1e-2, num_threads=1, patience=0)


def _tiny_rnn(seed: int = 0) -> RegressionRNN:
    torch.manual_seed(seed)
    return RegressionRNN(input_dim=3, fc_size=4, lstm_size=5, dropout=0.5).double().eval()


def _eq5_loss(rnn: RegressionRNN, clip: torch.Tensor) -> torch.Tensor:
    """Eq. 5 without its constant, averaged over the clip's prediction steps, by a plain forward."""
    predictions = rnn(clip[None])[0]
    return 0.5 * ((clip[1:] - predictions[:-1]) ** 2).sum() / (len(clip) - 1)


def test_batched_gradient_matches_finite_differences():
    rnn = _tiny_rnn()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 4])
    vectors = last_layer_fisher_vectors(rnn, x, lengths).reshape(2, 3, 6)  # D × (H + 1)
    eps = 1e-6
    for clip in range(2):
        sequence = x[clip, : lengths[clip]]
        numeric = torch.zeros(3, 6, dtype=torch.float64)
        for i in range(3):
            for j in range(6):
                param, index = (rnn.fc_out.weight, (i, j)) if j < 5 else (rnn.fc_out.bias, (i,))
                with torch.no_grad():
                    param[index] += eps
                    plus = _eq5_loss(rnn, sequence)
                    param[index] -= 2 * eps
                    minus = _eq5_loss(rnn, sequence)
                    param[index] += eps
                numeric[i, j] = (plus - minus) / (2 * eps)
        assert torch.allclose(vectors[clip], numeric, atol=1e-8), clip


def test_batched_gradients_equal_one_clip_at_a_time_autograd():
    rnn = _tiny_rnn(1)
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    lengths = torch.tensor([7, 2, 5, 3])
    batched = last_layer_fisher_vectors(rnn, x, lengths)
    for clip in range(4):
        rnn.zero_grad()
        _eq5_loss(rnn, x[clip, : lengths[clip]]).backward()
        one = torch.cat([rnn.fc_out.weight.grad, rnn.fc_out.bias.grad[:, None]], dim=1).flatten()
        assert torch.allclose(batched[clip], one, atol=1e-12), clip


def test_padding_does_not_change_a_clips_fisher_vector():
    rnn = _tiny_rnn(2)
    clip = torch.randn(5, 3, dtype=torch.float64)
    alone = last_layer_fisher_vectors(rnn, clip[None], torch.tensor([5]))
    padded = torch.randn(1, 9, 3, dtype=torch.float64) * 10  # garbage after the valid steps
    padded[0, :5] = clip
    assert torch.allclose(last_layer_fisher_vectors(rnn, padded, torch.tensor([5])), alone, atol=1e-12)


def test_a_one_step_clip_has_a_zero_fisher_vector_and_no_loss():
    rnn = _tiny_rnn()
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    lengths = torch.tensor([1, 4])
    vectors = last_layer_fisher_vectors(rnn, x, lengths)
    assert torch.all(vectors[0] == 0) and torch.any(vectors[1] != 0)
    assert next_step_loss(rnn(x), x, lengths)[0] == 0


def test_power_and_l2_normalisation_on_hand_values():
    out = power_l2(torch.tensor([[4.0, -9.0, 0.0], [0.0, 0.0, 0.0]]), 0.5)
    expected = torch.tensor([2.0, -3.0, 0.0]) / np.sqrt(13.0)
    assert torch.allclose(out[0], expected) and torch.all(out[1] == 0)
    assert torch.allclose(power_l2(torch.tensor([[3.0, -4.0]]), 1.0), torch.tensor([[0.6, -0.8]]))


def test_pca_keeps_at_most_clips_minus_one_directions_of_the_data():
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((6, 40)) @ np.diag(np.linspace(3, 0.1, 40))
    mean, components = fit_pca(rows, 1000)
    assert components.shape == (5, 40) and np.allclose(mean, rows.mean(axis=0), atol=1e-6)
    assert np.allclose(components @ components.T, np.eye(5), atol=1e-4)
    projected = (rows - mean) @ components.T  # the centred rows lie in the kept directions
    assert np.allclose(projected @ components + mean, rows, atol=1e-4)


def test_svm_covers_two_classes_and_classes_without_clips():
    rows = np.array([[1.0, 0.0], [1.2, 0.1], [-1.0, 0.0], [-1.1, -0.2]])
    weight, bias = fit_linear_svm(rows, np.array([0, 0, 2, 2]), num_classes=3)
    assert weight.shape == (2, 3)
    assert np.array_equal(np.argmax(rows @ weight + bias, axis=1), [0, 0, 2, 2])


def _order_dataset(clips_per_class: int, seed: int) -> tuple[InMemorySequenceSource, np.ndarray]:
    """Three classes built of the same two patterns A, B in different orders (AAA…BBB, BBB…AAA,
    ABAB…): every clip's mean is (A + B)/2 up to noise, so only the order tells them apart."""
    rng = np.random.default_rng(seed)
    a, b = np.array([1.0, 0.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0, 0.0])
    orders = [[a] * 6 + [b] * 6, [b] * 6 + [a] * 6, [a, b] * 6]
    sequences, labels = {}, []
    for i in range(3 * clips_per_class):
        label = i % 3
        sequences[i] = np.stack(orders[label]) + 0.15 * rng.standard_normal((12, 4))
        labels.append(label)
    return InMemorySequenceSource({"appearance": sequences}), np.array(labels)


def _order_data(model: str) -> tuple[TrainingData, InMemorySequenceSource, np.ndarray]:
    source, labels = _order_dataset(20, seed=0)
    ids = np.arange(len(labels))
    val = ids % 5 == 0
    label_vectors = np.eye(3, 4, dtype=np.float32)
    data = TrainingData(
        source, ids[~val], labels[~val], ids[val], labels[val], label_vectors, TASK_RECOGNITION
    )
    return data, *_order_dataset(10, seed=1)


def _train(model: str, data: TrainingData, word_dim: int, num_classes: int, **overrides):
    spec = get_model_spec(model)
    overrides = {"streams": ("appearance",), **overrides}
    config = spec.config("small", **overrides)
    shape = ModelShape({"appearance": data.source.dim("appearance")}, word_dim, num_classes)
    torch.manual_seed(0)
    return train_model(model, config, shape, data, FAST), config, shape


def test_rnn_fisher_vector_tells_apart_what_mean_pooling_cannot():
    data, test_source, test_labels = _order_data("rnnfv")
    accuracy = {}
    for model, extra in (("meanpool-svm", {}), ("rnnfv", {"fc_size": 8, "lstm_size": 8})):
        result, config, _ = _train(model, data, 4, 3, **extra)
        cache = SequenceCache(test_source, ("appearance",), config.max_len)
        _, logits = predict(result.model, cache, np.arange(len(test_labels)))
        assert logits is not None
        accuracy[model] = float(np.mean(np.argmax(logits, axis=1) == test_labels))
    assert accuracy["meanpool-svm"] < 0.6  # chance is 1/3: the means are the same
    assert accuracy["rnnfv"] > 0.9


@pytest.mark.parametrize(
    ("model", "overrides"),
    [
        ("rnnfv", {"fc_size": 6, "lstm_size": 5}),
        ("gmmfv", {"modes": (1, 2)}),
        ("meanpool-svm", {}),
    ],
)
def test_train_save_load_embed_reproduces_embeddings_and_logits(tmp_path, model, overrides):
    data, test_source, _ = _order_data(model)
    result, config, shape = _train(model, data, 4, 3, **overrides)
    meta = {
        "run_id": f"{model}-test",
        "status": "complete",
        "task": TASK_RECOGNITION,
        "model": {
            "name": model,
            "preset": "small",
            "config": config_to_json(config),
            "shape": shape.to_json(),
        },
        "features": {"name": "in-memory", "settings": {}, "streams": ["appearance"]},
        "classes": [{"id": c + 1, "name": str(c), "phrase": str(c), "train_index": c} for c in range(3)],
    }
    save_run(tmp_path / model, result.model, data.label_vectors, meta)
    ids = np.arange(12)
    cache = SequenceCache(test_source, ("appearance",), config.max_len)
    embeddings, logits = predict(result.model, cache, ids)
    loaded_embeddings, loaded_logits = Run.load(tmp_path / model).embed(test_source, ids[::-1], batch_size=5)
    assert embeddings.shape == (12, 4) and logits is not None and loaded_logits is not None
    assert np.allclose(loaded_embeddings[::-1], embeddings, atol=1e-5)
    assert np.allclose(loaded_logits[::-1], logits, atol=1e-4)
    assert result.best_val_accuracy > 0


def test_rnnfv_resumes_from_its_checkpoint(tmp_path):
    data, _, _ = _order_data("rnnfv")
    spec = get_model_spec("rnnfv")
    config = spec.config("small", streams=("appearance",), fc_size=6, lstm_size=5)
    shape = ModelShape({"appearance": 4}, 4, 3)
    straight = train_model(
        "rnnfv", config, shape, data, TrainConfig(epochs=2, lr=1e-2, num_threads=1, patience=0)
    )
    ckpt = tmp_path / "checkpoint.pt"
    first = TrainConfig(epochs=1, lr=1e-2, num_threads=1, patience=0)
    train_model("rnnfv", config, shape, data, first, checkpoint_path=ckpt)
    state = torch.load(ckpt, weights_only=True)
    assert {"model", "optimizer", "lr_scheduler", "epoch", "args"} <= set(state)
    resumed = train_model(
        "rnnfv",
        config,
        shape,
        data,
        TrainConfig(epochs=2, lr=1e-2, num_threads=1, patience=0),
        checkpoint_path=ckpt,
        resume=True,
    )
    assert [h["loss"] for h in resumed.history] == pytest.approx([h["loss"] for h in straight.history])
    for key, value in straight.model.state_dict().items():
        assert torch.allclose(value, resumed.model.state_dict()[key], atol=1e-5), key
    # a finished fit resumed with as many epochs trains nothing and fits the same heads again
    again = train_model(
        "rnnfv",
        config,
        shape,
        data,
        TrainConfig(epochs=2, lr=1e-2, num_threads=1, patience=0),
        checkpoint_path=ckpt,
        resume=True,
    )
    assert again.epochs_run == 2 and len(again.history) == 2
    for key, value in straight.model.state_dict().items():
        assert torch.allclose(value, again.model.state_dict()[key], atol=1e-5), key


def test_rnnfv_trains_and_evaluates_in_a_workspace_for_recognition_and_zero_shot(tmp_path):
    from desktop_app.training.experiment import evaluate_run, train_in_workspace
    from desktop_app.training.synthetic import synthetic_actions, synthetic_workspace

    data = synthetic_actions(num_classes=6, clips_per_class=8, word_dim=8, seed=5)
    ws, vectors = synthetic_workspace(tmp_path / "ws", data)
    common = {
        "source": data.source,
        "vectors": vectors,
        "model_overrides": {"fc_size": 8, "lstm_size": 8},
        "train_overrides": {"num_threads": 1, "epochs": 2},
    }
    try:
        recognition = evaluate_run(ws, train_in_workspace(ws, "rnnfv", **common), source=data.source)
        assert recognition["test_clips"] == 12
        assert recognition["classifier_accuracy"] > 2 * recognition["chance"]  # clear-cut classes
        assert recognition["accuracy"] > 2 * recognition["chance"]  # the ridge map's word space
        zsl_run = train_in_workspace(ws, "rnnfv", zsl_split="50/50", **common)
        assert zsl_run.meta["model"]["shape"]["num_classes"] == 3  # the SVM knows the seen classes only
        zsl = evaluate_run(ws, zsl_run, source=data.source)
        assert zsl["unseen_classes"] == 3 and zsl["test_clips"] == 24
    finally:
        ws.close()
