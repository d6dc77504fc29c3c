"""Wu-Palmer similarity between action words and phrases over WordNet 3.0.

Seed 001 (Action2Vec), section 4.2.1 "Word Matrices": the gold-standard matrix of an action
dataset holds the Wu-Palmer WordNet similarity between the class names, and an embedding is
scored by the row-wise Spearman correlation between that matrix and its own cosine matrix.
This module gives the Wu-Palmer side; it never imports Qt.

Wu-Palmer (Wu & Palmer 1994, seed 001 ref. [33]) between two synsets ``s1`` and ``s2`` with
lowest common subsumer ``lcs`` is ``2·depth(lcs) / (depth(s1) + depth(s2))`` with depths counted
through ``lcs``; NLTK's :meth:`Synset.wup_similarity` computes it, and we use NLTK's own value so
that our numbers match everybody else's.

Where WordNet comes from, in order (see :meth:`WordNet.load`):

1. directories the caller names;
2. ``$WORDNET_DIR``;
3. NLTK's data directories (``nltk.data.path``: ``corpora/wordnet`` or ``corpora/wordnet.zip``);
4. Debian's ``wordnet-base`` (+ ``wordnet-sense-index``) files in ``/usr/share/wordnet``;
5. a copy made earlier in the user cache.

NLTK 3.10's reader refuses any path outside ``nltk.data.path`` and needs a ``lexnames`` file that
Debian does not ship, so a plain WordNet directory (Debian's, or a WordNet ``dict/``) is copied,
with ``desktop_app/resources/wordnet/lexnames`` added where missing, into
``<user cache>/nltk_data/corpora/wordnet/`` (built in a temporary directory, then renamed) and
``<user cache>/nltk_data`` is put on ``nltk.data.path``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from desktop_app.errors import ActionLensError
from desktop_app.gc_pause import long_lived
from desktop_app.paths import RESOURCES_DIR, user_cache_dir
from desktop_app.progress import NullProgress, Progress

if TYPE_CHECKING:  # nltk is heavy; it is imported when WordNet is loaded
    from nltk.corpus.reader.wordnet import Synset, WordNetCorpusReader

SenseChoice = Literal["first", "best"]
SENSE_CHOICES: tuple[str, ...] = ("first", "best")
#: Default sense choice; docs/wordnet.md says why.
DEFAULT_SENSES: SenseChoice = "best"

#: Files NLTK's reader opens when it is built (``lexnames`` we can supply ourselves).
REQUIRED_FILES: tuple[str, ...] = tuple(
    f"{kind}.{pos}" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv")
) + tuple(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv"))
#: Files copied when present: sense keys (``wordnet-sense-index``) and sense frequencies.
OPTIONAL_FILES: tuple[str, ...] = ("lexnames", "index.sense", "cntlist.rev")

DEBIAN_WORDNET_DIR = Path("/usr/share/wordnet")
LEXNAMES_RESOURCE = RESOURCES_DIR / "wordnet" / "lexnames"
_MANIFEST = "actionlens-source.json"

INSTALL_HINT = (
    "install it with `sudo apt-get install wordnet-base wordnet-sense-index` (Debian/Ubuntu) or "
    "`python -m nltk.downloader wordnet` (elsewhere, with internet), or set WORDNET_DIR"
)


def phrase_verb(phrase: str, verb: str | None = None) -> str | None:
    """The word that stands for an action phrase in WordNet: ``verb`` if given, else its first word.

    Seed 001 (section 3, "class names") represents a class by its verb ("walking" → "walk";
    WordNet's morphology does that lemmatisation); multi-word labels ("play guitar") are
    represented by their leading verb. ``None`` for a phrase with no word.
    """
    if verb is not None and verb.strip():
        return verb.strip()
    words = re.split(r"[\s_]+", phrase.strip())
    return words[0] if words and words[0] else None


def _is_wordnet_dir(path: Path) -> bool:
    return all((path / name).is_file() for name in REQUIRED_FILES)


def _file_signature(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


class WordNet:
    """Wu-Palmer similarity between words, phrases and lists of words (seed 001, section 4.2.1).

    Build one with :meth:`load`; it holds NLTK's reader (about a second to build) and caches
    each word's synsets and each synset pair's similarity, so keep one instance around.

    Parameters
    ----------
    reader
        An NLTK ``WordNetCorpusReader``.
    source
        The corpus directory (or zip) the reader reads, for messages.
    senses
        ``"best"``: a word pair scores the maximum over all their sense pairs; ``"first"``: the
        pair of first (most frequent) senses. See docs/wordnet.md.

    Notes
    -----
    A word is looked up as a verb first, since labels name actions; a word with no verb sense
    (``"basketball"``) falls back to its noun senses. A verb and a noun meet only at the root that
    NLTK simulates above all hierarchies, so their Wu-Palmer value is small but defined
    (``walk`` vs ``basketball``: 1/7). Adjectives and adverbs have no hypernym tree and are not
    used.
    """

    def __init__(self, reader: WordNetCorpusReader, source: Path, senses: SenseChoice = DEFAULT_SENSES):
        if senses not in SENSE_CHOICES:
            raise ActionLensError(f"unknown WordNet sense choice {senses!r}; use 'first' or 'best'")
        self.reader = reader
        self.source = source
        self.senses: SenseChoice = senses
        self._synsets: dict[str, tuple[Synset, ...]] = {}
        self._pair_wup: dict[tuple[str, str], float | None] = {}
        self._sense_weights: dict[str, dict[str, int]] = {}

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(
        cls,
        search_dirs: Sequence[str | os.PathLike[str]] | None = None,
        *,
        default_paths: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
        senses: SenseChoice = DEFAULT_SENSES,
    ) -> WordNet:
        """Find WordNet 3.0 on this machine and open it with NLTK's reader.

        Parameters
        ----------
        search_dirs
            Directories tried first. Each may be a WordNet directory (``data.verb``,
            ``index.noun``, …, like ``/usr/share/wordnet`` or WordNet's ``dict/``) or an NLTK
            data root holding ``corpora/wordnet`` or ``corpora/wordnet.zip``.
        default_paths
            Also try ``$WORDNET_DIR``, ``nltk.data.path``, ``/usr/share/wordnet`` and the cached
            copy, in that order.
        cache_dir
            The user cache that receives the NLTK-shaped copy of a plain WordNet directory;
            default :func:`user_cache_dir`.
        senses
            ``"best"`` or ``"first"``; see :class:`WordNet`.

        Returns
        -------
        WordNet

        Raises
        ------
        ActionLensError
            When no WordNet is found (the message says how to install it), or it cannot be
            copied or read.
        """
        # Importing NLTK and building its reader makes ~330 k long-lived objects: no full
        # garbage collection while that runs (three of 230-330 ms holding the GIL), and none
        # walks them later (desktop_app/gc_pause.py).
        with long_lived():
            return cls._find(search_dirs, default_paths, cache_dir, senses)

    @classmethod
    def _find(
        cls,
        search_dirs: Sequence[str | os.PathLike[str]] | None,
        default_paths: bool,
        cache_dir: str | os.PathLike[str] | None,
        senses: SenseChoice,
    ) -> WordNet:
        import nltk

        cache_root = (Path(cache_dir) if cache_dir is not None else user_cache_dir()) / "nltk_data"
        candidates: list[Path] = [Path(d).expanduser() for d in (search_dirs or ())]
        if default_paths:
            if os.environ.get("WORDNET_DIR"):
                candidates.append(Path(os.environ["WORDNET_DIR"]).expanduser())
            # The cache copy comes last even when an earlier load put it on nltk.data.path.
            cached = cache_root.resolve()
            candidates += [
                p for p in (Path(str(d)).expanduser() for d in nltk.data.path) if p.resolve() != cached
            ]
            candidates += [DEBIAN_WORDNET_DIR, cache_root]

        for candidate in candidates:
            found = cls._open_candidate(candidate, cache_root, senses)
            if found is not None:
                return found
        tried = ", ".join(str(c) for c in candidates) or "no directories"
        raise ActionLensError(f"WordNet 3.0 not found (looked in {tried}); {INSTALL_HINT}")

    @classmethod
    def _open_candidate(cls, candidate: Path, cache_root: Path, senses: SenseChoice) -> WordNet | None:
        corpus = candidate / "corpora" / "wordnet"
        if _is_wordnet_dir(corpus) and (corpus / "lexnames").is_file():
            return cls(_open_reader(candidate, "corpora/wordnet"), corpus, senses)
        if (candidate / "corpora" / "wordnet.zip").is_file():
            # NLTK's downloaded layout: the zip holds one top-level "wordnet/" folder.
            reader = _open_reader(candidate, "corpora/wordnet.zip/wordnet/")
            return cls(reader, candidate / "corpora" / "wordnet.zip", senses)
        for plain in (candidate, corpus, candidate / "dict"):
            if _is_wordnet_dir(plain):
                copy = copy_into_cache(plain, cache_root)
                return cls(_open_reader(cache_root, "corpora/wordnet"), copy, senses)
        return None

    # ------------------------------------------------------------------ lookups

    def synsets(self, word: str) -> tuple[Synset, ...]:
        """The synsets that stand for ``word``: its verb senses, else its noun senses.

        Most frequent first (WordNet's order); only the first when ``senses == "first"``.
        Inflections are reduced by WordNet's morphology (``"walking"`` → ``walk``); spaces
        become underscores (``"tai chi"`` → ``tai_chi``). Empty when WordNet lacks the word.
        """
        key = "_".join(word.strip().lower().split())
        cached = self._synsets.get(key)
        if cached is None:
            from nltk.corpus.reader.wordnet import NOUN, VERB

            found = (self.reader.synsets(key, pos=VERB) or self.reader.synsets(key, pos=NOUN)) if key else []
            cached = tuple(found[:1] if self.senses == "first" else found)
            self._synsets[key] = cached
        return cached

    def has(self, word: str, pos: str | None = "v") -> bool:
        """True when WordNet holds ``word`` with part of speech ``pos``.

        ``pos`` is ``"v"``, ``"n"``, ``"a"``, ``"r"`` or ``None`` for any.
        """
        key = "_".join(word.strip().lower().split())
        return bool(key) and bool(self.reader.synsets(key, pos=pos))

    def sense_pos(self, word: str) -> str | None:
        """``"v"`` or ``"n"``: which part of speech :meth:`synsets` used; ``None`` if absent."""
        synsets = self.synsets(word)
        return str(synsets[0].pos()) if synsets else None

    def base_forms(self, word: str, pos: str) -> list[str]:
        """The WordNet lemmas of ``pos`` that ``word`` is a form of (``"spinning"``, ``"v"`` → ``["spin"]``).

        WordNet's morphology (its exception lists, then its suffix rules), as
        :meth:`synsets` applies it; the word itself when it is a lemma of ``pos``. Spaces become
        underscores. Empty when WordNet has no such lemma.
        """
        key = "_".join(word.strip().lower().split())
        if not key:
            return []
        # NLTK's public morphy() returns only the first form; _morphy() returns all of them.
        return list(self.reader._morphy(key, pos))

    def sense_weights(self, pos: str) -> dict[str, int]:
        """Lemma → its number of ``pos`` senses plus their SemCor tag counts.

        The tag counts are what NLTK's ``Lemma.count()`` returns (``cntlist.rev``), read here in
        one pass over ``index.sense`` (``sense_key offset sense_number tag_cnt``) instead of one
        binary search per lemma. Without ``index.sense`` (Debian's ``wordnet-sense-index`` not
        installed) every sense weighs 1, from the lemma index. ``pos`` is ``"n"``, ``"v"``,
        ``"a"`` or ``"r"`` (adjective satellites count as ``"a"``).
        """
        cached = self._sense_weights.get(pos)
        if cached is not None:
            return cached
        # Sense-key lexical categories: 1 noun, 2 verb, 3 adjective, 4 adverb, 5 satellite.
        wanted = {"n": "1", "v": "2", "a": "35", "r": "4"}.get(pos)
        if wanted is None:
            raise ActionLensError(f"unknown WordNet part of speech {pos!r}; use 'n', 'v', 'a' or 'r'")
        weights: dict[str, int] = {}
        try:
            stream: Any = self.reader.open("index.sense")
        except (OSError, LookupError):
            stream = None
        if stream is not None:
            try:
                for line in stream:
                    fields = line.split()
                    if len(fields) != 4 or not fields[3].isdigit():
                        continue
                    lemma, _, rest = fields[0].partition("%")
                    if rest[:1] and rest[0] in wanted:
                        weights[lemma] = weights.get(lemma, 0) + 1 + int(fields[3])
            finally:
                stream.close()
        if not weights:  # no index.sense: count senses from the lemma index
            lemma_index = self.reader._lemma_pos_offset_map
            for lemma, by_pos in lemma_index.items():
                senses = len(by_pos.get(pos, ())) + (len(by_pos.get("s", ())) if pos == "a" else 0)
                if senses:
                    weights[lemma] = senses
        self._sense_weights[pos] = weights
        return weights

    # ------------------------------------------------------------------ similarity

    def _synset_wup(self, a: Synset, b: Synset) -> float | None:
        # A canonical order makes the value exactly symmetric and the cache hit both ways: NLTK
        # picks the left-hand synset as the subsumer when it subsumes the other one.
        if a.name() > b.name():
            a, b = b, a
        key = (a.name(), b.name())
        if key not in self._pair_wup:
            value = a.wup_similarity(b)
            self._pair_wup[key] = None if value is None else float(value)
        return self._pair_wup[key]

    def _wup_synsets(self, sa: tuple[Synset, ...], sb: tuple[Synset, ...]) -> float | None:
        best: float | None = None
        for a in sa:
            for b in sb:
                value = self._synset_wup(a, b)
                if value is not None and (best is None or value > best):
                    best = value
        return best

    def wup(self, word_a: str, word_b: str) -> float | None:
        """Wu-Palmer similarity of two words, in (0, 1]; ``None`` if either is not in WordNet.

        Seed 001, section 4.2.1 (Wu & Palmer 1994). With ``senses="first"`` it is the similarity
        of the two first synsets, with ``"best"`` the maximum over all synset pairs.
        """
        return self._wup_synsets(self.synsets(word_a), self.synsets(word_b))

    def phrase_wup(
        self, phrase_a: str, phrase_b: str, verb_a: str | None = None, verb_b: str | None = None
    ) -> float | None:
        """Wu-Palmer similarity of two action phrases, each represented by its verb.

        The verb is ``verb_a``/``verb_b`` when given, else the phrase's first word
        (:func:`phrase_verb`; seed 001, section 4.2.1). ``None`` if either is not in WordNet.
        """
        word_a, word_b = phrase_verb(phrase_a, verb_a), phrase_verb(phrase_b, verb_b)
        if word_a is None or word_b is None:
            return None
        return self.wup(word_a, word_b)

    def wup_matrix(self, words: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """The Wu-Palmer matrix of ``words`` (seed 001, section 4.2.1, "word matrices").

        Parameters
        ----------
        words
            N words (for phrases, map them through :func:`phrase_verb` first).
        progress
            Optional progress/cancel handle.

        Returns
        -------
        numpy.ndarray
            N × N float32, symmetric, 1 on the diagonal of words WordNet holds; NaN in the rows
            and columns of words it does not hold.
        """
        progress = progress or NullProgress()
        n = len(words)
        matrix = np.full((n, n), np.nan, dtype=np.float32)
        synsets = [self.synsets(word) for word in words]
        # Repeated words share their row, so each distinct word pair is computed once.
        for i in range(n):
            progress.check_cancelled()
            if synsets[i]:
                for j in range(i, n):
                    value = self._wup_synsets(synsets[i], synsets[j]) if synsets[j] else None
                    if value is not None:
                        matrix[i, j] = matrix[j, i] = value
            progress.set_progress((i + 1) * (2 * n - i) / max(n * (n + 1), 1), f"Wu-Palmer row {i + 1}/{n}")
        return matrix


# ---------------------------------------------------------------------- NLTK plumbing


def _open_reader(data_root: Path, resource: str) -> WordNetCorpusReader:
    """Open ``resource`` under the NLTK data root ``data_root`` (added to ``nltk.data.path``)."""
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _EnglishWordNetReader(WordNetCorpusReader):
        # map_wn maps sense keys between WordNet versions for the multilingual (OMW) functions by
        # re-reading index.sense through a global lookup of "corpora/wordnet", which may find
        # another copy; we use no OMW, so skip it (saves about a second).
        def map_wn(self, version: str = "wordnet") -> Any:
            return None

    root = str(data_root.resolve())
    if root not in [str(p) for p in nltk.data.path]:
        nltk.data.path.append(root)  # NLTK refuses to read outside nltk.data.path
    try:
        pointer = nltk.data.find(resource, paths=[root])
        with warnings.catch_warnings():
            # No OMW reader: NLTK warns that multilingual functions are off, which we never use.
            warnings.filterwarnings("ignore", message="The multilingual functions")
            reader: WordNetCorpusReader = _EnglishWordNetReader(pointer, None)
    except (LookupError, OSError, ValueError, AssertionError, IndexError) as err:
        raise ActionLensError(
            f"WordNet in {data_root / resource} could not be read ({err}); reinstall it: {INSTALL_HINT}"
        ) from err
    return reader


def copy_into_cache(source: str | os.PathLike[str], cache_root: str | os.PathLike[str]) -> Path:
    """Copy a plain WordNet directory into ``<cache_root>/corpora/wordnet`` for NLTK's reader.

    Adds ``lexnames`` from ``desktop_app/resources/wordnet/lexnames`` when the source lacks it (Debian).
    The copy is built in a temporary directory beside the target and renamed into place, so a
    reader never sees half a copy. An existing copy of the same files (sizes and modification
    times recorded in ``actionlens-source.json``) is reused.

    Parameters
    ----------
    source
        A directory holding WordNet's ``data.*``, ``index.*`` and ``*.exc`` files.
    cache_root
        An NLTK data root, e.g. ``<user cache>/nltk_data``.

    Returns
    -------
    Path
        The ``corpora/wordnet`` directory.
    """
    source = Path(source).resolve()
    target = Path(cache_root) / "corpora" / "wordnet"
    names = [n for n in REQUIRED_FILES + OPTIONAL_FILES if (source / n).is_file()]
    manifest = {"source": str(source), "files": {n: _file_signature(source / n) for n in names}}
    if _manifest_matches(target, manifest):
        return target
    if "lexnames" not in names and not LEXNAMES_RESOURCE.is_file():
        raise ActionLensError(f"{LEXNAMES_RESOURCE} is missing; reinstall ActionLens")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=target.parent))
        try:
            for name in names:
                shutil.copyfile(source / name, staging / name)
            if "lexnames" not in names:
                shutil.copyfile(LEXNAMES_RESOURCE, staging / "lexnames")
            (staging / _MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            _swap_into_place(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as err:
        raise ActionLensError(
            f"could not copy WordNet from {source} into {target} ({err}); "
            "make the cache writable or set ACTIONLENS_CACHE"
        ) from err
    return target


def _manifest_matches(target: Path, manifest: dict[str, Any]) -> bool:
    try:
        recorded = json.loads((target / _MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return bool(recorded == manifest and _is_wordnet_dir(target) and (target / "lexnames").is_file())


def _swap_into_place(staging: Path, target: Path) -> None:
    # os.replace cannot replace a non-empty directory: move the old copy aside first. A reader
    # racing this sees the old copy, nothing, or the new copy, never a mix.
    old: Path | None = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=".wordnet-old-", dir=target.parent))
        os.replace(target, old / "wordnet")
    try:
        os.replace(staging, target)
    except OSError:
        if not _is_wordnet_dir(target):  # another process did not win the race: a real failure
            raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def available_words(wordnet: WordNet, words: Iterable[str]) -> list[str]:
    """The words of ``words`` that WordNet holds (seed 001 drops class names it lacks)."""
    return [w for w in words if wordnet.synsets(w)]
