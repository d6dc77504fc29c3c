"""What every importer shares: source checks, folder scans, class records and parallel probing."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from desktop_app.data.records import ClassRecord, ClipRecord, ImportResult, Note, Skipped, VideoInfo
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


class FolderVisits:
    """The real directories an import has entered, so that each is scanned once.

    A directory symlink loop (``A/up -> ..``) or a second link to a folder would otherwise list
    the same videos again under every path that reaches them (one video became 41 clips). A
    directory is known by its device and inode, which every link to it shares.

    Parameters
    ----------
    root
        The data root; it counts as visited, and report paths are relative to it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._first: dict[tuple[int, int], Path] = {}
        self.first_time(root, [])

    def first_time(self, folder: Path, skipped: list[Skipped]) -> bool:
        """True the first time a real directory is reached; later paths to it are reported."""
        try:
            info = folder.stat()
        except OSError as err:
            skipped.append(
                Skipped(relative_posix(folder, self.root), f"cannot enter ({err.strerror or err})")
            )
            return False
        key = (info.st_dev, info.st_ino)
        first = self._first.get(key)
        if first is None:
            self._first[key] = folder
            return True
        where = relative_posix(first, self.root)
        kind = "a symlink loop" if first in folder.parents or first == self.root else "a second link"
        skipped.append(
            Skipped(
                relative_posix(folder, self.root),
                f"{kind} to folder {where!r}, which is scanned once; its videos are imported from there",
            )
        )
        return False


def real_folders_first(entries: Iterable[Path]) -> list[Path]:
    """``entries`` by name, links last: a real folder is scanned under its own name, not a link's."""
    return sorted(entries, key=lambda entry: (entry.is_symlink(), entry.name))


def scan_class_folder(
    folder: Path, root: Path, *, recursive: bool = False, visits: FolderVisits | None = None
) -> tuple[list[Path], list[Skipped]]:
    """List the video files in ``folder`` and report what else is there.

    Hidden files (``.DS_Store``, ``._x.avi``) are ignored without a report; a directory named
    like a video and a file with another suffix are reported. With ``recursive``, sub-folders
    are entered once per real directory (``visits``; a symlink loop is reported, not followed).

    Returns
    -------
    videos, skipped
        Video file paths in sorted order, and the reports.
    """
    videos: list[Path] = []
    skipped: list[Skipped] = []
    if recursive and visits is None:
        visits = FolderVisits(root)
        visits.first_time(folder, skipped)
    for entry in real_folders_first(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if is_video_path(entry):
                skipped.append(Skipped(relative_posix(entry, root), "a directory, not a video file"))
            elif recursive and visits is not None and visits.first_time(entry, skipped):
                sub_videos, sub_skipped = scan_class_folder(entry, root, recursive=True, visits=visits)
                videos += sub_videos
                skipped += sub_skipped
            continue
        if is_video_path(entry):
            videos.append(entry)
        else:
            skipped.append(Skipped(relative_posix(entry, root), "not a video file (unknown suffix)"))
    return videos, skipped


def index_videos_by_stem(
    root: Path, folders: Sequence[Path] | None = None, skipped: list[Skipped] | None = None
) -> dict[str, Path]:
    """Map file stem → path for every video file under ``folders`` (default: all of ``root``).

    Walked once so that a dataset of 300 000 files costs one scan, not one search per CSV row.
    The first path in sorted order wins where a stem repeats. Directories named like videos
    are included (and not entered) so that :func:`cheap_checks` reports them. Linked
    directories are followed, each real directory once (:class:`FolderVisits`); a loop or a
    second link is reported in ``skipped``.
    """
    found: dict[str, Path] = {}
    visits = FolderVisits(root)
    reports = skipped if skipped is not None else []
    for folder in folders if folders is not None else [root]:
        if not folder.is_dir() or (folder != root and not visits.first_time(folder, reports)):
            continue
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
            # A directory named like a video is indexed, not entered, so that the clip check
            # reports it as "a directory" rather than as a missing file.
            names = [p.name for p in real_folders_first(Path(dirpath) / d for d in dirnames if d[0] != ".")]
            dirnames[:] = [
                d
                for d in names
                if not is_video_path(Path(d)) and visits.first_time(Path(dirpath) / d, reports)
            ]
            for filename in sorted([*filenames, *(d for d in names if is_video_path(Path(d)))]):
                path = Path(dirpath) / filename
                if not filename.startswith(".") and is_video_path(path):
                    found.setdefault(path.stem, path)
    return found


def resolve_split_overlaps(
    dataset: str,
    overlaps: Mapping[tuple[Any, str], Mapping[str, str]],
    splits: dict[Any, dict[str, str]],
    paths: Mapping[Any, str],
    *,
    allow: bool,
) -> list[Note]:
    """Refuse clips that a split lists in two roles (a train/test leak), or drop that role.

    Parameters
    ----------
    overlaps
        ``{(clip key, split): {role: where it was listed}}`` for each clip listed in more than
        one role of a split.
    splits
        ``{clip key: {split: role}}``; with ``allow``, the overlapping splits are removed.
    paths
        Clip key → the path that reports name.
    allow
        The user's explicit ``allow_split_overlap``.

    Returns
    -------
    list[Note]
        One note per overlapping clip and split (only with ``allow``).

    Raises
    ------
    ActionLensError
        When there are overlaps and ``allow`` is false; it names the first clip and the lists.
    """
    if not overlaps:
        return []
    items = sorted(overlaps.items(), key=lambda item: (paths.get(item[0][0], str(item[0][0])), item[0][1]))

    def where(roles: Mapping[str, str]) -> str:
        return " and ".join(f"{source} ({role})" for role, source in roles.items())

    if not allow:
        (key, split), roles = items[0]
        raise ActionLensError(
            f"{dataset} import: {len(items)} clip(s) are listed in two roles of one split — a "
            f"train/test leak — e.g. {paths.get(key, key)} in {where(roles)} of split {split}; "
            "correct the split lists, or pass --allow-split-overlap to import them without a role "
            "in that split"
        )
    notes = []
    for (key, split), roles in items:
        splits.get(key, {}).pop(split, None)
        notes.append(
            Note(
                paths.get(key, str(key)),
                f"listed in {where(roles)} of split {split} (a train/test leak); imported without "
                f"a role in split {split}",
            )
        )
    return notes


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


def probe_notes(clips: Iterable[ClipRecord]) -> list[Note]:
    """The notes that probing left on clips (a file cut short …), as import notes."""
    return [Note(clip.path, clip.info.note) for clip in clips if clip.info is not None and clip.info.note]


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
    notes: Sequence[Note] = (),
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
    notes
        The importer's own notes (what it took in but changed); probing adds its own.
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
        notes=[*notes, *probe_notes(clips)],
    )
