"""UCF101: class folders of ``.avi`` clips, ``classInd.txt`` and ``trainlist0N.txt``/``testlist0N.txt``.

Layouts accepted (``src`` is what the user names)::

    src/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi     src/UCF-101/ApplyEyeMakeup/...
    src/classInd.txt, trainlist01.txt, testlist01.txt  src/ucfTrainTestlist/classInd.txt ...

Decisions
---------
* A clip on disk that no split list names is imported with empty ``splits`` and not reported:
  it is a valid labelled clip, and the workspace may still use it (its own random split).
* A class folder absent from ``classInd.txt`` is reported and its clips skipped, since
  ``classInd.txt`` defines the label space. Without ``classInd.txt`` the class folders do.
* ``ClassRecord.index`` is the 0-based position in ``classInd.txt`` order among the classes that
  kept at least one clip; with the full dataset it equals ``classInd`` number − 1.
* A ``classInd.txt`` line that repeats a class number or a class name is reported and the first
  line kept: a later line must not silently replace a class.
* A clip in both ``trainlist0N.txt`` and ``testlist0N.txt`` is a train/test leak: the import is
  refused unless option ``allow_split_overlap`` is true; then the clip is imported without a
  role in that split, and noted.
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

DATASET = "ucf101"
_SPLIT_LIST = re.compile(r"^(train|test)list0*(\d+)\.txt$", re.IGNORECASE)
_INDEX_DIR_NAMES = ("ucfTrainTestlist", "UCF101TrainTestSplits-RecognitionTask")


def _find_index_dir(root: Path, splits_dir: Path | None) -> Path | None:
    if splits_dir is not None:
        given = Path(splits_dir).expanduser().resolve()
        if not given.is_dir():
            raise ActionLensError(
                f"ucf101 import: splits_dir {given} is not a folder; name the ucfTrainTestlist folder"
            )
        return given
    candidates = [root / name for name in _INDEX_DIR_NAMES]
    candidates += [c / "ucfTrainTestlist" for c in candidates] + [root]
    for candidate in candidates:
        if candidate.is_dir() and (
            (candidate / "classInd.txt").is_file()
            or any(_SPLIT_LIST.match(p.name) for p in candidate.iterdir())
        ):
            return candidate
    return None


def _read_lines(path: Path) -> list[str]:
    # The official lists have CRLF line ends and sometimes a trailing blank line.
    return [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]


def _read_class_index(path: Path, skipped: list[Skipped], root: Path) -> dict[int, str]:
    classes: dict[int, str] = {}
    numbers: dict[str, int] = {}
    for number, line in enumerate(_read_lines(path), start=1):
        if not line:
            continue
        where = f"{relative_posix(path, root)}:{number}"
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            skipped.append(Skipped(where, f"malformed line {line!r}"))
            continue
        label, name = int(parts[0]), parts[1]
        # The first line for a number (or a name) wins; a later one must not replace a class.
        if label in classes:
            skipped.append(
                Skipped(where, f"class number {label} given again ({name!r}); kept {classes[label]!r}")
            )
            continue
        if name in numbers:
            skipped.append(
                Skipped(where, f"class {name!r} numbered again ({label}); kept number {numbers[name]}")
            )
            continue
        classes[label] = name
        numbers[name] = label
    return classes


def import_ucf101(
    src: Path,
    *,
    progress: Progress | None = None,
    probe: bool = True,
    **options: Any,
) -> ImportResult:
    """Import UCF101 from its folders and official split lists.

    Parameters
    ----------
    src
        The dataset root (holding the class folders, or ``UCF-101/`` with them).
    progress
        Progress/cancel handle.
    probe
        Probe every clip (fills ``ClipRecord.info``; unreadable clips go to ``skipped``).
    **options
        ``splits_dir``: folder of ``classInd.txt`` and the split lists (default: ``src``,
        ``src/ucfTrainTestlist`` or ``src/UCF101TrainTestSplits-RecognitionTask``);
        ``allow_split_overlap``: import clips listed for both training and testing (without a
        role in that split) instead of refusing;
        ``max_workers``: probing threads; ``label_table``: a
        ``LabelTable`` for class-name normalisation.

    Returns
    -------
    ImportResult
        ``splits`` as ``{"1": "train", "2": "test", "3": "train"}``; listed-but-missing files,
        unknown classes, bad lines and unreadable clips in ``skipped``.
    """
    reject_unknown_options(DATASET, options, {"splits_dir", "allow_split_overlap"})
    root = resolve_source(src, DATASET)
    index_dir = _find_index_dir(root, options.get("splits_dir"))
    video_root = root / "UCF-101" if (root / "UCF-101").is_dir() else root
    skipped: list[Skipped] = []

    class_index: dict[int, str] = {}
    if index_dir is not None and (index_dir / "classInd.txt").is_file():
        class_index = _read_class_index(index_dir / "classInd.txt", skipped, root)
    known_classes = set(class_index.values())

    # Everything on disk, keyed by its path as the split lists write it ("Class/file.avi").
    on_disk: dict[str, Path] = {}
    visits = FolderVisits(root)  # a class folder linked twice is read once
    for folder in real_folders_first(video_root.iterdir()):
        if not folder.is_dir() or folder.name.startswith(".") or folder == index_dir:
            continue
        if folder.name in _INDEX_DIR_NAMES:
            continue
        if not visits.first_time(folder, skipped):
            continue
        videos, scan_skipped = scan_class_folder(folder, root)
        skipped += scan_skipped
        for video in videos:
            on_disk[f"{folder.name}/{video.name}"] = video
    by_lower = {key.lower(): key for key in on_disk}

    splits: dict[str, dict[str, str]] = {}
    listed_in: dict[tuple[str, str], dict[str, str]] = {}  # (clip, split) -> {role: list file}
    reported: set[str] = set()
    list_files = sorted(
        (p for p in index_dir.iterdir() if _SPLIT_LIST.match(p.name)) if index_dir is not None else []
    )
    for list_file in list_files:
        match = _SPLIT_LIST.match(list_file.name)
        assert match is not None
        role, split_name = match.group(1).lower(), str(int(match.group(2)))
        for number, line in enumerate(_read_lines(list_file), start=1):
            if not line:
                continue
            parts = line.split()
            entry = parts[0].replace("\\", "/")
            if "/" not in entry or len(parts) > 2:
                skipped.append(Skipped(f"{list_file.name}:{number}", f"malformed line {line!r}"))
                continue
            class_name = entry.split("/", 1)[0]
            video_rel = relative_posix(video_root / entry, root)
            label = int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else None
            key = entry if entry in on_disk else by_lower.get(entry.lower())
            problem = None
            if class_index and class_name not in known_classes:
                problem = f"class {class_name!r} in {list_file.name} is not in classInd.txt"
            elif class_index and len(parts) == 2 and class_index.get(label or -1) != class_name:
                problem = f"label {parts[1]} in {list_file.name} disagrees with class folder {class_name!r}"
            elif key is None:
                problem = f"listed in {list_file.name} but missing"
            if problem is not None:
                # Each clip sits in three lists; report the first problem only.
                if video_rel not in reported:
                    reported.add(video_rel)
                    skipped.append(Skipped(video_rel, problem))
                continue
            assert key is not None
            splits.setdefault(key, {})[split_name] = role
            listed_in.setdefault((key, split_name), {}).setdefault(role, list_file.name)

    notes = resolve_split_overlaps(
        DATASET,
        {k: v for k, v in listed_in.items() if len(v) > 1},
        splits,
        {key: relative_posix(video, root) for key, video in on_disk.items()},
        allow=bool(options.get("allow_split_overlap")),
    )
    clips: list[ClipRecord] = []
    unlisted_folders: dict[str, int] = {}
    for key, video in on_disk.items():
        class_name = key.split("/", 1)[0]
        if class_index and class_name not in known_classes:
            # One report per folder: a stray folder of 1000 videos is one problem, not 1000.
            unlisted_folders[class_name] = unlisted_folders.get(class_name, 0) + 1
            continue
        clips.append(
            ClipRecord(
                name=video.stem,
                path=relative_posix(video, root),
                class_name=class_name,
                splits=dict(sorted(splits.get(key, {}).items())),
            )
        )

    skipped.extend(
        Skipped(f"{folder}/", f"{count} videos in a class folder that is not in classInd.txt")
        for folder, count in sorted(unlisted_folders.items())
    )
    class_order = [class_index[number] for number in sorted(class_index)]
    return finish_import(
        DATASET,
        root,
        clips,
        skipped,
        progress=progress,
        probe=probe,
        class_order=class_order,
        max_workers=options.get("max_workers"),
        label_table=options.get("label_table"),
        notes=notes,
    )
