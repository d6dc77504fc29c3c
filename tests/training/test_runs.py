"""A run's files say enough to embed new clips; training inside a workspace."""

import json

import numpy as np
import pytest

from desktop_app.errors import ActionLensError
from desktop_app.evaluation.embed import embed_workspace
from desktop_app.training.data import InMemorySequenceSource
from desktop_app.training.experiment import evaluate_run, train_in_workspace
from desktop_app.training.runs import Run
from desktop_app.training.synthetic import synthetic_actions, synthetic_workspace


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("ws") / "ws"
    data = synthetic_actions(num_classes=12, clips_per_class=6, word_dim=8, seed=3)
    ws, vectors = synthetic_workspace(root, data)
    run = train_in_workspace(
        ws,
        "ste",
        zsl_split="50/50",
        fold=0,
        epochs=4,
        source=data.source,
        vectors=vectors,
        train_overrides={"num_threads": 1, "lr": 5e-3},
    )
    yield ws, data, run
    ws.close()


def test_run_files_and_metadata(trained):
    ws, _data, run = trained
    files = {p.name for p in run.run_dir.iterdir()}
    assert {"weights.safetensors", "meta.json", "label_vectors.npy", "checkpoint.pt"} <= files
    meta = json.loads((run.run_dir / "meta.json").read_text())
    assert meta["model"]["name"] == "ste" and meta["task"] == "zsl"
    assert meta["model"]["shape"] == {
        "input_dims": {"appearance": 24, "motion": 12},
        "word_dim": 8,
        "num_classes": 6,
    }
    assert meta["word_vectors"]["dim"] == 8 and meta["features"]["name"] == "synthetic"
    assert len(meta["classes"]) == 12 and sum(c["train_index"] is not None for c in meta["classes"]) == 6
    assert sorted(meta["zsl"]["seen_class_ids"] + meta["zsl"]["unseen_class_ids"]) == list(
        range(1, 13)
    )  # catalog class ids start at 1
    assert ws.catalog.runs()[0]["status"] == "complete"


def test_metadata_is_enough_to_embed_new_clips(trained):
    _, data, run = trained
    loaded = Run.load(run.run_dir)  # only the run directory
    new = synthetic_actions(
        num_classes=12, clips_per_class=3, word_dim=8, seed=44, label_vectors=data.label_vectors
    )
    ids = np.array(sorted(new.clip_classes))
    first, _ = loaded.embed(new.source, ids)
    again, _ = Run.load(run.run_dir).embed(new.source, ids[::-1])
    assert first.shape == (36, 8) and first.dtype == np.float32
    assert np.allclose(first, again[::-1], atol=1e-5)
    # the new clips of the unseen classes land nearer their own label than chance would
    unseen = np.array(loaded.meta["zsl"]["unseen_class_ids"])
    catalog_class = np.array([new.clip_classes[i] + 1 for i in ids])  # catalog ids start at 1
    mask = np.isin(catalog_class, unseen)
    sims = first[mask] @ loaded.label_vectors_of(unseen).T
    truth = catalog_class[mask]
    assert np.mean(unseen[np.argmax(sims, axis=1)] == truth) > 1 / len(unseen)


def test_wrong_features_are_refused(trained):
    _, _, run = trained
    other = InMemorySequenceSource({"appearance": {0: np.zeros((3, 5))}, "motion": {0: np.zeros((3, 12))}})
    with pytest.raises(ActionLensError, match="dimension 24"):
        run.embed(other, np.array([0]))


def test_evaluate_and_embed_in_workspace(trained):
    ws, data, run = trained
    metrics = evaluate_run(ws, run, source=data.source)
    assert metrics["unseen_classes"] == 6 and metrics["test_clips"] == 36
    assert metrics["accuracy"] > metrics["chance"]
    assert (
        json.loads((run.run_dir / "meta.json").read_text())["metrics"]["zsl"]["accuracy"]
        == metrics["accuracy"]
    )
    # a clip without features gets a NaN row
    partial = InMemorySequenceSource(
        {
            s: {c: data.source.get(c, s) for c in data.source.clip_ids(s) if c != 5}
            for s in data.source.streams
        }
    )
    summary = embed_workspace(ws, run.run_id, source=partial)
    clips = np.load(ws.embeddings_dir / run.run_id / "clips.npy", mmap_mode="r")
    assert clips.shape == (72, 8) and clips.dtype == np.float32
    assert np.isnan(clips[5]).all() and not np.isnan(np.delete(np.asarray(clips), 5, axis=0)).any()
    means = np.load(ws.embeddings_dir / run.run_id / "class_means.npy")
    info = json.loads((ws.embeddings_dir / run.run_id / "class_means.json").read_text())
    assert info["class_ids"] == list(range(1, 13)) and means.shape == (12, 8)
    assert np.allclose(means[1], np.asarray(clips[6:12]).mean(axis=0), atol=1e-6)
    assert summary.clips_missing == 1


def test_finished_run_is_not_overwritten_silently(trained):
    ws, data, _ = trained
    with pytest.raises(ActionLensError, match="--overwrite"):
        train_in_workspace(ws, "ste", zsl_split="50/50", fold=0, epochs=1, source=data.source, vectors=None)


def test_recognition_is_scored_in_the_word_space_and_by_the_head(tmp_path):
    data = synthetic_actions(num_classes=6, clips_per_class=8, word_dim=8, seed=5)
    ws, vectors = synthetic_workspace(tmp_path / "ws", data)
    common = {"epochs": 6, "source": data.source, "vectors": vectors, "train_overrides": {"num_threads": 1}}
    ste = train_in_workspace(ws, "ste", **common)
    ridge = train_in_workspace(ws, "pooled-ridge", **common)
    with_head = evaluate_run(ws, ste, source=data.source)
    without_head = evaluate_run(ws, ridge, source=data.source)
    for metrics in (with_head, without_head):
        assert metrics["test_clips"] == 12 and metrics["chance"] == pytest.approx(1 / 6)
        assert metrics["accuracy"] > 2 * metrics["chance"]  # clear-cut synthetic classes
    # the head's figure is the argmax of its logits on the test clips (here a barely trained head)
    roles = ws.catalog.split("1")
    test = [c for c in ws.catalog.iter_clips() if roles.get(c.id) == "test"]
    _, logits = ste.embed(data.source, np.array([c.id for c in test]))
    assert logits is not None and logits.shape == (12, 6)
    by_hand = np.mean(
        ste.training_class_ids[np.argmax(logits, axis=1)] == np.array([c.class_id for c in test])
    )
    assert with_head["classifier_accuracy"] == pytest.approx(float(by_hand))
    assert without_head["classifier_accuracy"] is None  # ridge has no classifier head
    ws.close()
