"""Zero-shot class splits, accuracy and the table."""

import numpy as np
import pytest

from desktop_app.errors import ActionLensError
from desktop_app.evaluation.zsl import format_table, zsl_accuracy, zsl_class_split, zsl_table


@pytest.mark.parametrize(
    ("split", "n", "seen"),
    [("50/50", 10, 5), ("80/20", 10, 8), ("90/10", 30, 27), ("51/50", 101, 51), ("90/10", 10, 8)],
)
def test_split_sizes(split, n, seen):
    s, u = zsl_class_split(range(n), split, fold=0)
    assert len(s) == seen and len(u) == n - seen
    assert set(s) | set(u) == set(range(n)) and not set(s) & set(u)


def test_folds_are_deterministic_and_differ():
    a = zsl_class_split(range(20), "50/50", 3)
    b = zsl_class_split(range(20), "50/50", 3)
    c = zsl_class_split(range(20), "50/50", 4)
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[0], c[0])
    with pytest.raises(ActionLensError, match="unknown zero-shot split"):
        zsl_class_split(range(20), "60/40", 0)


def test_nearest_unseen_label_by_cosine():
    labels = np.array([[1.0, 0.0], [0.0, 1.0]])
    emb = np.array([[5.0, 1.0], [0.1, 3.0], [1.0, 0.2]])
    assert zsl_accuracy(emb, np.array([7, 9, 9]), np.array([7, 9]), labels) == pytest.approx(2 / 3)


def test_table_mean_std_over_folds():
    runs = [
        {
            "model": {"name": "ste"},
            "zsl": {"split": "50/50", "fold": k},
            "metrics": {"zsl": {"accuracy": a, "chance": 0.2}},
        }
        for k, a in enumerate([0.5, 0.7])
    ]
    table = zsl_table(runs, ["ste", "pooled-ridge"], ["50/50", "80/20"], folds=10)
    cell = table["rows"][0]["cells"]["50/50"]
    assert cell["mean"] == pytest.approx(0.6) and cell["std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert table["rows"][1]["cells"]["50/50"]["folds"] == 0
    text = format_table(table)
    assert "60.0 ± 14.1 (2)" in text and "pooled-ridge" in text
