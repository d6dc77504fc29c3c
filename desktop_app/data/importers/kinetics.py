"""Kinetics (400/600/700): the official CSV and clips named ``{youtube_id}_{start:06d}_{end:06d}``.

The CSV header is ``label,youtube_id,time_start,time_end,split`` (extra columns such as
``is_cc`` are ignored). Clips may lie under ``src/<split>/<label>/``, ``src/<label>/`` or flat in
``src``, with any video suffix: every video under ``src`` is indexed by file stem once.

Decisions
---------
* Option ``csv`` names one CSV or a list of them; by default every ``*.csv`` directly in ``src``
  whose header has the Kinetics columns is read (the official download ships ``train.csv``,
  ``validate.csv`` and ``test.csv`` side by side).
* A CSV without a ``split`` column takes its role from its file name (``train``, ``val`` /
  ``validate``, ``test``); the roles are normalised to ``train`` / ``val`` / ``test``.
* Test CSVs without a ``label`` column give clips with ``class_name`` None.
* A row whose video is not on disk is reported and skipped; a video on disk that no row names
  is reported as ``not listed in the CSV``; a repeated row is reported once as a duplicate.
* A row with a split other than train/val/test (or their aliases), or with times that are not
  finite, non-negative seconds (``inf``, ``nan``, end before start) is reported and skipped;
  the other rows are imported.
* CSVs are read as ``utf-8-sig``: a byte-order mark (spreadsheet exports) is not part of the
  first column's name.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from desktop_app.data.importers._common import (
    finish_import,
    index_videos_by_stem,
    reject_unknown_options,
    relative_posix,
    resolve_source,
)
from desktop_app.data.records import ClipRecord, ImportResult, Skipped
from desktop_app.errors import ActionLensError
from desktop_app.progress import Progress

DATASET = "kinetics"
_REQUIRED = {"youtube_id", "time_start", "time_end"}
_ROLE_ALIASES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validate": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
}


def _role_from_name(path: Path) -> str | None:
    stem = path.stem.lower()
    for alias, role in sorted(_ROLE_ALIASES.items(), key=lambda item: -len(item[0])):
        if alias in stem:
            return role
    return None


# utf-8-sig: a CSV saved by a spreadsheet starts with a byte-order mark, which would otherwise
# become part of the first column's name ("\ufefflabel") and lose every label.
_ENCODING = "utf-8-sig"


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding=_ENCODING, errors="replace") as stream:
        return [column.strip() for column in next(csv.reader(stream), [])]


def _csv_files(root: Path, option: Any) -> list[Path]:
    if option is not None:
        named = [option] if isinstance(option, str | Path) else list(option)
        files = [Path(p).expanduser().resolve() for p in named]
        for path in files:
            if not path.is_file():
                raise ActionLensError(f"kinetics import: CSV {path} not found; check the csv option")
        return files
    files = [p for p in sorted(root.glob("*.csv")) if _REQUIRED <= set(_header(p))]
    if not files:
        raise ActionLensError(
            f"kinetics import: no Kinetics CSV (with columns label,youtube_id,time_start,time_end) in {root}; "
            "pass csv=PATH"
        )
    return files


def _clip_stem(row: dict[str, str]) -> str:
    """``{youtube_id}_{start:06d}_{end:06d}``; ``ValueError`` for times that are not seconds."""
    start, end = float(row["time_start"]), float(row["time_end"])
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < start:
        raise ValueError(f"time_start {row['time_start']!r} / time_end {row['time_end']!r}")
    youtube_id = row["youtube_id"].strip()
    if not youtube_id:
        raise ValueError("empty youtube_id")
    return f"{youtube_id}_{round(start):06d}_{round(end):06d}"


def import_kinetics(
    src: Path,
    *,
    progress: Progress | None = None,
    probe: bool = True,
    **options: Any,
) -> ImportResult:
    """Import Kinetics clips that the official CSV lists and that are on disk.

    Parameters
    ----------
    src
        Folder holding the downloaded clips (in any of the layouts above).
    progress
        Progress/cancel handle.
    probe
        Probe every clip (fills ``ClipRecord.info``; unreadable clips go to ``skipped``).
    **options
        ``csv``: a CSV path or a list of them (default: the Kinetics CSVs in ``src``);
        ``max_workers``: probing threads; ``label_table``: a
        ``LabelTable`` for class-name normalisation.

    Returns
    -------
    ImportResult
        ``splits`` as ``{"official": "train"}``.

    Raises
    ------
    ActionLensError
        When no CSV is found or a CSV lacks the ``youtube_id``/``time_start``/``time_end`` columns.
    """
    reject_unknown_options(DATASET, options, {"csv"})
    root = resolve_source(src, DATASET)
    csv_files = _csv_files(root, options.get("csv"))
    skipped: list[Skipped] = []
    videos = index_videos_by_stem(root, skipped=skipped)
    clips: list[ClipRecord] = []
    seen: set[str] = set()

    for csv_file in csv_files:
        missing_columns = _REQUIRED - set(_header(csv_file))
        if missing_columns:
            raise ActionLensError(
                f"kinetics import: {csv_file} lacks column(s) {', '.join(sorted(missing_columns))}; "
                "give the official Kinetics CSV"
            )
        file_role = _role_from_name(csv_file)
        with csv_file.open(newline="", encoding=_ENCODING, errors="replace") as stream:
            reader = csv.DictReader(stream)
            reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
            for line_number, row in enumerate(reader, start=2):
                where = f"{csv_file.name}:{line_number}"
                try:
                    stem = _clip_stem(row)
                except (TypeError, ValueError, AttributeError, OverflowError) as err:
                    detail = f": {err}" if isinstance(err, ValueError) and str(err) else ""
                    skipped.append(Skipped(where, f"malformed row (youtube_id/time_start/time_end{detail})"))
                    continue
                raw_role = (row.get("split") or "").strip().lower()
                role = _ROLE_ALIASES.get(raw_role) if raw_role else file_role
                if raw_role and role is None:
                    skipped.append(
                        Skipped(where, f"split {raw_role!r} is not train, val or test (or an alias of one)")
                    )
                    continue
                label = (row.get("label") or "").strip() or None
                if stem in seen:
                    skipped.append(Skipped(where, f"duplicate row for clip {stem}"))
                    continue
                seen.add(stem)
                video = videos.get(stem)
                if video is None:
                    skipped.append(Skipped(f"{stem}.mp4", f"listed in {csv_file.name} but missing"))
                    continue
                clips.append(
                    ClipRecord(
                        name=stem,
                        path=relative_posix(video, root),
                        class_name=label,
                        splits={"official": role} if role else {},
                    )
                )

    for stem, video in videos.items():
        if stem not in seen:
            skipped.append(Skipped(relative_posix(video, root), "not listed in the CSV"))
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
