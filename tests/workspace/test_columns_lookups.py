"""The catalog's id lookups and indexes: what names query hits, fills the Library and answers
``info`` at a million clips without one object per clip (issue 12)."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pyarrow as pa

from desktop_app.data.records import ClassRecord, ClipRecord, VideoInfo
from desktop_app.workspace import Workspace
from desktop_app.workspace.catalog import ROLE_CODES, Catalog, create_catalog, ensure_indexes


def _catalog(tmp_path) -> tuple[Catalog, dict[str, int]]:
    path = tmp_path / "catalog.sqlite"
    create_catalog(path)
    catalog = Catalog(path)
    ids = catalog.add_classes([ClassRecord(name="Run", phrase="run", verb="run", noun=None, index=0)])
    catalog.add_clips(
        [
            ClipRecord(name="a", path="x/a.mp4", class_name="Run", splits={"1": "train", "2": "test"}),
            ClipRecord(name="b", path="x/b.mp4", class_name=None, splits={"2": "train"}),
            ClipRecord(name="c", path="x/c.mp4", class_name="Run", splits={"1": "test", "3": "val"}),
        ],
        ids,
    )
    return catalog, ids


def test_lookups_name_clips_by_id_and_agree_with_the_rows(tmp_path):
    catalog, _ = _catalog(tmp_path)
    catalog.mark_bad(1, "cannot be decoded")
    rows = catalog.clips()
    assert catalog.clip_labels([2, 0, 1]) == [(rows[i].name, rows[i].class_name) for i in (2, 0, 1)]
    names = catalog.clip_name_column()
    assert isinstance(names, pa.StringArray) and names.to_pylist() == [r.name for r in rows]
    paths = catalog.clip_paths()
    assert paths[2] == "x/c.mp4" and paths.get(7) is None and len(paths) == 3 and list(paths) == [0, 1, 2]
    assert catalog.bad_clips() == [(1, "b", "cannot be decoded")]
    assert catalog.split_names() == ["1", "2", "3"]
    assert catalog.split_roles_present("1") == ["train", "test"]
    assert catalog.split_clip_ids("2").tolist() == [0, 1]
    assert catalog.split_clip_ids("2", "train").tolist() == [1]
    assert catalog.num_ids() == 3


def test_a_catalog_written_before_the_indexes_gets_them_on_a_writable_open(tmp_path):
    ws = Workspace.create(tmp_path / "ws")
    ws.close()
    con = sqlite3.connect(tmp_path / "ws" / "catalog.sqlite")
    with con:
        con.execute("DROP INDEX clip_splits_split_role")
        con.execute("DROP INDEX clips_not_ok")
    con.close()
    with Workspace.open(tmp_path / "ws", readonly=True) as ro:
        assert ro.catalog.split_names() == []  # works without the index, by a scan
    with Workspace.open(tmp_path / "ws"):
        pass
    con = sqlite3.connect(tmp_path / "ws" / "catalog.sqlite")
    have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    plan = " ".join(
        str(r[-1])
        for r in con.execute("EXPLAIN QUERY PLAN SELECT clip_id FROM clip_splits WHERE split = '1'")
    )
    con.close()
    assert {"clip_splits_split_role", "clips_not_ok"} <= have
    assert "clip_splits_split_role" in plan
    ensure_indexes(tmp_path / "ws" / "catalog.sqlite")  # idempotent


def test_split_names_without_the_index_match_those_with_it(tmp_path):
    catalog, _ = _catalog(tmp_path)
    with_index = catalog.split_names()
    catalog._con.execute("DROP INDEX clip_splits_split_role")
    assert catalog.split_names() == with_index == ["1", "2", "3"]
    assert np.array_equal(catalog.split_clip_ids("1"), [0, 2])


def test_columns_read_in_one_string_match_the_rows_with_unicode_separators_and_gaps(tmp_path):
    catalog, ids = _catalog(tmp_path)
    odd = ["ça-tourne_ü", "with\x1fseparator", "中文"]
    catalog.add_clips(
        [ClipRecord(name=n, path=f"y/{i}.mp4", class_name="Run", splits={}) for i, n in enumerate(odd)], ids
    )
    catalog.mark_bad(4, "truncated")
    rows = catalog.clips()
    columns = catalog.clip_columns()
    assert columns.class_id.tolist() == [r.class_id if r.class_id is not None else -1 for r in rows]
    assert columns.ok.tolist() == [r.status == "ok" for r in rows]
    assert columns.has_audio.tolist() == [r.has_audio for r in rows]
    assert np.array_equal(catalog.clip_class_column(), columns.class_id)
    assert catalog.clip_name_column().to_pylist() == [r.name for r in rows]  # the separator case
    with catalog.transaction() as con:
        con.execute("DELETE FROM clip_splits WHERE clip_id = 1")
        con.execute("DELETE FROM clips WHERE id = 1")  # ids with a gap: the row-by-row way
    gapped = catalog.clip_columns()
    assert gapped.class_id.tolist() == [ids["Run"], -1, ids["Run"], ids["Run"], ids["Run"], ids["Run"]]
    assert not gapped.ok[1] and not gapped.ok[4] and gapped.ok[0]
    assert catalog.clip_name_column().to_pylist() == ["a", "", "c", *odd]
    assert catalog.clip_class_column().tolist() == gapped.class_id.tolist()


def test_split_role_codes_and_members_read_in_one_string_match_the_memberships(tmp_path):
    catalog, _ = _catalog(tmp_path)
    for split in ("1", "2", "3", "none such"):
        members = catalog.split(split)
        codes = catalog.split_role_codes(split)
        assert codes.dtype == np.int8 and len(codes) == 3
        assert codes.tolist() == [ROLE_CODES.index(members.get(i, "none")) for i in range(3)]
        assert catalog.split_clip_ids(split).tolist() == sorted(members)
        for role in ("train", "val", "test"):
            assert catalog.split_clip_ids(split, role).tolist() == sorted(
                i for i, r in members.items() if r == role
            )
    # a size below the largest id leaves the ids past it out; above it pads with "none"
    assert catalog.split_role_codes("1", size=2).tolist() == [1, 0]
    assert catalog.split_role_codes("1", size=5).tolist() == [1, 0, 3, 0, 0]
    assert catalog.split_counts() == {
        "1": {"test": 1, "train": 1},
        "2": {"test": 1, "train": 1},
        "3": {"val": 1},
    }
    assert catalog.num_clips() == 3


def test_workspace_sized_reads_do_not_wait_for_a_statement_on_the_shared_connection(tmp_path):
    """A worker's column read and the GUI thread's look-ups of a few rows share one catalog:
    the long reads (a column of every clip, every membership of a split) run on connections of
    their own, so they neither wait for a statement the shared connection is busy with nor
    hold it up (SQLite serialises the statements of one connection)."""
    catalog, _ = _catalog(tmp_path)
    running, release = threading.Event(), threading.Event()

    def hold(_: object) -> int:  # a statement on the shared connection that runs until released
        running.set()
        release.wait(30)
        return 1

    con = catalog.transaction()
    con.create_function("hold", 1, hold)
    busy = threading.Thread(target=lambda: con.execute("SELECT hold(id) FROM clips LIMIT 1").fetchall())
    busy.start()
    try:
        assert running.wait(10)
        read: dict[str, object] = {}

        def bulk_reads() -> None:
            read["columns"] = catalog.clip_columns().class_id.tolist()
            read["names"] = catalog.clip_name_column().to_pylist()
            read["codes"] = catalog.split_role_codes("1").tolist()
            read["members"] = catalog.split_clip_ids("2").tolist()
            read["counts"] = catalog.split_counts()
            read["clips"] = catalog.num_clips()

        reader = threading.Thread(target=bulk_reads)
        reader.start()
        reader.join(20)
        finished_while_busy = not reader.is_alive()
    finally:
        release.set()
        busy.join(20)
    assert finished_while_busy
    assert read["names"] == ["a", "b", "c"] and read["codes"] == [1, 0, 3] and read["members"] == [0, 1]
    assert read["clips"] == 3 and read["columns"][1] == -1
    catalog.close()


def test_clip_sources_and_the_mean_duration_agree_with_the_rows(tmp_path):
    path = tmp_path / "catalog.sqlite"
    create_catalog(path)
    catalog = Catalog(path)
    probes = [(2.0, 10.0, 20), (0.0, 10.0, 40), (0.0, 0.0, 0), None, (6.0, 25.0, 150), (1.0, 5.0, 5)]
    records = [
        ClipRecord(
            name=f"c{i}",
            path=f"x/c{i}.mp4",
            class_name=None,
            info=None if p is None else VideoInfo(p[1], p[2], 32, 24, p[0], f"h{i}", has_audio=i % 2 == 0),
        )
        for i, p in enumerate(probes)
    ]
    catalog.add_clips(records, {})
    catalog.mark_bad(5, "cannot be decoded")  # its 1 s is left out of the mean
    rows = catalog.clips()
    wanted = np.array([4, 0, 3, 99, 1])  # any order, and an id that is not there
    chunked = list(catalog.clip_sources(wanted, chunk=2))
    assert chunked == [
        (r.id, r.name, r.path, r.has_audio, r.content_hash) for r in (rows[i] for i in (4, 0, 3, 1))
    ]
    assert list(catalog.clip_sources(np.zeros(0, dtype=np.int64))) == []
    # the good clips' known lengths: 2 s, 40 frames at 10 fps, 6 s (unknown and zero ones left out)
    assert catalog.mean_duration() == (2.0 + 4.0 + 6.0) / 3
    catalog.mark_bad(0, "x")
    catalog.mark_bad(1, "x")
    catalog.mark_bad(4, "x")
    assert catalog.mean_duration() is None
