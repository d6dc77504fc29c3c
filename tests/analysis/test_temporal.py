"""Prefix embeddings (the model's view over time), their map positions and nearest classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from desktop_app.analysis.temporal import (
    prefix_embeddings,
    prefix_embeddings_slow,
    project_track,
    step_at,
    step_seconds,
    track_neighbours,
)
from desktop_app.errors import ActionLensError
from desktop_app.models.registry import ModelShape, get_model_spec
from desktop_app.training.data import InMemorySequenceSource
from desktop_app.training.runs import Run

DIMS = {"appearance": 6, "motion": 4}

#: Tiny settings of each supported model (the small presets' shapes, shrunk).
TINY = {
    "ste": {"hidden_size": 8, "mlp_hidden": 12, "max_len": 20},
    "lstm": {"hidden_sizes": (8,), "max_len": 20},
    "stacked-lstm": {"hidden_sizes": (8, 6), "max_len": 20},
    "pooled-ridge": {"max_len": 20},
    "action2vec": {"lstm1_size": 8, "lstm2_size": 6, "attention_size": 5, "subseq_len": 3, "max_len": 20},
    "action2vec-literal": {
        "lstm1_size": 8,
        "lstm2_size": 6,
        "attention_size": 5,
        "subseq_len": 3,
        "max_len": 20,
    },
}


def tiny_run(name: str, settings: dict[str, Any], seed: int = 0) -> Run:
    """A run of model ``name`` with random weights (what is tested is the arithmetic, not training)."""
    torch.manual_seed(seed)
    spec = get_model_spec(name)
    config = spec.config_cls(**settings)
    shape = ModelShape(dict(DIMS), word_dim=5, num_classes=3)
    model = spec.build(config, shape)
    if name == "pooled-ridge":  # its weights start at zero; give it a real map
        torch.nn.init.normal_(model.linear.weight)
    model.eval()
    meta = {
        "run_id": f"{name}-tiny",
        "model": {"name": name, "config": dict(settings), "shape": shape.to_json()},
        "features": {"name": "in-memory"},
    }
    return Run(Path("."), meta, model, np.eye(3, 5, dtype=np.float32))


def source(lengths: dict[str, int]) -> InMemorySequenceSource:
    rng = np.random.default_rng(3)
    return InMemorySequenceSource(
        {s: {7: rng.normal(size=(lengths[s], d)).astype(np.float32)} for s, d in DIMS.items()}
    )


@pytest.mark.parametrize("name", sorted(TINY))
def test_one_pass_matches_each_prefix_embedded_alone(name: str) -> None:
    torch.set_num_threads(1)
    run = tiny_run(name, TINY[name])
    clip_source = source({"appearance": 11, "motion": 11})
    steps, fast = prefix_embeddings(run, clip_source, 7)
    slow = prefix_embeddings_slow(run, clip_source, 7)
    assert steps.tolist() == list(range(1, 12))
    assert fast.shape == (11, 5)
    np.testing.assert_allclose(fast, slow, atol=1e-5)
    # The whole prefix is the clip's own embedding, as Run.embed computes it.
    full, _ = run.embed(clip_source, np.array([7]))
    np.testing.assert_allclose(fast[-1], full[0], atol=1e-5)
    # And the track moves: the prefixes are not all the same point.
    assert np.ptp(fast, axis=0).max() > 1e-3


def test_ste_streams_of_different_lengths() -> None:
    run = tiny_run("ste", TINY["ste"])
    clip_source = source({"appearance": 9, "motion": 6})
    steps, fast = prefix_embeddings(run, clip_source, 7)
    assert len(steps) == 9
    np.testing.assert_allclose(fast, prefix_embeddings_slow(run, clip_source, 7), atol=1e-5)


def test_clip_longer_than_max_len_is_clipped_as_the_model_reads_it() -> None:
    run = tiny_run("lstm", {**TINY["lstm"], "max_len": 8})
    steps, fast = prefix_embeddings(run, source({"appearance": 15, "motion": 15}), 7)
    assert steps[-1] == 8 and fast.shape == (8, 5)


def test_model_without_prefixes_says_so() -> None:
    run = tiny_run("ste", TINY["ste"])
    run.meta["model"]["name"] = "meanpool-svm"
    run.model = torch.nn.Linear(2, 2)  # any module that is none of the supported encoders
    with pytest.raises(ActionLensError, match=r"meanpool-svm.*no track over time"):
        prefix_embeddings(run, source({"appearance": 5, "motion": 5}), 7)


def test_store_without_the_runs_stream_is_named() -> None:
    run = tiny_run("ste", TINY["ste"])
    only_appearance = InMemorySequenceSource({"appearance": {7: np.zeros((4, 6), np.float32)}})
    with pytest.raises(ActionLensError, match="'motion' features"):
        prefix_embeddings(run, only_appearance, 7)


def test_linear_map_is_recovered_exactly_and_others_interpolate() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 6))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    mean = unit.mean(axis=0)
    _, _, vt = np.linalg.svd(unit - mean, full_matrices=False)
    pca = (unit - mean) @ vt[:2].T
    queries = rng.normal(size=(4, 6))
    placed = project_track(vectors, pca, queries)
    expected = (queries / np.linalg.norm(queries, axis=1, keepdims=True) - mean) @ vt[:2].T
    assert placed.method == "linear"
    np.testing.assert_allclose(placed.coords, expected, atol=1e-4)

    warped = np.tanh(pca * 3) + pca**2  # not affine in the embeddings: a UMAP-like layout
    placed = project_track(vectors, warped, np.vstack([queries, vectors[10]]))
    assert placed.method == "neighbours"
    np.testing.assert_allclose(placed.coords[-1], warped[10], atol=1e-5)  # a map point lands on itself
    lo, hi = warped.min(axis=0), warped.max(axis=0)
    assert np.all(placed.coords >= lo - 1e-6) and np.all(placed.coords <= hi + 1e-6)


def test_nearest_classes_per_step() -> None:
    class_vectors = np.eye(3, 4)
    ids, scores = track_neighbours(
        class_vectors, np.array([10, 20, 30]), np.array([[0, 2, 1, 0], [5, 0, 0, 0.0]]), k=2
    )
    assert ids.tolist() == [[20, 30], [10, 20]]
    assert scores[1, 0] == pytest.approx(1.0)


def test_playhead_to_step() -> None:
    times = step_seconds({"fps": 10.0}, np.arange(1, 6))
    assert times is not None
    assert [step_at(s, 0.0, times, 5) for s in (0.0, 0.1, 0.25, 0.49, 3.0)] == [0, 0, 1, 3, 4]
    assert step_seconds({"fps": 10.0, "adaptive": True}, np.arange(1, 6)) is None
    assert [step_at(0.0, f, None, 4) for f in (0.0, 0.3, 0.99, 1.0)] == [0, 1, 3, 3]
