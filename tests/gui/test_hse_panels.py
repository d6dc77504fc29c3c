"""Seed 004 in the app: with an hse run active the Query panel reads a typed sentence through the
run's text encoders (videos, classes; no words), and the Player shows a story's paragraph with
the sentence of the playing clip highlighted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.gui.panels.query import QueryPanel

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def hse_workspace(tiny_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny workspace with the tiny preset's 4 story videos imported, an hse run trained
    (1 epoch) and embedded, and that run active."""
    from desktop_app.data.demo_stories import generate_stories
    from desktop_app.data.importers import get_importer
    from desktop_app.evaluation.embed import embed_workspace
    from desktop_app.features import extract_features
    from desktop_app.training.experiment import train_in_workspace
    from desktop_app.workspace import Workspace

    tmp_path = tmp_path_factory.mktemp("hse-gui")
    workspace_copy = tmp_path / "ws"
    shutil.copytree(tiny_workspace, workspace_copy)
    manifest = json.loads((workspace_copy / "workspace.json").read_text())
    data = tmp_path / "data"
    shutil.copytree(manifest["data_root"], data)
    with Workspace.open(workspace_copy) as ws:
        ws.update_manifest(data_root=str(data.absolute()))
        generate_stories(data, "tiny", 0)
        result = get_importer("activitynet")(
            data, json=[data / "stories" / "captions_train.json", data / "stories" / "captions_val.json"]
        )
        ws.add_import(result)
        extract_features(ws)
        run = train_in_workspace(
            ws, "hse", epochs=1, model_overrides={"embed_size": 16}, train_overrides={"num_threads": 1}
        )
        embed_workspace(ws, run.run_id)
        ws.update_manifest(active_run=run.run_id)
    return workspace_copy


def test_a_sentence_ranks_videos_in_an_hse_run(qtbot, models, hse_workspace, settings):
    models.workspace.open(hse_workspace)
    panel = QueryPanel(models, settings=settings)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    qtbot.waitExposed(panel)
    text = "A red ball rises up. Then it spins."
    panel.search.clear()
    QTest.keyClicks(panel.search, text)
    panel._hide_popup()
    QTest.mouseClick(panel.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: models.query.text == text and bool(models.query.scores), timeout=WAIT_MS)

    results = panel.results
    names = [results.clips.item(r, 2).text() for r in range(results.clips.rowCount())]
    # the panel's k of the 28 videos (24 one-clip videos and 4 stories)
    assert results.clips.rowCount() == len(models.query.scores) == min(28, panel.count.value())
    stories = [r for r, name in enumerate(names) if name.startswith("v_story")]
    assert stories
    # a story shows its paragraph where a class would be
    shown = results.clips.item(stories[0], 1)
    assert shown.toolTip().endswith(".") and shown.text()[:10] == shown.toolTip()[:10]
    scores = [float(results.clips.item(r, 3).text()) for r in range(results.clips.rowCount())]
    assert scores == sorted(scores, reverse=True)
    assert results.classes.rowCount() == 6  # the class phrases, read as sentences
    assert results.words.rowCount() == 0
    qtbot.waitUntil(lambda: "holds no words" in results.pos_message.text(), timeout=WAIT_MS)
    assert text in panel.message.text()


def test_the_player_shows_a_storys_paragraph_with_the_playing_sentence(qtbot, models, hse_workspace):
    from desktop_app.gui.panels.player import PlayerPanel

    models.workspace.open(hse_workspace)
    player = PlayerPanel(models)
    qtbot.addWidget(player)
    player.resize(480, 480)
    player.show()
    qtbot.waitExposed(player)
    try:
        story = next(c for c in models.workspace.clips() if c.name.startswith("v_story"))
        captions = models.workspace.workspace.catalog.captions(story.id)
        models.current_clip.set(story.id, "library")
        qtbot.waitUntil(lambda: player.video.has_frame() and player._fps > 0, timeout=10_000)
        assert player.paragraph.isVisible()
        qtbot.waitUntil(lambda: "holds no words" in player.words.text(), timeout=10_000)
        assert all(c.sentence.split()[1] in player.paragraph.text() for c in captions)
        player.decoder.pause()
        second = captions[1]
        frame = int(round((second.start + second.end) / 2 * player._fps))
        player.decoder.seek(frame)
        qtbot.waitUntil(lambda: player.frame_label.text().startswith(f"{frame + 1} /"), timeout=10_000)
        highlighted = player.paragraph.text().split("<b ")[1]
        assert second.sentence.split()[-1].rstrip(".") in highlighted.split("</b>")[0]
        # a clip without a paragraph hides it
        models.current_clip.set(0, "library")
        assert not player.paragraph.isVisible()
    finally:
        player.shutdown()
