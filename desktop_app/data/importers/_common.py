"""What every importer shares: source checks, folder scans, class records and parallel probing."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from desktop_app.data.records import ClassRecord, ClipRecord, ImportResult, Skipped, VideoInfo
from desktop_app.data.video import VideoError, is_video_path, probe_video
from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress, SubProgress

#: Share of an import's progress bar given to reading indexes and scanning folders.
SCAN_SHARE = 0.05


def resolve_source(src: Path | str, dataset: str) -> Path:
    """Return ``src`` resolved, or raise if it is not a folder."""
    root = Path(src).expanduser().resolve()
    if not root.is_dir():
        raise ActionLensError(f"{dataset} import: {root} is not a folder; give the dataset's root folder")
    return root


#: Options that every importer takes (see :func:`finish_import`).
COMMON_OPTIONS = frozenset({"max_workers", "label_table"})


def reject_unknown_options(dataset: str, options: Mapping[str, Any], known: Iterable[str] = ()) -> None:
    """Raise for options that this importer does not take, so that a typo is not silently ignored."""
    unknown = sorted(set(options) - set(known) - COMMON_OPTIONS)
    if unknown:
        allowed = ", ".join(sorted({*known, *COMMON_OPTIONS}))
        raise ActionLensError(f"{dataset} import: unknown option(s) {', '.join(unknown)}; it takes {allowed}")


def relative_posix(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` as a POSIX string (``root`` itself is ``"."``)."""
    try:
        return PurePosixPath(*path.relative_to(root).parts).as_posix() if path != root else "."
    except ValueError:  # outside the data root: keep it absolute so the report still names it
        return path.as_posix()


def scan_class_folder(
    folder: Path, root: Path, *, recursive: bool = False
) -> tuple[list[Path], list[Skipped]]:
    """List the video files in ``folder`` and report what else is there.

    Hidden files (``.DS_Store``, ``._x.avi``) are ignored without a report; a directory named
    like a video and a file with another suffix are reported.

    Returns
    -------
    videos, skipped
        Video file paths in sorted order, and the reports.
    """
    videos: list[Path] = []
    skipped: list[Skipped] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if is_video_path(entry):
                skipped.append(Skipped(relative_posix(entry, root), "a directory, not a video file"))
            elif recursive:
                sub_videos, sub_skipped = scan_class_folder(entry, root, recursive=True)
                videos += sub_videos
                skipped += sub_skipped
            continue
        if is_video_path(entry):
            videos.append(entry)
        else:
            skipped.append(Skipped(relative_posix(entry, root), "not a video file (unknown suffix)"))
    return videos, skipped


def index_videos_by_stem(root: Path, folders: Sequence[Path] | None = None) -> dict[str, Path]:
    """Map file stem → path for every video file under ``folders`` (default: all of ``root``).

    Walked once so that a dataset of 300 000 files costs one scan, not one search per CSV row.
    The first path in sorted order wins where a stem repeats. Directories named like videos
    are included (and not entered) so that :func:`cheap_checks` reports them.
    """
    found: dict[str, Path] = {}
    for folder in folders if folders is not None else [root]:
        if not folder.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            # A directory named like a video is indexed, not entered, so that the clip check
            # reports it as "a directory" rather than as a missing file.
            names = sorted(d for d in dirnames if not d.startswith("."))
            dirnames[:] = [d for d in names if not is_video_path(Path(d))]
            for filename in sorted([*filenames, *(d for d in names if is_video_path(Path(d)))]):
                path = Path(dirpath) / filename
                if not filename.startswith(".") and is_video_path(path):
                    found.setdefault(path.stem, path)
    return found


def class_records(names: Sequence[str], label_table: Any = None) -> tuple[list[ClassRecord], dict[str, str]]:
    """Normalise each class name into its word-space phrase (``desktop_app.words.labels``).

    Returns
    -------
    classes, refused
        Records whose ``index`` is their position among the accepted names, and for each name
        that cannot be normalised (no letters or digits) the reason.
    """
    if not names:
        return [], {}
    from desktop_app.words.labels import normalise_label

    records: list[ClassRecord] = []
    refused: dict[str, str] = {}
    for name in names:
        try:
            record = normalise_label(name, label_table)
        except ActionLensError as err:
            refused[name] = str(err)
            continue
        records.append(replace(record, name=name, index=len(records)))
    return records, refused


def give_unique_names(clips: list[ClipRecord]) -> None:
    """Keep each clip's stem as its name unless two clips share it; then use the path sans suffix."""
    counts = Counter(clip.name for clip in clips)
    for clip in clips:
        if counts[clip.name] > 1:
            clip.name = str(PurePosixPath(clip.path).with_suffix(""))


def _probe_one(path: Path) -> VideoInfo:
    return probe_video(path)


def probe_clips(
    root: Path,
    clips: list[ClipRecord],
    progress: Progress,
    *,
    max_workers: int | None = None,
) -> tuple[list[ClipRecord], list[Skipped]]:
    """Probe every clip on a thread pool (OpenCV decodes without the GIL), keeping input order.

    Returns
    -------
    kept, skipped
        Clips with ``info`` filled, and a report for each clip whose probe failed.

    Raises
    ------
    TaskCancelled
        When ``progress`` is cancelled; probes not yet started are dropped.
    """
    total = len(clips)
    if total == 0:
        progress.set_progress(1.0, "no clips to probe")
        return [], []
    workers = max_workers or min(8, 2 * (os.cpu_count() or 1))
    infos: dict[int, VideoInfo] = {}
    failures: dict[int, str] = {}
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe")
    try:
        pending: dict[Future[VideoInfo], int] = {
            executor.submit(_probe_one, root / clip.path): i for i, clip in enumerate(clips)
        }
        done_count = 0
        while pending:
            progress.check_cancelled()
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                i = pending.pop(future)
                try:
                    infos[i] = future.result()
                except VideoError as err:
                    failures[i] = err.reason
                except Exception as err:  # a decoder crash on one file must not stop the import
                    failures[i] = f"cannot probe ({type(err).__name__}: {err})"
                done_count += 1
                progress.set_progress(done_count / total, f"probed {done_count}/{total}: {clips[i].name}")
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    kept = [replace(clip, info=infos[i]) for i, clip in enumerate(clips) if i in infos]
    skipped = [Skipped(clips[i].path, failures[i]) for i in sorted(failures)]
    return kept, skipped


def cheap_checks(root: Path, clips: list[ClipRecord]) -> tuple[list[ClipRecord], list[Skipped]]:
    """Refuse missing and empty files without decoding (run even when probing is off)."""
    kept: list[ClipRecord] = []
    skipped: list[Skipped] = []
    for clip in clips:
        path = root / clip.path
        if path.is_dir():
            skipped.append(Skipped(clip.path, "a directory, not a video file"))
        elif not path.is_file():
            skipped.append(Skipped(clip.path, "file not found"))
        elif path.stat().st_size == 0:
            skipped.append(Skipped(clip.path, "empty file"))
        else:
            kept.append(clip)
    return kept, skipped


def finish_import(
    dataset: str,
    root: Path,
    clips: list[ClipRecord],
    skipped: list[Skipped],
    *,
    progress: Progress | None,
    probe: bool,
    class_order: Sequence[str] | None = None,
    max_workers: int | None = None,
    label_table: Any = None,
) -> ImportResult:
    """Check and probe the candidate clips, then build the classes that still have clips.

    Parameters
    ----------
    class_order
        The dataset's official class order (UCF101's ``classInd.txt``); classes are sorted by
        name where it is ``None`` or lacks one.
    max_workers
        Probing threads (default ``min(8, 2 × CPUs)``).
    label_table
        A ``desktop_app.words.labels.LabelTable`` for :func:`normalise_label` (default: its
        curated table). A class whose name cannot be normalised is dropped and its clips
        reported.
    """
    handle: Progress = progress if progress is not None else NullProgress()
    handle.check_cancelled()
    handle.set_progress(SCAN_SHARE, f"found {len(clips)} clips")
    clips, unreadable = cheap_checks(root, clips)
    skipped = skipped + unreadable
    if probe:
        clips, failed = probe_clips(
            root, clips, SubProgress(handle, SCAN_SHARE, 1.0), max_workers=max_workers
        )
        skipped += failed
    present = {clip.class_name for clip in clips if clip.class_name is not None}
    order = [name for name in (class_order or []) if name in present]
    order += sorted(present - set(order))
    classes, unnamed = class_records(order, label_table)
    if unnamed:
        named: list[ClipRecord] = []
        for clip in clips:
            reason = unnamed.get(clip.class_name) if clip.class_name is not None else None
            if reason is None:
                named.append(clip)
            else:
                skipped.append(Skipped(clip.path, reason))
        clips = named
    give_unique_names(clips)
    handle.set_progress(1.0, f"imported {len(clips)} clips, skipped {len(skipped)}")
    return ImportResult(
        dataset=dataset,
        data_root=str(root),
        clips=clips,
        classes=classes,
        skipped=skipped,
    )
