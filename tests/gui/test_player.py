"""The Player panel: plays a clip's frames, steps, reports unreadable files and nearest words."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.gui.panels.player import NEAREST_WORDS, PlayerPanel
from desktop_app.words import pos as pos_module
from desktop_app.words.wordnet import WordNet


@pytest.fixture
def make_player(qtbot, models):
    panels: list[PlayerPanel] = []

    def make(workspace) -> PlayerPanel:
        models.workspace.open(workspace)
        panel = PlayerPanel(models)
        qtbot.addWidget(panel)
        panel.resize(480, 420)
        panel.show()
        qtbot.waitExposed(panel)
        panels.append(panel)
        return panel

    yield make
    for panel in panels:
        panel.shutdown()


def _distinct_colours(panel: PlayerPanel) -> int:
    image = panel.video.grab().toImage()
    return len({image.pixel(x, y) for x in range(0, image.width(), 5) for y in range(0, image.height(), 5)})


def test_plays_the_current_clip_and_shows_its_frames(make_player, models, qtbot, tiny_workspace):
    player = make_player(tiny_workspace)
    assert "Double-click" in player.video.message
    blank = _distinct_colours(player)
    models.current_clip.set(3, "library")
    qtbot.waitUntil(lambda: player.video.has_frame(), timeout=5000)
    qtbot.waitUntil(lambda: player.playing, timeout=5000)
    assert _distinct_colours(player) > blank + 20
    clip = models.workspace.clips()[3]
    assert clip.name in player.title.text()
    assert models.workspace.classes()[clip.class_id].phrase in player.title.text()
    qtbot.waitUntil(lambda: player.slider.value() > 0, timeout=5000)  # it advances

    QTest.keyClick(player, Qt.Key.Key_Space)  # pause
    qtbot.waitUntil(lambda: not player.playing, timeout=5000)
    player.slider.setValue(0)
    player.decoder.seek(5)
    qtbot.waitUntil(lambda: player.frame_label.text().startswith("6 /"), timeout=5000)
    QTest.keyClick(player, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: player.frame_label.text().startswith("7 /"), timeout=5000)
    QTest.keyClick(player, Qt.Key.Key_Left)
    QTest.keyClick(player, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: player.frame_label.text().startswith("5 /"), timeout=5000)


def _bold_words(text: str) -> list[str]:
    return re.findall(r"<b>([^<]+)</b>", text)


def test_shows_the_nearest_words_verbs_and_nouns_of_the_clip(make_player, models, qtbot, tiny_workspace):
    player = make_player(tiny_workspace)
    models.current_clip.set(0, "library")
    qtbot.waitUntil(lambda: player.words.text().startswith("Nearest words:"), timeout=20000)
    assert len(_bold_words(player.words.text())) == NEAREST_WORDS
    qtbot.waitUntil(lambda: player.verbs.text().startswith("Nearest verbs:"), timeout=60000)
    verbs, nouns = _bold_words(player.verbs.text()), _bold_words(player.nouns.text())
    assert len(verbs) == len(nouns) == NEAREST_WORDS
    assert player.nouns.text().startswith("Nearest nouns:") and player.nouns.isVisible()
    # What WordNet counts as verbs (nouns) of the vocabulary, nearest the clip first.
    space = models.workspace.space()
    word_pos = pos_module.word_pos_of(space.word_vectors)
    index = space.word_vectors.keyed_vectors.key_to_index
    assert all(word_pos.mask("verb")[index[w]] for w in verbs)
    assert all(word_pos.mask("noun")[index[w]] for w in nouns)
    clip = space.clip_embeddings[0]
    rows = space.word_vectors.keyed_vectors.vectors
    cosines = [
        float(rows[index[w]] @ clip / np.linalg.norm(rows[index[w]]) / np.linalg.norm(clip)) for w in verbs
    ]
    assert cosines == sorted(cosines, reverse=True)
    # Another clip gets its own lists.
    before = player.verbs.text()
    other = next(
        c
        for c in range(1, 24)
        if models.workspace.clips()[c].class_id != models.workspace.clips()[0].class_id
    )
    models.current_clip.set(other, "library")
    qtbot.waitUntil(
        lambda: player.verbs.text().startswith("Nearest verbs:") and player.verbs.text() != before,
        timeout=20000,
    )


def test_without_wordnet_the_player_says_so_in_place_of_verbs_and_nouns(
    make_player, models, qtbot, tiny_workspace, tmp_path, monkeypatch
):
    empty = tmp_path / "no-wordnet"
    empty.mkdir()
    monkeypatch.setattr(pos_module, "default_cache_dir", lambda: tmp_path / "pos-cache")
    # word vectors are shared by the process, and so are the weights an earlier test computed
    monkeypatch.setattr(pos_module, "_shared", pos_module.weakref.WeakKeyDictionary())
    monkeypatch.setattr(
        pos_module,
        "_load_wordnet",
        lambda: WordNet.load([empty], default_paths=False, cache_dir=tmp_path / "wn-cache"),
    )
    player = make_player(tiny_workspace)
    models.current_clip.set(0, "library")
    qtbot.waitUntil(lambda: "unavailable" in player.verbs.text(), timeout=20000)
    assert "need WordNet" in player.verbs.text() and "apt-get install wordnet-base" in player.verbs.text()
    assert not player.nouns.isVisible()
    qtbot.waitUntil(lambda: player.words.text().startswith("Nearest words:"), timeout=20000)


def test_says_so_when_there_are_no_embeddings(make_player, models, qtbot, workspace_without_embeddings):
    player = make_player(workspace_without_embeddings)
    models.current_clip.set(0, "library")
    assert "No embeddings" in player.words.text()
    qtbot.waitUntil(lambda: player.video.has_frame(), timeout=5000)


def test_an_unreadable_file_shows_a_message_not_a_crash(make_player, models, qtbot, workspace_copy, tmp_path):
    player = make_player(workspace_copy)
    clip = models.workspace.clips()[1]
    video = models.workspace.workspace.clip_path(clip.path)
    # The copy shares the session's videos: point this workspace at a private, damaged copy.
    import shutil

    data = tmp_path / "data"
    shutil.copytree(models.workspace.workspace.data_root, data)
    (data / clip.path).write_bytes(b"this is not a video")
    models.workspace.workspace.update_manifest(data_root=str(data))
    models.current_clip.set(1, "library")
    qtbot.waitUntil(lambda: player.video.message.startswith("Cannot play"), timeout=5000)
    assert not player.play_button.isEnabled()
    assert video.is_file()  # the shared video was left alone
    models.current_clip.set(2, "library")  # the next clip plays again
    qtbot.waitUntil(lambda: player.video.has_frame(), timeout=5000)
