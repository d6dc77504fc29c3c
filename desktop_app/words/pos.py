"""Verb and noun weights of every word of a vocabulary, from WordNet 3.0, for nearest verbs/nouns.

A clip's nearest words often belong to another sense of a word (a "swing star" clip lands
beside *newcomer, superstar, entertainer*), so the panels also list the nearest **verbs** and
the nearest **nouns**. Which words count as which is decided once per vocabulary here.

The rule
--------
For a vocabulary word ``w`` and a part of speech ``p`` (verb, noun, adjective, adverb), its
weight is

``weight_p(w) = Σ over the lemmas L of p that w is a form of  Σ over the senses s of L  (1 + tag_count(s))``

where the lemmas come from WordNet's morphology (``"spinning"`` → ``spin``), and
``tag_count`` is the sense's SemCor frequency (NLTK's ``Lemma.count()``, from ``index.sense``).
The ``1`` per sense lets a word no corpus tagged be judged by its number of senses. A word's
*share* of ``p`` is ``weight_p`` over the sum of its four weights; it counts as a **verb** when
its verb share is at least :data:`MIN_POS_SHARE` (1/3), as a **noun** when its noun share is.
So a word that is mostly one part of speech is in that list only (``star``: verb share 0.21, a
noun; ``swing``: 0.87, a verb), a word used both ways about equally is in both (``dance``: 0.61
verb, 0.39 noun), and a word that is mostly an adjective or adverb is in neither (``best``,
``fast``, ``off``; ``legendary`` has no verb or noun sense at all). Words without a letter and
single characters are skipped (WordNet's letter names would make the article "a" a noun).

Why shares and not "has a verb synset": almost every English noun has some rare verb sense
(``ball``, ``box``, ``star``), so that test would put most nouns among the verbs.

Cache
-----
The ``(N, 4)`` float32 weights (columns :data:`PARTS_OF_SPEECH`; vocabulary order) are computed
once (2 s to 6 s for GloVe's 400 000 words on a 2-core machine, WordNet's loading included) and kept in the user cache as
``word_pos/<vocabulary hash>.v<version>.npy`` (never pickled), written atomically, with a
``.json`` beside it saying which WordNet produced them. The key is a hash of the vocabulary, so
any word-vector file with the same words shares the entry; a cached entry works without WordNet.
Never imports Qt.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from desktop_app.errors import ActionLensError
from desktop_app.paths import user_cache_dir
from desktop_app.progress import NullProgress, Progress

if TYPE_CHECKING:
    from desktop_app.words.vectors import WordVectors
    from desktop_app.words.wordnet import WordNet

log = logging.getLogger(__name__)

PartOfSpeech = Literal["verb", "noun", "adjective", "adverb"]
#: The columns of the weights: WordNet's four parts of speech.
PARTS_OF_SPEECH: tuple[PartOfSpeech, ...] = ("verb", "noun", "adjective", "adverb")
_WORDNET_POS = {"verb": "v", "noun": "n", "adjective": "a", "adverb": "r"}
#: A word counts as a part of speech when at least this share of its weight over all four is
#: that part of speech (see the module docstring).
MIN_POS_SHARE = 1.0 / 3.0
POS_CACHE_FORMAT = "actionlens-word-pos"
#: Bumped when the rule that computes the weights changes (older entries are then recomputed).
POS_CACHE_VERSION = 1
_PROGRESS_EVERY = 20_000


class WordNetUnavailable(ActionLensError):
    """WordNet is not installed, so words cannot be told apart by part of speech."""


def default_cache_dir() -> Path:
    """Directory of cached vocabulary weights: ``word_pos/`` in the user cache."""
    return user_cache_dir() / "word_pos"


@dataclass(frozen=True)
class WordPos:
    """Verb and noun weights of a vocabulary's words (see the module docstring).

    Attributes
    ----------
    weights
        ``(N, 4)`` float32, columns :data:`PARTS_OF_SPEECH` (verb, noun, adjective, adverb),
        rows in vocabulary order; 0 where WordNet has no such sense.
    source
        Where the weights came from (WordNet directory, or the cache file), for messages.
    """

    weights: np.ndarray
    source: str
    _masks: dict[tuple[str, int | None, float], np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __len__(self) -> int:
        return int(self.weights.shape[0])

    def share(self, pos: PartOfSpeech) -> np.ndarray:
        """Each word's share of ``pos`` in its WordNet weight; NaN for a word WordNet lacks."""
        total = self.weights.sum(axis=1)
        column = self.weights[:, _column(pos)]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, column / np.where(total > 0, total, 1), np.nan).astype(np.float32)

    def mask(
        self, pos: PartOfSpeech, limit: int | None = None, min_share: float = MIN_POS_SHARE
    ) -> np.ndarray:
        """Boolean mask of the words that count as ``pos`` (the first ``limit`` words; all: ``None``).

        A word counts when its share of ``pos`` is at least ``min_share`` (module docstring).
        """
        key = (pos, limit, float(min_share))
        found = self._masks.get(key)  # kept: the panels ask for the same masks at every query
        if found is None:
            rows = self.weights if limit is None else self.weights[:limit]
            column = rows[:, _column(pos)]
            found = np.asarray((column > 0) & (column >= min_share * rows.sum(axis=1)))
            found.flags.writeable = False
            self._masks[key] = found
        return found


def _column(pos: str) -> int:
    if pos not in PARTS_OF_SPEECH:
        raise ActionLensError(f"unknown part of speech {pos!r}; use one of {', '.join(PARTS_OF_SPEECH)}")
    return PARTS_OF_SPEECH.index(pos)


def vocabulary_key(words: Sequence[str]) -> str:
    """A hash of the words in order: the cache key of their weights."""
    digest = hashlib.sha256()
    digest.update(str(len(words)).encode())
    digest.update("\n".join(words).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:20]


def pos_weights(words: Sequence[str], wordnet: WordNet, progress: Progress | None = None) -> np.ndarray:
    """The ``(N, 4)`` part-of-speech weights of ``words`` (the rule of the module docstring).

    Parameters
    ----------
    words
        The vocabulary, in its order.
    wordnet
        WordNet 3.0 (:class:`~desktop_app.words.wordnet.WordNet`).
    progress
        Progress/cancel handle, checked every 20 000 words.

    Returns
    -------
    numpy.ndarray
        float32 ``(len(words), 4)``, columns :data:`PARTS_OF_SPEECH`.
    """
    progress = progress or NullProgress()
    letters = [_WORDNET_POS[pos] for pos in PARTS_OF_SPEECH]
    sense_weights = [wordnet.sense_weights(letter) for letter in letters]
    weights = np.zeros((len(words), len(PARTS_OF_SPEECH)), dtype=np.float32)
    n = len(words)
    for i, word in enumerate(words):
        if i % _PROGRESS_EVERY == 0:
            progress.check_cancelled()
            progress.set_progress(i / max(n, 1), f"Tagging parts of speech ({i:,} of {n:,} words)")
        if len(word) < 2 or not any(ch.isalpha() for ch in word):
            continue
        for column, letter in enumerate(letters):
            table = sense_weights[column]
            weights[i, column] = sum(table.get(form, 0) for form in wordnet.base_forms(word, letter))
    progress.set_progress(1.0, "Parts of speech tagged")
    return weights


def _load_wordnet() -> WordNet:
    from desktop_app.words.wordnet import WordNet

    return WordNet.load()


def load_word_pos(
    words: Sequence[str],
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    wordnet: WordNet | None = None,
) -> WordPos:
    """The verb/noun weights of ``words``: from the cache, else computed and cached.

    Parameters
    ----------
    words
        The vocabulary (a word-vector file's words, most frequent first).
    cache_dir
        Where entries are kept; default :func:`default_cache_dir`.
    progress
        Progress/cancel handle.
    wordnet
        WordNet to compute with on a cache miss; default: found with ``WordNet.load()``.

    Raises
    ------
    WordNetUnavailable
        Nothing is cached for this vocabulary and WordNet is not installed (the message says
        how to install it).
    """
    from desktop_app.atomic import write_json, write_npy

    progress = progress or NullProgress()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    entry = cache / f"{vocabulary_key(words)}.v{POS_CACHE_VERSION}.npy"
    cached = _read_entry(entry, len(words))
    if cached is not None:
        return WordPos(cached, str(entry))
    if wordnet is None:
        progress.set_progress(0.0, "Loading WordNet")
        try:
            wordnet = _load_wordnet()
        except ActionLensError as exc:
            raise WordNetUnavailable(f"nearest verbs and nouns need WordNet: {exc}") from exc
    weights = pos_weights(words, wordnet, progress)
    try:
        write_npy(entry, weights)
        meta = {
            "format": POS_CACHE_FORMAT,
            "version": POS_CACHE_VERSION,
            "columns": list(PARTS_OF_SPEECH),
            "words": len(words),
            "wordnet": str(wordnet.source),
        }
        write_json(entry.with_suffix(".json"), meta)
    except OSError as err:  # an unwritable cache costs the 2 s again next time, nothing more
        log.warning("cannot cache verb/noun weights in %s (%s)", entry, err)
    return WordPos(weights, str(wordnet.source))


def _read_entry(entry: Path, n_words: int) -> np.ndarray | None:
    if not entry.is_file():
        return None
    try:
        weights = np.load(entry, allow_pickle=False)
    except (OSError, ValueError) as err:
        log.warning("verb/noun cache %s is damaged (%s); computing it again", entry, err)
        return None
    if weights.shape != (n_words, len(PARTS_OF_SPEECH)) or weights.dtype != np.float32:
        log.warning("verb/noun cache %s does not match its vocabulary; computing it again", entry)
        return None
    return np.asarray(weights)


_shared_lock = threading.Lock()
_shared: weakref.WeakKeyDictionary[WordVectors, WordPos] = weakref.WeakKeyDictionary()


def word_pos_of(word_vectors: WordVectors, progress: Progress | None = None) -> WordPos:
    """The verb/noun weights of a word-vector vocabulary, computed or read once per process.

    Safe to call from several workers at once: the second waits for the first.

    Raises
    ------
    WordNetUnavailable
        See :func:`load_word_pos`.
    """
    with _shared_lock:
        found = _shared.get(word_vectors)
        if found is None:
            found = load_word_pos(word_vectors.frequent_words(), progress=progress)
            _shared[word_vectors] = found
        return found


def word_pos_or_reason(word_vectors: WordVectors, progress: Progress | None = None) -> WordPos | str:
    """:func:`word_pos_of`, or the sentence saying why there is none (WordNet not installed).

    What a panel's preparing task returns: a person reads the reason in place of the lists.
    """
    try:
        return word_pos_of(word_vectors, progress)
    except WordNetUnavailable as exc:
        return str(exc)
