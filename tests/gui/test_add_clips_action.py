"""File ▸ Add Clips: a video of the user's own added in a worker, then shown and selected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app.data.demo_scenes import render_clip, write_video
from desktop_app.gui.main_window import MainWindow


@pytest.fixture
def window(qtbot, settings):
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()


def _result_box(window: MainWindow) -> QMessageBox | None:
    box = window.findChild(QMessageBox, "addClipsResult")
    return box if box is not None and box.isVisible() else None


def test_add_clips_adds_selects_and_lists_the_neighbours(qtbot, window, workspace_copy, tmp_path: Path):
    assert not window.add_clips_action.isEnabled()  # no workspace yet
    assert window.open_workspace(workspace_copy)
    assert window.add_clips_action.isEnabled()
    video = render_clip("spin", "box", width=64, height=48, fps=15.0, n_frames=22, rng=777)
    good = tmp_path / "spinning.mp4"
    write_video(good, video.frames, 15.0)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    num_clips = window.models.workspace.workspace.catalog.num_clips()

    task = window.add_clips([str(good), str(broken)])
    assert task is not None
    qtbot.waitUntil(lambda: _result_box(window) is not None, timeout=60_000)

    text = _result_box(window).text()
    assert "user/spinning (added): nearest classes" in text and "nearest words" in text
    assert str(broken) in text and "skipped" in text
    workspace = window.models.workspace.workspace
    assert workspace.catalog.num_clips() == num_clips + 1
    assert window.models.selection.clip_ids == frozenset({num_clips})
    space = window.models.workspace.space()
    assert np.isfinite(space.clip_embeddings[num_clips]).all()
    assert f"{num_clips + 1} clips" in window.workspace_label.text()
    # the demo's cached clip maps (PCA, UMAP) of the run stay current and hold the new clip
    from desktop_app.analysis.maps import cached_maps, load_map

    maps = [m for m in cached_maps(workspace) if m.run_id == space.run_id and m.of == "clips"]
    assert {m.method for m in maps} >= {"pca", "umap"}
    assert all(not m.stale and num_clips in load_map(workspace, m.key).ids for m in maps)


def test_a_video_file_dropped_on_the_window_is_added(qtbot, window, workspace_copy, tmp_path: Path):
    video = render_clip("rise", "ball", width=64, height=48, fps=15.0, n_frames=22, rng=778)
    path = tmp_path / "rising.mp4"
    write_video(path, video.frames, 15.0)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()  # no workspace open: nothing to add it to
    window.open_workspace(workspace_copy)
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(
        window, QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, buttons, modifiers)
    )
    qtbot.waitUntil(lambda: _result_box(window) is not None, timeout=60_000)
    assert "user/rising (added)" in _result_box(window).text()
    assert len(window.models.selection.clip_ids) == 1
