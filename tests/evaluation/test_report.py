"""The evaluation tables over training seeds, and the equal tuning budget on development folds."""

import json

import numpy as np
import pytest

from desktop_app.evaluation.report import evaluate_table
from desktop_app.evaluation.tuning import SETTINGS_PER_MODEL, format_tuning, model_grid, tune_models
from desktop_app.training.runs import list_runs
from desktop_app.training.synthetic import synthetic_actions, synthetic_workspace

FAST = {"epochs": 1}


@pytest.fixture(scope="module")
def compositional(tmp_path_factory):
    """12 classes = 3 verbs × 4 nouns."""
    data = synthetic_actions(num_classes=12, clips_per_class=5, word_dim=8, seed=7)
    components = [(v, n) for v in ("cut", "roll", "lift") for n in ("apple", "ball", "cup", "box")]
    ws, vectors = synthetic_workspace(tmp_path_factory.mktemp("ws") / "ws", data, components=components)
    yield ws, data, vectors
    ws.close()


def test_zsl_table_over_seeds_with_oracles_and_compositional_splits(compositional):
    ws, data, vectors = compositional
    table, text = evaluate_table(
        ws,
        task="zsl",
        models=["pooled-ridge"],
        splits=["50/50", "unseen-noun"],
        folds=2,
        seeds=[0, 1],
        train_missing=True,
        source=data.source,
        vectors=vectors,
        **FAST,
    )
    cell = table["rows"][0]["cells"]["50/50"]
    assert cell["seeds"] == 2 and cell["folds"] == 2 and len(cell["values"]) == 2
    # each seed's value is the mean over its folds
    for entry in cell["per_seed"].values():
        assert entry["mean"] == pytest.approx(np.mean(list(entry["folds"].values())))
    # the class split does not depend on the seed: seed 1's fold k has seed 0's unseen classes
    metas = {m["run_id"]: m for m in list_runs(ws.runs_dir)}
    assert (
        metas["pooled-ridge-small-zsl50-50-f1"]["zsl"]["unseen_class_ids"]
        == metas["pooled-ridge-small-zsl50-50-f1-seed1"]["zsl"]["unseen_class_ids"]
    )
    # unseen-noun: one noun of four held out, so its three classes (one per verb) are unseen;
    # the noun oracle then guesses among those three, the verb oracle knows the class
    reference = table["reference"]["unseen-noun"]
    assert reference["chance"] == pytest.approx(1 / 3)
    assert reference["noun_oracle"] == pytest.approx(1 / 3) and reference["verb_oracle"] == pytest.approx(1.0)
    assert "noun-only oracle" in text and "verb-only oracle" in text and "training seeds" in text
    saved = json.loads((ws.runs_dir / "_tables" / "zsl.json").read_text())
    assert saved["rows"][0]["cells"]["50/50"]["per_seed"] == cell["per_seed"]


def test_recognition_table_over_seeds(compositional):
    ws, data, vectors = compositional
    table, text = evaluate_table(
        ws,
        task="recognition",
        models=["pooled-ridge"],
        seeds=[0, 1],
        train_missing=True,
        source=data.source,
        vectors=vectors,
        **FAST,
    )
    cell = table["rows"][0]["cells"]["split 1"]
    assert cell["seeds"] == 2 and set(cell["per_seed"]) == {"0", "1"}
    assert cell["mean"] > 2 * cell["chance"]
    assert "(2)" in text


def test_every_model_tries_the_same_number_of_settings():
    from desktop_app.models.registry import JOINT_EMBEDDING, model_names

    for model in model_names(JOINT_EMBEDDING):
        grid = model_grid(model)
        assert len(grid) == SETTINGS_PER_MODEL and len({s.digest for s in grid}) == SETTINGS_PER_MODEL
        assert {s.train["input_scale"] for s in grid} == {1.0, 3.0}  # an option every model shares


def test_tuning_uses_development_folds_only_and_resumes(compositional):
    ws, data, vectors = compositional
    before = {m["run_id"] for m in list_runs(ws.runs_dir)}
    kw = {"models": ["pooled-ridge", "lstm"], "folds": 1, "source": data.source, "vectors": vectors, **FAST}
    result = tune_models(ws, **kw)
    new = [m for m in list_runs(ws.runs_dir) if m["run_id"] not in before]
    assert len(new) == 2 * SETTINGS_PER_MODEL
    assert all(m["zsl"]["purpose"] == "dev" and "-dev0" in m["run_id"] for m in new)
    for model in ("pooled-ridge", "lstm"):
        entry = result["models"][model]
        means = [r["dev_accuracy"] for r in entry["settings"]]
        assert len(means) == SETTINGS_PER_MODEL and entry["chosen"] == int(np.argmax(means))
    text = format_tuning(result)
    assert "### lstm" in text and "train.input_scale" in text and text.count("**") >= 2
    # a second call trains nothing: every run is cached by id
    again = tune_models(ws, **kw)
    assert len(list_runs(ws.runs_dir)) == len(before) + len(new)
    assert (
        again["models"]["lstm"]["settings"][0]["dev_accuracy"]
        == result["models"]["lstm"]["settings"][0]["dev_accuracy"]
    )


def test_a_run_from_before_the_protocol_or_another_preset_is_not_reported():
    from desktop_app.evaluation.report import run_matches_preset
    from desktop_app.models.registry import config_to_json, get_model_spec

    spec = get_model_spec("lstm")
    meta = {
        "inputs": {"version": 1},
        "model": {"config": config_to_json(spec.config("small"))},
        "training": {**spec.preset_part("small", "train"), "epochs": 1},
    }
    assert run_matches_preset(meta, "lstm", "small")
    assert not run_matches_preset({**meta, "inputs": None}, "lstm", "small")  # store-PCA era
    assert not run_matches_preset({**meta, "training": {**meta["training"], "lr": 0.5}}, "lstm", "small")
    other = config_to_json(spec.config("small", hard_negatives=not spec.config("small").hard_negatives))
    assert not run_matches_preset({**meta, "model": {"config": other}}, "lstm", "small")


def test_a_table_over_another_feature_store_neither_reports_nor_overwrites_its_runs(compositional):
    """Run ids do not name the store: a recognition table read through another store must refuse
    (naming the run and both stores) rather than report or retrain the first store's runs."""
    from desktop_app.errors import ActionLensError

    ws, data, vectors = compositional
    evaluate_table(
        ws, task="recognition", models=["pooled-ridge"], seeds=[0], train_missing=True,
        source=data.source, vectors=vectors, **FAST,
    )  # fmt: skip
    run_meta = ws.runs_dir / "pooled-ridge-small-rec-s1" / "meta.json"
    before = run_meta.read_text()

    class OtherStore:
        def __init__(self, source):
            self._source, self.name = source, "handcrafted-adaptive10-dis"

        def __getattr__(self, attr):
            return getattr(self._source, attr)

    with pytest.raises(
        ActionLensError, match=r"trained on feature store 'synthetic'.*reads 'handcrafted-adaptive10-dis'"
    ):
        evaluate_table(
            ws, task="recognition", models=["pooled-ridge"], seeds=[0], train_missing=True,
            source=OtherStore(data.source), vectors=vectors, **FAST,
        )  # fmt: skip
    assert run_meta.read_text() == before


def test_seed_002_003_grids_tune_options_the_models_read():
    """A GMM or an SVM has no learning rate (they tune the PCA width instead), and seed 003's
    SGD tries rates on its own scale; every grid still holds the same number of settings."""
    for model in ("gmmfv", "meanpool-svm"):
        values = [s.values for s in model_grid(model)]
        assert all("train.lr" not in v and "train.pca_dims" in v for v in values)
    assert {s.values["train.lr"] for s in model_grid("multistream")} == {1e-2, 3e-2}
    assert {s.values["model.dropout"] for s in model_grid("rnnfv")} == {0.5, 0.8}
    assert all(
        len(model_grid(m)) == SETTINGS_PER_MODEL for m in ("rnnfv", "gmmfv", "meanpool-svm", "multistream")
    )
