"""ActivityNet Captions: videos with paragraphs of time-stamped sentences (seed 004's data).

A captions JSON maps a video id to ``{"duration": s, "timestamps": [[start, end], …],
"sentences": […]}``. The official files are ``train.json``, ``val_1.json`` and ``val_2.json``
(some mirrors name them ``captions_train.json`` …); they are looked for in ``src`` and
``src/captions/`` unless option ``json`` names them. Videos are found anywhere under ``src``
(``src/``, ``src/videos/``, ``src/stories/`` …) as ``{video_id}.<video suffix>``, with or
without the ``v_`` prefix that the JSON ids carry.

Decisions
---------
* ``val_1.json`` and ``val_2.json`` caption the same videos twice (two annotators). The first
  file read wins (order: train, val_1, val_2, then others by name); the later paragraph is
  reported in ``skipped`` as a second caption set.
* The split role comes from the file name: ``train``, ``val`` or ``test`` under split
  ``"official"``.
* A video on disk that no JSON names is reported as ``not listed in any captions JSON``.
"""

from __future__ import annotations

import json
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
from desktop_app.data.records import Caption, ClipRecord, ImportResult, Skipped
from desktop_app.errors import ActionLensError
from desktop_app.progress import Progress

DATASET = "activitynet"
_OFFICIAL_ORDER = ("train", "val_1", "val_2")


def _json_order(path: Path) -> tuple[int, str]:
    stem = path.stem.lower().removeprefix("captions_")
    rank = _OFFICIAL_ORDER.index(stem) if stem in _OFFICIAL_ORDER else len(_OFFICIAL_ORDER)
    return rank, path.name


def _json_files(root: Path, option: Any) -> list[Path]:
    if option is not None:
        named = [option] if isinstance(option, str | Path) else list(option)
        given = [Path(p).expanduser().resolve() for p in named]
        for path in given:
            if not path.is_file():
                raise ActionLensError(
                    f"activitynet import: captions JSON {path} not found; check the json option"
                )
        return sorted(given, key=_json_order)
    files: list[Path] = []
    for folder in (root, root / "captions"):
        if folder.is_dir():
            files += [
                p
                for p in folder.glob("*.json")
                if p.stem.lower() in _OFFICIAL_ORDER or p.stem.lower().startswith("captions_")
            ]
    if not files:
        raise ActionLensError(
            f"activitynet import: no captions JSON (train.json, val_1.json, val_2.json or captions_*.json) "
            f"in {root} or {root / 'captions'}; pass json=PATH"
        )
    return sorted(files, key=_json_order)


def _role(path: Path) -> str | None:
    stem = path.stem.lower()
    for role in ("train", "val", "test"):
        if role in stem:
            return role
    return None


def _paragraph(entry: Any) -> list[Caption] | str:
    """The captions of one JSON entry, or the reason it cannot be read."""
    if not isinstance(entry, dict):
        return "entry is not an object"
    timestamps, sentences = entry.get("timestamps"), entry.get("sentences")
    if not isinstance(timestamps, list) or not isinstance(sentences, list):
        return "entry lacks timestamps or sentences"
    if len(timestamps) != len(sentences):
        return f"{len(timestamps)} timestamps but {len(sentences)} sentences"
    if not sentences:
        return "no sentences"
    captions: list[Caption] = []
    for stamp, sentence in zip(timestamps, sentences, strict=True):
        try:
            start, end = float(stamp[0]), float(stamp[1])
        except (TypeError, ValueError, IndexError):
            return f"malformed timestamp {stamp!r}"
        if not (math.isfinite(start) and math.isfinite(end)) or not isinstance(sentence, str):
            return f"malformed timestamp {stamp!r} or sentence"
        # A few official stamps run backwards; the segment they mean is the same.
        captions.append(Caption(start=min(start, end), end=max(start, end), sentence=sentence.strip()))
    return captions


def import_activitynet(
    src: Path,
    *,
    progress: Progress | None = None,
    probe: bool = True,
    **options: Any,
) -> ImportResult:
    """Import ActivityNet Captions videos with their time-stamped paragraphs.

    Parameters
    ----------
    src
        Folder holding the videos (and, by default, the captions JSON files).
    progress
        Progress/cancel handle.
    probe
        Probe every clip (fills ``ClipRecord.info``; unreadable clips go to ``skipped``).
    **options
        ``json``: a captions JSON path or a list of them; ``max_workers``: probing threads
        (``label_table`` is accepted for symmetry; these clips have no classes).

    Returns
    -------
    ImportResult
        Clips with ``class_name`` None, ``captions`` filled and ``splits`` as
        ``{"official": "train"}``; no classes.

    Raises
    ------
    ActionLensError
        When no captions JSON is found, or one is not valid JSON of the expected shape.
    """
    reject_unknown_options(DATASET, options, {"json"})
    root = resolve_source(src, DATASET)
    json_files = _json_files(root, options.get("json"))
    videos = index_videos_by_stem(root)
    skipped: list[Skipped] = []
    clips: list[ClipRecord] = []
    taken_from: dict[str, str] = {}  # video id -> JSON file its captions came from
    used_stems: set[str] = set()
    reported_missing: set[str] = set()
    listed_ids: set[str] = set()

    for json_file in json_files:
        try:
            annotations = json.loads(json_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ActionLensError(
                f"activitynet import: cannot read {json_file}: {err}; give a captions JSON"
            ) from err
        if not isinstance(annotations, dict):
            raise ActionLensError(
                f"activitynet import: {json_file} is not a captions JSON (expected an object of video ids)"
            )
        role = _role(json_file)
        listed_ids.update(annotations)
        for video_id, entry in annotations.items():
            if video_id in taken_from:
                skipped.append(
                    Skipped(
                        f"{json_file.name}:{video_id}", f"second caption set; kept {taken_from[video_id]}"
                    )
                )
                continue
            paragraph = _paragraph(entry)
            if isinstance(paragraph, str):
                skipped.append(Skipped(f"{json_file.name}:{video_id}", paragraph))
                continue
            bare = video_id.removeprefix("v_")
            stem = next((s for s in (video_id, bare, f"v_{bare}") if s in videos), None)
            if stem is None:
                if video_id not in reported_missing:
                    reported_missing.add(video_id)
                    skipped.append(Skipped(f"{video_id}.mp4", f"listed in {json_file.name} but missing"))
                continue
            taken_from[video_id] = json_file.name
            used_stems.add(stem)
            clips.append(
                ClipRecord(
                    name=video_id,
                    path=relative_posix(videos[stem], root),
                    class_name=None,
                    splits={"official": role} if role else {},
                    captions=paragraph,
                )
            )

    for stem, video in videos.items():
        bare = stem.removeprefix("v_")
        if stem not in used_stems and not {stem, bare, f"v_{bare}"} & listed_ids:
            skipped.append(Skipped(relative_posix(video, root), "not listed in any captions JSON"))
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
