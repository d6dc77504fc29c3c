"""WordNet 3.0 Wu-Palmer similarity (seed 001, section 4.2.1) and how WordNet is found.

Needs WordNet 3.0 on the machine (CI installs Debian's ``wordnet-base wordnet-sense-index``).
Expected values are WordNet 3.0 facts computed with NLTK's own ``wup_similarity``.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from desktop_app.errors import ActionLensError, TaskCancelled
from desktop_app.progress import NullProgress
from desktop_app.words.wordnet import (
    LEXNAMES_RESOURCE,
    OPTIONAL_FILES,
    REQUIRED_FILES,
    WordNet,
    available_words,
    phrase_verb,
)


@pytest.fixture(scope="session")
def wordnet(tmp_path_factory: pytest.TempPathFactory) -> WordNet:
    try:
        return WordNet.load(cache_dir=tmp_path_factory.mktemp("wordnet-cache"))
    except ActionLensError as err:
        pytest.fail(f"these tests need WordNet 3.0 on this machine: {err}", pytrace=False)


@pytest.fixture(scope="session")
def first_sense(wordnet: WordNet) -> WordNet:
    return WordNet(wordnet.reader, wordnet.source, senses="first")


@pytest.fixture()
def plain_wordnet_dir(wordnet: WordNet, tmp_path: Path) -> Path:
    """A Debian-shaped WordNet directory: the data files without ``lexnames``."""
    if not wordnet.source.is_dir():
        pytest.skip(f"the WordNet found ({wordnet.source}) is a zip, not a directory to copy from")
    plain = tmp_path / "debian-wordnet"
    plain.mkdir()
    for name in (*REQUIRED_FILES, "index.sense"):
        shutil.copyfile(wordnet.source / name, plain / name)
    return plain


# ---------------------------------------------------------------------- known WordNet 3.0 values


@pytest.mark.parametrize(
    ("word_a", "word_b", "expected"),
    [
        ("walk", "run", 2 / 7),  # walk.v.01 vs run.v.01
        ("run", "jog", 2 / 11),  # jog's first verb sense is ramble_on.v.01 ("talk on")
        ("run", "eat", 2 / 7),
        ("walk", "stroll", 0.8),  # stroll.v.01 is a direct hyponym of walk.v.01
        ("eat", "drink", 1 / 3),
    ],
)
def test_first_sense_wup_matches_wordnet(
    first_sense: WordNet, word_a: str, word_b: str, expected: float
) -> None:
    assert first_sense.wup(word_a, word_b) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("word_a", "word_b", "expected"),
    [
        ("walk", "run", 2 / 3),
        ("run", "jog", 6 / 7),  # jog.v.03 "run for exercise" is a hyponym of a run sense
        ("run", "eat", 0.4),
        ("swim", "dive", 0.8),
        ("throw", "catch", 0.4),
        ("play", "run", 1.0),  # they share play.v.18 "cause to emit recorded audio or video"
    ],
)
def test_best_sense_wup_matches_wordnet(wordnet: WordNet, word_a: str, word_b: str, expected: float) -> None:
    assert wordnet.senses == "best"
    assert wordnet.wup(word_a, word_b) == pytest.approx(expected, abs=1e-9)


def test_best_sense_ranks_related_actions_above_unrelated(wordnet: WordNet, first_sense: WordNet) -> None:
    wup_jog, wup_eat = wordnet.wup("run", "jog"), wordnet.wup("run", "eat")
    assert wup_jog is not None and wup_eat is not None and wup_jog > wup_eat
    # The first-sense choice inverts this pair: jog's most frequent verb sense is about talking.
    first_jog, first_eat = first_sense.wup("run", "jog"), first_sense.wup("run", "eat")
    assert first_jog is not None and first_eat is not None and first_jog < first_eat


@pytest.mark.parametrize("senses", ["first", "best"])
def test_wup_is_one_on_itself_and_symmetric(wordnet: WordNet, senses: str) -> None:
    wn = WordNet(wordnet.reader, wordnet.source, senses=senses)  # type: ignore[arg-type]
    words = ["walk", "run", "jog", "eat", "swim", "basketball", "punch"]
    for a in words:
        assert wn.wup(a, a) == 1.0
        for b in words:
            assert wn.wup(a, b) == wn.wup(b, a)
            value = wn.wup(a, b)
            assert value is not None and 0.0 < value <= 1.0


def test_inflections_are_lemmatised(wordnet: WordNet) -> None:
    assert wordnet.wup("walking", "walk") == 1.0
    assert wordnet.wup("ran", "run") == 1.0


def test_verbs_first_then_nouns(wordnet: WordNet) -> None:
    assert wordnet.sense_pos("walk") == "v"  # "walk" is a noun too; the verb wins
    assert wordnet.sense_pos("basketball") == "n"  # no verb sense: noun fallback
    assert wordnet.wup("basketball", "volleyball") == pytest.approx(10 / 11, abs=1e-9)
    # A verb and a noun meet only at NLTK's simulated root: small but defined.
    assert wordnet.wup("walk", "basketball") == pytest.approx(1 / 7, abs=1e-9)


def test_words_missing_from_wordnet_give_none(wordnet: WordNet) -> None:
    assert wordnet.wup("nunchucks", "walk") is None
    assert wordnet.wup("walk", "") is None
    # "uneven" is only an adjective, which has no hypernym tree for Wu-Palmer.
    assert wordnet.wup("uneven", "walk") is None
    assert not wordnet.has("uneven")
    assert wordnet.has("uneven", pos="a")
    assert wordnet.has("walk") and wordnet.has("basketball", pos="n") and not wordnet.has("basketball")
    assert not wordnet.has("nunchucks", pos=None)
    assert available_words(wordnet, ["walk", "nunchucks", "basketball"]) == ["walk", "basketball"]


def test_unknown_sense_choice_is_refused(wordnet: WordNet) -> None:
    with pytest.raises(ActionLensError, match="sense choice"):
        WordNet(wordnet.reader, wordnet.source, senses="most")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- phrases


def test_phrase_verb_is_the_given_verb_or_first_word() -> None:
    assert phrase_verb("play guitar") == "play"
    assert phrase_verb("  walking_with dog ") == "walking"
    assert phrase_verb("baby crawling", verb="crawl") == "crawl"
    assert phrase_verb("   ") is None


def test_phrase_wup_uses_verbs(wordnet: WordNet, first_sense: WordNet) -> None:
    assert first_sense.phrase_wup("play guitar", "play piano") == 1.0
    assert first_sense.phrase_wup("walking with dog", "run fast") == pytest.approx(2 / 7, abs=1e-9)
    assert first_sense.phrase_wup("baby crawling", "walk", verb_a="crawl") == first_sense.wup("crawl", "walk")
    assert wordnet.phrase_wup("nunchucks practice", "walk") is None  # not in WordNet
    assert wordnet.phrase_wup("", "walk") is None


# ---------------------------------------------------------------------- matrices


def test_wup_matrix_matches_pairwise_values(wordnet: WordNet) -> None:
    words = ["walk", "run", "nunchucks", "jog", "basketball", "walk"]
    progress = NullProgress()
    matrix = wordnet.wup_matrix(words, progress=progress)
    assert matrix.dtype == np.float32 and matrix.shape == (6, 6)
    np.testing.assert_array_equal(matrix, matrix.T)
    assert np.isnan(matrix[2]).all() and np.isnan(matrix[:, 2]).all()
    for i, a in enumerate(words):
        for j, b in enumerate(words):
            value = wordnet.wup(a, b)
            if value is None:
                assert np.isnan(matrix[i, j])
            else:
                assert matrix[i, j] == np.float32(value)
    np.testing.assert_array_equal(np.diag(matrix)[[0, 1, 3, 4, 5]], 1.0)
    assert progress.fraction == 1.0


def test_wup_matrix_of_nothing_is_empty(wordnet: WordNet) -> None:
    assert wordnet.wup_matrix([]).shape == (0, 0)


def test_wup_matrix_stops_when_cancelled(wordnet: WordNet) -> None:
    progress = NullProgress()
    progress.cancel()
    with pytest.raises(TaskCancelled):
        wordnet.wup_matrix(["walk", "run"], progress=progress)


# ---------------------------------------------------------------------- finding WordNet


def test_missing_wordnet_says_how_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    with pytest.raises(ActionLensError) as info:
        WordNet.load([empty], default_paths=False, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert "WordNet 3.0 not found" in message and str(empty) in message
    assert "sudo apt-get install wordnet-base wordnet-sense-index" in message
    assert "python -m nltk.downloader wordnet" in message
    assert "\n" not in message


def test_lexnames_resource_has_the_45_lexicographer_files() -> None:
    lines = LEXNAMES_RESOURCE.read_text().splitlines()
    assert len(lines) == 45
    rows = [line.split("\t") for line in lines]
    assert rows[0] == ["00", "adj.all", "3"] and rows[29] == ["29", "verb.body", "2"]
    assert rows[44] == ["44", "adj.ppl", "3"]
    assert [int(r[0]) for r in rows] == list(range(45))


def test_plain_wordnet_is_copied_into_an_nltk_shaped_cache(plain_wordnet_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    wn = WordNet.load([plain_wordnet_dir], default_paths=False, cache_dir=cache)
    copy = cache / "nltk_data" / "corpora" / "wordnet"
    assert wn.source == copy
    assert (copy / "lexnames").read_text() == LEXNAMES_RESOURCE.read_text()
    for name in (*REQUIRED_FILES, "index.sense"):
        assert (copy / name).read_bytes() == (plain_wordnet_dir / name).read_bytes()
    assert not [p for p in copy.parent.iterdir() if p.name != "wordnet"]  # no staging left over
    assert wn.wup("walk", "stroll") == pytest.approx(0.8)

    # A second load reuses the copy; a changed source replaces it.
    before = (copy / "data.verb").stat().st_mtime_ns
    WordNet.load([plain_wordnet_dir], default_paths=False, cache_dir=cache)
    assert (copy / "data.verb").stat().st_mtime_ns == before
    with open(plain_wordnet_dir / "verb.exc", "a") as fh:
        fh.write("walkt walk\n")
    rebuilt = WordNet.load([plain_wordnet_dir], default_paths=False, cache_dir=cache)
    assert (copy / "verb.exc").read_bytes().endswith(b"walkt walk\n")
    assert rebuilt.wup("walkt", "walk") == 1.0
    manifest = json.loads((copy / "actionlens-source.json").read_text())
    assert manifest["source"] == str(plain_wordnet_dir.resolve())
    assert not [p for p in copy.parent.iterdir() if p.name != "wordnet"]


def test_wordnet_dir_is_found_and_its_copy_outlives_it(
    plain_wordnet_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("WORDNET_DIR", str(plain_wordnet_dir))
    first = WordNet.load(cache_dir=cache)  # $WORDNET_DIR comes before NLTK's and Debian's
    assert first.source == cache / "nltk_data" / "corpora" / "wordnet"
    manifest = json.loads((first.source / "actionlens-source.json").read_text())
    assert manifest["source"] == str(plain_wordnet_dir.resolve())
    monkeypatch.delenv("WORDNET_DIR")
    shutil.rmtree(plain_wordnet_dir)
    wn = WordNet.load([cache / "nltk_data"], default_paths=False, cache_dir=cache)
    assert wn.wup("walk", "stroll") == pytest.approx(0.8)


def test_nltk_data_roots_are_read_in_place(plain_wordnet_dir: Path, tmp_path: Path) -> None:
    nltk_root = tmp_path / "nltk_data"
    corpus = nltk_root / "corpora" / "wordnet"
    corpus.mkdir(parents=True)
    for path in plain_wordnet_dir.iterdir():
        path.rename(corpus / path.name)
    shutil.copyfile(LEXNAMES_RESOURCE, corpus / "lexnames")
    cache = tmp_path / "cache"
    wn = WordNet.load([nltk_root], default_paths=False, cache_dir=cache)
    assert wn.source == corpus and not cache.exists()
    assert wn.wup("walk", "stroll") == pytest.approx(0.8)


def test_nltk_wordnet_zip_is_read(plain_wordnet_dir: Path, tmp_path: Path) -> None:
    nltk_root = tmp_path / "nltk_data"
    (nltk_root / "corpora").mkdir(parents=True)
    # The layout of NLTK's downloaded wordnet.zip: one top-level "wordnet/" folder.
    with zipfile.ZipFile(nltk_root / "corpora" / "wordnet.zip", "w", zipfile.ZIP_STORED) as archive:
        for name in REQUIRED_FILES + OPTIONAL_FILES:
            source = plain_wordnet_dir / name if name != "lexnames" else LEXNAMES_RESOURCE
            if source.is_file():
                archive.write(source, f"wordnet/{name}")
    wn = WordNet.load([nltk_root], default_paths=False, cache_dir=tmp_path / "cache")
    assert wn.source == nltk_root / "corpora" / "wordnet.zip"
    assert wn.wup("walk", "stroll") == pytest.approx(0.8)


# ------------------------------------------------------------- lookups for verb/noun tagging


def test_base_forms_follow_wordnets_morphology(wordnet: WordNet) -> None:
    assert wordnet.base_forms("spinning", "v") == ["spin"]
    assert wordnet.base_forms("ran", "v") == ["run"]  # an exception list entry
    assert "running" in wordnet.base_forms("running", "n")
    assert wordnet.base_forms("basketball", "v") == []
    assert wordnet.base_forms("  ", "n") == []


def test_sense_weights_are_senses_plus_semcor_counts(wordnet: WordNet) -> None:
    reader = wordnet.reader
    for lemma, pos in (("star", "n"), ("star", "v"), ("swing", "v"), ("legendary", "a")):
        synsets = reader.synsets(lemma, pos=pos)
        lemmas = [lm for s in synsets for lm in s.lemmas() if lm.name().lower() == lemma]
        expected = sum(1 + lm.count() for lm in lemmas)  # NLTK's Lemma.count(), one lookup each
        assert wordnet.sense_weights(pos)[lemma] == expected, (lemma, pos)
    assert "legendary" not in wordnet.sense_weights("n")
    with pytest.raises(ActionLensError, match="part of speech 'x'"):
        wordnet.sense_weights("x")


def test_sense_weights_without_index_sense_count_senses(plain_wordnet_dir: Path, tmp_path: Path) -> None:
    (plain_wordnet_dir / "index.sense").unlink()
    wn = WordNet.load([plain_wordnet_dir], default_paths=False, cache_dir=tmp_path / "cache")
    assert wn.sense_weights("v")["swing"] == len(wn.reader.synsets("swing", pos="v"))


def test_loading_wordnet_runs_no_full_garbage_collection(tmp_path: Path) -> None:
    """NLTK's reader builds ~330 k long-lived dicts and lists; the full (generation-2) collections
    they would trigger each hold the GIL for a quarter of a second or more, freezing the GUI
    thread while a worker loads WordNet. The load runs none, and the reader it built is not
    walked by later collections (the app's next full pass stays short)."""
    import gc

    full_passes: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full_passes.append(1)

    # Enough long-lived objects that an unguarded load triggers full passes (as in the app).
    ballast = [[i] for i in range(300_000)]
    gc.callbacks.append(record)
    try:
        loaded = WordNet.load(cache_dir=tmp_path)
    finally:
        gc.callbacks.remove(record)
    assert not full_passes
    assert gc.isenabled()
    assert loaded.wup("walk", "run") is not None
    # The reader's index is out of the collector's reach: far fewer tracked objects than it holds.
    assert len(gc.get_objects()) < len(loaded.reader._lemma_pos_offset_map)
    del ballast
