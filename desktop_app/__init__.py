"""ActionLens: build and explore joint video–word embeddings."""

import os

__version__ = "0.1.0"


def quiet_video_library_logs() -> None:
    """Keep OpenCV's and its FFmpeg's own log lines ("moov atom not found", "[ WARN:0@0.003]
    global cap.cpp …") off the terminal: ActionLens reports every file it cannot read in one
    line of its own. Must run before ``cv2`` is imported; a user who sets ``OPENCV_LOG_LEVEL``
    or ``OPENCV_FFMPEG_LOGLEVEL`` keeps their setting (``OPENCV_LOG_LEVEL=WARNING`` shows them).
    Worker processes inherit the environment."""
    os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
