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
* Stamps are checked against the JSON's ``duration`` and, after probing, the file's length:
  negative starts are clamped to 0, ends past the video clamped to its end, sentences that start
  after the end dropped, and each fix noted (``ImportResult.notes``). Overlapping sentences are
  kept (dense captions overlap by design) and noted. A paragraph with no sentence inside the
  video is skipped.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from desktop_app.data.importers._common import (
    finish_import,
    index_videos_by_stem,
    reject_unknown_options,
    relative_posix,
    resolve_source,
)
from desktop_app.data.records import Caption, ClipRecord, ImportResult, Note, Skipped
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


def _paragraph(entry: Any) -> tuple[list[Caption], list[str]] | str:
    """The captions of one JSON entry and what was fixed in them, or the reason it cannot be read.

    Stamps are checked against the entry's ``duration`` (when it has a positive one): a
    negative start is clamped to 0, an end past the duration is clamped to it, and a sentence
    that starts at or after the end of the video is dropped; each fix is returned as a note.
    """
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
        except (TypeError, ValueError, IndexError, KeyError, OverflowError):
            return f"malformed timestamp {stamp!r}"
        if not (math.isfinite(start) and math.isfinite(end)) or not isinstance(sentence, str):
            return f"malformed timestamp {stamp!r} or sentence"
        # A few official stamps run backwards; the segment they mean is the same.
        captions.append(Caption(start=min(start, end), end=max(start, end), sentence=sentence.strip()))
    try:
        duration = float(entry.get("duration") or 0.0)
    except (TypeError, ValueError, OverflowError):
        duration = 0.0
    captions, notes = check_captions(captions, duration if math.isfinite(duration) and duration > 0 else None)
    if not captions:
        return "no sentence lies inside the video (" + "; ".join(notes) + ")"
    return captions, notes


def check_captions(captions: list[Caption], duration: float | None) -> tuple[list[Caption], list[str]]:
    """Clamp caption stamps into ``[0, duration]`` and say what was clamped, dropped or overlaps.

    Dense captions may overlap by design (several events at once), so overlapping sentences
    are kept and only counted in a note.

    Returns
    -------
    captions, notes
        The kept captions (in order) and one-line notes on what was changed.
    """
    notes: list[str] = []
    negative = sum(c.start < 0 for c in captions)
    if negative:
        notes.append(f"{negative} timestamp(s) start before 0 s; clamped to 0 s")
        captions = [replace(c, start=max(c.start, 0.0), end=max(c.end, 0.0)) for c in captions]
    if duration is not None:
        outside = [c for c in captions if c.start >= duration]
        if outside:
            notes.append(
                f"{len(outside)} sentence(s) start at or after the end of the video ({duration:g} s); dropped"
            )
            captions = [c for c in captions if c.start < duration]
        late = sum(c.end > duration for c in captions)
        if late:
            notes.append(
                f"{late} timestamp(s) end after the video ({duration:g} s); clamped to {duration:g} s"
            )
            captions = [replace(c, end=min(c.end, duration)) for c in captions]
    ordered = sorted(captions, key=lambda c: (c.start, c.end))
    overlapping = sum(b.start < a.end for a, b in itertools.pairwise(ordered))
    if overlapping:
        notes.append(f"{overlapping} sentence(s) overlap the one before; kept as they are")
    return captions, notes


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
    skipped: list[Skipped] = []
    notes: list[Note] = []
    videos = index_videos_by_stem(root, skipped=skipped)
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
        except RecursionError as err:  # "[[[[…" 100 000 deep: not a captions file
            raise ActionLensError(
                f"activitynet import: {json_file} is nested too deeply to be a captions JSON; "
                "give a captions JSON"
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
            read = _paragraph(entry)
            if isinstance(read, str):
                skipped.append(Skipped(f"{json_file.name}:{video_id}", read))
                continue
            paragraph, fixed = read
            notes += [Note(f"{json_file.name}:{video_id}", text) for text in fixed]
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
    result = finish_import(
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
    # The JSON's duration may not be the file's: check the stamps against the probed length too.
    for clip in result.clips:
        if clip.info is None:
            continue
        kept, fixed = check_captions(clip.captions, clip.info.duration)
        fixed = [text for text in fixed if "overlap" not in text]  # already noted from the JSON
        if fixed:
            clip.captions = kept
            result.notes += [Note(clip.path, f"{text} (length of the video file)") for text in fixed]
    return result
