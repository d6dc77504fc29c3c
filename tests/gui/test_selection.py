"""The shared selection: a set of clip ids over one sorted array."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.gui.selection import ClipIdSet, SelectionModel


def test_a_clip_id_set_is_a_set_of_ints_over_a_sorted_array() -> None:
    s = ClipIdSet([5, 1, 3, 3, 9])
    assert s.ids.tolist() == [1, 3, 5, 9]
    assert s.ids.dtype == np.int64 and not s.ids.flags.writeable
    assert len(s) == 4 and list(s) == [1, 3, 5, 9]
    assert 3 in s and np.int64(9) in s and 4 not in s and 10 not in s and 0 not in s
    assert "3" not in s and 3.0 not in s
    assert s == {1, 3, 5, 9} and {1, 3, 5, 9} == s and s == frozenset({1, 3, 5, 9})
    assert s != {1, 3, 5} and s == ClipIdSet(np.array([9, 5, 3, 1]))
    assert hash(s) == hash(frozenset({1, 3, 5, 9}))
    assert (s | [2, 9]).ids.tolist() == [1, 2, 3, 5, 9]
    assert (s - {3, 4}).ids.tolist() == [1, 5, 9]
    assert (s & {9, 1, 7}).ids.tolist() == [1, 9]
    assert isinstance(s | [2], ClipIdSet)
    assert s.contains(np.array([0, 1, 2, 9, 12])).tolist() == [False, True, False, True, False]
    assert ClipIdSet().contains(np.array([1, 2])).tolist() == [False, False]
    assert "… 2 more" in repr(ClipIdSet(range(10)))


def test_the_selection_takes_arrays_and_emits_only_changes(qtbot: object) -> None:
    model = SelectionModel()
    seen: list[tuple[ClipIdSet, str]] = []
    model.changed.connect(lambda ids, source: seen.append((ids, source)))
    ids = np.arange(0, 1_000_000, 3)
    model.set(ids, "map")
    model.set(ids[::-1].copy(), "map")  # the same ids: no signal
    assert len(seen) == 1 and seen[0][1] == "map"
    assert np.array_equal(model.ids, ids) and len(model) == len(ids) and 999_999 in model
    ids[0] = 7  # the caller's array is copied, not kept
    assert model.ids[0] == 0
    model.add(np.array([1, 2]), "library")
    assert model.ids[:4].tolist() == [0, 1, 2, 3]
    model.remove([0, 3], "query")
    assert model.ids[:3].tolist() == [1, 2, 6]
    model.clear("x")
    assert len(model) == 0 and seen[-1] == (frozenset(), "x")
    assert [s for _, s in seen] == ["map", "library", "query", "x"]


@pytest.mark.parametrize("bad", [[1.5], ["a"], np.array([0.5, 2.0])])
def test_a_clip_id_set_refuses_what_is_not_an_id(bad: list[object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        ClipIdSet(bad)  # type: ignore[arg-type]
