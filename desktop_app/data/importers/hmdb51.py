"""HMDB51: class folders of ``.avi`` clips and the ``<class>_test_split<N>.txt`` files.

Each split file line is ``filename.avi K`` with K = 0 (not used in split N), 1 (train) or
2 (test). The split files are looked for in option ``splits_dir``, then
``src/testTrainMulti_7030_splits/``, then ``src``.

Decisions
---------
* A clip on disk that no split file names is imported with empty ``splits`` (as for UCF101).
* A file that a split file marks 1 or 2 but that is not on disk is reported once; one marked
  0 everywhere is not reported (the split does not use it).
* Classes are the class folders that kept a clip, sorted by name; ``index`` is that position.
* A clip marked both 1 (train) and 2 (test) for one split is a train/test leak: the import is
  refused unless option ``allow_split_overlap`` is true; then it has no role in that split.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from desktop_app.data.importers._common import (
    FolderVisits,
    finish_import,
    real_folders_first,
    reject_unknown_options,
    relative_posix,
    resolve_source,
    resolve_split_overlaps,
    scan_class_folder,
)
from desktop_app.data.records import ClipRecord, ImportResult, Skipped
from desktop_app.errors import ActionLensError
from desktop_app.progress import Progress

DATASET = "hmdb51"
_SPLIT_FILE = re.compile(r"^(.+)_test_split(\d+)\.txt$")
_SPLITS_DIR_NAME = "testTrainMulti_7030_splits"
_ROLES = {"0": None, "1": "train", "2": "test"}


def _find_splits_dir(root: Path, splits_dir: Path | None) -> Path | None:
    if splits_dir is not None:
        given = Path(splits_dir).expanduser().resolve()
        if not given.is_dir():
            raise ActionLensError(
                f"hmdb51 import: splits_dir {given} is not a folder; name the testTrainMulti_7030_splits folder"
            )
        return given
    for candidate in (root / _SPLITS_DIR_NAME, root):
        if candidate.is_dir() and any(_SPLIT_FILE.match(p.name) for p in candidate.iterdir()):
            return candidate
    return None


def import_hmdb51(
    src: Path,
    *,
    progress: Progress | None = None,
    probe: bool = True,
    **options: Any,
) -> ImportResult:
    """Import HMDB51 from its class folders and the official 70/30 split files.

    Parameters
    ----------
    src
        The dataset root holding the class folders (``brush_hair/``, ``cartwheel/`` …).
    progress
        Progress/cancel handle.
    probe
        Probe every clip (fills ``ClipRecord.info``; unreadable clips go to ``skipped``).
    **options
        ``splits_dir``: folder of the ``*_test_split*.txt`` files; ``allow_split_overlap``:
        import clips marked both 1 and 2 in a split (without a role there) instead of refusing;
        ``max_workers``: probing threads.

    Returns
    -------
    ImportResult
        ``splits`` as ``{"1": "train", "2": "test"}`` (a split whose line says 0 is absent).
    """
    reject_unknown_options(DATASET, options, {"splits_dir", "allow_split_overlap"})
    root = resolve_source(src, DATASET)
    splits_dir = _find_splits_dir(root, options.get("splits_dir"))
    skipped: list[Skipped] = []

    on_disk: dict[tuple[str, str], Path] = {}
    visits = FolderVisits(root)  # a class folder linked twice is read once
    for folder in real_folders_first(root.iterdir()):
        if not folder.is_dir() or folder.name.startswith(".") or folder == splits_dir:
            continue
        if folder.name == _SPLITS_DIR_NAME:
            continue
        if not visits.first_time(folder, skipped):
            continue
        videos, scan_skipped = scan_class_folder(folder, root)
        skipped += scan_skipped
        for video in videos:
            on_disk[(folder.name, video.name)] = video
    by_lower = {(c.lower(), f.lower()): (c, f) for c, f in on_disk}

    splits: dict[tuple[str, str], dict[str, str]] = {}
    listed_in: dict[tuple[tuple[str, str], str], dict[str, str]] = {}
    reported_missing: set[str] = set()
    split_files = sorted(p for p in splits_dir.iterdir() if _SPLIT_FILE.match(p.name)) if splits_dir else []
    for split_file in split_files:
        match = _SPLIT_FILE.match(split_file.name)
        assert match is not None
        class_name, split_name = match.group(1), str(int(match.group(2)))
        text = split_file.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2 or parts[1] not in _ROLES:
                skipped.append(Skipped(f"{split_file.name}:{number}", f"malformed line {line.strip()!r}"))
                continue
            role = _ROLES[parts[1]]
            key = (class_name, parts[0])
            if key not in on_disk:
                key = by_lower.get((class_name.lower(), parts[0].lower()), key)
            if key not in on_disk:
                missing = f"{class_name}/{parts[0]}"
                if role is not None and missing not in reported_missing:
                    reported_missing.add(missing)
                    skipped.append(Skipped(missing, f"listed in {split_file.name} but missing"))
                continue
            if role is not None:
                splits.setdefault(key, {})[split_name] = role
                listed_in.setdefault((key, split_name), {}).setdefault(role, f"{split_file.name}:{number}")

    notes = resolve_split_overlaps(
        DATASET,
        {k: v for k, v in listed_in.items() if len(v) > 1},
        splits,
        {key: relative_posix(video, root) for key, video in on_disk.items()},
        allow=bool(options.get("allow_split_overlap")),
    )
    clips = [
        ClipRecord(
            name=video.stem,
            path=relative_posix(video, root),
            class_name=key[0],
            splits=dict(sorted(splits.get(key, {}).items())),
        )
        for key, video in on_disk.items()
    ]
    return finish_import(
        DATASET,
        root,
        clips,
        skipped,
        progress=progress,
        probe=probe,
        max_workers=options.get("max_workers"),
        label_table=options.get("label_table"),
        notes=notes,
    )
