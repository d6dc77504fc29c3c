"""The run's input transform: fitted on its training clips only, applied alike everywhere."""

import json

import numpy as np
import pytest
import torch

from desktop_app.models.registry import get_model_spec
from desktop_app.training.data import InMemorySequenceSource
from desktop_app.training.experiment import default_run_id, train_in_workspace
from desktop_app.training.inputs import InputTransform, TransformedSource
from desktop_app.training.runs import Run
from desktop_app.training.synthetic import synthetic_actions, synthetic_workspace

COMMON = {"epochs": 2, "train_overrides": {"num_threads": 1, "lr": 5e-3, "device": "cpu"}}


def _replaced(source, clip_ids, seed):
    """A copy of ``source`` in which ``clip_ids`` have other features (noise of another scale)."""
    rng = np.random.default_rng(seed)
    changed = set(int(c) for c in clip_ids)
    return InMemorySequenceSource(
        {
            s: {
                int(c): (
                    5.0 * rng.standard_normal(source.get(c, s).shape) + 3.0
                    if int(c) in changed
                    else source.get(c, s)
                )
                for c in source.clip_ids(s)
            }
            for s in source.streams
        },
        name="synthetic",
    )


def _same_fit(a: Run, b: Run) -> None:
    for stream, part in a.input_transform.streams.items():
        other = b.input_transform.streams[stream]
        assert np.array_equal(part.mean, other.mean) and np.array_equal(part.components, other.components)
    for key, value in a.model.state_dict().items():
        assert torch.equal(value, b.model.state_dict()[key]), key


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    data = synthetic_actions(num_classes=8, clips_per_class=6, word_dim=8, seed=11)
    ws, vectors = synthetic_workspace(tmp_path_factory.mktemp("ws") / "ws", data)
    yield ws, data, vectors
    ws.close()


@pytest.mark.parametrize("model", ["ste", "pooled-ridge"])
def test_unseen_clips_move_nothing_that_is_fitted(workspace, model):
    ws, data, vectors = workspace
    kw = {**COMMON, "source": data.source, "vectors": vectors, "zsl_split": "50/50", "fold": 1}
    run = train_in_workspace(ws, model, run_id=f"{model}-a", **kw)
    unseen = set(run.meta["zsl"]["unseen_class_ids"])
    unseen_clips = [c.id for c in ws.catalog.iter_clips() if c.class_id in unseen]
    changed = _replaced(data.source, unseen_clips, seed=1)
    # the change is real: the mean over every clip moves
    before = np.concatenate([data.source.get(c, "motion") for c in data.source.clip_ids("motion")])
    after = np.concatenate([changed.get(c, "motion") for c in changed.clip_ids("motion")])
    assert not np.allclose(before.mean(axis=0), after.mean(axis=0), atol=0.1)
    again = train_in_workspace(ws, model, run_id=f"{model}-b", **{**kw, "source": changed})
    _same_fit(run, again)


def test_test_clips_move_nothing_that_is_fitted(workspace):
    ws, data, vectors = workspace
    kw = {**COMMON, "source": data.source, "vectors": vectors}
    run = train_in_workspace(ws, "ste", run_id="rec-a", **kw)
    test = [c for c, role in ws.catalog.split("1").items() if role == "test"]
    again = train_in_workspace(ws, "ste", run_id="rec-b", **{**kw, "source": _replaced(data.source, test, 2)})
    _same_fit(run, again)


def test_the_transform_is_fitted_on_the_training_clips_and_described(workspace):
    ws, data, vectors = workspace
    run = train_in_workspace(
        ws, "lstm", run_id="lstm-fit", source=data.source, vectors=vectors, zsl_split="50/50", **COMMON
    )
    meta = json.loads((run.run_dir / "meta.json").read_text())
    inputs = meta["inputs"]
    assert inputs["fitted_on"]["clips"] == meta["split"]["train_clips"]
    assert set(inputs["fitted_on"]["class_ids"]) == set(meta["zsl"]["seen_class_ids"])
    small = get_model_spec("lstm").preset_part("small", "train")
    assert inputs["input_scale"] == small["input_scale"] and inputs["pca_dims"] == 500  # the preset's
    # its mean is of the training clips only: validation clips (seen classes too) are left out
    stream = inputs["streams"]["appearance"]
    mean = np.load(run.run_dir / stream["mean"], allow_pickle=False)
    seen = set(meta["zsl"]["seen_class_ids"])
    seen_clips = [c.id for c in ws.catalog.iter_clips() if c.class_id in seen]
    all_seen = np.concatenate([data.source.get(c, "appearance") for c in seen_clips]).mean(axis=0)
    assert stream["rows"] < sum(len(data.source.get(c, "appearance")) for c in seen_clips)
    assert not np.allclose(mean, all_seen, atol=1e-6)  # validation rows are not in it
    # the files are plain arrays, and embedding reads through the same transform as training
    loaded = Run.load(run.run_dir)
    ids = data.source.clip_ids()[:5]
    embedded, _ = loaded.embed(data.source, ids)
    by_hand, _ = Run(run.run_dir, meta, loaded.model, loaded.label_vectors).embed(
        TransformedSource(data.source, loaded.input_transform), ids
    )
    np.testing.assert_allclose(embedded, by_hand, atol=1e-6)


def test_old_runs_read_the_store_rows_as_before(workspace):
    """A run made before input transforms (no ``inputs`` in its meta) embeds the source's rows
    as they come (an old store's PCA + L2) with the model's own ``input_scale``."""
    ws, data, vectors = workspace
    run = train_in_workspace(ws, "ste", run_id="old-style", source=data.source, vectors=vectors, **COMMON)
    meta_path = run.run_dir / "meta.json"
    meta = json.loads(meta_path.read_text())
    transform = InputTransform.load(run.run_dir, meta.pop("inputs"))
    # what the transform did, an old run did in two places: the store (PCA + L2) and the model (× scale)
    unscaled = InputTransform(transform.streams, transform.pca_dims, 1.0)
    meta["model"]["config"]["input_scale"] = transform.input_scale
    meta_path.write_text(json.dumps(meta))
    old = Run.load(run.run_dir)
    assert old.input_transform is None
    ids = data.source.clip_ids()[:6]
    expected, _ = run.embed(data.source, ids)
    got, _ = old.embed(TransformedSource(data.source, unscaled), ids)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_run_ids_tell_seed_and_purpose_apart():
    assert default_run_id("ste", "small", "50/50", 3, "1") == "ste-small-zsl50-50-f3"
    assert default_run_id("ste", "small", "50/50", 3, "1", seed=1) == "ste-small-zsl50-50-f3-seed1"
    assert default_run_id("ste", "small", "50/50", 2, "1", 0, "dev") == "ste-small-zsl50-50-dev2"
    assert default_run_id("ste", "small", None, 0, "1", seed=2) == "ste-small-rec-s1-seed2"
