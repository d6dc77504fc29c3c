"""Hand-crafted descriptors: dimensions and that they see what they should."""

from __future__ import annotations

import numpy as np

from desktop_app.features.flow import OpticalFlow, flow_magnitude
from desktop_app.features.handcrafted import (
    APPEARANCE_DIM,
    GRID,
    HOF_BINS,
    MOTION_DIM,
    appearance_descriptor,
    motion_descriptor,
)


def _frame(shift: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    frame = np.zeros((72, 96, 3), np.uint8)
    frame[20:50, 10 + shift : 40 + shift] = rng.integers(0, 255, (30, 30, 3), dtype=np.uint8)
    return frame


def test_dimensions_and_finiteness() -> None:
    a = appearance_descriptor(_frame(0))
    m = motion_descriptor(np.zeros((72, 96, 2), np.float32))
    assert a.shape == (APPEARANCE_DIM,) and m.shape == (MOTION_DIM,)
    assert a.dtype == np.float32 and m.dtype == np.float32
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(m))


def test_hog_sees_orientation() -> None:
    vertical = np.zeros((64, 64, 3), np.uint8)
    vertical[:, ::8] = 255
    horizontal = np.ascontiguousarray(vertical.transpose(1, 0, 2))
    assert np.linalg.norm(appearance_descriptor(vertical) - appearance_descriptor(horizontal)) > 1.0


def test_motion_descriptor_separates_still_from_moving() -> None:
    flow = OpticalFlow("dis")
    gray = [np.ascontiguousarray(_frame(s)[..., 1]) for s in (0, 0, 6)]
    still = flow(gray[0], gray[1])
    moving = flow(gray[1], gray[2])
    assert flow_magnitude(moving) > flow_magnitude(still) + 0.3
    hof_still = motion_descriptor(still)[: GRID * GRID * (HOF_BINS + 1)].reshape(-1, HOF_BINS + 1)
    hof_moving = motion_descriptor(moving)[: GRID * GRID * (HOF_BINS + 1)].reshape(-1, HOF_BINS + 1)
    assert hof_still[:, HOF_BINS].sum() > hof_moving[:, HOF_BINS].sum()
    farneback = OpticalFlow("farneback")(gray[1], gray[2])
    assert farneback.shape == (72, 96, 2)
    assert flow_magnitude(farneback) > 0.3
