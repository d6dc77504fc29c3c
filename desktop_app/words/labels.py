"""Label normalisation: from a dataset's class name to the phrase the word vectors embed.

A class name such as ``ApplyEyeMakeup`` or ``ride_bike`` becomes a :class:`ClassRecord` with

* ``phrase`` — the words the word space embeds, as the mean of their vectors (seed 000,
  section III.C), e.g. "apply eye makeup";
* ``verb`` — the action's verb in base form (seed 001's WordNet test compares class verbs);
* ``noun`` — the object of the action where there is one (seed 001's analogy test,
  ``play piano − piano + violin``).

The curated label table is looked up first; names it lacks are split
(:func:`split_class_name`), their first word taken as the verb and their last word, when there is
more than one, as the noun.

Verb rule
---------
The first word becomes a base-form verb only through a lookup, never by guessing: the table's
``verb_forms`` mapping, then :data:`BASE_VERB_FORMS` (``playing`` → ``play``,
``riding`` → ``ride`` …). A word in neither stays as it is: stripping "-ing" by rule turns
``riding`` into "rid" and ``swing`` into "sw", whereas the unchanged word is still in the word
vectors and WordNet's own morphology can lemmatise it later.

Label table format
------------------
A UTF-8 JSON file (the default is ``desktop_app/desktop_app/resources/label_table.json``; users may pass their own)::

    {
      "format": "actionlens-label-table",
      "version": 1,
      "labels": {
        "CleanAndJerk": {"phrase": "weightlifting", "verb": "lift", "noun": null},
        "PlayingDaf":   {"phrase": "playing daf", "verb": "play", "noun": "daf"}
      },
      "verb_forms": {"juggling": "juggle"}
    }

``labels`` maps class names to a ``phrase`` (non-empty words separated by spaces), a ``verb`` and
a ``noun`` (single words or ``null``); an entry may carry a ``note`` string. Names compare
case-folded with ``_``, ``-`` and spaces ignored, so ``HandStandPushups`` (UCF101's file names)
finds ``HandstandPushups`` (its ``classInd.txt``) and ``brush_hair`` finds ``BrushHair``; two
names that compare equal in one table are an error. ``verb_forms`` (optional) maps inflected
first words to base-form verbs for names the table lacks. A top-level ``comment`` is allowed.

The default table covers the 101 classes of UCF101 and the 51 of HMDB51; every word of its
phrases is in GloVe 6B 50d. Where a class name's words are missing from the vectors or do not
name the action, the phrase is edited as seed 001 (section 3.2) does: "clean and jerk" →
"weightlifting" (seed 001 used "weightlift", which GloVe 6B lacks), "walking" → "walk".
Function words ("with", "in", "on") are dropped from curated phrases, since they would pull
every phrase mean towards the same point.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from desktop_app.data.records import ClassRecord
from desktop_app.errors import ActionLensError
from desktop_app.paths import RESOURCES_DIR

DEFAULT_LABEL_TABLE = RESOURCES_DIR / "label_table.json"
UCF101_CLASSES = RESOURCES_DIR / "ucf101_classes.txt"
"""The 101 official UCF101 class names, one a line, in ``classInd.txt`` order."""

TABLE_FORMAT = "actionlens-label-table"
TABLE_VERSION = 1

#: Inflected action words and their base-form verbs; the only "-ing" stripping done outside a
#: label table (see the module docstring for why there is no general rule).
BASE_VERB_FORMS: dict[str, str] = {
    "applying": "apply", "balancing": "balance", "batting": "bat", "biking": "bike",
    "blowing": "blow", "bowling": "bowl", "boxing": "box", "brushing": "brush",
    "catching": "catch", "chewing": "chew", "clapping": "clap", "cleaning": "clean",
    "climbing": "climb", "cooking": "cook", "crawling": "crawl", "cutting": "cut",
    "cycling": "cycle", "dancing": "dance", "diving": "dive", "drawing": "draw",
    "dribbling": "dribble", "drinking": "drink", "driving": "drive", "drumming": "drum",
    "eating": "eat", "falling": "fall", "fencing": "fence", "fighting": "fight",
    "flipping": "flip", "hammering": "hammer", "hitting": "hit", "hugging": "hug",
    "jogging": "jog", "juggling": "juggle", "jumping": "jump", "kayaking": "kayak",
    "kicking": "kick", "kissing": "kiss", "knitting": "knit", "laughing": "laugh",
    "lifting": "lift", "marching": "march", "mixing": "mix", "mopping": "mop",
    "opening": "open", "painting": "paint", "picking": "pick", "pitching": "pitch",
    "playing": "play", "pouring": "pour", "pulling": "pull", "punching": "punch",
    "pushing": "push", "racing": "race", "rafting": "raft", "reading": "read",
    "riding": "ride", "rolling": "roll", "rowing": "row", "running": "run",
    "sailing": "sail", "shaking": "shake", "shaving": "shave", "shooting": "shoot",
    "singing": "sing", "sitting": "sit", "skating": "skate", "skiing": "ski",
    "sliding": "slide", "smiling": "smile", "smoking": "smoke", "spiking": "spike",
    "spinning": "spin", "standing": "stand", "surfing": "surf", "swimming": "swim",
    "swinging": "swing", "talking": "talk", "throwing": "throw", "tossing": "toss",
    "turning": "turn", "typing": "type", "walking": "walk", "washing": "wash",
    "waving": "wave", "wrestling": "wrestle", "writing": "write",
}  # fmt: skip

_SEPARATORS = re.compile(r"[\s_\-]+")


@dataclass(frozen=True)
class LabelEntry:
    """One curated row: the class name as the table spells it, and its phrase, verb and noun."""

    name: str
    phrase: str
    verb: str | None
    noun: str | None


@dataclass
class LabelTable:
    """Curated class-name → phrase/verb/noun rows (format in the module docstring).

    Attributes
    ----------
    entries
        Rows keyed by :func:`label_key` of their name.
    verb_forms
        Extra inflected-word → base-verb mappings for names the table lacks.
    path
        The file it came from, ``None`` if built in memory.
    """

    entries: dict[str, LabelEntry] = field(default_factory=dict)
    verb_forms: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LabelTable:
        """Read a label table file.

        Raises
        ------
        ActionLensError
            The file is missing, not JSON, of another format or version, or has a malformed row;
            the message names the file and the row.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ActionLensError(f"cannot read label table {path}: {err.strerror or err}") from err
        except UnicodeDecodeError as err:
            raise ActionLensError(f"label table {path} is not UTF-8 text ({err.reason})") from err
        try:
            document = json.loads(text)
        except json.JSONDecodeError as err:
            raise ActionLensError(
                f"label table {path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
            ) from err
        return cls.from_document(document, path)

    @classmethod
    def from_document(cls, document: Any, path: Path | None = None) -> LabelTable:
        """Build a table from its parsed JSON document, validating it (see :meth:`load`)."""
        where = f"label table {path}" if path is not None else "label table"

        def fail(problem: str) -> ActionLensError:
            return ActionLensError(f"{where}: {problem}; see the format in desktop_app/words/labels.py")

        if not isinstance(document, dict):
            raise fail("the top level must be a JSON object")
        if document.get("format") != TABLE_FORMAT:
            raise fail(f'"format" must be {TABLE_FORMAT!r}, found {document.get("format")!r}')
        if document.get("version") != TABLE_VERSION:
            raise fail(f'"version" {document.get("version")!r} is not supported (this reads {TABLE_VERSION})')
        unknown = set(document) - {"format", "version", "labels", "verb_forms", "comment"}
        if unknown:
            raise fail(f"unknown top-level keys {sorted(unknown)}")
        labels = document.get("labels")
        if not isinstance(labels, dict):
            raise fail('"labels" must be an object of class name -> {"phrase", "verb", "noun"}')

        entries: dict[str, LabelEntry] = {}
        for name, row in labels.items():
            entry = _parse_row(name, row, fail)
            key = label_key(name)
            if not key:
                raise fail(f"class name {name!r} has no letters or digits")
            if key in entries:
                raise fail(f"class names {entries[key].name!r} and {name!r} are the same name")
            entries[key] = entry

        verb_forms = document.get("verb_forms", {})
        if not isinstance(verb_forms, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and _is_word(k) and _is_word(v)
            for k, v in verb_forms.items()
        ):
            raise fail('"verb_forms" must map single words to single words')
        return cls(entries, {k.casefold(): v.casefold() for k, v in verb_forms.items()}, path)

    @staticmethod
    def default() -> LabelTable:
        """The curated table shipped in ``desktop_app/desktop_app/resources/label_table.json`` (read once)."""
        return _default_table()

    def lookup(self, name: str) -> LabelEntry | None:
        """The row for ``name`` (compared by :func:`label_key`), or ``None``."""
        return self.entries.get(label_key(name))

    def merged_with(self, other: LabelTable) -> LabelTable:
        """A table with this one's rows and verb forms, ``other``'s winning where both have one."""
        return LabelTable(
            {**self.entries, **other.entries}, {**self.verb_forms, **other.verb_forms}, other.path
        )

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and label_key(name) in self.entries

    def __len__(self) -> int:
        return len(self.entries)


@lru_cache(maxsize=1)
def _default_table() -> LabelTable:
    return LabelTable.load(DEFAULT_LABEL_TABLE)


def _is_word(text: str) -> bool:
    return bool(text) and not any(ch.isspace() for ch in text)


def _parse_row(name: str, row: Any, fail: Any) -> LabelEntry:
    if not isinstance(row, dict):
        raise fail(f"row {name!r} must be an object with phrase, verb and noun")
    unknown = set(row) - {"phrase", "verb", "noun", "note"}
    if unknown:
        raise fail(f"row {name!r} has unknown keys {sorted(unknown)}")
    phrase = row.get("phrase")
    if not isinstance(phrase, str) or not phrase.split():
        raise fail(f'row {name!r} needs a non-empty string "phrase"')
    values: dict[str, str | None] = {}
    for slot in ("verb", "noun"):
        value = row.get(slot)
        if value is not None and not (isinstance(value, str) and _is_word(value)):
            raise fail(f"row {name!r}: {slot!r} must be one word or null, found {value!r}")
        values[slot] = value.casefold() if isinstance(value, str) else None
    return LabelEntry(name, " ".join(phrase.casefold().split()), values["verb"], values["noun"])


def label_key(name: str) -> str:
    """How label tables compare class names: case-folded, without ``_``, ``-`` and whitespace."""
    return _SEPARATORS.sub("", name).casefold()


def split_class_name(name: str) -> str:
    """Split a class name at CamelCase humps, digits, underscores, hyphens and spaces; lower-case it.

    An upper-case run is one word (an acronym) until the capital that starts the next
    capitalised word.

    Examples
    --------
    >>> split_class_name("ApplyEyeMakeup")
    'apply eye makeup'
    >>> split_class_name("ride_bike")
    'ride bike'
    >>> split_class_name("YoYo")
    'yo yo'
    >>> split_class_name("NBADunk2")
    'nba dunk 2'
    """
    words: list[str] = []
    for token in _SEPARATORS.split(name.strip()):
        words.extend(_split_humps(token))
    return " ".join(word.casefold() for word in words if word)


def _split_humps(token: str) -> list[str]:
    words: list[str] = []
    start = 0
    for i in range(1, len(token)):
        prev, ch = token[i - 1], token[i]
        nxt = token[i + 1] if i + 1 < len(token) else ""
        boundary = (
            (prev.islower() and ch.isupper())  # playingDaf
            or (prev.isupper() and ch.isupper() and nxt.islower())  # NBADunk: NBA | Dunk
            or (prev.isdigit() != ch.isdigit())  # Dunk2 | 2
        )
        if boundary:
            words.append(token[start:i])
            start = i
    words.append(token[start:])
    return [w for w in words if w and any(c.isalnum() for c in w)]


def base_verb(word: str, table: LabelTable | None = None) -> str:
    """Base form of an action word by lookup only: the table's ``verb_forms``, then
    :data:`BASE_VERB_FORMS`; any other word is returned case-folded and unchanged."""
    folded = word.casefold()
    if table is not None and folded in table.verb_forms:
        return table.verb_forms[folded]
    return BASE_VERB_FORMS.get(folded, folded)


def normalise_label(name: str, table: LabelTable | None = None) -> ClassRecord:
    """The class record of a dataset class name: its phrase, verb and noun (``index`` is None).

    Parameters
    ----------
    name
        The dataset's class name (``ApplyEyeMakeup``, ``ride_bike``, ``jumping jacks``).
    table
        The label table to consult; default: the curated :meth:`LabelTable.default`. Pass
        ``LabelTable()`` to split names with no curation.

    Raises
    ------
    ActionLensError
        The name has no letters or digits.
    """
    table = LabelTable.default() if table is None else table
    entry = table.lookup(name)
    if entry is not None:
        return ClassRecord(name=name, phrase=entry.phrase, verb=entry.verb, noun=entry.noun)
    phrase = split_class_name(name)
    words = phrase.split()
    if not words:
        raise ActionLensError(
            f"class name {name!r} has no words; rename its folder or list it in a label table"
        )
    verb = base_verb(words[0], table)
    noun = words[-1] if len(words) > 1 and words[-1] not in (words[0], verb) else None
    return ClassRecord(name=name, phrase=phrase, verb=verb, noun=noun)


def read_class_list(path: str | os.PathLike[str] = UCF101_CLASSES) -> list[str]:
    """Class names from a text file, one a line (blank lines and ``#`` comments skipped);
    default: the 101 UCF101 classes."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ActionLensError(f"cannot read class list {path}: {err}") from err
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
