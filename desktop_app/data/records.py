"""Plain records that importers produce and the workspace catalog stores.

Importers never touch a workspace: they read a dataset on disk and return an
:class:`ImportResult`; ``actionlens import`` writes it into the catalog in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class VideoInfo:
    """What probing a video file found (see :func:`desktop_app.data.video.probe_video`)."""

    fps: float
    frame_count: int
    width: int
    height: int
    duration: float
    content_hash: str
    has_audio: bool = False
    #: What probing doubted and what it did about it (``"only 8 of the 30 frames … decode"``);
    #: importers list it in :attr:`ImportResult.notes`. ``None`` for a sound file.
    note: str | None = None


@dataclass(frozen=True)
class Caption:
    """One sentence of a paragraph, aligned to ``[start, end]`` seconds of its video (seed 004)."""

    start: float
    end: float
    sentence: str


@dataclass
class ClipRecord:
    """One clip of a dataset.

    Attributes
    ----------
    name
        Unique key within the dataset, usually the file stem (``v_BounceBall_g01_c01``).
    path
        POSIX path relative to the dataset's data root.
    class_name
        The dataset's own class name (``ApplyEyeMakeup``); ``None`` for unlabelled clips
        such as ActivityNet Captions videos.
    splits
        Split memberships, ``{split_name: role}`` with role ``"train"``, ``"val"`` or ``"test"``
        (UCF101: ``{"1": "train", "2": "test", "3": "train"}``).
    info
        Probe result; ``None`` when the importer skipped probing.
    captions
        Paragraph sentences with timestamps, for video–paragraph datasets.
    """

    name: str
    path: str
    class_name: str | None
    splits: dict[str, str] = field(default_factory=dict)
    info: VideoInfo | None = None
    captions: list[Caption] = field(default_factory=list)


@dataclass(frozen=True)
class ClassRecord:
    """One action class: the dataset's name and the phrase that names it in the word space.

    ``phrase`` is what the word vectors embed (seed 000: the mean of its word vectors);
    ``verb`` and ``noun`` are filled where the label has them (seed 001's analogy test).
    """

    name: str
    phrase: str
    verb: str | None
    noun: str | None
    index: int | None = None


@dataclass(frozen=True)
class Skipped:
    """Something an importer did not take, and why (``"empty file"``, ``"not a video"`` …)."""

    path: str
    reason: str


@dataclass(frozen=True)
class Note:
    """Something an importer took in but changed or doubts, and what it did (clamped, kept …).

    ``path`` names the file, index line or video id; ``note`` is one line saying what was wrong
    and what was done (``"2 of 5 timestamps end after the video (120.0 s); clamped to 120.0 s"``).
    """

    path: str
    note: str


@dataclass
class ImportResult:
    """Everything an importer found: the data root, clips, classes, what it skipped and noted."""

    dataset: str
    data_root: str
    clips: list[ClipRecord] = field(default_factory=list)
    classes: list[ClassRecord] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
