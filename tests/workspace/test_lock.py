"""Writer locks on workspace resources, in one process (two open files conflict like two processes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop_app.errors import ActionLensError
from desktop_app.workspace.lock import LockHeld, WorkspaceLock, lock_file_name, read_holder, writer_lock


def test_second_lock_is_refused_naming_the_holder(tmp_path: Path) -> None:
    with WorkspaceLock(tmp_path, "run ste-small") as first:
        holder = read_holder(first.path)
        assert holder is not None and holder.pid == os.getpid()
        second = WorkspaceLock(tmp_path, "run ste-small")
        with pytest.raises(LockHeld, match=rf"run ste-small is being written by pid {os.getpid()} .*--wait"):
            second.acquire()
        with pytest.raises(LockHeld):
            second.acquire(wait=True, timeout=0.3)
        assert WorkspaceLock(tmp_path, "run other").try_acquire()  # another resource is free
    assert read_holder(first.path) is None  # released and emptied
    assert WorkspaceLock(tmp_path, "run ste-small").try_acquire()


def test_waiting_lock_says_so_once(tmp_path: Path) -> None:
    messages: list[str] = []
    first = WorkspaceLock(tmp_path, "feature store x").acquire()
    with pytest.raises(LockHeld):
        WorkspaceLock(tmp_path, "feature store x").acquire(wait=True, on_wait=messages.append, timeout=0.3)
    first.release()
    assert len(messages) == 1 and messages[0].startswith(f"waiting for pid {os.getpid()} ")


def test_lock_of_a_dead_holder_is_taken_over_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "locks" / lock_file_name("run r")
    path.parent.mkdir()
    path.write_text('{"pid": 999999999, "command": "actionlens train", "started": "2020-01-01"}')
    notes: list[str] = []
    with writer_lock(tmp_path, "run r", on_takeover=notes.append):
        assert read_holder(path).pid == os.getpid()  # type: ignore[union-attr]
    assert notes == [
        "took over the lock on run r left by pid 999999999 (actionlens train), since 2020-01-01, "
        "which is no longer running"
    ]


def test_hostile_resource_names_stay_inside_the_locks_folder(tmp_path: Path) -> None:
    name = lock_file_name("../../etc/passwd")
    assert "/" not in name and name.endswith(".lock") and not name.startswith(".")
    assert lock_file_name("run a/b") != lock_file_name("run a_b")


def test_unwritable_workspace_gives_one_line(tmp_path: Path) -> None:
    (tmp_path / "locks").write_text("not a folder")
    with pytest.raises(ActionLensError, match=r"cannot create the lock file .*writable"):
        WorkspaceLock(tmp_path, "run r").acquire()
