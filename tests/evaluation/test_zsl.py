"""Zero-shot class splits (folds by purpose, compositional splits), oracles, accuracy and the table."""

import zlib

import numpy as np
import pytest

from desktop_app.errors import ActionLensError
from desktop_app.evaluation.zsl import (
    component_oracles,
    format_table,
    zsl_accuracy,
    zsl_class_split,
    zsl_table,
)

VERBS = ["cut", "roll", "lift", "spin"]
NOUNS = ["apple", "ball", "cup", "box", "hat", "pen", "key", "bell"]
#: 4 verbs × 8 nouns, every combination a class (ids 1..32).
COMPONENTS = {1 + i * len(NOUNS) + j: (v, n) for i, v in enumerate(VERBS) for j, n in enumerate(NOUNS)}


@pytest.mark.parametrize(
    ("split", "n", "seen"),
    [("50/50", 10, 5), ("80/20", 10, 8), ("90/10", 30, 27), ("51/50", 101, 51), ("90/10", 10, 8)],
)
def test_split_sizes(split, n, seen):
    s, u = zsl_class_split(range(n), split, fold=0)
    assert len(s) == seen and len(u) == n - seen
    assert set(s) | set(u) == set(range(n)) and not set(s) & set(u)


def test_folds_depend_on_split_fold_and_purpose_only():
    a = zsl_class_split(range(20), "50/50", 3)
    b = zsl_class_split(range(20), "50/50", 3, purpose="test")
    c = zsl_class_split(range(20), "50/50", 4)
    dev = zsl_class_split(range(20), "50/50", 3, purpose="dev")
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], dev[0])
    # test folds keep the draw of the former seed-0 folds, so existing runs stay valid
    old = np.sort(np.random.default_rng([0, zlib.crc32(b"50/50"), 3]).permutation(np.arange(20))[:10])
    assert np.array_equal(a[0], old)
    # no development fold among the first 50 equals any of the first 50 test folds
    tests = {tuple(zsl_class_split(range(20), "50/50", k)[1]) for k in range(50)}
    devs = {tuple(zsl_class_split(range(20), "50/50", k, purpose="dev")[1]) for k in range(50)}
    assert not tests & devs
    with pytest.raises(ActionLensError, match="unknown zero-shot split"):
        zsl_class_split(range(20), "60/40", 0)
    with pytest.raises(ActionLensError, match="fold purpose"):
        zsl_class_split(range(20), "50/50", 0, purpose="final")


@pytest.mark.parametrize(
    ("split", "index", "distinct", "held"), [("unseen-noun", 1, 8, 2), ("unseen-verb", 0, 4, 1)]
)
def test_compositional_splits_hold_out_whole_components(split, index, distinct, held):
    for fold in range(5):
        seen, unseen = zsl_class_split(COMPONENTS, split, fold, components=COMPONENTS)
        held_out = {COMPONENTS[int(c)][index] for c in unseen}
        assert len(held_out) == held  # a quarter of the distinct values, at least one
        # every class with a held-out value is unseen, and no seen class has one
        assert all(COMPONENTS[int(c)][index] not in held_out for c in seen)
        assert len(unseen) == held * (len(COMPONENTS) // distinct)
    with pytest.raises(ActionLensError, match="needs a noun for every class"):
        zsl_class_split(range(1, 9), "unseen-noun", 0, components={c: ("cut", None) for c in range(1, 9)})


def test_component_oracles_by_hand():
    # unseen: cut_apple, cut_ball, roll_apple; clips: two of cut_apple, one of roll_apple
    components = {1: ("cut", "apple"), 2: ("cut", "ball"), 3: ("roll", "apple")}
    oracles = component_oracles(np.array([1, 1, 3]), np.array([1, 2, 3]), components)
    # noun "apple" is shared by 2 unseen classes: every clip scores 1/2
    assert oracles["noun_oracle"] == pytest.approx(0.5)
    # verb: cut is shared by 2 (cut_apple clips 1/2), roll by 1 (roll_apple clip 1)
    assert oracles["verb_oracle"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert oracles["oracle_note"] is None
    bare = component_oracles(np.array([1]), np.array([1, 2]), {1: ("cut", None), 2: ("roll", None)})
    assert bare["noun_oracle"] is None and bare["verb_oracle"] == pytest.approx(1.0)
    assert "no noun" in bare["oracle_note"]


def test_nearest_unseen_label_by_cosine():
    labels = np.array([[1.0, 0.0], [0.0, 1.0]])
    emb = np.array([[5.0, 1.0], [0.1, 3.0], [1.0, 0.2]])
    assert zsl_accuracy(emb, np.array([7, 9, 9]), np.array([7, 9]), labels) == pytest.approx(2 / 3)


def _run(seed, fold, accuracy, purpose="test", noun=0.4):
    return {
        "model": {"name": "ste"},
        "seed": seed,
        "zsl": {"split": "50/50", "fold": fold, "purpose": purpose},
        "metrics": {"zsl": {"accuracy": accuracy, "chance": 0.2, "noun_oracle": noun, "verb_oracle": 0.6}},
    }


def test_table_is_a_spread_over_training_seeds_of_fold_means():
    runs = [
        _run(0, 0, 0.5),
        _run(0, 1, 0.7),  # seed 0: mean 0.6
        _run(1, 0, 0.2),
        _run(1, 1, 0.4),  # seed 1: mean 0.3
        _run(2, 0, 0.99, purpose="dev"),  # a development fold is never reported
        _run(3, 5, 0.99),  # fold 5 is beyond --folds 2
    ]
    table = zsl_table(runs, ["ste", "pooled-ridge"], ["50/50", "80/20"], folds=2)
    cell = table["rows"][0]["cells"]["50/50"]
    assert cell["mean"] == pytest.approx(0.45) and cell["std"] == pytest.approx(np.std([0.6, 0.3], ddof=1))
    assert cell["seeds"] == 2 and cell["folds"] == 2 and cell["values"] == pytest.approx([0.6, 0.3])
    assert cell["per_seed"]["1"]["folds"] == {"0": 0.2, "1": 0.4}
    assert table["rows"][1]["cells"]["50/50"]["seeds"] == 0 and table["seeds"] == [0, 1]
    assert table["reference"]["50/50"]["noun_oracle"] == pytest.approx(0.4)
    text = format_table(table)
    assert "45.0 ± 21.2 (2×2)" in text and "pooled-ridge" in text and "training seeds" in text
    lines = {line.split("  ")[0]: line for line in text.splitlines()}
    assert "40.0" in lines["noun-only oracle"] and "60.0" in lines["verb-only oracle"]
    assert "20.0" in lines["chance"]
    dev = zsl_table(runs, ["ste"], ["50/50"], folds=2, purpose="dev")
    assert dev["rows"][0]["cells"]["50/50"]["mean"] == pytest.approx(0.99)


def test_table_says_when_classes_have_no_components():
    run = _run(0, 0, 0.5, noun=None)
    run["metrics"]["zsl"]["oracle_note"] = "the classes have no noun: no component oracle"
    text = format_table(zsl_table([run], ["ste"], ["50/50"], folds=1))
    assert "note: 50/50: the classes have no noun" in text
