"""Tests of label normalisation: splitting class names, the curated table, user tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.data.records import ClassRecord
from desktop_app.errors import ActionLensError
from desktop_app.words.labels import (
    DEFAULT_LABEL_TABLE,
    LabelTable,
    base_verb,
    label_key,
    normalise_label,
    read_class_list,
    split_class_name,
)
from desktop_app.words.vectors import WordVectors, phrase_words

HMDB51_CLASSES = (
    "brush_hair cartwheel catch chew clap climb climb_stairs dive draw_sword dribble drink eat "
    "fall_floor fencing flic_flac golf handstand hit hug jump kick kick_ball kiss laugh pick pour "
    "pullup punch push pushup ride_bike ride_horse run shake_hands shoot_ball shoot_bow shoot_gun "
    "sit situp smile smoke somersault stand swing_baseball sword sword_exercise talk throw turn "
    "walk wave"
).split()


def write_table(path: Path, labels: dict[str, object], **extra: object) -> Path:
    document = {"format": "actionlens-label-table", "version": 1, "labels": labels, **extra}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("ApplyEyeMakeup", "apply eye makeup"),
        ("PlayingDaf", "playing daf"),
        ("Skijet", "skijet"),
        ("YoYo", "yo yo"),
        ("brush_hair", "brush hair"),
        ("jumping-jacks  now", "jumping jacks now"),
        ("NBADunk2", "nba dunk 2"),
        ("playingCello", "playing cello"),
        ("Rock Climbing_Indoor", "rock climbing indoor"),
        ("ÉcoleDeDanse", "école de danse"),
    ],
)
def test_split_class_name(name: str, phrase: str) -> None:
    assert split_class_name(name) == phrase


def test_curated_entries_override_splitting() -> None:
    assert normalise_label("CleanAndJerk") == ClassRecord("CleanAndJerk", "weightlifting", "lift", None)
    assert normalise_label("PlayingDaf") == ClassRecord("PlayingDaf", "playing daf", "play", "daf")
    # UCF101's file names spell it HandStandPushups, its classInd.txt HandstandPushups.
    record = normalise_label("HandStandPushups")
    assert (record.name, record.phrase, record.verb) == ("HandStandPushups", "handstand pushups", "push")
    assert normalise_label("ride_bike") == ClassRecord("ride_bike", "ride bike", "ride", "bike")
    assert normalise_label("WalkingWithDog").phrase == "walking dog"
    assert normalise_label("ride_bike").index is None


def test_names_outside_the_table_are_split_with_base_verbs() -> None:
    assert normalise_label("PlayingBanjo") == ClassRecord("PlayingBanjo", "playing banjo", "play", "banjo")
    assert normalise_label("riding_camel") == ClassRecord("riding_camel", "riding camel", "ride", "camel")
    assert normalise_label("Swimming") == ClassRecord("Swimming", "swimming", "swim", None)
    # Not in the rule list: left unchanged rather than guessed ("yodeling" -> "yodel"?).
    assert normalise_label("Yodeling") == ClassRecord("Yodeling", "yodeling", "yodeling", None)
    with pytest.raises(ActionLensError, match="no words"):
        normalise_label("__")


def test_empty_table_only_splits() -> None:
    assert normalise_label("CleanAndJerk", LabelTable()) == ClassRecord(
        "CleanAndJerk", "clean and jerk", "clean", "jerk"
    )


def test_default_table_covers_ucf101_and_hmdb51() -> None:
    ucf101 = read_class_list()
    assert len(ucf101) == len(set(ucf101)) == 101
    assert ucf101[0] == "ApplyEyeMakeup" and ucf101[-1] == "YoYo"
    table = LabelTable.default()
    assert len(HMDB51_CLASSES) == 51
    missing = [name for name in [*ucf101, *HMDB51_CLASSES] if name not in table]
    assert missing == []


def test_every_curated_word_is_in_default_glove(glove: WordVectors) -> None:
    table = LabelTable.load(DEFAULT_LABEL_TABLE)
    lacking = {
        entry.name: [w for w in [*phrase_words(entry.phrase), entry.verb, entry.noun] if w and w not in glove]
        for entry in table.entries.values()
    }
    assert {name: words for name, words in lacking.items() if words} == {}
    for name in [*read_class_list(), *HMDB51_CLASSES]:
        glove.phrase_vector(normalise_label(name).phrase)  # raises on any unknown word


def test_user_table_overrides_and_adds_verb_forms(tmp_path: Path) -> None:
    path = write_table(
        tmp_path / "mine.json",
        {"Bouncing_Ball": {"phrase": "bounce ball", "verb": "bounce", "noun": "ball", "note": "demo"}},
        verb_forms={"yodeling": "yodel"},
    )
    mine = LabelTable.load(path)
    assert normalise_label("BouncingBall", mine) == ClassRecord(
        "BouncingBall", "bounce ball", "bounce", "ball"
    )
    assert normalise_label("YodelingSong", mine).verb == "yodel"
    assert normalise_label("CleanAndJerk", mine).phrase == "clean and jerk"  # mine replaces the default

    merged = LabelTable.default().merged_with(mine)
    assert normalise_label("CleanAndJerk", merged).phrase == "weightlifting"
    assert normalise_label("bouncing ball", merged).verb == "bounce"
    assert base_verb("Yodeling", merged) == "yodel" and base_verb("Playing") == "play"
    assert label_key("Brush_Hair") == label_key("brush hair") == "brushhair"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"not valid JSON \(line 1"),
        ('{"format": "something-else", "version": 1, "labels": {}}', "format"),
        ('{"format": "actionlens-label-table", "version": 9, "labels": {}}', 'version 9|"version" 9'),
        ('{"format": "actionlens-label-table", "version": 1, "labels": []}', '"labels" must be'),
        (
            '{"format": "actionlens-label-table", "version": 1, "labels": {"A": {"phrase": ""}}}',
            "row 'A' needs",
        ),
        (
            '{"format": "actionlens-label-table", "version": 1,'
            ' "labels": {"A": {"phrase": "a", "verb": "two words"}}}',
            "'verb' must be one word",
        ),
        (
            '{"format": "actionlens-label-table", "version": 1,'
            ' "labels": {"Brush_Hair": {"phrase": "a"}, "brushhair": {"phrase": "b"}}}',
            "same name",
        ),
        (
            '{"format": "actionlens-label-table", "version": 1, "labels": {"A": {"phrase": "a", "nuon": "x"}}}',
            "unknown keys",
        ),
    ],
)
def test_malformed_tables_are_refused_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad_table.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ActionLensError, match=message) as caught:
        LabelTable.load(path)
    assert "bad_table.json" in str(caught.value)


def test_missing_table_is_named(tmp_path: Path) -> None:
    with pytest.raises(ActionLensError, match=r"absent\.json"):
        LabelTable.load(tmp_path / "absent.json")
