"""Encoders by name: precomputed imports (shape checks), audio log-mel, the torchvision extra."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from desktop_app.errors import ActionLensError
from desktop_app.features import ExtractSettings, FeatureStore, extract_features
from desktop_app.features.encoders import AUDIO_MELS, log_mel_sequence
from desktop_app.features.registry import make_encoder


def _write_video_with_tone(path: Path, seconds: float = 1.0, tone_hz: float = 440.0) -> Path:
    """An mp4 with moving video and a sine tone, written by PyAV."""
    import av

    rate, fps = 16000, 25
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=fps)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream("aac", rate=rate)
        audio.layout = "mono"
        for i in range(int(seconds * fps)):
            image = np.zeros((48, 64, 3), np.uint8)
            image[10:30, (2 * i) % 40 : (2 * i) % 40 + 20] = 200
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.5 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
        for start in range(0, samples.size, 1024):
            frame = av.AudioFrame.from_ndarray(
                samples[None, start : start + 1024], format="flt", layout="mono"
            )
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
    return path


def test_log_mel_of_a_tone_peaks_at_its_band(tmp_path: Path, video_file) -> None:
    with_sound = _write_video_with_tone(tmp_path / "tone.mp4", seconds=1.0, tone_hz=1000.0)
    mel = log_mel_sequence(with_sound, fps=10.0)
    assert mel is not None and mel.shape[1] == AUDIO_MELS and 8 <= mel.shape[0] <= 11
    low = log_mel_sequence(_write_video_with_tone(tmp_path / "low.mp4", tone_hz=300.0), fps=10.0)
    assert low is not None and int(np.argmax(low.mean(0))) < int(np.argmax(mel.mean(0)))
    silent = video_file(tmp_path / "silent.mp4", [1.0] * 20)
    assert log_mel_sequence(silent, fps=10.0) is None


def test_handcrafted_adds_audio_only_for_clips_with_sound(tmp_path: Path, small_workspace) -> None:
    from desktop_app.data.video import probe_video

    encoder = make_encoder("handcrafted", {"fps": 10.0})
    path = _write_video_with_tone(tmp_path / "tone.mp4")
    assert probe_video(path).has_audio
    encoded = encoder.encode(path, has_audio=True)
    assert set(encoded.features) == {"appearance", "motion", "audio"}
    assert encoded.features["audio"].shape[1] == AUDIO_MELS
    assert encoded.features["appearance"].shape[0] == encoded.features["motion"].shape[0] == 10


def _precomputed_workspace(small_workspace, tmp_path: Path, writer) -> tuple:
    ws = small_workspace(n_per_class=2)
    clips = ws.catalog.clips()
    source = tmp_path / "c3d"
    source.mkdir()
    rng = np.random.default_rng(0)
    for clip in clips[:-1]:  # the last clip has no features: it is skipped, not bad
        writer(source, clip.name, rng.normal(size=(3 + clip.id % 3, 40)).astype(np.float32))
    return ws, clips, source


def test_precomputed_npy_and_npz_directory(small_workspace, tmp_path: Path) -> None:
    def writer(source: Path, name: str, array: np.ndarray) -> None:
        if len(name) % 2:
            np.save(source / f"{name}.npy", array)
        else:
            np.savez(source / f"{name}.npz", features=array)

    ws, clips, source = _precomputed_workspace(small_workspace, tmp_path, writer)
    summary = extract_features(ws, ExtractSettings(extractor="precomputed", features_from=str(source)))
    assert summary.clips_extracted == len(clips) - 1 and summary.clips_without_features == 1
    assert summary.store == "precomputed-c3d"
    store = FeatureStore.open(ws)
    assert store.streams == ["appearance"] and store.raw_dim("appearance") == 40
    first = clips[0]
    np.testing.assert_array_equal(
        store.get(first.id, "appearance", reduced=False),
        np.load(source / f"{first.name}.npy")
        if len(first.name) % 2
        else np.load(source / f"{first.name}.npz")["features"],
    )
    assert ws.catalog.clip(clips[-1].id).status == "ok"
    with pytest.raises(KeyError):
        store.get(clips[-1].id, "appearance")


def test_precomputed_rejects_a_wrong_shape_naming_the_file(small_workspace, tmp_path: Path) -> None:
    def writer(source: Path, name: str, array: np.ndarray) -> None:
        np.save(source / f"{name}.npy", array)

    ws, clips, source = _precomputed_workspace(small_workspace, tmp_path, writer)
    wrong = source / f"{clips[2].name}.npy"
    np.save(wrong, np.zeros((5, 39), np.float32))
    with pytest.raises(ActionLensError) as info:
        extract_features(ws, ExtractSettings(extractor="precomputed", features_from=str(source)))
    message = str(info.value)
    assert str(wrong) in message and "(5, 39)" in message and "(T, 40)" in message

    np.save(wrong, np.zeros((2, 3, 40), np.float32))
    with pytest.raises(ActionLensError, match=r"shape \(2, 3, 40\), expected \(T, 40\)"):
        extract_features(ws, ExtractSettings(extractor="precomputed", features_from=str(source)))


def test_precomputed_hdf5_keyed_by_clip_name(small_workspace, tmp_path: Path) -> None:
    import h5py

    ws = small_workspace(n_per_class=1)
    clips = ws.catalog.clips()
    path = tmp_path / "i3d.h5"
    with h5py.File(path, "w") as h5:
        for clip in clips:
            h5[clip.name] = np.full((4, 16), clip.id, np.float32)
        h5["extra_unknown_clip"] = np.zeros((4, 16), np.float32)
    extract_features(ws, ExtractSettings(extractor="precomputed", features_from=str(path)))
    store = FeatureStore.open(ws)
    assert store.get(clips[1].id, "appearance", reduced=False)[0, 0] == clips[1].id
    assert store.get(clips[1].id, "appearance").shape == (4, 16)

    with h5py.File(path, "a") as h5:
        del h5[clips[0].name]
        h5[clips[0].name] = np.zeros((4, 17), np.float32)
    ws2 = small_workspace(n_per_class=1)
    with pytest.raises(
        ActionLensError, match=rf"shape \(4, 16\), expected \(T, 17\) like .*i3d.h5\[{clips[0].name!r}\]"
    ):
        extract_features(ws2, ExtractSettings(extractor="precomputed", features_from=str(path)))


def test_unknown_extractor_and_missing_features_from(small_workspace) -> None:
    ws = small_workspace(n_per_class=1)
    with pytest.raises(ActionLensError, match="unknown extractor"):
        extract_features(ws, ExtractSettings(extractor="sift"))
    with pytest.raises(ActionLensError, match="--features-from"):
        extract_features(ws, ExtractSettings(extractor="precomputed"))


def test_torchvision_extractor_explains_how_to_install(tmp_path: Path) -> None:
    weights = tmp_path / "resnet18.pt"
    weights.write_bytes(b"x")
    try:
        import torchvision  # noqa: F401
    except Exception:
        with pytest.raises(ActionLensError, match=r"pip install torch==2\.14\.1 torchvision==0\.29\.1"):
            make_encoder("torchvision:resnet18", {"weights": str(weights)})
    else:  # pragma: no cover - only where the 'cnn' extra is installed
        pytest.skip("torchvision is importable here")
    with pytest.raises(ActionLensError, match="--weights"):
        make_encoder("torchvision:resnet18", {})
    with pytest.raises(ActionLensError, match="resnet50"):
        make_encoder("torchvision:alexnet", {"weights": str(weights)})
