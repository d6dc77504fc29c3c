"""Zero-shot confusion matrices: counts and the clips behind each cell."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.errors import ActionLensError
from desktop_app.evaluation.confusion import confusion_from_predictions


def test_counts_and_clip_ids_of_a_hand_made_case():
    # classes 30, 10, 20 (not sorted: rows follow the order given)
    classes = np.array([30, 10, 20])
    clips = np.array([7, 3, 9, 4, 5, 8, 6])
    truth = np.array([30, 30, 10, 10, 10, 20, 20])
    assigned = np.array([30, 10, 10, 20, 10, 20, 30])
    confusion = confusion_from_predictions(clips, truth, assigned, classes, ["c30", "c10", "c20"])
    assert confusion.counts.tolist() == [
        [1, 1, 0],  # 30: clip 7 right, clip 3 taken for 10
        [0, 2, 1],  # 10: clips 9, 5 right, clip 4 taken for 20
        [1, 0, 1],  # 20: clip 8 right, clip 6 taken for 30
    ]
    assert confusion.cell_clip_ids(1, 1).tolist() == [5, 9]
    assert confusion.cell_clip_ids(0, 1).tolist() == [3]
    assert confusion.cell_clip_ids(2, 0).tolist() == [6]
    assert confusion.cell_clip_ids(1, 0).tolist() == []
    assert confusion.accuracy == pytest.approx(4 / 7)
    assert confusion.class_names == ["c30", "c10", "c20"]


def test_a_class_outside_the_matrix_is_named():
    with pytest.raises(ActionLensError, match="assigned class id 99"):
        confusion_from_predictions(np.array([1]), np.array([10]), np.array([99]), np.array([10, 20]))
    with pytest.raises(ActionLensError, match="one of each per clip"):
        confusion_from_predictions(np.array([1, 2]), np.array([10]), np.array([10]), np.array([10]))
