"""Frame encoders that turn one clip into per-time-step feature sequences.

``desktop_app.features.registry.make_encoder(extractor, options)`` builds one by name from a
JSON-able spec, so that worker processes can rebuild it; the spec is recorded in the feature
store's metadata.

* ``handcrafted`` (default) — object-centred: appearance: HOG + silhouette of the tracked dominant
  object; motion: HOF + MBH of the camera-compensated DIS / Farneback flow in its box and its
  trajectory; audio: log-mel (when the clip has sound).
* ``torchvision:<arch>`` — appearance from a torchvision CNN (resnet18, resnet50, vgg16) with the
  weights file the user names; motion stays handcrafted (a flow CNN needs training, seed 003 III.B).
* ``audio`` — only the log-mel stream (seed 003, section III.C).
* ``motion-cnn`` — motion from seed 003's motion CNN trained on the workspace's training clips
  (``motion_cnn.py``); appearance and audio stay handcrafted.
* ``precomputed`` — arrays the user already has (:class:`PrecomputedFeatures`); not a frame encoder.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from desktop_app.errors import ActionLensError
from desktop_app.features.decode import Sampling, sample_clip
from desktop_app.features.handcrafted import DESCRIPTOR_VERSION

#: Extractor names ``actionlens extract --extractor`` accepts (``torchvision`` takes ``:<arch>``).
EXTRACTORS = ("handcrafted", "torchvision", "audio", "precomputed", "motion-cnn")
TORCHVISION_ARCHS = ("resnet18", "resnet50", "vgg16")
CNN_INSTALL_HINT = "pip install torch==2.14.1 torchvision==0.29.1  (the 'cnn' extra of actionlens)"

#: Log-mel parameters of VGGish (seed 003's audio front end): 16 kHz, 25 ms windows, 10 ms hop.
AUDIO_RATE = 16000
AUDIO_WINDOW = 400
AUDIO_HOP = 160
AUDIO_FFT = 512
AUDIO_MELS = 64


@dataclass
class EncodedClip:
    """What an encoder made of one clip."""

    features: dict[str, np.ndarray]  # stream -> (T, D) float32
    frames: list[np.ndarray] = field(default_factory=list)  # sampled BGR frames, for thumbnails
    frames_decoded: int = 0


class Encoder(Protocol):
    """A clip encoder; ``spec`` rebuilds it with ``registry.make_encoder``."""

    spec: dict[str, Any]
    streams: tuple[str, ...]

    def encode(self, path: Path, has_audio: bool) -> EncodedClip:
        """Features of the clip at ``path``; raises ``VideoError`` for unreadable files."""


def _sampling(options: dict[str, Any]) -> Sampling:
    return Sampling(
        fps=float(options.get("fps", 10.0)),
        steps=options.get("steps"),
        adaptive=bool(options.get("adaptive", False)),
        max_seconds=options.get("max_seconds"),
        work_width=int(options.get("work_width", 160)),
    )


def _handcrafted_sequences(
    frames: list[np.ndarray], flow_method: str, appearance: bool
) -> dict[str, np.ndarray]:
    """Handcrafted streams of one clip (``handcrafted.describe_clip``) from its sampled frames.

    The flow ``t → t+1`` between consecutive sampled frames feeds motion step ``t``.
    """
    import cv2

    from desktop_app.features.flow import OpticalFlow
    from desktop_app.features.handcrafted import describe_clip

    grays = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
    flow = OpticalFlow(flow_method)
    flows = [flow(grays[t], grays[t + 1]) for t in range(len(grays) - 1)]
    return describe_clip(frames, flows, appearance=appearance)


class HandcraftedEncoder:
    """Object-centred HOG + silhouette (appearance), HOF + MBH + trajectory (motion), log-mel (audio).

    See ``handcrafted.py``; the spec records ``descriptors`` (its ``DESCRIPTOR_VERSION``).
    """

    streams: tuple[str, ...] = ("appearance", "motion", "audio")

    def __init__(self, options: dict[str, Any]) -> None:
        self.sampling = _sampling(options)
        self.flow = str(options.get("flow", "dis"))
        self.audio = bool(options.get("audio", True))
        self.spec = {
            "extractor": "handcrafted",
            **self.sampling.to_json(),
            "flow": self.flow,
            "audio": self.audio,
            # a store made by other descriptor code is refused, never silently extended
            "descriptors": DESCRIPTOR_VERSION,
        }

    def _appearance(self, frames: list[np.ndarray]) -> np.ndarray | None:
        """A replacement appearance stream, or ``None`` for the handcrafted one."""
        return None

    def encode(self, path: Path, has_audio: bool) -> EncodedClip:
        clip = sample_clip(path, self.sampling, self.flow)
        replacement = self._appearance(clip.frames)
        features = _handcrafted_sequences(clip.frames, self.flow, appearance=replacement is None)
        if replacement is not None:
            features["appearance"] = replacement
        if self.audio and has_audio:
            audio = log_mel_sequence(path, self.sampling.fps, self.sampling.max_seconds)
            if audio is not None:
                features["audio"] = audio
        return EncodedClip(features, clip.frames, clip.frames_decoded)


class TorchvisionEncoder(HandcraftedEncoder):
    """Appearance from a torchvision CNN's pooled features; motion and audio as handcrafted."""

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        self.arch = str(options.get("arch", ""))
        if self.arch not in TORCHVISION_ARCHS:
            raise ActionLensError(
                f"unknown torchvision architecture {self.arch!r}; use one of {', '.join(TORCHVISION_ARCHS)}"
            )
        weights = options.get("weights")
        if not weights:
            raise ActionLensError(
                f"--extractor torchvision:{self.arch} needs --weights FILE (a state dict saved by "
                "torch.save); nothing is downloaded"
            )
        self.weights = str(Path(weights).absolute())
        if not Path(self.weights).is_file():
            raise ActionLensError(
                f"weights file {self.weights} does not exist; give the path of a saved state dict"
            )
        self.spec = {**self.spec, "extractor": f"torchvision:{self.arch}", "weights": self.weights}
        self._model: Any = None
        _import_torchvision()  # fail early, in the main process, with the install hint

    def _load(self) -> Any:
        import torch

        torchvision = _import_torchvision()
        model = getattr(torchvision.models, self.arch)(weights=None)
        state = torch.load(self.weights, map_location="cpu", weights_only=True)
        try:
            model.load_state_dict(state)
        except (RuntimeError, KeyError) as err:
            raise ActionLensError(
                f"{self.weights} does not hold {self.arch} weights ({err}); check the file"
            ) from err
        if self.arch.startswith("resnet"):
            model.fc = torch.nn.Identity()
        else:
            model.classifier = model.classifier[:-1]
        return model.eval()

    def _appearance(self, frames: list[np.ndarray]) -> np.ndarray:
        import cv2
        import torch

        if self._model is None:
            self._model = self._load()
        rgb = np.stack([cv2.resize(cv2.cvtColor(f, cv2.COLOR_BGR2RGB), (224, 224)) for f in frames])
        x = torch.from_numpy(rgb).permute(0, 3, 1, 2).float() / 255.0
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        with torch.no_grad():
            out = self._model((x - mean) / std)
        return out.numpy().astype(np.float32)


class AudioEncoder:
    """Only the log-mel audio stream (seed 003, III.C); clips without sound get no features."""

    streams: tuple[str, ...] = ("audio",)

    def __init__(self, options: dict[str, Any]) -> None:
        self.fps = float(options.get("fps", 10.0))
        self.max_seconds = options.get("max_seconds")
        self.spec = {"extractor": "audio", "fps": self.fps, "max_seconds": self.max_seconds}

    def encode(self, path: Path, has_audio: bool) -> EncodedClip:
        features = {}
        audio = log_mel_sequence(path, self.fps, self.max_seconds) if has_audio else None
        if audio is not None:
            features["audio"] = audio
        return EncodedClip(features)


def _import_torchvision() -> Any:
    try:
        import torchvision
    except Exception as err:  # ImportError, or a torch/torchvision version clash raising others
        raise ActionLensError(
            f"the torchvision extractor needs torchvision, which cannot be imported here ({type(err).__name__}: "
            f"{err}); install it with: {CNN_INSTALL_HINT}, or use --extractor handcrafted"
        ) from err
    return torchvision


# ---------------------------------------------------------------------------------------- audio
def _mel_filterbank(n_mels: int = AUDIO_MELS, n_fft: int = AUDIO_FFT, rate: int = AUDIO_RATE) -> np.ndarray:
    """Triangular HTK-mel filters from 125 to 7500 Hz (VGGish's range), ``(n_mels, n_fft//2+1)``."""

    def mel(f: np.ndarray | float) -> Any:
        return 1127.0 * np.log1p(np.asarray(f) / 700.0)

    freqs = np.linspace(0, rate / 2, n_fft // 2 + 1)
    edges = np.linspace(mel(125.0), mel(7500.0), n_mels + 2)
    fm = mel(freqs)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    bank = np.maximum(0.0, np.minimum((fm - lower) / (centre - lower), (upper - fm) / (upper - centre)))
    return bank.astype(np.float32)


def _read_audio(path: Path, max_seconds: float | None) -> np.ndarray | None:
    """Mono float32 samples at 16 kHz, or ``None`` when the file has no decodable audio."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
            chunks: list[np.ndarray] = []
            total = 0
            limit = math.inf if max_seconds is None else max_seconds * AUDIO_RATE
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    total += chunks[-1].size
                if total >= limit:
                    break
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.FFmpegError, OSError, ValueError):
        return None
    if not chunks:
        return None
    samples = np.concatenate(chunks).astype(np.float32)
    if max_seconds is not None:
        samples = samples[: int(max_seconds * AUDIO_RATE)]
    return samples if samples.size >= AUDIO_WINDOW else None


def log_mel_sequence(path: Path, fps: float, max_seconds: float | None = None) -> np.ndarray | None:
    """A log-mel spectrogram pooled to ``fps`` steps per second: ``(T, 64)`` float32 (seed 003, III.C).

    25 ms Hann windows every 10 ms, 64 mel bands over 125–7500 Hz, ``log(mel + 0.01)`` as in
    VGGish; consecutive spectrogram frames are averaged over non-overlapping windows of
    ``1 / fps`` seconds so that the audio stream runs at the same rate as the video streams.
    ``None`` when the clip has no audio track.
    """
    samples = _read_audio(path, max_seconds)
    if samples is None:
        return None
    n_frames = 1 + (samples.size - AUDIO_WINDOW) // AUDIO_HOP
    idx = np.arange(AUDIO_WINDOW)[None, :] + AUDIO_HOP * np.arange(n_frames)[:, None]
    window = np.hanning(AUDIO_WINDOW).astype(np.float32)
    power = np.abs(np.fft.rfft(samples[idx] * window, n=AUDIO_FFT)) ** 2
    log_mel = np.log(power.astype(np.float32) @ _mel_filterbank().T + 0.01)
    per_step = max(1, int(round(AUDIO_RATE / AUDIO_HOP / fps)))
    steps = max(1, n_frames // per_step)
    pooled = log_mel[: steps * per_step].reshape(steps, per_step, AUDIO_MELS).mean(axis=1)
    return pooled.astype(np.float32)


# ---------------------------------------------------------------------------------- precomputed
class PrecomputedFeatures:
    """Per-clip feature arrays a user already has (C3D, I3D …), keyed by clip name.

    ``source`` is a directory of ``<clip name>.npy`` / ``.npz`` files (an ``.npz`` holds one
    array, or one named ``features``), or an HDF5 file with one dataset per clip name. Each array
    is ``(T, D)`` (a ``(D,)`` vector counts as ``T = 1``); every clip must share ``D``.
    """

    streams: tuple[str, ...] = ("appearance",)

    def __init__(self, source: str | os.PathLike[str], expected_dim: int | None = None) -> None:
        self.source = Path(source).absolute()
        if not self.source.exists():
            raise ActionLensError(
                f"--features-from {self.source} does not exist; give a directory of .npy/.npz files or an HDF5 file"
            )
        self.is_hdf5 = self.source.is_file()
        self.expected_dim = expected_dim
        self.spec = {"extractor": "precomputed", "source": str(self.source)}
        self._h5: Any = None
        self._reference = "the clips already in the store"

    def close(self) -> None:
        """Close the HDF5 file, if one is open."""
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None

    def read(self, clip_name: str) -> np.ndarray | None:
        """The ``(T, D)`` float32 features of one clip, or ``None`` when the source has none.

        Raises
        ------
        ActionLensError
            When the array is not 1-D/2-D, is empty, or its ``D`` differs from the other clips',
            naming the file (and dataset) with the expected and the found shape.
        """
        where, array = self._load(clip_name)
        if array is None:
            return None
        expected = f"(T, {self.expected_dim})" if self.expected_dim else "(T, D)"
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
            raise ActionLensError(
                f"{where} holds an array of shape {tuple(array.shape)}, expected {expected}; "
                "store one (time steps × dimensions) array per clip"
            )
        if self.expected_dim is None:
            self.expected_dim = int(array.shape[1])
            self._reference = where
        elif array.shape[1] != self.expected_dim:
            raise ActionLensError(
                f"{where} holds an array of shape {tuple(array.shape)}, expected (T, {self.expected_dim}) "
                f"like {self._reference}; every clip's features need the same dimension"
            )
        if not np.all(np.isfinite(array)):
            raise ActionLensError(f"{where} holds NaN or infinite values; re-export it")
        return np.asarray(array, np.float32)

    def _load(self, clip_name: str) -> tuple[str, np.ndarray | None]:
        if self.is_hdf5:
            import h5py

            if self._h5 is None:
                try:
                    self._h5 = h5py.File(self.source, "r")
                except OSError as err:
                    raise ActionLensError(
                        f"{self.source} is not a readable HDF5 file ({err}); check --features-from"
                    ) from err
            if clip_name not in self._h5:
                return str(self.source), None
            return f"{self.source}[{clip_name!r}]", np.asarray(self._h5[clip_name][()])
        for suffix in (".npy", ".npz"):
            path = self.source / f"{clip_name}{suffix}"
            if path.is_file():
                try:
                    if suffix == ".npy":
                        return str(path), np.load(path, allow_pickle=False)
                    with np.load(path, allow_pickle=False) as npz:
                        keys = list(npz.keys())
                        key = "features" if "features" in keys else (keys[0] if len(keys) == 1 else None)
                        if key is None:
                            raise ActionLensError(
                                f"{path} holds {len(keys)} arrays; keep one, or name it 'features'"
                            )
                        return str(path), npz[key]
                except (OSError, ValueError) as err:
                    raise ActionLensError(
                        f"{path} is not a readable .npy/.npz file ({err}); re-export it"
                    ) from err
        return str(self.source / f"{clip_name}.npy"), None
