"""The Library's vectorised clip filter against the per-row Python filter it replaced."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from desktop_app.workspace.catalog import ROLE_CODES, ClassRow
from desktop_app.workspace.clip_filter import (
    ClipFilter,
    anomaly_cut,
    anomaly_order,
    filter_mask,
    filter_rows,
    id_array,
    is_open,
    narrows,
)

CLASSES = {
    0: ClassRow(0, "BounceBall", "bounce ball", "bounce", "ball", 0),
    1: ClassRow(1, "RollBox", "roll box", "roll", "box", 1),
    2: ClassRow(2, "Wave", "wave", "wave", None, 2),
}


def _reference(spec, names, class_id, roles, selected, anomaly, cut):
    """What ``ClipFilterProxy.filterAcceptsRow`` accepted, row by row (before issue 12)."""
    keep = []
    for i, name in enumerate(names):
        cls = CLASSES.get(int(class_id[i]))
        verb = (cls.verb or "") if cls else ""
        noun = (cls.noun or "") if cls else ""
        if spec.class_id is not None and class_id[i] != spec.class_id:
            continue
        if spec.verb is not None and verb != spec.verb:
            continue
        if spec.noun is not None and noun != spec.noun:
            continue
        if spec.split_role is not None and ROLE_CODES[roles[i]] != spec.split_role[1]:
            continue
        if spec.selected_only and i not in selected:
            continue
        if (spec.anomaly_min is not None or spec.anomaly_top is not None) and (
            np.isnan(anomaly[i]) or anomaly[i] < cut
        ):
            continue
        text = f"{name} {cls.name if cls else ''} {cls.phrase if cls else ''} {verb} {noun}".lower()
        if all(word in text for word in spec.words):
            keep.append(i)
    return keep


def test_filter_mask_selects_what_the_row_by_row_filter_selected():
    rng = np.random.default_rng(0)
    n = 5_000
    stems = ["v_BounceBall", "v_RollBox", "Wave_Ü", "clip", "ball_roll"]
    names = [f"{stems[i % 5]}_g{rng.integers(0, 99):02d}_c{i % 7}" for i in range(n)]
    class_id = rng.integers(-1, 3, n)
    roles = rng.integers(0, 4, n).astype(np.int8)
    anomaly = np.where(rng.random(n) < 0.2, np.nan, rng.random(n))
    selected = set(rng.choice(n, 800, replace=False).tolist())
    lower = pc.utf8_lower(pa.array(names))
    specs = [
        ClipFilter(words=["ball"]),
        ClipFilter(words=["ro", "g1"]),
        ClipFilter(words=["ü"], class_id=2),
        ClipFilter(words=["box"], split_role=("1", "test")),
        ClipFilter(verb="roll", selected_only=True),
        ClipFilter(noun="ball", words=["c3"], anomaly_top=100),
        ClipFilter(anomaly_min=0.5, words=["wave"]),
        ClipFilter(words=["no such word"]),
        ClipFilter(),
    ]
    for spec in specs:
        cut = anomaly_cut(anomaly, spec.anomaly_min, spec.anomaly_top)
        mask = filter_mask(
            spec,
            class_id=class_id,
            names_lower=lower,
            classes=CLASSES,
            role_codes=roles,
            selected=selected,
            anomaly=anomaly,
        )
        assert np.flatnonzero(mask).tolist() == _reference(
            spec, names, class_id, roles, selected, anomaly, cut
        )


def test_anomaly_order_puts_high_scores_first_and_unscored_last_in_catalog_order():
    anomaly = np.array([0.1, np.nan, 0.9, 0.1, np.nan, 0.5])
    assert anomaly_order(np.arange(6), anomaly).tolist() == [2, 5, 0, 3, 1, 4]


def test_filter_rows_lists_every_clip_as_none_and_typing_on_narrows_to_the_same_rows():
    rng = np.random.default_rng(1)
    n = 4_000
    stems = ["v_BounceBall", "v_RollBox", "Wave", "spin_top", "ball_spin"]
    names = [f"{stems[i % 5]}_g{rng.integers(0, 99):02d}_c{i % 7}" for i in range(n)]
    class_id = rng.integers(-1, 3, n)
    roles = rng.integers(0, 4, n).astype(np.int8)
    anomaly = np.where(rng.random(n) < 0.3, np.nan, rng.random(n))
    lower = pc.utf8_lower(pa.array(names))
    columns = {"class_id": class_id, "names_lower": lower, "classes": CLASSES, "role_codes": roles}

    # no filter on: every clip in catalog order, as None (no array of ids is made)
    assert is_open(ClipFilter())
    assert filter_rows(ClipFilter(), **columns) is None
    # ... unless ordered by anomaly score: every clip, most anomalous first
    by_score = filter_rows(ClipFilter(), **columns, anomaly=anomaly, by_anomaly=True)
    assert by_score is not None and sorted(by_score.tolist()) == list(range(n))
    assert by_score.tolist() == anomaly_order(np.arange(n), anomaly).tolist()

    # typing on: each new spec tested on the last one's rows lists what a full pass lists
    old = ClipFilter(split_role=("1", "train"))
    shown = filter_rows(old, **columns)
    for text in ["s", "sp", "spi", "spin", "spin g1", "spin g1 c3"]:
        spec = ClipFilter(split_role=("1", "train"), words=text.split())
        assert narrows(spec, old)
        full = filter_rows(spec, **columns)
        assert shown is not None and full is not None
        assert filter_rows(spec, **columns, within=shown).tolist() == full.tolist()
        old, shown = spec, full
    assert len(shown) and all("spin" in names[i].lower() for i in shown)
    # ... also in anomaly order: the rows come back in that order
    spec = ClipFilter(words=["ball"])
    wide = filter_rows(ClipFilter(words=["b"]), **columns, anomaly=anomaly, by_anomaly=True)
    assert filter_rows(spec, **columns, anomaly=anomaly, by_anomaly=True, within=wide).tolist() == (
        filter_rows(spec, **columns, anomaly=anomaly, by_anomaly=True).tolist()
    )


def test_narrowing_is_only_claimed_when_the_old_rows_hold_every_new_one():
    typed = ClipFilter(words=["sp"])
    assert narrows(ClipFilter(words=["spi"]), typed)
    assert narrows(ClipFilter(words=["spin", "g1"]), typed)
    assert not narrows(ClipFilter(words=["s"]), typed)  # a word taken back widens
    assert not narrows(ClipFilter(words=["ball"]), typed)
    assert not narrows(ClipFilter(), typed)
    assert not narrows(ClipFilter(words=["spi"], class_id=1), typed)  # another filter changed
    assert not narrows(ClipFilter(words=["spi"], anomaly_top=5), ClipFilter(words=["sp"], anomaly_top=6))
    # the selection may have changed since the old rows were listed
    assert not narrows(
        ClipFilter(words=["spi"], selected_only=True), ClipFilter(words=["sp"], selected_only=True)
    )


def test_id_array_reads_arrays_id_sets_and_plain_sets():
    class IdSet(frozenset):
        ids = np.array([2, 5, 9], dtype=np.int64)

    assert id_array(np.array([3, 1], dtype=np.int32)).tolist() == [3, 1]
    assert id_array(IdSet()).tolist() == [2, 5, 9]
    assert sorted(id_array(frozenset({4, 1, 7})).tolist()) == [1, 4, 7]
    assert id_array(i for i in (8, 6)).tolist() == [8, 6]
    assert id_array([]).dtype == np.int64
