"""Atomic writes leave either the old file or the new one, and no temp files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_app.atomic import atomic_open, write_json, write_npy


def test_write_npy_round_trips_and_leaves_no_temp(tmp_path: Path) -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    write_npy(tmp_path / "a.npy", array)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy", mmap_mode="r", allow_pickle=False), array)
    assert [p.name for p in tmp_path.iterdir()] == ["a.npy"]


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    write_json(tmp_path / "m.json", {"version": 1})
    with pytest.raises(RuntimeError), atomic_open(tmp_path / "m.json", "w") as fh:
        fh.write('{"version": 2, "trunc')
        raise RuntimeError("crash halfway")
    assert (tmp_path / "m.json").read_text().strip().replace(" ", "").replace("\n", "") == '{"version":1}'
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_read_json_names_the_damaged_file_and_the_fix(tmp_path: Path) -> None:
    from desktop_app.atomic import read_json
    from desktop_app.errors import ActionLensError, WorkspaceError

    write_json(tmp_path / "ok.json", {"a": 1})
    assert read_json(tmp_path / "ok.json", "unused") == {"a": 1}
    (tmp_path / "bad.json").write_text('{"a": ')
    with pytest.raises(WorkspaceError, match=r"bad\.json is damaged .*; restore it"):
        read_json(tmp_path / "bad.json", "restore it", WorkspaceError)
    with pytest.raises(ActionLensError, match=r"missing\.json is damaged"):
        read_json(tmp_path / "missing.json", "create it")
