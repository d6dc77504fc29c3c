"""Shapes of every registered model, padding invariance, and the registry."""

import math

import pytest
import torch

from desktop_app.errors import ActionLensError
from desktop_app.models import ModelShape, config_from_json, config_to_json, get_model_spec, model_names
from desktop_app.models.base import StepInfo

SHAPE = ModelShape({"appearance": 12, "motion": 6}, word_dim=10, num_classes=5)


def _batch(lengths):
    torch.manual_seed(0)
    steps = max(lengths)
    features = {
        "appearance": torch.randn(len(lengths), steps, 12),
        "motion": torch.randn(len(lengths), steps, 6),
    }
    for i, n in enumerate(lengths):
        for f in features.values():
            f[i, n:] = 0
    lens = torch.tensor(lengths)
    return features, {"appearance": lens, "motion": lens}


def test_registry_lists_the_seed_models_and_baselines():
    assert set(model_names()) >= {"ste", "action2vec", "pooled-ridge", "lstm", "stacked-lstm"}
    with pytest.raises(ActionLensError, match="unknown model"):
        get_model_spec("nope")
    with pytest.raises(ActionLensError, match="no preset"):
        get_model_spec("ste").config("huge")


@pytest.mark.parametrize("name", ["ste", "action2vec", "pooled-ridge", "lstm", "stacked-lstm"])
@pytest.mark.parametrize("preset", ["small", "paper"])
def test_output_shapes(name, preset):
    spec = get_model_spec(name)
    config = spec.config(preset)
    assert config_from_json(spec, config_to_json(config)) == config
    model = spec.build(config, SHAPE).eval()
    features, lengths = _batch([7, 13, 1])
    embedding, logits = model(features, lengths)
    assert embedding.shape == (3, 10)
    assert torch.isfinite(embedding).all()
    if logits is not None:
        assert logits.shape == (3, 5)
        loss = model.loss(
            embedding, logits, torch.tensor([0, 4, 2]), torch.randn(5, 10), StepInfo(task="zsl")
        )
        assert loss.shape == (3,)


def test_paper_sizes():
    ste = get_model_spec("ste").build(get_model_spec("ste").config("paper"), SHAPE)
    assert ste.appearance_gru.hidden_size == 1024
    assert [m.out_features for m in ste.mlp if isinstance(m, torch.nn.Linear)] == [1200, 10]
    a2v = get_model_spec("action2vec").build(get_model_spec("action2vec").config("paper"), SHAPE)
    assert (a2v.lstm1.hidden_size, a2v.lstm2.hidden_size) == (1024, 512)


@pytest.mark.parametrize("name", ["ste", "action2vec", "lstm", "pooled-ridge"])
def test_padding_does_not_change_a_clip(name):
    spec = get_model_spec(name)
    model = spec.build(spec.config("small"), SHAPE).eval()
    features, lengths = _batch([9, 20])
    alone = {s: f[:1, :9] for s, f in features.items()}
    with torch.no_grad():
        padded, _ = model(features, lengths)
        single, _ = model(alone, {s: v[:1] for s, v in lengths.items()})
    assert torch.allclose(padded[0], single[0], atol=1e-5)


def test_ste_weighted_concatenation():
    model = get_model_spec("ste").build(get_model_spec("ste").config("small"), SHAPE).eval()
    features, lengths = _batch([5, 5])
    with torch.no_grad():
        e = model.encode(features, lengths)
        app, _ = model.appearance_gru(features["appearance"])
    assert torch.allclose(e[:, :128], 0.5 * app.mean(dim=1), atol=1e-6)


def test_every_model_gets_the_same_input_options():
    """The input scale and PCA dims are run-level training options that every model's small
    preset sets from the same tuning grid; no new preset sets the models' legacy ``input_scale``
    field (kept for old runs)."""
    from desktop_app.evaluation.tuning import SHARED_AXES
    from desktop_app.models.registry import JOINT_EMBEDDING, model_names

    options = set()
    for name in model_names(JOINT_EMBEDDING):
        spec = get_model_spec(name)
        for preset in ("paper", "small"):
            assert "input_scale" not in spec.preset_part(preset, "model"), (name, preset)
        train = spec.preset_part("small", "train")
        options.add((train.get("input_scale", 1.0), train.get("pca_dims", 500)))
    assert options <= {(scale, 500) for scale in SHARED_AXES["train.input_scale"]}
    # an old run's model config with the field still loads
    from desktop_app.models.registry import config_from_json

    assert config_from_json(get_model_spec("ste"), {"input_scale": 3.0}).input_scale == 3.0


def test_ste_loss_options_by_hand():
    """Cosine hinge (eq. 5 on the unit embedding) + eq. 6 weighted 0.1 in zero-shot, 1 otherwise."""
    from desktop_app.models.base import TASK_RECOGNITION, TASK_ZSL, StepInfo

    spec = get_model_spec("ste")
    model = spec.build(spec.config("small", softmax_weight_zsl=0.1), SHAPE)
    embedding = torch.tensor([[3.0, 4.0] + [0.0] * (SHAPE.word_dim - 2)])
    labels = torch.zeros(2, SHAPE.word_dim)
    labels[0, 0], labels[1, 1] = 1.0, 1.0
    logits = torch.tensor([[0.0, 0.0]])
    target = torch.tensor([0])
    # cosines 0.6 (own), 0.8 (other): hinge = 0.4 − 0.6 + 0.8 = 0.6 (zsl) / 0.55 − 0.6 + 0.8 = 0.75
    ce = math.log(2.0)
    zsl = model.loss(embedding, logits, target, labels, StepInfo(task=TASK_ZSL))
    rec = model.loss(embedding, logits, target, labels, StepInfo(task=TASK_RECOGNITION))
    assert zsl.item() == pytest.approx(0.6 + 0.1 * ce, abs=1e-5)
    assert rec.item() == pytest.approx(0.75 + ce, abs=1e-5)
    # the paper preset is the seed as written: dot products, eq. 6 weight 1
    paper = spec.build(spec.config("paper"), SHAPE)
    dot = paper.loss(embedding, logits, target, labels, StepInfo(task=TASK_ZSL))
    assert dot.item() == pytest.approx(0.4 - 3.0 + 4.0 + ce, abs=1e-5)
