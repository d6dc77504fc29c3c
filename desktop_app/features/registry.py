"""Encoders by name: ``make_encoder("handcrafted" | "torchvision:<arch>" | "audio" | "motion-cnn", spec)``.

The one place that knows every encoder. It sits above ``encoders`` and ``motion_cnn`` (which
builds on the handcrafted encoder), so neither imports the other's user.
"""

from __future__ import annotations

from typing import Any

from desktop_app.errors import ActionLensError
from desktop_app.features.encoders import (
    TORCHVISION_ARCHS,
    AudioEncoder,
    Encoder,
    HandcraftedEncoder,
    TorchvisionEncoder,
)


def make_encoder(extractor: str, options: dict[str, Any] | None = None) -> Encoder:
    """Build the encoder named ``extractor`` (``handcrafted``, ``torchvision:<arch>``, ``audio``).

    Raises
    ------
    ActionLensError
        For an unknown name, or ``torchvision`` without torchvision installed / without weights.
    """
    options = dict(options or {})
    name, _, arch = extractor.partition(":")
    if name == "handcrafted":
        return HandcraftedEncoder(options)
    if name == "torchvision":
        return TorchvisionEncoder({**options, "arch": arch or options.get("arch", "")})
    if name == "audio":
        return AudioEncoder(options)
    if name == "motion-cnn":  # seed 003's motion CNN, trained in the workspace (motion_cnn.py)
        from desktop_app.features.motion_cnn import MotionCNNEncoder  # imports torch

        return MotionCNNEncoder(options)
    raise ActionLensError(
        f"unknown extractor {extractor!r}; use handcrafted, torchvision:<{'|'.join(TORCHVISION_ARCHS)}>, "
        "audio, motion-cnn or precomputed"
    )
