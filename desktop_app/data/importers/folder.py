"""A plain folder of class folders of videos: ``src/<class>/<clip>.<video suffix>``.

Class folders may hold sub-folders (``src/juggle/session1/a.mp4``); the class is the top-level
folder. There are no official splits: ``splits`` stay empty and the workspace may draw its own.
A video directly in ``src`` has no class and is reported, as is every non-video file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop_app.data.importers._common import (
    FolderVisits,
    finish_import,
    real_folders_first,
    reject_unknown_options,
    relative_posix,
    resolve_source,
    scan_class_folder,
)
from desktop_app.data.records import ClipRecord, ImportResult, Skipped
from desktop_app.data.video import is_video_path
from desktop_app.progress import Progress

DATASET = "folder"


def import_folder(
    src: Path,
    *,
    progress: Progress | None = None,
    probe: bool = True,
    **options: Any,
) -> ImportResult:
    """Import every video under ``src/<class>/`` as a clip of that class.

    Parameters
    ----------
    src
        Folder whose sub-folders are the classes.
    progress
        Progress/cancel handle.
    probe
        Probe every clip (fills ``ClipRecord.info``; unreadable clips go to ``skipped``).
    **options
        ``max_workers``: probing threads; ``label_table``: a
        ``LabelTable`` for class-name normalisation.

    Returns
    -------
    ImportResult
        Clips with empty ``splits``; classes sorted by name.
    """
    reject_unknown_options(DATASET, options, ())
    root = resolve_source(src, DATASET)
    skipped: list[Skipped] = []
    clips: list[ClipRecord] = []
    visits = FolderVisits(root)  # each real folder once: a symlink loop must not multiply clips
    for entry in real_folders_first(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not is_video_path(entry):
            if not visits.first_time(entry, skipped):
                continue
            videos, scan_skipped = scan_class_folder(entry, root, recursive=True, visits=visits)
            skipped += scan_skipped
            clips += [
                ClipRecord(name=video.stem, path=relative_posix(video, root), class_name=entry.name)
                for video in videos
            ]
        elif is_video_path(entry):
            skipped.append(Skipped(entry.name, "not inside a class folder"))
    return finish_import(
        DATASET,
        root,
        clips,
        skipped,
        progress=progress,
        probe=probe,
        max_workers=options.get("max_workers"),
        label_table=options.get("label_table"),
    )
