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
import threading
import time
from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.atomic import atomic_open
from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress

if TYPE_CHECKING:
    from desktop_app.workspace import Workspace

#: Width of a clip's thumbnail, and number and width of the frames of its strip.
THUMBNAIL_WIDTH = 160
STRIP_FRAMES = 8
STRIP_FRAME_WIDTH = 80


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


@dataclass(frozen=True)
class _Job:
    clip_id: int
    path: str
    has_audio: bool
    #: The file's fingerprint when it was imported (``None``: not recorded).
    content_hash: str | None = None
    #: The clip's catalog name, for messages.
    name: str = ""


@dataclass(frozen=True)
class ClipResult:
    """What a worker returns for one clip; the writing process turns it into store records.

    Attributes
    ----------
    status
        ``"ok"`` (``payload``: ``stream -> (T, D)`` features, empty for none) or ``"bad"``
        (``payload``: the reason recorded in the catalog).
    payload
        Features or reason, as above.
    frames_decoded
        Frames the encoder decoded.
    thumbnails
        ``(file name, JPEG bytes)`` of the clip's thumbnail and strip (empty when not asked).
    file_missing
        The worker found no readable file at the clip's path (a cluster worker that does not see
        the workspace's videos, unless the writing process cannot read it either).
    host
        Host name of the worker, for messages.
    """

    status: str
    payload: Any
    frames_decoded: int = 0
    thumbnails: tuple[tuple[str, bytes], ...] = ()
    file_missing: bool = False
    host: str = ""


# ------------------------------------------------------------------------------------ workers
# One encoder per (settings, thread): a Dask worker runs several clips at once in threads of one
# process, and an encoder keeps per-clip state (optical flow objects, buffers).
_ENCODERS = threading.local()


def _init_worker(parent: int | None = None) -> None:
    import cv2

    cv2.setNumThreads(1)  # one clip per process; OpenCV's own threads would oversubscribe
    _die_with_parent(parent)


def _die_with_parent(parent: int | None) -> None:
    """Ask Linux to end this worker when the process that started it dies.

    A parent killed with ``SIGKILL`` runs no cleanup, and its pool's workers (and with them
    multiprocessing's resource tracker) would stay behind, idle, until someone kills them. With
    ``PR_SET_PDEATHSIG`` the kernel sends them ``SIGTERM``; the ``getppid`` check covers a
    parent that died before the request was made. Elsewhere this does nothing.
    """
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def _encoder_for(spec: dict[str, Any]) -> Any:
    import json

    from desktop_app.features.encoders import make_encoder

    cache: dict[str, Any] = _ENCODERS.__dict__.setdefault("by_spec", {})
    key = json.dumps(spec, sort_keys=True)
    if key not in cache:
        cache[key] = make_encoder(spec["extractor"], spec)
    return cache[key]


def _encode_job(job: _Job, spec: dict[str, Any], thumbnails: bool) -> ClipResult:
    """Encode one clip in a worker (a pool process, a Dask worker or this process)."""
    result = _encode_clip(job, spec, thumbnails)
    if result.status == "bad" and not _readable(job.path):
        import socket

        return ClipResult("bad", result.payload, file_missing=True, host=socket.gethostname())
    return result


def _encode_clip(job: _Job, spec: dict[str, Any], thumbnails: bool) -> ClipResult:
    import cv2

    from desktop_app.data.video import VideoError

    if job.content_hash:
        from desktop_app.data.video import content_hash

        try:
            now = content_hash(Path(job.path))
        except OSError as err:
            return ClipResult("bad", f"cannot read the file ({type(err).__name__}: {str(err).strip()[:200]})")
        if now != job.content_hash:
            return ClipResult(
                "bad",
                f"the file changed since it was imported (content hash {now[:12]}…, imported as "
                f"{job.content_hash[:12]}…): its features would describe another video than the "
                "catalog's; put the imported file back, or import the dataset into a new workspace",
            )
    try:
        encoded = _encoder_for(spec).encode(Path(job.path), job.has_audio)
    except VideoError as err:
        return ClipResult("bad", err.reason)
    except (cv2.error, OSError, MemoryError) as err:
        return ClipResult("bad", f"decoding failed ({type(err).__name__}: {str(err).strip()[:200]})")
    jpegs = thumbnail_jpegs(encoded.frames, job.clip_id) if thumbnails and encoded.frames else []
    return ClipResult("ok", encoded.features, encoded.frames_decoded, tuple(jpegs))


def write_thumbnails(frames: list[np.ndarray], clip_id: int, thumbnails_dir: Path) -> None:
    """Write ``<id>.jpg`` (the middle frame, 160 px wide) and ``<id>_strip.jpg`` (8 frames in a row)."""
    _write_jpegs(thumbnail_jpegs(frames, clip_id), thumbnails_dir)


def _write_jpegs(
    jpegs: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...], thumbnails_dir: Path
) -> None:
    if not jpegs:
        return
    thumbnails_dir.mkdir(parents=True, exist_ok=True)
    for name, jpeg in jpegs:
        with atomic_open(thumbnails_dir / name, "wb") as fh:
            fh.write(jpeg)


def thumbnail_jpegs(frames: list[np.ndarray], clip_id: int) -> list[tuple[str, bytes]]:
    """``[("<id>.jpg", middle frame 160 px wide), ("<id>_strip.jpg", 8 frames in a row)]`` as JPEG bytes.

    Workers encode them and the writing process writes them, so that workers of a cluster need
    no write access to the workspace.
    """
    import cv2

    def resized(frame: np.ndarray, width: int) -> np.ndarray:
        height = max(1, int(round(frame.shape[0] * width / frame.shape[1])))
        return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)

    middle = frames[len(frames) // 2]
    picks = np.linspace(0, len(frames) - 1, STRIP_FRAMES).round().astype(int)
    strip = np.concatenate([resized(frames[i], STRIP_FRAME_WIDTH) for i in picks], axis=1)
    jpegs = []
    for image, name in (
        (resized(middle, THUMBNAIL_WIDTH), f"{clip_id}.jpg"),
        (strip, f"{clip_id}_strip.jpg"),
    ):
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if ok:
            jpegs.append((name, jpeg.tobytes()))
    return jpegs


# ---------------------------------------------------------------------------------- extraction
def _mean_steps(ws: Workspace, fps: float) -> int:
    """Seed 001's fixed length: the mean clip length (catalog durations) at ``fps``."""
    durations = [
        c.duration if c.duration else (c.frame_count / c.fps if c.frame_count and c.fps else None)
        for c in ws.catalog.iter_clips(status="ok")
    ]
    known = [d for d in durations if d]
    if not known:
        raise ActionLensError(
            f"{ws.root}'s clips have no recorded durations; give --steps a number instead of 'mean'"
        )
    return max(1, int(round(float(np.mean(known)) * fps)))


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
        from desktop_app.features.encoders import make_encoder

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
    results: Generator[tuple[_Job, ClipResult], None, None] | None = None
    if cluster is not None and recorded["extractor"] != "precomputed":
        from desktop_app.features.cluster import connect

        client = connect(cluster, timeout=cluster_timeout)  # before the store exists: fail fast
    try:
        writer = FeatureStoreWriter(ws, recorded, settings.name)
        done = writer.done_clip_ids()
        clips = [
            (c.id, c.name, c.path, c.has_audio, c.content_hash) for c in ws.catalog.iter_clips(status="ok")
        ]
        todo = [c for c in clips if c[0] not in done]
        summary = ExtractSummary(writer.name, len(clips), len(clips) - len(todo), 0, 0)
        thumbnails_dir = str(ws.thumbnails_dir) if settings.thumbnails else None

        def report(n_done: int) -> None:
            elapsed = time.perf_counter() - started
            rate = n_done / elapsed if elapsed > 0 else 0.0
            progress.set_progress(
                (summary.clips_already_done + n_done) / max(len(clips), 1),
                f"{summary.clips_already_done + n_done}/{len(clips)} clips, {rate:.1f} clips/s",
            )

        report(0)
        if recorded["extractor"] == "precomputed":
            _import_precomputed(ws, recorded, todo, writer, summary, thumbnails_dir, progress, report)
        else:
            # made as they are submitted: at a million clips a list of them would be ~250 MB more
            jobs = (
                _Job(cid, str(ws.clip_path(path)), bool(audio), fingerprint, name)
                for cid, name, path, audio, fingerprint in todo
            )
            spec = {k: v for k, v in recorded.items() if not k.startswith("pca_")}
            if client is not None:
                from desktop_app.features.cluster import run_on_cluster

                results = run_on_cluster(client, jobs, spec, thumbnails_dir is not None, progress)
            else:
                pool = workers if len(todo) > 1 else 1
                results = _run_jobs(jobs, spec, thumbnails_dir is not None, pool, progress)
            for n_done, (job, result) in enumerate(results, start=1):
                if client is not None and result.file_missing and _readable(job.path):
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
    writer.finish(len(clips))
    summary.complete = True
    summary.streams = {s: int(info["dim"]) for s, info in writer.meta["streams"].items()}
    summary.seconds = time.perf_counter() - started
    progress.set_progress(1.0, f"{len(clips)} clips, {summary.clips_per_second:.1f} clips/s")
    return summary


def _readable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.R_OK)


def _write_result(
    ws: Workspace,
    writer: Any,
    summary: ExtractSummary,
    job: _Job,
    result: ClipResult,
    thumbnails_dir: str | None,
) -> None:
    """Record one clip's result: thumbnails first, then the store's records (which mark it done)."""
    if result.status == "ok":
        if thumbnails_dir is not None:
            _write_jpegs(result.thumbnails, Path(thumbnails_dir))
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
    jobs: Iterable[_Job], spec: dict[str, Any], thumbnails: bool, workers: int, progress: Progress
) -> Generator[tuple[_Job, ClipResult], None, None]:
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
            yield job, _encode_job(job, spec, thumbnails)
        return
    # 'spawn': safe beside threads (Qt, OpenCV, BLAS) in the parent, on every platform
    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),)
    )
    pending: deque[tuple[Future[ClipResult], _Job]] = deque()
    queue = iter(jobs)
    clean = False
    try:
        while True:
            while len(pending) < 2 * workers:
                queued = next(queue, None)
                if queued is None:
                    break
                pending.append((executor.submit(_encode_job, queued, spec, thumbnails), queued))
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
    todo: list[tuple[int, str, str, bool, str | None]],
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
