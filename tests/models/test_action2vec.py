"""Action2Vec's two readings of seed 001's soft attention: order-aware (``action2vec``, the
context beside each step's input) and literal (``action2vec-literal``, the context in place of
it), and old runs loading as the literal model they were trained as."""

from typing import Any

import numpy as np
import pytest
import torch

from desktop_app.errors import ActionLensError
from desktop_app.models import ModelShape, config_from_json, config_to_json, get_model_spec, model_names
from desktop_app.models.base import TASK_RECOGNITION
from desktop_app.training.data import InMemorySequenceSource, SequenceCache
from desktop_app.training.runs import Run, save_run
from desktop_app.training.trainer import (
    TrainConfig,
    TrainingData,
    nearest_label_accuracy,
    predict,
    train_model,
)

DIMS = {"appearance": 8, "motion": 4}
SHAPE = ModelShape(dict(DIMS), word_dim=4, num_classes=2)
STEPS = 48  # a multiple of both presets' sub-sequence length (6)


def _clips(n: int = 3, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {s: 0.3 * torch.randn(n, STEPS, d, generator=generator) for s, d in DIMS.items()}


def _embed(model: torch.nn.Module, features: dict[str, torch.Tensor]) -> torch.Tensor:
    n = next(iter(features.values())).shape[0]
    lengths = torch.full((n,), STEPS)
    with torch.no_grad():
        embedding, _ = model(features, {s: lengths for s in features})
    return embedding


def _relative_changes(model: torch.nn.Module, orders: list[torch.Tensor]) -> list[float]:
    """Per step order, the largest ``‖e(reordered clip) − e(clip)‖ / ‖e(clip)‖`` over a few
    random clips."""
    clips = _clips()
    base = _embed(model, clips)
    changes = []
    for order in orders:
        moved = _embed(model, {s: f[:, order] for s, f in clips.items()})
        changes.append(float(((moved - base).norm(dim=1) / base.norm(dim=1)).max()))
    return changes


def _block_shuffle(steps: int, subseq_len: int, seed: int) -> torch.Tensor:
    """A step order that shuffles the sub-sequences and the steps inside each, keeping which
    steps share a sub-sequence (the only reorderings the literal form cannot see; a free
    shuffle regroups the steps, which it does see)."""
    generator = torch.Generator().manual_seed(seed)
    pieces = torch.arange(steps).reshape(-1, subseq_len)
    pieces = pieces[torch.randperm(len(pieces), generator=generator)]
    return torch.stack([p[torch.randperm(subseq_len, generator=generator)] for p in pieces]).reshape(-1)


def _model(name: str, preset: str) -> Any:
    torch.manual_seed(0)
    spec = get_model_spec(name)
    return spec.build(spec.config(preset), SHAPE).eval()


def test_registry_lists_the_literal_ablation_right_after_action2vec():
    names = model_names()
    assert names[names.index("action2vec") + 1] == "action2vec-literal"
    for preset in ("small", "paper"):
        order_aware = get_model_spec("action2vec").config(preset)
        literal = get_model_spec("action2vec-literal").config(preset)
        assert (order_aware.attention_form, literal.attention_form) == ("input-feeding", "literal")
        # the same model otherwise
        assert {**config_to_json(literal), "attention_form": "input-feeding"} == config_to_json(order_aware)


@pytest.mark.parametrize("preset", ["small", "paper"])
def test_reversing_or_shuffling_a_clip_moves_only_the_order_aware_embedding(preset):
    order_aware, literal = _model("action2vec", preset), _model("action2vec-literal", preset)
    reverse = torch.arange(STEPS - 1, -1, -1)
    block_shuffle = _block_shuffle(STEPS, order_aware.config.subseq_len, seed=1)
    free_shuffle = torch.randperm(STEPS, generator=torch.Generator().manual_seed(2))
    # measured 0.05–0.10 on both presets
    assert min(_relative_changes(order_aware, [reverse, block_shuffle, free_shuffle])) > 0.02
    assert max(_relative_changes(literal, [reverse, block_shuffle])) < 1e-5  # float error (~1e-7)


def _forwards_and_backwards(pairs: int, seed: int, first_id: int):
    """``pairs`` random clips, each once as it is (class 0) and once reversed (class 1).

    Every frame is noise plus a ramp from −1 to 1 along one fixed direction, so the direction of
    time can be told from the frames' order — and only from it: the two clips of a pair hold the
    same frames.
    """
    rng = np.random.default_rng(seed)
    ramp = np.linspace(-1.0, 1.0, STEPS, dtype=np.float32)[:, None]
    sequences: dict[str, dict[int, np.ndarray]] = {s: {} for s in DIMS}
    for i in range(pairs):
        for stream, dim in DIMS.items():
            frames = (
                ramp * np.eye(dim, dtype=np.float32)[0] + 1.5 * rng.standard_normal((STEPS, dim))
            ).astype(np.float32)
            sequences[stream][first_id + 2 * i] = frames
            sequences[stream][first_id + 2 * i + 1] = frames[::-1].copy()
    ids = np.arange(first_id, first_id + 2 * pairs)
    return sequences, ids, (ids - first_id) % 2


@pytest.fixture(scope="module")
def order_task():
    parts = [_forwards_and_backwards(30, 0, 0), _forwards_and_backwards(8, 1, 1000)]
    test = _forwards_and_backwards(20, 2, 2000)
    sequences = {s: {k: v for part in [*parts, test] for k, v in part[0][s].items()} for s in DIMS}
    source = InMemorySequenceSource(sequences)
    label_vectors = np.eye(2, SHAPE.word_dim, dtype=np.float32)
    (_, train_ids, train_y), (_, val_ids, val_y) = parts
    data = TrainingData(source, train_ids, train_y, val_ids, val_y, label_vectors, TASK_RECOGNITION)
    return data, test[1], test[2]


def _held_out_accuracy(name: str, order_task) -> float:
    data, test_ids, test_targets = order_task
    spec = get_model_spec(name)
    result = train_model(
        name, spec.config("small"), SHAPE, data, TrainConfig(epochs=4, lr=5e-3, num_threads=1, seed=0)
    )
    cache = SequenceCache(data.source, result.model.streams, result.model.config.max_len)
    embeddings, _ = predict(result.model, cache, test_ids)
    return nearest_label_accuracy(embeddings, test_targets, data.label_vectors)


def test_only_the_order_aware_model_learns_forwards_from_backwards(order_task):
    assert _held_out_accuracy("action2vec", order_task) >= 0.9  # measured 0.95–1.0 over 5 seeds
    # The two clips of a test pair get the same embedding, so exactly one of them is right.
    assert _held_out_accuracy("action2vec-literal", order_task) <= 0.65


def test_an_old_action2vec_config_builds_the_literal_model():
    spec = get_model_spec("action2vec")
    old = config_to_json(get_model_spec("action2vec-literal").config("small"))
    del old["attention_form"]  # metas written before the field existed
    config = config_from_json(spec, old)
    assert config.attention_form == "literal"
    model = spec.build(config, SHAPE).eval()
    assert model.lstm1.cell.input_size == sum(DIMS.values())  # reads c_t alone, not [x_t; c_t]
    assert _relative_changes(model, [torch.arange(STEPS - 1, -1, -1)])[0] < 1e-5


def test_an_old_action2vec_run_loads_as_the_literal_model_it_was_trained_as(tmp_path):
    literal = _model("action2vec-literal", "small")
    old_config = config_to_json(literal.config)
    del old_config["attention_form"]
    meta = {
        "run_id": "action2vec-small-rec-s1",
        "status": "complete",
        "model": {"name": "action2vec", "preset": "small", "config": old_config, "shape": SHAPE.to_json()},
    }
    save_run(tmp_path / "old", literal, np.eye(2, SHAPE.word_dim, dtype=np.float32), meta)
    loaded = Run.load(tmp_path / "old").model
    assert loaded.config == literal.config
    clips = _clips(seed=3)
    assert torch.allclose(_embed(loaded, clips), _embed(literal, clips))
    # The order-aware model has other weight shapes: a default of "input-feeding" would not load.
    new = get_model_spec("action2vec").build(get_model_spec("action2vec").config("small"), SHAPE)
    with pytest.raises(RuntimeError, match="size mismatch"):
        new.load_state_dict(literal.state_dict())


def test_an_unknown_attention_form_is_refused():
    spec = get_model_spec("action2vec")
    with pytest.raises(ActionLensError, match="attention_form 'luong'"):
        spec.build(spec.config("small", attention_form="luong"), SHAPE)


@pytest.mark.parametrize("name", ["action2vec", "action2vec-literal"])
def test_padding_does_not_change_a_clip_in_either_form(name):
    model = _model(name, "small")
    clips = _clips(n=2, seed=4)
    clips = {s: f.clone() for s, f in clips.items()}
    for f in clips.values():
        f[0, 20:] = 0  # clip 0 is 20 steps long, padded to 48
    lengths = torch.tensor([20, STEPS])
    with torch.no_grad():
        padded, logits = model(clips, {s: lengths for s in clips})
        alone, _ = model({s: f[:1, :20] for s, f in clips.items()}, {s: lengths[:1] for s in clips})
    assert logits.shape == (2, SHAPE.num_classes)
    assert torch.allclose(padded[0], alone[0], atol=1e-5)
