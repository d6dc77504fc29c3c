"""Probing video files: frame rate, frame count, size, duration, a content hash and audio.

Decoding goes through OpenCV's FFmpeg backend (the same decoder that feature extraction and
the GUI player use, so what probing accepts is what the rest of ActionLens can read). PyAV is
used only to ask whether the container has an audio stream (seed 003's audio stream) and, when
OpenCV reports no frame rate, to read the stream's rate.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from desktop_app.data.records import VideoInfo
from desktop_app.errors import ActionLensError

#: File name suffixes (lower case) that importers treat as video files.
VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"}
)

#: Bytes hashed from each sampled region of a file (see :func:`content_hash`).
HASH_CHUNK_BYTES = 1 << 20

#: Frame rates outside this range are damaged headers, not videos: a rate of 1/1024 fps made a
#: 30-frame clip 30 720 s long. Time-lapse below 1 fps and high-speed above 1000 fps are refused too.
MIN_FPS, MAX_FPS = 1.0, 1000.0

#: A container may list a frame or two more than decode (a dropped last frame); more missing
#: frames mean the file is cut short, and the import says so.
FRAME_COUNT_SLACK = 2


class VideoError(ActionLensError):
    """A file cannot be read as a video.

    Parameters
    ----------
    path
        The file at fault.
    reason
        A short reason (``"empty file"``, ``"not a video"`` …), kept apart so that importers can
        list it beside the path.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot read video {self.path}: {reason}")


def is_video_path(path: Path) -> bool:
    """True when ``path``'s suffix is one of :data:`VIDEO_EXTENSIONS` (case-insensitive)."""
    return path.suffix.lower() in VIDEO_EXTENSIONS


def content_hash(path: Path) -> str:
    """Return a fast content fingerprint of a file: blake2b, 16 bytes, as 32 hex digits.

    The digest covers the file size (8 bytes, little endian) followed by

    * the whole file when it is at most ``3 * HASH_CHUNK_BYTES`` (3 MiB), otherwise
    * its first MiB, the MiB centred on its middle byte and its last MiB.

    Video containers keep their index (``moov`` atom, AVI ``idx1``) at the start or the end, and
    the middle sample catches re-encodes of the same length, so two different clips share a
    hash only in contrived cases, while hashing a multi-GB file reads 3 MiB. The hash is a
    cache key for "is this the same file", not a security check.

    Parameters
    ----------
    path
        A regular file.

    Returns
    -------
    str
        32 lower-case hex digits.
    """
    size = path.stat().st_size
    digest = hashlib.blake2b(digest_size=16)
    digest.update(size.to_bytes(8, "little"))
    with path.open("rb") as stream:
        if size <= 3 * HASH_CHUNK_BYTES:
            digest.update(stream.read())
        else:
            for offset in (0, size // 2 - HASH_CHUNK_BYTES // 2, size - HASH_CHUNK_BYTES):
                stream.seek(offset)
                digest.update(stream.read(HASH_CHUNK_BYTES))
    return digest.hexdigest()


def _container_audio_and_rate(path: Path) -> tuple[bool, float]:
    """Ask PyAV whether ``path`` has an audio stream, and the first video stream's frame rate.

    Returns ``(False, 0.0)`` where PyAV cannot open the file: audio is optional information and
    OpenCV has already decided that the file is a readable video.
    """
    try:
        import av

        with av.open(str(path)) as container:
            has_audio = any(stream.type == "audio" for stream in container.streams)
            rate = 0.0
            if container.streams.video:
                video = container.streams.video[0]
                guessed = video.average_rate or video.guessed_rate or video.base_rate
                rate = float(guessed) if guessed else 0.0
            return has_audio, rate
    except Exception:  # any PyAV failure only means "no audio information"
        return False, 0.0


def _plausible_fps(fps: float) -> bool:
    return math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS


def _count_decodable_frames(path: Path) -> int:
    import cv2

    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        count = 0
        while capture.grab():
            count += 1
        return count
    finally:
        capture.release()


def probe_video(path: Path) -> VideoInfo:
    """Read a video's frame rate, frame count, size, duration, content hash and audio flag.

    The frame count is the container's when it reports more than one frame and its last listed
    frame decodes (a seek to it: cheap, and exact for the containers the datasets use);
    otherwise frames are counted by decoding the whole file. Raw ``.m4v`` streams report 0 or a
    negative count; a "faststart" MP4 cut short keeps the index of every frame in its header
    but not their data (30 frames listed, 8 decodable): the count is then the decodable one and
    ``VideoInfo.note`` says so.
    The first frame is always decoded, so a file whose header parses but whose frames do not is
    refused here rather than during feature extraction.

    Parameters
    ----------
    path
        The video file. UTF-8 names with spaces work (OpenCV on Linux passes them through).

    Returns
    -------
    VideoInfo
        ``duration = frame_count / fps``; ``content_hash`` as in :func:`content_hash`;
        ``has_audio`` False where PyAV cannot tell; ``note`` set when the frame count had to
        be corrected.

    Raises
    ------
    VideoError
        With ``reason`` ``"file not found"``, ``"a directory, not a video file"``,
        ``"empty file"``, ``"not a video (cannot be opened)"``, ``"no decodable frames"``,
        ``"unknown frame size"``, ``"unknown frame rate"`` or an implausible frame rate
        (outside :data:`MIN_FPS`–:data:`MAX_FPS`).
    """
    import cv2

    path = Path(path)
    if path.is_dir():
        raise VideoError(path, "a directory, not a video file")
    if not path.exists():
        raise VideoError(path, "file not found")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise VideoError(path, f"cannot read file ({err.strerror})") from err
    if size == 0:
        raise VideoError(path, "empty file")

    # Name the FFmpeg backend: CAP_ANY would try the image-sequence reader on names with '%'.
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise VideoError(path, "not a video (cannot be opened)")
        ok, frame = capture.read()
        if not ok or frame is None:
            raise VideoError(path, "no decodable frames")
        height, width = int(frame.shape[0]), int(frame.shape[1])
        if width <= 0 or height <= 0:
            raise VideoError(path, "unknown frame size")
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        listed = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        frame_count = listed
        # Raw streams report 0 or garbage; a count of 1 is as suspect and cheap to verify.
        if frame_count <= 1:
            frame_count = 1
            while capture.grab():
                frame_count += 1
        else:
            capture.set(cv2.CAP_PROP_POS_FRAMES, frame_count - 1)
            tail_ok, tail = capture.read()
            if not tail_ok or tail is None:
                frame_count = 0  # counted below, on a fresh capture
    finally:
        capture.release()

    note = None
    if frame_count == 0:
        frame_count = max(1, _count_decodable_frames(path))
        if frame_count < listed - FRAME_COUNT_SLACK:
            note = (
                f"only {frame_count} of the {listed} frames its header lists decode (the file is cut "
                f"short?); imported as {frame_count} frames — download or copy it again for the rest"
            )
    has_audio, container_rate = _container_audio_and_rate(path)
    if not math.isfinite(fps) or fps <= 0:
        fps = container_rate
    if not math.isfinite(fps) or fps <= 0:
        raise VideoError(path, "unknown frame rate")
    if not _plausible_fps(fps):
        if _plausible_fps(container_rate):
            fps = container_rate
        else:
            raise VideoError(
                path,
                f"implausible frame rate {fps:.6g} fps in its header (a {frame_count}-frame clip "
                f"would last {frame_count / fps:.6g} s); re-encode it at its real rate",
            )
    try:
        fingerprint = content_hash(path)
    except OSError as err:
        raise VideoError(path, f"cannot read file ({err.strerror})") from err
    return VideoInfo(
        fps=fps,
        frame_count=frame_count,
        width=width,
        height=height,
        duration=frame_count / fps,
        content_hash=fingerprint,
        has_audio=has_audio,
        note=note,
    )
