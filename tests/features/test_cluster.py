"""Extraction on a Dask cluster (two in-process workers) writes the same store as a local run."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import dask
import pytest
from distributed import LocalCluster

from desktop_app.cli import main
from desktop_app.data.records import ClassRecord, ClipRecord
from desktop_app.data.video import probe_video
from desktop_app.errors import ActionLensError, TaskCancelled
from desktop_app.features import FeatureStore, extract_features
from desktop_app.progress import ProgressBase
from desktop_app.workspace import Workspace

#: Fields of meta.json that say when, not what: the only bytes two equal runs may differ in.
TIMESTAMPS = ("created", "completed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two workers of one thread each, in this process (cheap on two shared cores)."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as local_cluster:
        yield local_cluster


def scheduler_tasks(cluster: LocalCluster) -> int:
    """Tasks the scheduler holds now (submitted and not yet released by their client)."""
    assert cluster.scheduler is not None
    return len(cluster.scheduler.tasks)


class CancelAfter(ProgressBase):
    """Cancels once ``k`` clips are done; records how many tasks the scheduler held at each report."""

    def __init__(self, cluster: LocalCluster, k: int | None = None) -> None:
        super().__init__()
        self.cluster, self.k, self.tasks_seen = cluster, k, [0]

    def set_progress(self, fraction: float, message: str = "") -> None:
        super().set_progress(fraction, message)
        self.tasks_seen.append(scheduler_tasks(self.cluster))
        head = message.split("/")[0]
        if self.k is not None and head.isdigit() and int(head) >= self.k:
            self.cancel()


def store_files(ws: Workspace) -> dict[str, bytes]:
    """Every file of the workspace's store, meta.json without its timestamps."""
    store = FeatureStore.open(ws)
    files = {p.name: p.read_bytes() for p in sorted(store.directory.iterdir())}
    meta = json.loads(files.pop("meta.json"))
    assert all(meta.pop(k) for k in TIMESTAMPS)  # both set: the store is complete
    files["meta.json (less timestamps)"] = json.dumps(meta, sort_keys=True).encode()
    return files


def thumbnails(ws: Workspace) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(ws.thumbnails_dir.iterdir())}


def catalog_marks(ws: Workspace) -> dict[str, tuple[str, str | None]]:
    return {c.name: (c.status, c.status_reason) for c in ws.catalog.clips()}


def assert_same_extraction(ws: Workspace, reference: Workspace) -> None:
    assert store_files(ws) == store_files(reference)
    assert thumbnails(ws) == thumbnails(reference)
    assert catalog_marks(ws) == catalog_marks(reference)


def test_cluster_run_from_the_cli_equals_a_local_run_byte_for_byte(
    small_workspace, cluster: LocalCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    local = small_workspace(n_per_class=3, broken=True)
    local_summary = extract_features(local, workers=1)
    on_cluster = small_workspace(n_per_class=3, broken=True)
    root = str(on_cluster.root)
    on_cluster.close()

    assert main(["extract", "--workspace", root, "--cluster", cluster.scheduler_address, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["clips_extracted"] == local_summary.clips_extracted == 9
    # the four broken files are marked bad on the cluster exactly as locally, reasons and all
    assert [(b["name"], b["reason"]) for b in summary["bad_clips"]] == [
        (b["name"], b["reason"]) for b in local_summary.bad_clips
    ]
    with Workspace.open(Path(root)) as reopened:
        assert_same_extraction(reopened, local)
    assert scheduler_tasks(cluster) == 0  # every task released once its clip was written


def test_an_interrupted_cluster_run_resumes_and_ends_equal(small_workspace, cluster: LocalCluster) -> None:
    reference = small_workspace(n_per_class=4)
    extract_features(reference, workers=1)
    ws = small_workspace(n_per_class=4)

    with pytest.raises(TaskCancelled):
        extract_features(ws, progress=CancelAfter(cluster, k=3), cluster=cluster.scheduler_address)
    done = len(FeatureStore.open(ws, "handcrafted-fps10-dis").done_clip_ids())
    assert 3 <= done < 12
    assert scheduler_tasks(cluster) == 0  # the window in flight was cancelled on the scheduler

    resumed = extract_features(ws, progress=CancelAfter(cluster), cluster=cluster.scheduler_address)
    assert resumed.clips_already_done == done and resumed.clips_extracted == 12 - done
    assert_same_extraction(ws, reference)


def test_an_unreachable_scheduler_is_one_line_and_exit_1(
    small_workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = small_workspace(n_per_class=1)
    root = str(ws.root)
    ws.close()
    for address, says in (
        ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
        ("no-port-here", "is not a scheduler address"),
    ):
        code = main(["extract", "--workspace", root, "--cluster", address, "--cluster-timeout", "0.5"])
        err = capsys.readouterr().err.strip()
        assert code == 1
        assert err.startswith("actionlens: error: ") and says in err and "\n" not in err
    assert not (Path(root) / "features").exists() or not any((Path(root) / "features").iterdir())


def test_a_100k_clip_run_keeps_a_bounded_window_of_tasks(
    video_file, cluster: LocalCluster, tmp_path: Path
) -> None:
    """Back-pressure: 100 000 clips to do are never 100 000 futures; a cancel keeps what was written."""
    data = tmp_path / "videos"
    infos = [probe_video(video_file(data / f"v{i}.mp4", [float(i + 1)] * 12)) for i in range(3)]
    ws = Workspace.create(tmp_path / "big")
    class_ids = ws.catalog.add_classes([ClassRecord(name="Move", phrase="move", verb=None, noun=None)])
    ws.catalog.add_clips(
        (
            ClipRecord(
                name=f"c{i:06d}", path=f"v{i % 3}.mp4", class_name="Move", splits={}, info=infos[i % 3]
            )
            for i in range(100_000)
        ),
        class_ids,
    )
    ws.update_manifest(data_root=str(data))

    stopping = CancelAfter(cluster, k=20)
    with pytest.raises(TaskCancelled):
        extract_features(ws, progress=stopping, cluster=cluster.scheduler_address)
    # the window is 4 tasks per worker thread (8 here); the scheduler forgets released tasks a
    # moment after the client drops them, so allow it as many again in transit
    assert 8 <= max(stopping.tasks_seen) <= 16
    store = FeatureStore.open(ws, "handcrafted-fps10-dis")
    assert 20 <= len(store.done_clip_ids()) <= 20 + 8
    done = sorted(store.done_clip_ids())
    assert done == [c.id for c in itertools.islice(ws.catalog.iter_clips(), len(done))]  # in clip order
    assert scheduler_tasks(cluster) == 0


def test_without_distributed_the_cli_says_what_to_install(
    small_workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = small_workspace(n_per_class=1)
    root = str(ws.root)
    ws.close()
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails as if absent
    assert main(["extract", "--workspace", root, "--cluster", "tcp://127.0.0.1:8786"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("actionlens: error: --cluster needs Dask distributed") and "\n" not in err
    assert "pip install 'actionlens[cluster]'" in err


class StopSchedulerAfter(ProgressBase):
    """Closes the whole cluster (scheduler and workers) once ``k`` clips are done."""

    def __init__(self, cluster: LocalCluster, k: int) -> None:
        super().__init__()
        self.cluster, self.k = cluster, k

    def set_progress(self, fraction: float, message: str = "") -> None:
        super().set_progress(fraction, message)
        head = message.split("/")[0]
        if head.isdigit() and int(head) == self.k:
            self.cluster.close()


def test_losing_the_scheduler_names_the_clip_and_a_rerun_resumes(small_workspace) -> None:
    reference = small_workspace(n_per_class=4)
    extract_features(reference, workers=1)
    ws = small_workspace(n_per_class=4)
    # the client gives up on a lost scheduler after this long (default 30 s)
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        doomed = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0")
        with pytest.raises(ActionLensError, match=r"^lost the Dask scheduler while clip v_\w+ was in flight"):
            extract_features(ws, progress=StopSchedulerAfter(doomed, 2), cluster=doomed.scheduler_address)
    done = len(FeatureStore.open(ws, "handcrafted-fps10-dis").done_clip_ids())
    assert 2 <= done < 12
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as back:
        resumed = extract_features(ws, cluster=back.scheduler_address)
    assert resumed.clips_already_done == done
    assert_same_extraction(ws, reference)
