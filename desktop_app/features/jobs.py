"""What a worker does with one clip: encode it and make its thumbnails (no file is written).

The worker side of ``desktop_app/features/extract.py``: a pool process, a Dask worker
(``desktop_app/features/cluster.py``) or the writing process itself runs :func:`encode_job` on a
:class:`ClipJob` and returns a :class:`ClipResult`; only the writing process writes the store,
the thumbnails and the catalog. Both ``extract`` and ``cluster`` import this module, and it
imports neither.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.atomic import atomic_open

#: Width of a clip's thumbnail, and number and width of the frames of its strip.
THUMBNAIL_WIDTH = 160
STRIP_FRAMES = 8
STRIP_FRAME_WIDTH = 80


@dataclass(frozen=True)
class ClipJob:
    """One clip to encode: where its file is and what the catalog knows of it."""

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


def init_worker(parent: int | None = None) -> None:
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

    from desktop_app.features.registry import make_encoder

    cache: dict[str, Any] = _ENCODERS.__dict__.setdefault("by_spec", {})
    key = json.dumps(spec, sort_keys=True)
    if key not in cache:
        cache[key] = make_encoder(spec["extractor"], spec)
    return cache[key]


def encode_job(job: ClipJob, spec: dict[str, Any], thumbnails: bool) -> ClipResult:
    """Encode one clip in a worker (a pool process, a Dask worker or this process)."""
    result = _encode_clip(job, spec, thumbnails)
    if result.status == "bad" and not readable(job.path):
        import socket

        return ClipResult("bad", result.payload, file_missing=True, host=socket.gethostname())
    return result


def _encode_clip(job: ClipJob, spec: dict[str, Any], thumbnails: bool) -> ClipResult:
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
    write_jpegs(thumbnail_jpegs(frames, clip_id), thumbnails_dir)


def write_jpegs(jpegs: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...], thumbnails_dir: Path) -> None:
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


def readable(path: str) -> bool:
    """Whether ``path`` is a file this process can read."""
    return os.path.isfile(path) and os.access(path, os.R_OK)
