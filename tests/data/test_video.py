"""probe_video and content_hash on tiny real videos and on broken files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from desktop_app.data.video import HASH_CHUNK_BYTES, VIDEO_EXTENSIONS, VideoError, content_hash, probe_video
from desktop_app.errors import ActionLensError

# What the conftest's write_video writes by default.
VIDEO_WIDTH, VIDEO_HEIGHT, VIDEO_FRAMES, VIDEO_FPS = 32, 24, 8, 10.0


def _write_with_pyav(path: Path, *, container_format: str | None = None, audio: bool = False) -> Path:
    """An 8-frame 25 fps mpeg4 video written by PyAV, optionally with a silent AAC track."""
    with av.open(str(path), "w", format=container_format) as out:
        video = out.add_stream("mpeg4", rate=25)
        video.width, video.height, video.pix_fmt = 32, 24, "yuv420p"
        # Every stream must exist before the first packet is muxed.
        sound = out.add_stream("aac", rate=16000) if audio else None
        for i in range(8):
            frame = av.VideoFrame.from_ndarray(np.full((24, 32, 3), i * 30, np.uint8), format="rgb24")
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if sound is not None:
            samples = av.AudioFrame.from_ndarray(
                np.zeros((1, 16000), np.float32), format="fltp", layout="mono"
            )
            samples.sample_rate = 16000
            for packet in [*sound.encode(samples), *sound.encode()]:
                out.mux(packet)
    return path


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_probe_reads_the_generated_video(
    tmp_path: Path, write_video: Callable[..., Path], suffix: str
) -> None:
    path = write_video(tmp_path / f"clip{suffix}")
    info = probe_video(path)
    assert info.fps == pytest.approx(VIDEO_FPS)
    assert info.frame_count == VIDEO_FRAMES
    assert (info.width, info.height) == (VIDEO_WIDTH, VIDEO_HEIGHT)
    assert info.duration == pytest.approx(VIDEO_FRAMES / VIDEO_FPS)
    assert len(info.content_hash) == 32 and int(info.content_hash, 16) >= 0
    assert info.has_audio is False


def test_probe_other_sizes_and_rates(tmp_path: Path, write_video: Callable[..., Path]) -> None:
    info = probe_video(write_video(tmp_path / "wide.mp4", frames=13, width=48, height=16, fps=25.0))
    assert (info.fps, info.frame_count, info.width, info.height) == (25.0, 13, 48, 16)


def test_probe_handles_unicode_and_spaces(tmp_path: Path, write_video: Callable[..., Path]) -> None:
    path = write_video(tmp_path / "dossier à espaces" / "vidéo de test ü 動画.mp4")
    assert probe_video(path).frame_count == VIDEO_FRAMES


def test_probe_counts_frames_when_the_container_does_not(tmp_path: Path) -> None:
    # A raw MPEG-4 elementary stream has no frame count (OpenCV reports a negative number).
    path = _write_with_pyav(tmp_path / "raw.m4v", container_format="m4v")
    info = probe_video(path)
    assert info.frame_count == 8
    assert info.fps == pytest.approx(25.0)


def test_probe_detects_audio(tmp_path: Path) -> None:
    assert probe_video(_write_with_pyav(tmp_path / "with audio.mp4", audio=True)).has_audio is True
    assert probe_video(_write_with_pyav(tmp_path / "silent.mp4")).has_audio is False


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("missing", "file not found"),
        ("empty", "empty file"),
        ("directory", "a directory, not a video file"),
        ("text", "not a video (cannot be opened)"),
        ("truncated", "not a video (cannot be opened)"),
    ],
)
def test_probe_refuses_bad_files(
    tmp_path: Path, make_bad_file: Callable[[Path, str], Path], kind: str, reason: str
) -> None:
    path = tmp_path / "bad clip.mp4"
    if kind != "missing":
        make_bad_file(path, kind)
    with pytest.raises(VideoError) as caught:
        probe_video(path)
    assert caught.value.reason == reason
    assert isinstance(caught.value, ActionLensError)
    assert "bad clip.mp4" in str(caught.value)


def test_probe_refuses_a_video_without_frames(tmp_path: Path, write_video: Callable[..., Path]) -> None:
    # An AVI writer closed before any frame leaves a valid header and no frames.
    path = write_video(tmp_path / "no frames.avi", frames=0)
    with pytest.raises(VideoError, match="no decodable frames"):
        probe_video(path)


def test_content_hash_follows_content_not_name(tmp_path: Path, write_video: Callable[..., Path]) -> None:
    a = write_video(tmp_path / "a.mp4", seed=1)
    b = tmp_path / "b.mp4"
    b.write_bytes(a.read_bytes())
    c = write_video(tmp_path / "c.mp4", seed=2)
    assert content_hash(a) == content_hash(b) == probe_video(b).content_hash
    assert content_hash(a) != content_hash(c)


def test_content_hash_of_large_files_samples_start_middle_end(tmp_path: Path) -> None:
    size = 8 * HASH_CHUNK_BYTES
    data = bytearray(np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes())
    path = tmp_path / "large.bin"
    path.write_bytes(data)
    original = content_hash(path)

    def hash_after_flipping(offset: int) -> str:
        changed = bytearray(data)
        changed[offset] ^= 0xFF
        path.write_bytes(changed)
        return content_hash(path)

    for sampled in (0, HASH_CHUNK_BYTES - 1, size // 2, size - 1):
        assert hash_after_flipping(sampled) != original, sampled
    # Bytes between the sampled regions are not read: that is what keeps the hash fast.
    assert hash_after_flipping(2 * HASH_CHUNK_BYTES) == original
    path.write_bytes(data + b"x")
    assert content_hash(path) != original  # the size is part of the digest


def test_video_extensions() -> None:
    assert {
        ".mp4",
        ".avi",
        ".mkv",
        ".webm",
        ".mov",
        ".m4v",
        ".mpg",
        ".mpeg",
        ".wmv",
        ".flv",
    } == VIDEO_EXTENSIONS
