"""Seed 003's multistream model: per-stream BiGRU encoders trained separately, an SVM fusion over
every stream, clips without audio, and a run that reproduces its embeddings from its files."""

import numpy as np
import pytest
import torch

from desktop_app.errors import TaskCancelled
from desktop_app.models import ModelShape, get_model_spec
from desktop_app.progress import ProgressBase
from desktop_app.training.data import InMemorySequenceSource, SequenceCache
from desktop_app.training.experiment import train_in_workspace
from desktop_app.training.inputs import TransformedSource
from desktop_app.training.runs import Run
from desktop_app.training.synthetic import synthetic_actions, synthetic_workspace
from desktop_app.training.trainer import load_checkpoint

TINY = {"hidden_size": 8}
TRAIN = {"num_threads": 1, "lr": 0.3, "epochs": 3, "batch_size": 16, "pca_dims": 0}


def _model(streams=("appearance", "motion", "audio"), classes=5):
    spec = get_model_spec("multistream")
    dims = {"appearance": 6, "motion": 5, "audio": 4}
    shape = ModelShape({s: dims[s] for s in streams}, word_dim=7, num_classes=classes)
    torch.manual_seed(0)
    return spec.build(spec.config("small", **TINY), shape).eval()


def _batch(lengths):
    rng = np.random.default_rng(0)
    features = {
        s: torch.from_numpy(
            rng.standard_normal((len(lengths[s]), max(lengths[s]) or 1, d)).astype(np.float32)
        )
        for s, d in {"appearance": 6, "motion": 5, "audio": 4}.items()
    }
    return features, {s: torch.tensor(v) for s, v in lengths.items()}


def _splits(data):
    """Split "1": of each class's clips, the first 5 train, the 6th val, the rest test."""
    by_class: dict[int, list[int]] = {}
    for clip_id, c in sorted(data.clip_classes.items()):
        by_class.setdefault(c, []).append(clip_id)
    roles = ("train",) * 5 + ("val",)
    return {
        clip: (roles[i] if i < len(roles) else "test")
        for clips in by_class.values()
        for i, clip in enumerate(clips)
    }


def _cache(run, source):
    """The run's model inputs: the raw source through the run's input transform."""
    return SequenceCache(TransformedSource(source, run.input_transform), run.model.streams, run.max_len)


def _train(root, data, vectors=None, run_id=None, **kwargs):
    ws, words = synthetic_workspace(root, data, splits=_splits(data))
    run = train_in_workspace(
        ws,
        "multistream",
        source=data.source,
        vectors=vectors or words,
        run_id=run_id,
        model_overrides=TINY,
        train_overrides={**TRAIN, **kwargs.pop("train", {})},
        **kwargs,
    )
    return ws, run


def test_one_bidirectional_two_layer_gru_per_stream_and_output_shapes():
    model = _model()
    assert model.streams == ("appearance", "motion", "audio")
    for stream in model.streams:
        gru = model.encoders[stream].gru
        assert isinstance(gru, torch.nn.GRU) and gru.num_layers == 2 and gru.bidirectional
        assert gru.hidden_size == 8 and gru.input_size == {"appearance": 6, "motion": 5, "audio": 4}[stream]
    features, lengths = _batch({"appearance": [4, 3, 2], "motion": [4, 3, 2], "audio": [3, 3, 1]})
    embedding, logits = model(features, lengths)
    assert embedding.shape == (3, 7) and logits.shape == (3, 5)
    # three 2 × 8 stream embeddings and one audio-presence column
    assert model.video_embedding(features, lengths).shape == (3, 3 * 16 + 1)
    # the paper preset: 512 units per direction, 1024-d stream embeddings
    paper = get_model_spec("multistream").config("paper")
    assert paper.hidden_size == 512 and paper.num_layers == 2 and paper.dropout == 0.5


def test_streams_the_features_lack_are_left_out():
    model = _model(streams=("appearance", "motion"))
    assert model.streams == ("appearance", "motion") and model.fused_dim == 32


def test_clips_with_and_without_audio_in_one_batch():
    model = _model()
    features, lengths = _batch({"appearance": [4, 4], "motion": [4, 4], "audio": [3, 0]})
    fused = model.video_embedding(features, lengths)
    audio = fused[:, 32:48]
    assert torch.all(audio[1] == 0) and torch.any(audio[0] != 0)
    assert fused[:, 48].tolist() == [1.0, 0.0]  # the presence column
    # what a clip without audio has in the padded audio tensor does not matter
    features["audio"][1] = 100.0
    assert torch.equal(model.video_embedding(features, lengths), fused)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    data = synthetic_actions(num_classes=5, clips_per_class=8, word_dim=8, seed=2)
    ws, run = _train(tmp_path_factory.mktemp("ms") / "ws", data)
    yield ws, data, run
    ws.close()


def test_training_round_trip_reproduces_the_validation_figures(trained):
    ws, data, run = trained
    loaded = Run.load(run.run_dir)
    roles = ws.catalog.split("1")
    val = np.array(sorted(c.id for c in ws.catalog.iter_clips() if roles.get(c.id) == "val"))
    embeddings, logits = loaded.embed(data.source, val)
    again, logits_again = Run.load(run.run_dir).embed(data.source, val[::-1])
    assert embeddings.shape == (5, 8) and logits is not None and logits.shape == (5, 5)
    assert np.allclose(embeddings, again[::-1], atol=1e-5) and np.allclose(
        logits, logits_again[::-1], atol=1e-4
    )
    # the stored SVM and word map give the figures measured at the end of training
    truth = np.array([data.clip_classes[int(c)] for c in val])  # train index = class order here
    fusion = run.meta["training"]["history"][-1]
    assert np.mean(np.argmax(logits, axis=1) == truth) == pytest.approx(fusion["svm_val_accuracy"])
    labels = loaded.label_vectors_of(loaded.training_class_ids)
    cosine = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True) @ labels.T
    assert np.mean(np.argmax(cosine, axis=1) == truth) == pytest.approx(
        run.meta["metrics"]["validation"]["accuracy"]
    )
    # C = 1 / (2 λ n) with λ = 1e-2 over the 25 training clips
    assert float(loaded.model.svm_c) == pytest.approx(1 / (2 * 1e-2 * 25))
    state = load_checkpoint(run.run_dir / "checkpoint.pt")
    assert state["stage"]["done"] == ["appearance", "motion"] and state["stage"]["fused"]


def test_the_fusion_svm_uses_every_stream(trained):
    _, data, run = trained
    model = run.model
    clips = np.array(sorted(data.clip_classes))
    fused = torch.from_numpy(model.fused_embeddings(_cache(run, data.source), clips).astype(np.float32))
    logits = fused @ model.svm_weight.T + model.svm_bias
    for block in range(len(model.streams)):
        zeroed = fused.clone()
        zeroed[:, block * 16 : (block + 1) * 16] = 0
        changed = (zeroed @ model.svm_weight.T + model.svm_bias - logits).abs().max()
        assert changed > 1e-3, model.streams[block]


def test_streams_are_trained_separately(tmp_path):
    """Motion trains second beside appearance and first alone: its weights are the same."""
    data = synthetic_actions(num_classes=4, clips_per_class=8, word_dim=8, seed=4)
    _, both = _train(tmp_path / "both", data, train={"epochs": 2})
    motion_only = InMemorySequenceSource(
        {"motion": {c: data.source.get(c, "motion") for c in data.clip_classes}}, name="synthetic"
    )
    alone_data = type(data)(motion_only, data.clip_classes, data.label_vectors, data.class_names)
    _, alone = _train(tmp_path / "alone", alone_data, train={"epochs": 2})
    assert alone.model.streams == ("motion",) and both.model.streams == ("appearance", "motion")
    mine = alone.model.encoders["motion"].state_dict()
    for key, value in both.model.encoders["motion"].state_dict().items():
        assert torch.equal(value, mine[key]), key


def test_clips_without_audio_train_and_embed(tmp_path):
    data = synthetic_actions(
        num_classes=4, clips_per_class=8, word_dim=8, seed=6, dims={"appearance": 6, "motion": 5, "audio": 4}
    )
    clips = sorted(data.clip_classes)
    sequences = {s: {c: data.source.get(c, s) for c in clips} for s in ("appearance", "motion")}
    sequences["audio"] = {c: data.source.get(c, "audio") for c in clips if c % 2 == 0}  # half have sound
    partial = type(data)(
        InMemorySequenceSource(sequences, name="synthetic"),
        data.clip_classes,
        data.label_vectors,
        data.class_names,
    )
    ws, run = _train(tmp_path / "ws", partial, train={"epochs": 1, "pca_dims": 3})
    assert run.model.streams == ("appearance", "motion", "audio")
    assert run.meta["split"]["train_clips"] == 20  # every train clip, with sound or without
    # the audio PCA is fitted on the training clips that have sound, and only on them
    roles = ws.catalog.split("1")
    train_clips = [c.id for c in ws.catalog.iter_clips() if roles.get(c.id) == "train"]
    with_sound = [c for c in train_clips if c in sequences["audio"]]
    assert 0 < len(with_sound) < len(train_clips)
    assert run.input_transform.streams["audio"].rows == sum(len(sequences["audio"][c]) for c in with_sound)
    embeddings, logits = run.embed(partial.source, np.array(clips))
    assert np.isfinite(embeddings).all() and logits is not None and np.isfinite(logits).all()
    fused = run.model.fused_embeddings(_cache(run, partial.source), np.array(clips))
    assert fused[:, -1].tolist() == [1.0 if c % 2 == 0 else 0.0 for c in clips]
    ws.close()


class _CancelAfter(ProgressBase):
    def __init__(self, calls):
        super().__init__()
        self.calls = calls

    def check_cancelled(self):
        self.calls -= 1
        if self.calls < 0:
            raise TaskCancelled("cancelled")


def test_an_interrupted_run_resumes_exactly(tmp_path):
    data = synthetic_actions(num_classes=4, clips_per_class=8, word_dim=8, seed=8)
    _, straight = _train(tmp_path / "a", data, train={"epochs": 3, "patience": 0})
    ws, words = synthetic_workspace(tmp_path / "b", data, splits=_splits(data))
    common = {
        "source": data.source,
        "vectors": words,
        "model_overrides": TINY,
        "train_overrides": {**TRAIN, "epochs": 3, "patience": 0},
    }
    # 20 training clips in batches of 16: 2 batches per epoch; stop in the motion stream's 2nd epoch
    with pytest.raises(TaskCancelled):
        train_in_workspace(ws, "multistream", progress=_CancelAfter(2 * 3 + 2 + 1), **common)
    interrupted = load_checkpoint(ws.runs_dir / "multistream-small-rec-s1" / "checkpoint.pt")
    assert interrupted["stage"] == {"stream": "motion", "stream_epoch": 0, "done": ["appearance"]}
    resumed = train_in_workspace(ws, "multistream", resume=True, **common)
    losses = [r["loss"] for r in straight.meta["training"]["history"] if "stream" in r]
    assert [r["loss"] for r in resumed.meta["training"]["history"] if "stream" in r] == pytest.approx(losses)
    for key, value in straight.model.state_dict().items():
        assert torch.allclose(value, resumed.model.state_dict()[key], atol=1e-6), key
    ws.close()
