"""Extracting the feature sequences of every clip of a workspace into a feature store.

``extract_features(ws, settings, progress, workers)`` is the long task behind
``actionlens extract`` and the GUI's demo builder: it runs the encoder over every good clip in a
process pool (or, with ``cluster=``, on the workers of a Dask distributed cluster:
``desktop_app/features/cluster.py``), marks unreadable clips bad in the catalog (with the reason)
and goes on, writes a thumbnail and a frame strip per clip in the same pass and resumes an
interrupted run. Workers only compute: they return each clip's features and JPEG thumbnails, and
this process alone writes the store, the thumbnails and the catalog, in clip order, so a store is
the same bytes whatever ran the encoder (one process, a pool, a cluster). It fits no statistic
of the features: each run fits its own input transform (PCA of seeds 001/002) on its training
clips (``desktop_app/training/inputs.py``).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.errors import ActionLensError
from desktop_app.features.jobs import (
    ClipJob,
    ClipResult,
    encode_job,
    init_worker,
    readable,
    write_jpegs,
    write_thumbnails,
)
from desktop_app.progress import NullProgress, Progress

if TYPE_CHECKING:
    from desktop_app.workspace import Workspace


@dataclass
class ExtractSettings:
    """What to extract; everything but ``name`` and ``thumbnails`` is recorded in the store.

    Attributes
    ----------
    extractor
        ``handcrafted`` (default), ``torchvision:<arch>``, ``audio`` or ``precomputed``.
    fps
        Sampling rate (seed 000: 10 fps).
    steps
        Fixed number of steps (clip / zero-pad, seed 001): an int, ``"mean"`` for the mean
        length of the workspace's clips at ``fps``, or ``None`` for variable length.
    adaptive
        Sample by optical-flow magnitude (seed 003, IV.F).
    flow
        ``dis`` or ``farneback``.
    weights
        Weights file for ``torchvision:<arch>``.
    features_from
        Directory of per-clip ``.npy``/``.npz`` or an HDF5 file, for ``precomputed``.
    audio
        Add the log-mel stream for clips with sound (handcrafted / torchvision).

    The store holds raw features only: the PCA of seeds 001/002 (and every other statistic of
    the features) is fitted per run on its training clips (``desktop_app/training/inputs.py``,
    ``docs/protocol.md``).
    """

    extractor: str = "handcrafted"
    fps: float = 10.0
    steps: int | str | None = None
    adaptive: bool = False
    flow: str = "dis"
    weights: str | None = None
    features_from: str | None = None
    audio: bool = True
    max_seconds: float | None = None
    work_width: int = 160
    thumbnails: bool = True
    name: str | None = None


@dataclass
class ExtractSummary:
    """What an extraction run did."""

    store: str
    clips_total: int
    clips_already_done: int
    clips_extracted: int
    clips_without_features: int
    bad_clips: list[dict[str, Any]] = field(default_factory=list)
    frames_decoded: int = 0
    seconds: float = 0.0
    streams: dict[str, int] = field(default_factory=dict)
    complete: bool = False

    @property
    def clips_per_second(self) -> float:
        """Clips processed (good or bad) per second of this run."""
        n = self.clips_extracted + len(self.bad_clips) + self.clips_without_features
        return n / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict of the summary."""
        return {**asdict(self), "clips_per_second": round(self.clips_per_second, 3)}


# ---------------------------------------------------------------------------------- extraction
def _mean_steps(ws: Workspace, fps: float) -> int:
    """Seed 001's fixed length: the mean clip length (catalog durations) at ``fps``."""
    mean = ws.catalog.mean_duration()
    if not mean:
        raise ActionLensError(
            f"{ws.root}'s clips have no recorded durations; give --steps a number instead of 'mean'"
        )
    return max(1, int(round(mean * fps)))


def resolve_settings(ws: Workspace, settings: ExtractSettings) -> dict[str, Any]:
    """The JSON-able settings recorded in the store (``steps="mean"`` resolved to a number)."""
    extractor = settings.extractor
    if extractor == "precomputed":
        if not settings.features_from:
            raise ActionLensError(
                "--extractor precomputed needs --features-from PATH (a directory of .npy/.npz or an HDF5 file)"
            )
        spec: dict[str, Any] = {
            "extractor": "precomputed",
            "source": str(Path(settings.features_from).absolute()),
        }
        if settings.steps == "mean":
            raise ActionLensError(
                "--steps mean needs video durations; give precomputed features a number of steps"
            )
        if settings.steps is not None:
            spec["steps"] = int(settings.steps)
    else:
        steps = settings.steps
        if steps == "mean":
            steps = _mean_steps(ws, settings.fps)
        options = {
            "fps": float(settings.fps),
            "steps": int(steps) if steps is not None else None,
            "adaptive": settings.adaptive,
            "max_seconds": settings.max_seconds,
            "work_width": settings.work_width,
            "flow": settings.flow,
            "audio": settings.audio,
            "weights": settings.weights,
        }
        from desktop_app.features.registry import make_encoder

        spec = make_encoder(extractor, options).spec  # validates in the main process
    return dict(spec)


def extract_features(
    ws: Workspace,
    settings: ExtractSettings | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    cluster_timeout: float = 10.0,
) -> ExtractSummary:
    """Extract features of every good clip of ``ws`` into a feature store; resume a stopped run.

    Parameters
    ----------
    ws
        An open, writable workspace.
    settings
        What to extract (default: handcrafted features at 10 fps, DIS flow).
    progress
        Progress/cancel handle; cancelling keeps every finished clip, and a new call resumes.
    workers
        Worker processes (default: the number of CPUs); 1 runs in this process. Ignored with
        ``cluster``.
    cluster
        Address of a Dask distributed scheduler (``tcp://HOST:8786``): its workers encode the
        clips (they must see the videos at the same paths) and this process writes the store
        (``docs/cluster.md``).
    cluster_timeout
        Seconds to wait for the scheduler, and for its first worker.

    Returns
    -------
    ExtractSummary

    Raises
    ------
    TaskCancelled
        When ``progress`` was cancelled (finished clips are kept).
    ActionLensError
        For bad settings (unknown extractor, missing torchvision or weights, precomputed arrays
        of the wrong shape), a scheduler that cannot be reached, or a cluster worker that cannot
        open a clip this process can (the message names the clip).
    """
    from desktop_app.features.store import FeatureStoreWriter

    settings = settings or ExtractSettings()
    progress = progress or NullProgress()
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    started = time.perf_counter()
    recorded = resolve_settings(ws, settings)
    client = None
    results: Generator[tuple[ClipJob, ClipResult], None, None] | None = None
    if cluster is not None and recorded["extractor"] != "precomputed":
        from desktop_app.features.cluster import connect

        client = connect(cluster, timeout=cluster_timeout)  # before the store exists: fail fast
    try:
        writer = FeatureStoreWriter(ws, recorded, settings.name)
        done = writer.done_clip_ids()
        # Ids as arrays and rows read as they are submitted: at a million clips a list of rows
        # (one ClipRow each, as iter_clips makes) took 8-20 s before the first clip started.
        ok_ids = np.flatnonzero(ws.catalog.clip_columns().ok)
        todo_ids = np.setdiff1d(ok_ids, np.fromiter(done, dtype=np.int64, count=len(done)))
        n_clips = len(ok_ids)
        todo = ws.catalog.clip_sources(todo_ids)
        summary = ExtractSummary(writer.name, n_clips, n_clips - len(todo_ids), 0, 0)
        thumbnails_dir = str(ws.thumbnails_dir) if settings.thumbnails else None

        def report(n_done: int) -> None:
            elapsed = time.perf_counter() - started
            rate = n_done / elapsed if elapsed > 0 else 0.0
            progress.set_progress(
                (summary.clips_already_done + n_done) / max(n_clips, 1),
                f"{summary.clips_already_done + n_done}/{n_clips} clips, {rate:.1f} clips/s",
            )

        report(0)
        if recorded["extractor"] == "precomputed":
            _import_precomputed(ws, recorded, todo, writer, summary, thumbnails_dir, progress, report)
        else:
            # made as they are submitted: at a million clips a list of them would be ~250 MB more
            jobs = (
                ClipJob(cid, str(ws.clip_path(path)), bool(audio), fingerprint, name)
                for cid, name, path, audio, fingerprint in todo
            )
            spec = {k: v for k, v in recorded.items() if not k.startswith("pca_")}
            if client is not None:
                from desktop_app.features.cluster import run_on_cluster

                results = run_on_cluster(client, jobs, spec, thumbnails_dir is not None, progress)
            else:
                pool = workers if len(todo_ids) > 1 else 1
                results = _run_jobs(jobs, spec, thumbnails_dir is not None, pool, progress)
            for n_done, (job, result) in enumerate(results, start=1):
                if client is not None and result.file_missing and readable(job.path):
                    raise ActionLensError(
                        f"clip {job.name}: the cluster worker on {result.host or 'another host'} cannot "
                        f"open {job.path}, which this machine can; every worker must see the "
                        "workspace's videos at the same paths (a shared or mirrored file system, see "
                        "docs/cluster.md); run the command again to resume once it does"
                    )
                _write_result(ws, writer, summary, job, result, thumbnails_dir)
                report(n_done)
                progress.check_cancelled()
    finally:
        if results is not None:
            # now, not when garbage collected: cancels what is in flight (pool or cluster tasks)
            # while the pool and the client are still there to do it
            results.close()
        if client is not None:
            client.close()
    # No PCA here: fitted on a store's clips, it would see every class, unseen ones included;
    # each run fits its own input transform on its training clips (training/inputs.py).
    writer.finish(n_clips)
    summary.complete = True
    summary.streams = {s: int(info["dim"]) for s, info in writer.meta["streams"].items()}
    summary.seconds = time.perf_counter() - started
    progress.set_progress(1.0, f"{n_clips} clips, {summary.clips_per_second:.1f} clips/s")
    return summary


def _write_result(
    ws: Workspace,
    writer: Any,
    summary: ExtractSummary,
    job: ClipJob,
    result: ClipResult,
    thumbnails_dir: str | None,
) -> None:
    """Record one clip's result: thumbnails first, then the store's records (which mark it done)."""
    if result.status == "ok":
        if thumbnails_dir is not None:
            write_jpegs(result.thumbnails, Path(thumbnails_dir))
        if result.payload:
            writer.add_clip(job.clip_id, result.payload)
            summary.clips_extracted += 1
        else:
            writer.add_clip_without_features(job.clip_id)
            summary.clips_without_features += 1
        summary.frames_decoded += result.frames_decoded
    else:
        ws.catalog.mark_bad(job.clip_id, str(result.payload))
        writer.add_bad_clip(job.clip_id)
        summary.bad_clips.append({"clip_id": job.clip_id, "name": job.name, "reason": result.payload})


def _run_jobs(
    jobs: Iterable[ClipJob], spec: dict[str, Any], thumbnails: bool, workers: int, progress: Progress
) -> Generator[tuple[ClipJob, ClipResult], None, None]:
    """Encode jobs (in a pool of ``workers`` processes), yielding results in the jobs' order.

    At most ``2 × workers`` clips are in flight or waiting for an earlier one, so a cancel or a
    crash loses only those. Results come back in clip order (a slow clip holds back the ones
    after it, never more than that window) so that the store's bytes do not depend on which
    worker finished first. Workers are started with ``spawn``: a script that calls
    :func:`extract_features` with ``workers > 1`` needs the usual ``if __name__ == "__main__":``
    guard.
    """
    if workers == 1:
        for job in jobs:
            progress.check_cancelled()
            yield job, encode_job(job, spec, thumbnails)
        return
    # 'spawn': safe beside threads (Qt, OpenCV, BLAS) in the parent, on every platform
    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=init_worker, initargs=(os.getpid(),)
    )
    pending: deque[tuple[Future[ClipResult], ClipJob]] = deque()
    queue = iter(jobs)
    clean = False
    try:
        while True:
            while len(pending) < 2 * workers:
                queued = next(queue, None)
                if queued is None:
                    break
                pending.append((executor.submit(encode_job, queued, spec, thumbnails), queued))
            if not pending:
                break
            head, job = pending[0]
            wait([head], timeout=0.5, return_when=FIRST_COMPLETED)
            progress.check_cancelled()
            if not head.done():
                continue
            pending.popleft()
            try:
                result = head.result()
            except BrokenProcessPool as err:
                raise ActionLensError(
                    f"a feature worker process died while reading {job.path} or a clip beside it ({err}); "
                    "run the command again to resume, with --workers 1 to pin down the clip"
                ) from err
            yield job, result
        clean = True
    finally:
        # cancelled or crashed: drop queued clips, let running ones end; they are redone next time
        executor.shutdown(wait=clean, cancel_futures=True)


def _import_precomputed(
    ws: Workspace,
    recorded: dict[str, Any],
    todo: Iterable[tuple[int, str, str, bool, str | None]],
    writer: Any,
    summary: ExtractSummary,
    thumbnails_dir: str | None,
    progress: Progress,
    report: Any,
) -> None:
    """Copy the user's per-clip arrays into the store, checking shapes (``--features-from``)."""
    from desktop_app.features.encoders import PrecomputedFeatures

    existing = writer.meta["streams"].get("appearance", {}).get("dim")
    source = PrecomputedFeatures(recorded["source"], expected_dim=existing)
    try:
        for n, (clip_id, name, path, _, _) in enumerate(todo, start=1):
            progress.check_cancelled()
            features = source.read(name)
            if features is None:
                writer.add_clip_without_features(clip_id)
                summary.clips_without_features += 1
            else:
                writer.add_clip(clip_id, {"appearance": features})
                summary.clips_extracted += 1
                summary.frames_decoded += features.shape[0]
            if thumbnails_dir is not None and not (Path(thumbnails_dir) / f"{clip_id}.jpg").exists():
                _best_effort_thumbnails(ws, clip_id, path, Path(thumbnails_dir))
            report(n)
    finally:
        source.close()


def _best_effort_thumbnails(ws: Workspace, clip_id: int, path: str, thumbnails_dir: Path) -> None:
    """Thumbnails for a clip whose features came from elsewhere, if its video can be read."""
    from desktop_app.data.video import VideoError
    from desktop_app.features.decode import decode_frames

    try:
        clip = decode_frames(ws.clip_path(path), rate=2.0, max_seconds=30.0)
    except (VideoError, OSError, ActionLensError):
        return
    write_thumbnails(clip.frames, clip_id, thumbnails_dir)
