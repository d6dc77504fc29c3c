"""Anomaly metrics against hand-computed values, and the autoencoder run → scores → table path."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.errors import ActionLensError
from desktop_app.evaluation.anomaly import (
    anomaly_table,
    class_mean_scores,
    detection_metrics,
    format_anomaly_table,
    precision_at_k,
    roc_auc,
)
from desktop_app.training.anomaly import (
    anomaly_scores_of,
    autoencoder_run_id,
    read_scores,
    scores_for_run,
    source_run_embeddings,
    train_autoencoder,
)
from desktop_app.training.experiment import train_in_workspace
from desktop_app.training.runs import Run
from desktop_app.training.synthetic import synthetic_actions, synthetic_workspace

SCORES = np.array([0.9, 0.8, 0.3, 0.7, 0.1])
TRUTH = np.array([1, 0, 1, 0, 0], dtype=bool)


def test_auc_and_precision_at_k_by_hand() -> None:
    # positives 0.9 and 0.3 against negatives 0.8, 0.7, 0.1: 0.9 wins 3 pairs, 0.3 wins 1 → 4/6
    assert roc_auc(SCORES, TRUTH) == pytest.approx(4 / 6)
    # k = 2 anomalies: the top two are 0.9 (anomalous) and 0.8 (not)
    assert precision_at_k(SCORES, TRUTH) == 0.5
    assert precision_at_k(SCORES, TRUTH, k=1) == 1.0
    assert precision_at_k(SCORES, TRUTH, k=3) == pytest.approx(1 / 3)
    # a tie at the cut: the earlier row ranks first
    assert precision_at_k(np.array([1.0, 1.0, 0.0]), np.array([0, 1, 0], bool)) == 0.0
    assert np.isnan(roc_auc(SCORES, np.zeros(5, bool)))
    metrics = detection_metrics(SCORES, TRUTH, ["teleport", "", "split", "", ""])
    assert metrics["k"] == 2
    # per kind: teleport (0.9) beats all three normals, split (0.3) one of three
    assert metrics["per_kind"] == {"split": pytest.approx(1 / 3), "teleport": 1.0}


def test_class_mean_baselines_by_hand() -> None:
    fit = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    scores = class_mean_scores(
        fit, np.array([0, 0, 1]), np.array([[1.0, 1.0], [0.0, 4.0], [1.0, 0.0]]), np.array([0, 1, 5])
    )
    # class 0's mean is (1, 0), class 1's (0, 2); class 5 has no fit clip
    assert scores["distance"][:2] == pytest.approx([1.0, 4.0])
    assert scores["cosine"][:2] == pytest.approx([1 - 1 / np.sqrt(2), 0.0])
    assert np.isnan(scores["distance"][2]) and np.isnan(scores["cosine"][2])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A synthetic workspace with a pooled-ridge source run and a few marked clips."""
    data = synthetic_actions(num_classes=6, clips_per_class=8, word_dim=8, seed=3)
    ws, vectors = synthetic_workspace(tmp_path_factory.mktemp("ws") / "ws", data)
    # make four clips (two train, two test: ids % 4 == 3 are test) impossible: their motion
    # stream is that of another class played at ten times the strength
    odd = [1, 3, 10, 11]
    for c in odd:
        data.source._sequences["motion"][c] = data.source._sequences["motion"][c + 16] * 10
    ws.catalog.mark_anomalies([(c, "teleport", 5) for c in odd])
    source = train_in_workspace(
        ws,
        "pooled-ridge",
        source=data.source,
        vectors=vectors,
        train_overrides={"num_threads": 1, "device": "cpu"},
    )
    yield ws, data, source
    ws.close()


def test_autoencoder_run_scores_every_clip_and_the_table_measures_the_test_clips(workspace) -> None:
    ws, data, source = workspace
    runs = [
        train_autoencoder(
            ws,
            source.run_id,
            seed=seed,
            epochs=4,
            features=data.source,
            train_overrides={"num_threads": 1, "device": "cpu"},
            model_overrides={"bottleneck_size": 3, "hidden_size": 16},  # 8-d word space here
        )
        for seed in (0, 1)
    ]
    assert [r.run_id for r in runs] == [autoencoder_run_id(source.run_id, "small", s) for s in (0, 1)]
    run = runs[0]
    # trained on the source run's training clips only (less its validation share)
    roles = ws.catalog.split("1")
    assert run.meta["split"]["test_clips"] == sum(r == "test" for r in roles.values())
    assert run.meta["inputs"]["fitted_on"]["clips"] == run.meta["split"]["train_clips"]
    assert run.meta["inputs"]["pca_dims"] == 0
    # the stored scores are those of the saved run, reloaded
    ids, embeddings = source_run_embeddings(ws, source, features=data.source)
    stored = read_scores(ws, run.run_id)
    assert np.array_equal(stored.clip_ids, ids)
    again = anomaly_scores_of(Run.load(run.run_dir), embeddings)
    assert np.allclose(stored.scores, again, atol=1e-6)
    # the app's lookup: a source run shows the scores of its seed-0 autoencoder
    shown = scores_for_run(ws, source.run_id)
    assert shown is not None and shown.run_id == run.run_id
    assert scores_for_run(ws, "no-such-run") is None

    table = anomaly_table(ws, [source.run_id], seeds=[0, 1], features=data.source)
    (row,) = table["sources"]
    test_ids = np.array(sorted(c for c, r in roles.items() if r == "test"))
    truth = np.isin(test_ids, [3, 11])
    assert row["test_clips"] == len(test_ids) and row["anomalies"] == 2
    assert row["chance"]["precision_at_k"] == pytest.approx(2 / len(test_ids))
    expected = [roc_auc(read_scores(ws, r.run_id).of(test_ids), truth) for r in runs]
    assert row["autoencoder"]["roc_auc"]["values"] == pytest.approx(expected)
    assert row["autoencoder"]["roc_auc"]["n"] == 2
    assert row["class_mean"]["roc_auc"]["n"] == 1
    text = format_anomaly_table(table)
    assert "| chance | 0.500 |" in text and "distance to class mean" in text
    # each autoencoder run keeps its figures
    assert Run.load(run.run_dir).meta["metrics"]["anomaly"]["k"] == 2


def test_stale_and_damaged_scores_are_not_shown(workspace, tmp_path) -> None:
    from desktop_app.atomic import write_json
    from desktop_app.training.anomaly import SCORES, scored_runs
    from desktop_app.training.runs import read_meta

    ws, data, source = workspace
    run = train_autoencoder(
        ws,
        source.run_id,
        seed=5,
        epochs=2,
        features=data.source,
        train_overrides={"num_threads": 1, "device": "cpu"},
        model_overrides={"bottleneck_size": 3, "hidden_size": 16},
    )
    assert run.run_id in {r["run_id"] for r in scored_runs(ws)}
    # the source run trained again after the scores: they belong to another embedding
    meta = read_meta(run.run_dir)
    meta["anomaly"]["source_created"] = "2000-01-01T00:00:00+00:00"
    write_json(run.run_dir / "meta.json", meta)
    assert run.run_id not in {r["run_id"] for r in scored_runs(ws)}
    # a damaged scores file is one line naming it
    np.save(run.run_dir / SCORES, np.zeros(3, np.float32))
    with pytest.raises(ActionLensError, match=r"anomaly_scores\.npy holds"):
        read_scores(ws, run.run_id)


def test_the_table_and_training_name_what_is_missing(workspace) -> None:
    ws, _, _ = workspace
    with pytest.raises(ActionLensError, match="no autoencoder run with anomaly scores for 'elsewhere'"):
        anomaly_table(ws, ["elsewhere"])
    with pytest.raises(ActionLensError, match="no run 'missing-run'"):
        train_autoencoder(ws, "missing-run")
