"""The catalog's column readers: what the app and the hot paths read instead of one object per clip."""

from __future__ import annotations

import numpy as np

from desktop_app.data.records import ClassRecord, ClipRecord
from desktop_app.workspace.catalog import ROLE_CODES, Catalog, create_catalog


def test_columns_roles_and_names_follow_the_rows(tmp_path):
    path = tmp_path / "catalog.sqlite"
    create_catalog(path)
    catalog = Catalog(path)
    ids = catalog.add_classes([ClassRecord(name="Run", phrase="run", verb="run", noun=None, index=0)])
    catalog.add_clips(
        [
            ClipRecord(name="a", path="a.mp4", class_name="Run", splits={"1": "train"}),
            ClipRecord(name="b", path="b.mp4", class_name=None, splits={}),
            ClipRecord(name="c", path="c.mp4", class_name="Run", splits={"1": "test", "2": "train"}),
        ],
        ids,
    )
    catalog.mark_bad(2, "cannot be decoded")
    columns = catalog.clip_columns()
    assert len(columns) == 3
    assert columns.class_id.tolist() == [ids["Run"], -1, ids["Run"]]
    assert columns.ok.tolist() == [True, True, False]
    codes = catalog.split_role_codes("1")
    assert [ROLE_CODES[c] for c in codes] == ["train", "none", "test"]
    assert catalog.split_role_codes("2", size=4).tolist() == [0, 0, 1, 0]
    assert catalog.clip_names([2, 0]) == ["c", "a"]
    assert np.array_equal(catalog.split_role_codes("missing"), np.zeros(3, dtype=np.int8))


def test_ok_clips_narrows_by_usable_class_and_role(tmp_path):
    from desktop_app.workspace.clip_sets import ok_clips

    path = tmp_path / "catalog.sqlite"
    create_catalog(path)
    catalog = Catalog(path)
    ids = catalog.add_classes(
        [
            ClassRecord(name="Run", phrase="run", verb="run", noun=None, index=0),
            ClassRecord(name="Jump", phrase="jump", verb="jump", noun=None, index=1),
        ]
    )
    records = [
        ClipRecord(name="a", path="a.mp4", class_name="Run", splits={"1": "train"}),
        ClipRecord(name="b", path="b.mp4", class_name=None, splits={}),
        ClipRecord(name="c", path="c.mp4", class_name="Jump", splits={"1": "test"}),
        ClipRecord(name="d", path="d.mp4", class_name="Jump", splits={"1": "test"}),
        ClipRecord(name="e", path="e.mp4", class_name="Run", splits={"1": "test"}),
    ]
    catalog.add_clips(records, ids)
    catalog.mark_bad(3, "cannot be decoded")
    assert ok_clips(catalog)[0].tolist() == [0, 2, 4]
    assert ok_clips(catalog, labelled=False)[0].tolist() == [0, 1, 2, 4]
    clip_ids, class_ids = ok_clips(catalog, np.array([0, 2, 3, 99]))
    assert clip_ids.tolist() == [0, 2] and class_ids.tolist() == [ids["Run"], ids["Jump"]]
    assert ok_clips(catalog, classes=[ids["Jump"]])[0].tolist() == [2]
    assert ok_clips(catalog, split="1", role="test")[0].tolist() == [2, 4]
