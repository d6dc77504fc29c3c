"""Concurrent writers on one workspace (issue 11, finding 1), with real processes.

Before: two ``actionlens extract`` on one workspace both appended to ``<stream>.f32`` with their
own offsets (48 index records for 24 clips, 23 clips read back wrong, store marked complete), and
two ``train`` with one run id both "succeeded". After: the second writer of a feature store or a
run id stops at once with one line naming the holder, or waits with ``--wait``; a lock left by a
killed process is taken over.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from desktop_app.features import FeatureStore
from desktop_app.features.extract import ExtractSettings, extract_features, resolve_settings
from desktop_app.features.store import store_name
from desktop_app.workspace import Workspace
from desktop_app.workspace.lock import lock_file_name

from .conftest import actionlens_command, subprocess_env, write_clip

HoldLock = Callable[[Path, str], "subprocess.Popen[str]"]
EXTRACT = ("extract", "--workers", "1", "--no-audio")


def _store_resource(ws_root: Path) -> str:
    with Workspace.open(ws_root) as ws:
        return f"feature store {store_name(resolve_settings(ws, ExtractSettings(audio=False)))}"


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        actionlens_command(*args), capture_output=True, text=True, env=subprocess_env(), timeout=timeout
    )


def _raw_features(ws_root: Path) -> dict[tuple[int, str], np.ndarray]:
    with Workspace.open(ws_root, readonly=True) as ws:
        store = FeatureStore.open(ws)
        assert store.complete
        out = {}
        for stream in store.streams:
            ids = store.clip_ids(stream)
            assert len(ids) == len(set(ids.tolist())), f"{stream}: a clip indexed twice"
            for clip_id in ids:
                out[(int(clip_id), stream)] = store.get(int(clip_id), stream, reduced=False)
        return out


def test_second_extract_refuses_naming_the_holder(folder_workspace: Path, hold_lock: HoldLock) -> None:
    resource = _store_resource(folder_workspace)
    holder = hold_lock(folder_workspace, resource)
    refused = _run(*EXTRACT, "--workspace", str(folder_workspace))
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert f"is being written by pid {holder.pid}" in lines[0] and "--wait" in lines[0]
    assert not any((folder_workspace / "features").iterdir())  # nothing written
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)
    done = _run(*EXTRACT, "--workspace", str(folder_workspace), "--json")
    assert done.returncode == 0, done.stderr
    assert len(_raw_features(folder_workspace)) > 0


@pytest.fixture
def busy_workspace(tmp_path: Path) -> Path:
    """12 clips of 60 frames: long enough (seconds) that two extractions interleave their writes."""
    from desktop_app.data.importers import import_dataset

    for k in range(12):
        write_clip(tmp_path / "busy" / f"class{k % 3}" / f"clip{k}.mp4", frames=60, seed=k)
    with Workspace.create(tmp_path / "busy-ws") as ws:
        ws.add_import(import_dataset("folder", tmp_path / "busy"))
    return tmp_path / "busy-ws"


def test_two_extracts_at_once_leave_one_whole_store(busy_workspace: Path, tmp_path: Path) -> None:
    # Before the lock, 11 of these 12 clips read back another clip's rows.
    folder_workspace = busy_workspace
    reference = tmp_path / "reference"
    shutil.copytree(folder_workspace, reference)
    with Workspace.open(reference) as ws:
        extract_features(ws, ExtractSettings(audio=False), workers=1)
    expected = _raw_features(reference)

    command = actionlens_command(*EXTRACT, "--workspace", str(folder_workspace))
    procs = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env()
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    for code, _, err in results:
        # Each either wrote the store, found it done, or was refused with the one-line message
        # (naming the holder's pid, or "another process" when the holder has taken the lock but
        # not yet written who it is).
        assert code == 0 or (code == 1 and "is being written by" in err and "--wait" in err), err
    assert any(code == 0 for code, _, _ in results)
    got = _raw_features(folder_workspace)
    assert got.keys() == expected.keys()
    for key, rows in expected.items():
        np.testing.assert_array_equal(got[key], rows, err_msg=f"clip {key} reads back wrong")


def test_wait_flag_waits_for_the_holder_then_writes(
    folder_workspace: Path, hold_lock: HoldLock, tmp_path: Path
) -> None:
    holder = hold_lock(folder_workspace, _store_resource(folder_workspace))
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:
        waiting = subprocess.Popen(
            actionlens_command(*EXTRACT, "--wait", "--workspace", str(folder_workspace)),
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=subprocess_env(),
        )
        for _ in range(600):  # until it says that it waits (it must not write meanwhile)
            if "waiting for pid" in log.read_text() or waiting.poll() is not None:
                break
            time.sleep(0.1)
        assert waiting.poll() is None, log.read_text()
        assert f"waiting for pid {holder.pid}" in log.read_text()
        assert not any((folder_workspace / "features").iterdir())
        assert holder.stdin is not None
        holder.stdin.close()
        assert waiting.wait(timeout=300) == 0, log.read_text()
    assert len(_raw_features(folder_workspace)) > 0


def test_lock_left_by_a_killed_process_is_taken_over(folder_workspace: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = folder_workspace / "locks" / lock_file_name(_store_resource(folder_workspace))
    lock.parent.mkdir()
    lock.write_text(
        f'{{"pid": {dead.pid}, "command": "actionlens extract", "started": "2020-01-01T00:00:00+00:00"}}'
    )
    done = _run(*EXTRACT, "--workspace", str(folder_workspace))
    assert done.returncode == 0, done.stderr
    assert f"took over the lock on {_store_resource(folder_workspace)} left by pid {dead.pid}" in done.stderr
    assert lock.read_text() == ""  # released: a finished writer leaves no holder behind


def test_second_train_of_one_run_id_refuses(folder_workspace: Path, hold_lock: HoldLock) -> None:
    holder = hold_lock(folder_workspace, "run shared-run")
    refused = _run("train", "--workspace", str(folder_workspace), "--model", "ste", "--run-id", "shared-run")
    assert refused.returncode == 1
    line = refused.stderr.strip()
    assert "\n" not in line and f"run shared-run is being written by pid {holder.pid}" in line
    assert not (folder_workspace / "runs" / "shared-run").exists()


@pytest.mark.parametrize("with_run_id", [False, True])
def test_default_run_id_is_locked_too(folder_workspace: Path, hold_lock: HoldLock, with_run_id: bool) -> None:
    from desktop_app.training.experiment import default_run_id

    run_id = "given" if with_run_id else default_run_id("ste", "small", None, 0, "1")
    hold_lock(folder_workspace, f"run {run_id}")
    args = ["--run-id", run_id] if with_run_id else []
    refused = _run("train", "--workspace", str(folder_workspace), "--model", "ste", *args)
    assert refused.returncode == 1 and f"run {run_id} is being written by pid" in refused.stderr
