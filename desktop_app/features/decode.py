"""Robust decoding of a clip and choosing which frames become time steps.

Three samplings (see ``docs/features.md``):

* ``fps`` — a fixed rate, 10 frames per second by default (seed 000, section III: "rgb frames are
  computed at 10fps").
* ``steps`` — the fixed-rate sequence clipped or zero-padded to a fixed number of steps chosen
  from the data (seed 001, section 4: every video set to the *mean* video length). Padding is
  applied when features are read (:meth:`FeatureStore.get`), so the store keeps only real frames.
* ``adaptive`` — as many frames as the fixed rate would take, but placed so that the number of
  samples in a segment is proportional to its mean optical-flow magnitude (seed 003, section IV.F).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_app.data.video import VideoError

#: Default sampling rate in frames per second (seed 000).
DEFAULT_FPS = 10.0
#: Default working width in pixels: frames are resized to it before any descriptor is computed.
DEFAULT_WORK_WIDTH = 160
#: Adaptive sampling looks at candidates at this multiple of the target rate (capped by the video's).
ADAPTIVE_CANDIDATE_FACTOR = 3
#: Share of the mean motion that every candidate gets, so that still segments are not skipped.
ADAPTIVE_FLOOR = 0.1


@dataclass(frozen=True)
class Sampling:
    """How frames are chosen.

    Attributes
    ----------
    fps
        Target rate in frames per second (also the mean rate of adaptive sampling).
    steps
        For fixed-length sequences: the number of steps (``None`` = variable length).
    adaptive
        Place the samples by optical-flow magnitude (seed 003, IV.F).
    max_seconds
        Only the first ``max_seconds`` of a clip are read (seed 003 reads the first 36 s).
    work_width
        Frames are resized to this width (aspect kept) before descriptors and flow.
    """

    fps: float = DEFAULT_FPS
    steps: int | None = None
    adaptive: bool = False
    max_seconds: float | None = None
    work_width: int = DEFAULT_WORK_WIDTH

    def to_json(self) -> dict[str, object]:
        """The settings as a JSON-able dict (recorded in the feature store's metadata)."""
        return {
            "fps": self.fps,
            "steps": self.steps,
            "adaptive": self.adaptive,
            "max_seconds": self.max_seconds,
            "work_width": self.work_width,
        }


@dataclass
class SampledClip:
    """The frames of one clip chosen as time steps, at the working size (BGR uint8)."""

    frames: list[np.ndarray]
    times: np.ndarray  # seconds, one per frame
    native_fps: float
    frames_decoded: int
    size: tuple[int, int]  # native (width, height)
    candidate_motion: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))


def _work_size(width: int, height: int, work_width: int) -> tuple[int, int]:
    h = max(2, int(round(height * work_width / max(width, 1) / 2)) * 2)
    return work_width, h


def decode_frames(
    path: Path, rate: float, max_seconds: float | None = None, work_width: int = DEFAULT_WORK_WIDTH
) -> SampledClip:
    """Decode ``path`` and keep frames at about ``rate`` per second, resized to ``work_width``.

    Every frame is decoded (``grab``) but only kept frames are converted and resized
    (``retrieve``), which is what makes 10 fps sampling of a 25–30 fps video cheap. Times come
    from the container's timestamps where they increase (variable frame rates), else from the
    frame index. A truncated stream yields the frames before the damage.

    Raises
    ------
    VideoError
        When the path is a directory, missing, empty, not a video, or has no decodable frame.
    """
    import cv2

    path = Path(path)
    if path.is_dir():
        raise VideoError(path, "a directory, not a video file")
    if not path.exists():
        raise VideoError(path, "file not found")
    if path.stat().st_size == 0:
        raise VideoError(path, "empty file")
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise VideoError(path, "not a video (cannot be opened)")
        native_fps = float(capture.get(cv2.CAP_PROP_FPS))
        if not math.isfinite(native_fps) or native_fps <= 0 or native_fps > 1000:
            native_fps = 25.0  # unknown rate: a common one; timestamps still order the frames
        step = 1.0 / rate
        frames: list[np.ndarray] = []
        times: list[float] = []
        next_time = 0.0
        last_t = -1.0
        index = 0
        size = (0, 0)
        work: tuple[int, int] | None = None
        while True:
            try:
                if not capture.grab():
                    break
            except cv2.error:
                break  # a corrupt packet ends the readable part of the stream
            pos = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            t = pos if math.isfinite(pos) and pos > last_t and index > 0 else index / native_fps
            if index == 0:
                t = 0.0
            last_t = t
            index += 1
            if max_seconds is not None and t > max_seconds:
                break
            if t + 1e-6 < next_time:
                continue
            try:
                ok, frame = capture.retrieve()
            except cv2.error:
                ok, frame = False, None
            if not ok or frame is None or frame.ndim != 3:
                continue
            if work is None:
                size = (int(frame.shape[1]), int(frame.shape[0]))
                work = _work_size(size[0], size[1], work_width)
            frames.append(cv2.resize(frame, work, interpolation=cv2.INTER_AREA))
            times.append(t)
            while next_time <= t + 1e-6:
                next_time += step
    finally:
        capture.release()
    if not frames:
        raise VideoError(path, "no decodable frames")
    return SampledClip(frames, np.asarray(times, np.float64), native_fps, index, size)


def adaptive_indices(motion: np.ndarray, budget: int, floor: float = ADAPTIVE_FLOOR) -> np.ndarray:
    """Choose ``budget`` of the candidate frames, more where motion is faster (seed 003, IV.F).

    The number of samples drawn from a segment is made proportional to the mean optical-flow
    displacement there: samples sit at equal steps of the cumulative motion
    ``c_i = sum_{j<=i} (m_j + floor * mean(m))``. The floor keeps still segments represented.

    Parameters
    ----------
    motion
        ``m_i``: mean flow magnitude arriving at candidate ``i`` (one per candidate).
    budget
        How many samples to take (at most the number of candidates).

    Returns
    -------
    np.ndarray
        Sorted, unique candidate indices (possibly fewer than ``budget`` when fast segments ask
        for more samples than they have candidates).
    """
    n = len(motion)
    if n == 0:
        return np.zeros(0, np.int64)
    budget = max(1, min(int(budget), n))
    weights = np.asarray(motion, np.float64) + floor * float(np.mean(motion)) + 1e-6
    cumulative = np.cumsum(weights)
    cumulative /= cumulative[-1]
    # Candidate i covers (c_{i-1}, c_i]; a sample at quantile q lands in the first c_i >= q.
    targets = (np.arange(budget) + 0.5) / budget
    chosen = np.searchsorted(cumulative, targets, side="left")
    return np.unique(np.clip(chosen, 0, n - 1)).astype(np.int64)


def sample_clip(path: Path, sampling: Sampling, flow_method: str = "dis") -> SampledClip:
    """Decode a clip and choose its time steps as ``sampling`` says.

    Fixed-length (``steps``) sampling clips the fixed-rate sequence here; the zero padding is
    added at read time. Adaptive sampling decodes candidates at
    ``ADAPTIVE_CANDIDATE_FACTOR × fps``, measures flow magnitude between consecutive candidates
    on small gray frames, and keeps ``round(duration × fps)`` of them by :func:`adaptive_indices`.
    """
    import cv2

    from desktop_app.features.flow import OpticalFlow, flow_magnitude

    if not sampling.adaptive:
        clip = decode_frames(path, sampling.fps, sampling.max_seconds, sampling.work_width)
        if sampling.steps is not None and len(clip.frames) > sampling.steps:
            clip.frames = clip.frames[: sampling.steps]
            clip.times = clip.times[: sampling.steps]
        return clip
    clip = decode_frames(
        path, sampling.fps * ADAPTIVE_CANDIDATE_FACTOR, sampling.max_seconds, sampling.work_width
    )
    n = len(clip.frames)
    flow = OpticalFlow(flow_method)
    small = [cv2.resize(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), None, fx=0.5, fy=0.5) for f in clip.frames]
    motion = np.zeros(n, np.float32)
    for i in range(1, n):
        motion[i] = flow_magnitude(flow(small[i - 1], small[i]))
    if n > 1:
        motion[0] = motion[1]
    duration = float(clip.times[-1]) + 1.0 / min(clip.native_fps, sampling.fps * ADAPTIVE_CANDIDATE_FACTOR)
    budget = max(1, int(round(duration * sampling.fps)))
    if sampling.steps is not None:
        budget = min(budget, sampling.steps)
    chosen = adaptive_indices(motion, budget)
    clip.frames = [clip.frames[i] for i in chosen]
    clip.times = clip.times[chosen]
    clip.candidate_motion = motion
    return clip
