"""The per-class table of two runs, against hand-made pairs of spaces (no video, no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.analysis.compare import (
    compare_spaces,
    loo_nearest_mean_accuracy,
    neighbour_movement,
    zero_shot_per_class,
)


def _angle(degrees: float) -> list[float]:
    return [float(np.cos(np.radians(degrees))), float(np.sin(np.radians(degrees)))]


#: Space A (2-D): classes 0, 1, 2 at 0°, 60°, 180°, two clips each 10° apart.
SPACE_A = np.array([_angle(a) for a in (-5, 5, 55, 65, 175, 185)])
#: Space B (3-D): class 1's first clip sits on class 0; class 2 moved next to class 0.
SPACE_B = np.array(
    [[1, 0, 0], [1, 0, 0], [1, 0.2, 0], [0, 1, 0], [0, -0.3, 1], [0, -0.3, 1]],
    dtype=np.float64,
)
LABELS = np.array([0, 0, 1, 1, 2, 2])


def test_recognition_is_leave_one_out_nearest_class_mean() -> None:
    table = compare_spaces(SPACE_A, SPACE_B, LABELS, neighbours=1)
    np.testing.assert_array_equal(table["class_ids"], [0, 1, 2])
    np.testing.assert_allclose(table["recognition_a"], [1.0, 1.0, 1.0])
    # Class 1's first clip is nearer class 0's mean than to its own class's other clip.
    np.testing.assert_allclose(table["recognition_b"], [1.0, 0.5, 1.0])
    np.testing.assert_array_equal(table["clips"], [2, 2, 2])


def test_movement_compares_neighbourhoods_across_dimensions() -> None:
    table = compare_spaces(SPACE_A, SPACE_B, LABELS, neighbours=1)
    # In A class 2's nearest other class is 1, in B it is 0: it moved; 0 and 1 kept theirs.
    np.testing.assert_allclose(table["neighbour_overlap"], [1.0, 1.0, 0.0])
    np.testing.assert_allclose(table["neighbour_rho"], [1.0, 1.0, -1.0])


def test_movement_ignores_rotation_and_scale() -> None:
    rng = np.random.default_rng(0)
    means = rng.normal(size=(8, 6))
    rotation, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    overlap, rho = neighbour_movement(means, 3.0 * means @ rotation, k=3)
    np.testing.assert_allclose(overlap, 1.0)
    np.testing.assert_allclose(rho, 1.0)


def test_vectorised_leave_one_out_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(5), 4)
    embeddings = rng.normal(size=(20, 7)) + np.repeat(rng.normal(size=(5, 7)), 4, axis=0)
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    correct = np.zeros(20)
    for i in range(20):
        means = []
        for c in range(5):
            members = (labels == c) & (np.arange(20) != i)
            mean = unit[members].sum(axis=0)
            means.append(mean / np.linalg.norm(mean))
        correct[i] = np.argmax(np.array(means) @ unit[i]) == labels[i]
    expected = correct.reshape(5, 4).mean(axis=1)
    np.testing.assert_allclose(loo_nearest_mean_accuracy(embeddings, labels, np.arange(5)), expected)
    assert 0 < expected.mean() < 1  # the data is hard enough to test both outcomes


def test_single_clip_classes_are_left_out() -> None:
    labels = np.array([0, 0, 1, 1, 2, 2, 3])
    a = np.vstack([SPACE_A, [[0.0, 1.0]]])
    b = np.vstack([SPACE_B, [[0.0, 0.0, 1.0]]])
    table = compare_spaces(a, b, labels, neighbours=1)
    np.testing.assert_array_equal(table["class_ids"], [0, 1, 2])
    assert table["keep"].tolist() == [True] * 6 + [False]


def test_zero_shot_per_unseen_class() -> None:
    # Unseen classes 7 and 9 with label vectors e1 and e2; class 9's second clip is nearer e1.
    embeddings = np.array([[1.0, 0.1], [0.9, 0.0], [0.2, 1.0], [1.0, 0.3], [5.0, 5.0]])
    labels = np.array([7, 7, 9, 9, 3])
    accuracy = zero_shot_per_class(embeddings, labels, np.array([7, 9, 11]), np.eye(2)[[0, 1, 1]])
    assert accuracy[:2].tolist() == pytest.approx([1.0, 0.5])
    assert np.isnan(accuracy[2])  # no clip of class 11


def _zsl_space(tmp_path, run_id, clip_embeddings, label_vectors):
    """A constructed zero-shot run: classes 0–2, class 2 unseen, its label vectors on disk."""
    from dataclasses import dataclass

    from .conftest import make_space

    @dataclass
    class RunsWorkspace:
        root: object
        runs_dir: object

    space = make_space(
        ["roll ball", "roll box", "bounce ball"], np.eye(3), clip_embeddings, [0, 0, 1, 1, 2, 2]
    )
    (tmp_path / "runs" / run_id).mkdir(parents=True)
    np.save(tmp_path / "runs" / run_id / "label_vectors.npy", np.asarray(label_vectors, dtype=np.float32))
    space.ws = RunsWorkspace(tmp_path, tmp_path / "runs")
    space.run_id = run_id
    space.meta = {
        "classes": [{"id": i, "name": f"c{i}"} for i in range(3)],
        "zsl": {"split": "50/50", "fold": 0, "seen_class_ids": [0, 1], "unseen_class_ids": [1, 2]},
    }
    return space


def test_compare_runs_fills_zero_shot_for_a_shared_fold(tmp_path):
    from desktop_app.analysis.compare import compare_loaded_runs

    clips = np.array([[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0, 1, 0.1], [0, 0, 1], [0.1, 0.9, 0.2]])
    # Run A's label vectors put class 1 on e2 and class 2 on e3: every unseen clip is right but
    # class 2's second clip (nearer e2). Run B swaps them: every unseen clip is wrong.
    space_a = _zsl_space(tmp_path, "a", clips, np.eye(3))
    space_b = _zsl_space(tmp_path, "b", clips, np.eye(3)[[0, 2, 1]])
    table = compare_loaded_runs(space_a, space_b, neighbours=1)
    assert table.has_zero_shot and table.zero_shot_chance == 0.5
    np.testing.assert_array_equal(table.class_ids, [0, 1, 2])
    assert np.isnan(table.zero_shot_a[0])  # class 0 is seen
    np.testing.assert_allclose(table.zero_shot_a[1:], [1.0, 0.5])
    np.testing.assert_allclose(table.zero_shot_b[1:], [0.0, 0.5])
    assert table.clips_of(2).tolist() == [4, 5]

    space_b.meta["zsl"]["fold"] = 1
    other_fold = compare_loaded_runs(space_a, space_b)
    assert not other_fold.has_zero_shot
    assert any("different zero-shot folds" in note for note in other_fold.notes)
