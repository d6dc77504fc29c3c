"""Dense optical flow between consecutive sampled frames (OpenCV DIS by default, Farneback).

Seed 000 computes flow on the frames it samples at 10 fps; so do we, at the working resolution.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from desktop_app.errors import ActionLensError

#: The flow methods :func:`make_flow` knows.
FLOW_METHODS = ("dis", "farneback")


class OpticalFlow:
    """Computes ``(H, W, 2)`` float32 flow fields (x, y displacement in pixels) between gray frames.

    Parameters
    ----------
    method
        ``"dis"`` (OpenCV's Dense Inverse Search, preset *fast*: accurate enough for histograms
        and several times faster than Farneback) or ``"farneback"``.
    """

    def __init__(self, method: str = "dis") -> None:
        import cv2

        if method not in FLOW_METHODS:
            raise ActionLensError(
                f"unknown optical flow method {method!r}; use one of {', '.join(FLOW_METHODS)}"
            )
        self.method = method
        self._dis: Any = None
        if method == "dis":
            self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)  # type: ignore[attr-defined]

    def __call__(self, prev_gray: np.ndarray, gray: np.ndarray) -> np.ndarray:
        """The flow that moves ``prev_gray`` onto ``gray`` (both uint8, same shape)."""
        import cv2

        if self._dis is not None:
            flow = self._dis.calc(prev_gray, gray, None)
        else:
            flow = cv2.calcOpticalFlowFarneback(prev_gray, gray, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # type: ignore[call-overload]
        return np.asarray(flow, dtype=np.float32)


def flow_magnitude(flow: np.ndarray) -> float:
    """Mean displacement length of a flow field, in pixels (seed 003, section IV.F)."""
    return float(np.mean(np.sqrt(flow[..., 0] ** 2 + flow[..., 1] ** 2)))
