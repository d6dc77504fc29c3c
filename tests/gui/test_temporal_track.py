"""The model's view over time: the Player names the nearest classes at the playhead, the Map
draws the prefix track ending at the clip's point with a marker that follows the playhead."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.analysis.temporal import ClipTrack
from desktop_app.atomic import write_json
from desktop_app.gui.panels.map import MapPanel
from desktop_app.gui.panels.player import PlayerPanel
from desktop_app.training.runs import read_meta


@pytest.fixture
def panels(qtbot, models, workspace_copy):
    models.workspace.open(workspace_copy)
    map_panel = MapPanel(models)
    player = PlayerPanel(models)
    for panel in (map_panel, player):
        qtbot.addWidget(panel)
        panel.resize(560, 460)
        panel.show()
        qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: len(map_panel.ids) > 0, timeout=30000)
    yield map_panel, player
    player.shutdown()
    map_panel.shutdown()


def _seen_steps(player: PlayerPanel) -> int:
    found = re.search(r"(\d+) of (\d+) steps", player.timeline.text())
    assert found, player.timeline.text()
    return int(found.group(1))


def _head_at(map_panel: MapPanel, point: np.ndarray) -> bool:
    head = map_panel.track_head_position()
    return head is not None and bool(np.allclose(head, point, atol=1e-3))


def test_track_follows_the_playhead(panels, models, qtbot):
    map_panel, player = panels
    models.current_clip.set(3, "library")
    qtbot.waitUntil(lambda: isinstance(models.track.track, ClipTrack), timeout=30000)
    track = models.track.track
    assert track.clip_id == 3 and len(track) > 3
    # The Map draws the track, and its last prefix is the clip's own point.
    qtbot.waitUntil(lambda: len(map_panel.track_coords) == len(track), timeout=10000)
    row = map_panel.point_index(3)
    np.testing.assert_allclose(map_panel.track_coords[-1], map_panel.coords[row], atol=1e-3)
    assert "prefixes of the clip" in map_panel.track_label.text()

    # Pause, seek to the start: the Player says one step seen, the marker is at the first prefix.
    qtbot.waitUntil(lambda: player.playing, timeout=5000)
    QTest.keyClick(player, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not player.playing, timeout=5000)
    player.decoder.seek(0)
    qtbot.waitUntil(lambda: player.frame_label.text().startswith("1 /"), timeout=5000)
    qtbot.waitUntil(lambda: "steps" in player.timeline.text(), timeout=5000)
    assert _seen_steps(player) == 1
    assert "nearest classes" in player.timeline.text()
    first_names = player.timeline.text().split("nearest classes")[1].split(";")[0]
    qtbot.waitUntil(lambda: _head_at(map_panel, map_panel.track_coords[0]), timeout=10000)

    # Seek to the last frame: the whole clip has been seen, the marker sits on the clip's point.
    last = player.slider.maximum()
    player.decoder.seek(last)
    qtbot.waitUntil(lambda: player.frame_label.text().startswith(f"{last + 1} /"), timeout=5000)
    assert _seen_steps(player) == len(track)
    qtbot.waitUntil(lambda: _head_at(map_panel, map_panel.coords[row]), timeout=10000)
    # The nearest classes at the end are the track's own last row, named in the Player.
    classes = models.workspace.classes()
    last_names = player.timeline.text().split("nearest classes")[1].split(";")[0]
    assert (
        classes[int(track.class_ids[-1, 0])].phrase or classes[int(track.class_ids[-1, 0])].name
    ) in last_names
    if not np.array_equal(track.class_ids[0], track.class_ids[-1]):
        assert first_names != last_names

    # Play: the marker moves along the track.
    QTest.keyClick(player, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: models.track.step not in (0, len(track) - 1), timeout=10000)


def test_model_without_recurrence_says_so(panels, models, qtbot, workspace_copy):
    map_panel, player = panels
    run_id = models.workspace.run_id
    meta = read_meta(workspace_copy / "runs" / run_id)
    meta["model"]["name"] = "meanpool-svm"  # what seed 002's SVM-headed model records
    write_json(workspace_copy / "runs" / run_id / "meta.json", meta)
    models.current_clip.set(2, "library")
    qtbot.waitUntil(lambda: isinstance(models.track.track, str), timeout=30000)
    assert "No view over time" in player.timeline.text() and "meanpool-svm" in player.timeline.text()
    assert "No track over time" in map_panel.track_label.text()
    assert map_panel.track_head_position() is None and len(map_panel.track_coords) == 0
