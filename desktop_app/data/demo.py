"""The synthetic "motion verbs" demo dataset, rendered procedurally as real video files.

Nothing real can be downloaded where ActionLens is built, so the embedded default dataset is
drawn here: every class is a *verb + noun* phrase (``bounce ball`` → folder ``BounceBall``)
whose words are common GloVe words. The **verb** is a motion pattern that is only visible over
time (a trajectory, a rotation, a change of scale); the **noun** is an object shape with its own
silhouette. Colour, size, speed, direction, start position, background texture, camera pan and
jitter, distractor objects, lighting drift and pixel noise are drawn at random per clip, so no
single frame names the class. Because every verb occurs with several nouns and every noun with
several verbs, seed 001's analogy test (``bounce ball − ball + box ≈ bounce box``) and zero-shot
recognition of unseen verb–noun combinations are meaningful on it.

The files follow UCF101's layout exactly (``ClassName/v_ClassName_gXX_cYY.mp4``,
``classInd.txt``, ``trainlist01.txt``, ``testlist01.txt``, split by groups), so the UCF101
importer reads them; ``demo.json`` adds the class table (phrase, verb, noun) and the clip table.
With ``stories=True`` it also renders videos of 2–4 consecutive actions with one sentence per
action, as ActivityNet-Captions JSON, for seed 004's hierarchical video–paragraph model (see
:mod:`desktop_app.data.demo_stories`). With ``anomalies=rate`` a share of the clips gets an
impossible event mid-clip (seed 003 §VII's anomaly detection needs anomalies to find): the object
teleports, turns against gravity, or splits in two (:data:`ANOMALY_KINDS`); ``demo.json`` lists
them so that the catalog can mark them (:func:`demo_anomalies`).

Everything is deterministic by seed: the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.atomic import write_json
from desktop_app.data.demo_scenes import (
    ANOMALY_KINDS,
    DEMO_NOUNS,
    DEMO_VERBS,
    FOURCC,
    Anomaly,
    DemoPreset,
    RenderedVideo,
    class_name_for,
    demo_classes,
    get_preset,
    render_clip,
    write_video,
)
from desktop_app.data.records import ClassRecord
from desktop_app.errors import ActionLensError
from desktop_app.progress import NullProgress, Progress, SubProgress

#: Bumped whenever a change to the renderer changes the pixels a seed produces.
GENERATOR_VERSION = 2

#: Written first into the output folder: it marks the folder as ours while generation runs.
MARKER_NAME = ".actionlens-demo"
DEMO_INDEX_NAME = "demo.json"


# --------------------------------------------------------------------------------------------
# The dataset


def plan_anomalies(clips: Sequence[DemoClip], rate: float, seed: int) -> dict[str, Anomaly]:
    """Which clips of a plan get an impossible event: ``{clip path: Anomaly}``.

    ``round(rate · len(clips))`` clips (at least one when ``rate > 0``) drawn uniformly without
    replacement, deterministically from ``seed``, the kinds dealt out in turn
    (:data:`ANOMALY_KINDS`) over the drawn clips in plan order; the onset is a frame in the
    middle 35–65 % of the clip. Each keeps its class: the label it has as it starts.
    """
    if not 0.0 <= rate <= 0.5:
        raise ActionLensError(f"the anomaly rate must be between 0 and 0.5, not {rate}; try 0.05")
    if rate == 0 or not clips:
        return {}
    count = min(len(clips), max(1, round(rate * len(clips))))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 17]))
    chosen = np.sort(rng.choice(len(clips), size=count, replace=False))
    plan = {}
    for i, index in enumerate(chosen):
        clip = clips[int(index)]
        onset = int(round(clip.n_frames * float(rng.uniform(0.35, 0.65))))
        plan[clip.path] = Anomaly(ANOMALY_KINDS[i % len(ANOMALY_KINDS)], onset, int(rng.integers(2**31)))
    return plan


@dataclass(frozen=True)
class DemoClip:
    """One clip of the plan: where it goes, its class, group, clip number, frames and split."""

    path: str  # POSIX, relative to the dataset root
    class_name: str
    verb: str
    noun: str
    group: int
    clip: int
    n_frames: int
    split: str  # "train" or "test"
    #: The impossible event inserted in this clip (``anomalies=`` option), or ``None``.
    anomaly: Anomaly | None = None


@dataclass
class DemoSummary:
    """What :func:`generate_demo_dataset` wrote."""

    out: Path
    preset: str
    seed: int
    n_classes: int
    n_clips: int
    n_stories: int
    classes: list[ClassRecord]
    reused_clips: int = 0
    n_anomalies: int = 0


def _clip_rng(seed: int, verb: str, noun: str, group: int, clip: int) -> np.random.Generator:
    ss = np.random.SeedSequence([seed, 1, DEMO_VERBS.index(verb), DEMO_NOUNS.index(noun), group, clip])
    return np.random.default_rng(ss)


def plan_clips(preset: str | DemoPreset = "small", seed: int = 0, anomalies: float = 0.0) -> list[DemoClip]:
    """Every clip of a preset, in order, with its frame count (deterministic by ``seed``) and,
    for a share ``anomalies`` of them, an impossible event (:func:`plan_anomalies`)."""
    p = get_preset(preset)
    clips = []
    for class_name, verb, noun in demo_classes(p):
        for g in range(1, p.groups + 1):
            for c in range(1, p.clips_per_group + 1):
                length_rng = np.random.default_rng(
                    np.random.SeedSequence([seed, 3, DEMO_VERBS.index(verb), DEMO_NOUNS.index(noun), g, c])
                )
                n_frames = max(4, round(p.duration * float(length_rng.uniform(0.85, 1.15)) * p.fps))
                clips.append(
                    DemoClip(
                        path=f"{class_name}/v_{class_name}_g{g:02d}_c{c:02d}.mp4",
                        class_name=class_name,
                        verb=verb,
                        noun=noun,
                        group=g,
                        clip=c,
                        n_frames=n_frames,
                        split="test" if g > p.groups - p.test_groups else "train",
                    )
                )
    if anomalies:
        marked = plan_anomalies(clips, anomalies, seed)
        clips = [replace(c, anomaly=marked.get(c.path)) for c in clips]
    return clips


def render_demo_clip(clip: DemoClip, preset: str | DemoPreset, seed: int) -> RenderedVideo:
    """Render one planned clip exactly as :func:`generate_demo_dataset` writes it."""
    p = get_preset(preset)
    rng = _clip_rng(seed, clip.verb, clip.noun, clip.group, clip.clip)
    return render_clip(
        clip.verb,
        clip.noun,
        width=p.width,
        height=p.height,
        fps=p.fps,
        n_frames=clip.n_frames,
        rng=rng,
        anomaly=clip.anomaly,
    )


def _all_class_names() -> set[str]:
    return {class_name_for(v, n) for v in DEMO_VERBS for n in DEMO_NOUNS}


_INDEX_FILES = (
    "classInd.txt",
    "trainlist01.txt",
    "testlist01.txt",
    "stories/captions_train.json",
    "stories/captions_val.json",
)


def _prepare_output(out: Path, marker: dict[str, Any]) -> bool:
    """Make ``out`` ready; return True when its existing clips can be reused (same plan).

    A non-empty folder is only touched when it is a demo dataset of ours (it holds the marker or
    ``demo.json``); otherwise it is refused, so a typo never overwrites the user's data.
    """
    if out.exists() and not out.is_dir():
        raise ActionLensError(f"{out} is a file; choose a folder for the demo dataset")
    out.mkdir(parents=True, exist_ok=True)
    entries = list(out.iterdir())
    marker_path = out / MARKER_NAME
    ours = marker_path.exists() or (out / DEMO_INDEX_NAME).exists()
    if entries and not ours:
        raise ActionLensError(
            f"{out} is not empty and is not a demo dataset; choose an empty or new folder for the demo data"
        )
    # The index files go first, so that the folder never looks complete while it is rewritten.
    for name in (DEMO_INDEX_NAME, *_INDEX_FILES):
        (out / name).unlink(missing_ok=True)
    previous: dict[str, Any] = {}
    if marker_path.exists():
        try:
            previous = json.loads(marker_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
    if previous == marker:
        return True
    # A different plan: remove what an earlier generator wrote, and nothing else.
    known = _all_class_names() | {"stories"}
    for entry in entries:
        if entry.name in known and entry.is_dir():
            shutil.rmtree(entry)
    write_json(marker_path, marker)
    return False


def generate_demo_dataset(
    out: Path | str,
    preset: str = "small",
    seed: int = 0,
    stories: bool = False,
    progress: Progress | None = None,
    anomalies: float = 0.0,
) -> DemoSummary:
    """Render the synthetic motion-verbs dataset into ``out`` in UCF101's layout.

    Writes ``ClassName/v_ClassName_gXX_cYY.mp4`` for every class of the preset, then
    ``classInd.txt``, ``trainlist01.txt``, ``testlist01.txt`` (the last ``test_groups`` groups
    are the test split) and finally ``demo.json`` (generator version, preset, seed, class table
    and clip table). With ``stories`` it also writes ``stories/<video_id>.mp4`` and
    ActivityNet-Captions style ``stories/captions_train.json`` / ``captions_val.json``
    (import them with ``actionlens import activitynet OUT/stories``).

    Each video is written under a temp name and renamed, and the index files are written last,
    so an interrupted run never leaves a folder that looks complete; running again with the
    same preset and seed reuses the clips already written.

    Parameters
    ----------
    out
        Output folder: new, empty, or a previous demo dataset (which is replaced).
    preset
        A key of :data:`DEMO_PRESETS`.
    seed
        Everything random comes from it: the same seed gives byte-identical files.
    stories
        Also render the multi-action story videos and their paragraphs (seed 004).
    progress
        Progress/cancel handle.
    anomalies
        Share of the clips (0 … 0.5) that get an impossible event mid-clip (teleport,
        antigravity, split; :func:`plan_anomalies`), listed in ``demo.json["anomalies"]``. 0 (the
        default) writes exactly the dataset it always did.

    Returns
    -------
    DemoSummary

    Raises
    ------
    ActionLensError
        ``out`` is a non-empty folder that is not a demo dataset, or OpenCV cannot write video.
    TaskCancelled
        The progress handle asked to stop.
    """
    progress = progress or NullProgress()
    p = get_preset(preset)
    out = Path(out)
    marker = {
        "generator_version": GENERATOR_VERSION,
        "preset": p.name,
        "seed": int(seed),
        "stories": bool(stories),
        **({"anomalies": float(anomalies)} if anomalies else {}),
    }
    clips = plan_clips(p, seed, anomalies)
    reuse = _prepare_output(out, marker)
    for stale in out.glob("*/.*.tmp.mp4"):  # what a crash mid-write leaves (atomic_path)
        stale.unlink()

    clip_share = 1.0 if not stories else 0.75
    clip_progress = SubProgress(progress, 0.0, clip_share, "rendering clips")
    reused = 0
    for i, clip in enumerate(clips):
        progress.check_cancelled()
        target = out / clip.path
        if reuse and target.exists():
            reused += 1
        else:
            video = render_demo_clip(clip, p, seed)
            write_video(target, video.frames, p.fps)
        clip_progress.set_progress((i + 1) / len(clips), f"{i + 1}/{len(clips)} {clip.class_name}")

    story_entries: list[dict[str, Any]] = []
    if stories:
        from desktop_app.data.demo_stories import generate_stories

        story_entries = generate_stories(
            out, p, seed, reuse=reuse, progress=SubProgress(progress, clip_share, 1.0, "rendering stories")
        )

    classes = [
        ClassRecord(name=name, phrase=f"{verb} {noun}", verb=verb, noun=noun, index=k)
        for k, (name, verb, noun) in enumerate(demo_classes(p), start=1)
    ]
    index_of = {c.name: c.index for c in classes}
    _write_text(out / "classInd.txt", "".join(f"{c.index} {c.name}\n" for c in classes))
    _write_text(
        out / "trainlist01.txt",
        "".join(f"{c.path} {index_of[c.class_name]}\n" for c in clips if c.split == "train"),
    )
    _write_text(out / "testlist01.txt", "".join(f"{c.path}\n" for c in clips if c.split == "test"))
    write_json(
        out / DEMO_INDEX_NAME,
        {
            "format": "actionlens-demo",
            "generator_version": GENERATOR_VERSION,
            "preset": p.name,
            "seed": int(seed),
            "width": p.width,
            "height": p.height,
            "fps": p.fps,
            "fourcc": FOURCC,
            "classes": [
                {"index": c.index, "name": c.name, "phrase": c.phrase, "verb": c.verb, "noun": c.noun}
                for c in classes
            ],
            "clips": [
                {
                    "path": c.path,
                    "class": c.class_name,
                    "group": c.group,
                    "clip": c.clip,
                    "frames": c.n_frames,
                    "split": c.split,
                }
                for c in clips
            ],
            "stories": story_entries,
            **(
                {
                    "anomalies": [
                        {"path": c.path, "kind": c.anomaly.kind, "onset_frame": c.anomaly.onset}
                        for c in clips
                        if c.anomaly is not None
                    ]
                }
                if anomalies
                else {}
            ),
        },
    )
    progress.set_progress(1.0, f"demo dataset: {len(classes)} classes, {len(clips)} clips")
    return DemoSummary(
        out=out,
        preset=p.name,
        seed=int(seed),
        n_classes=len(classes),
        n_clips=len(clips),
        n_stories=len(story_entries),
        classes=classes,
        reused_clips=reused,
        n_anomalies=sum(c.anomaly is not None for c in clips),
    )


def _write_text(path: Path, text: str) -> None:
    from desktop_app.atomic import atomic_open

    with atomic_open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def read_demo_index(out: Path | str) -> dict[str, Any]:
    """Read ``demo.json`` of a demo dataset (raises :class:`ActionLensError` if absent or foreign)."""
    path = Path(out) / DEMO_INDEX_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ActionLensError(
            f"{path} not found; generate the demo dataset first (or it was interrupted)"
        ) from None
    except ValueError as err:
        raise ActionLensError(f"{path} is not valid JSON ({err}); generate the demo dataset again") from None
    if data.get("format") != "actionlens-demo" or not isinstance(data.get("generator_version"), int):
        raise ActionLensError(f"{path} is not an ActionLens demo index; generate the demo dataset again")
    if data["generator_version"] > GENERATOR_VERSION:
        raise ActionLensError(
            f"{path} was written by a newer ActionLens (demo generator {data['generator_version']}); update ActionLens"
        )
    return dict(data)


def demo_anomalies(out: Path | str) -> list[dict[str, Any]]:
    """The anomalous clips a demo dataset lists: ``[{"path", "kind", "onset_frame"}]`` (empty
    for a dataset generated without ``anomalies=``)."""
    entries = read_demo_index(out).get("anomalies", [])
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("path"), str) and e.get("kind") in ANOMALY_KINDS
        for e in entries
    ):
        raise ActionLensError(
            f"{Path(out) / DEMO_INDEX_NAME}: 'anomalies' is not a list of {{path, kind}}; generate the demo dataset again"
        )
    return list(entries)
