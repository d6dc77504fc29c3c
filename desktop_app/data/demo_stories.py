"""Story videos of the demo dataset: 2–4 consecutive actions and one sentence per action.

Seed 004 (Hierarchical Sequence Embedding) learns from videos made of clips and paragraphs made
of sentences, one sentence per clip, as in ActivityNet Captions. This module renders such pairs
from the demo's verbs and nouns: a video in which, say, a ball bounces and then rolls, and
``"A red ball bounces to the right. Then it rolls to the left."``, with each sentence's
``[start, end]`` seconds. The files follow ActivityNet Captions' JSON::

    {"v_story0001": {"duration": 6.2, "timestamps": [[0.1, 2.3], [2.7, 4.9]],
                     "sentences": ["A red ball bounces to the right.", "Then it rolls to the left."]}}

Between two actions there is a short gap (not covered by any timestamp) in which the same object
glides to where its next action starts, or one object leaves and the next appears.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.atomic import write_json
from desktop_app.data.demo_scenes import (
    DEMO_VERBS,
    DemoPreset,
    ObjectStyle,
    Scene,
    Trajectory,
    get_preset,
    motion_trajectory,
    random_distractors,
    random_scene,
    random_style,
    render_objects,
    write_video,
)
from desktop_app.progress import NullProgress, Progress

#: How each verb reads in a sentence; ``{direction}`` comes from the trajectory's facts.
_VERB_PHRASES: dict[str, tuple[str, ...]] = {
    "bounce": ("bounces to the {direction}", "bounces across the screen"),
    "roll": ("rolls to the {direction}", "rolls along the ground"),
    "spin": ("spins {direction}", "spins in place"),
    "slide": ("slides to the {direction}", "slides and stops"),
    "fall": ("falls down", "falls to the ground"),
    "rise": ("rises up", "rises slowly"),
    "swing": ("swings back and forth", "swings like a pendulum"),
    "shake": ("shakes in place", "shakes quickly"),
    "orbit": ("orbits {direction}", "orbits in a circle"),
    "jump": ("jumps up and down", "jumps in place"),
    "grow": ("grows bigger", "grows larger"),
    "shrink": ("shrinks", "shrinks smaller"),
    "zigzag": ("zigzags to the {direction}", "zigzags across the screen"),
    "flip": ("flips over", "flips around"),
}
assert set(_VERB_PHRASES) == set(DEMO_VERBS)

_THEN = ("Then", "After that,", "Next")
_FINALLY = ("Finally,", "Then", "At the end,")


@dataclass(frozen=True)
class StorySegment:
    """One action of a story: frames ``[start, end)``, what happens, and its sentence."""

    start: int
    end: int
    verb: str
    noun: str
    actor: int
    sentence: str


@dataclass
class StoryPlan:
    """Everything about a story video except its pixel noise (cheap to compute)."""

    video_id: str
    n_frames: int
    fps: float
    scene: Scene
    objects: list[tuple[ObjectStyle, Trajectory]]  # drawn in order: distractors first
    segments: list[StorySegment]

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    def timestamps(self) -> list[list[float]]:
        return [[round(s.start / self.fps, 2), round(s.end / self.fps, 2)] for s in self.segments]

    def sentences(self) -> list[str]:
        return [s.sentence for s in self.segments]


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _sentence(
    rng: np.random.Generator, i: int, n: int, verb: str, subject: str, facts: dict[str, str]
) -> str:
    phrase = _pick(rng, _VERB_PHRASES[verb])
    if "{direction}" in phrase:
        phrase = (
            phrase.format(direction=facts["direction"]) if "direction" in facts else _VERB_PHRASES[verb][1]
        )
    if i == 0:
        text = f"{subject} {phrase}."
    else:
        lead = _pick(rng, _FINALLY if i == n - 1 and n > 2 else _THEN)
        text = f"{lead} {subject} {phrase}."
    return text[0].upper() + text[1:]


def plan_story(preset: str | DemoPreset, seed: int, index: int) -> StoryPlan:
    """Plan story ``index`` of a preset: its actions, trajectories, scene and paragraph."""
    p = get_preset(preset)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2, index, 0]))
    n_actions = int(rng.integers(2, 5))
    fps = p.fps

    def frames(seconds: float) -> int:
        return max(3, round(seconds * fps))

    lead = frames(rng.uniform(0.0, 0.3))
    spans = []
    cursor = lead
    for i in range(n_actions):
        if i:
            cursor += frames(rng.uniform(0.25, 0.5))
        length = frames(rng.uniform(0.7, 1.0) * p.duration)
        spans.append((cursor, cursor + length))
        cursor += length
    n_frames = cursor + frames(rng.uniform(0.0, 0.3))

    scene = random_scene(p.width, p.height, n_frames, rng)
    actors: list[tuple[ObjectStyle, Trajectory]] = []
    segments: list[StorySegment] = []
    used_nouns: list[str] = []
    previous_verb = ""
    for i, (start, end) in enumerate(spans):
        new_actor = i == 0 or rng.random() < 0.4
        if new_actor:
            fresh = [n for n in p.nouns if n not in used_nouns] or [n for n in p.nouns if n != used_nouns[-1]]
            noun = _pick(rng, fresh)
            used_nouns.append(noun)
            radius = float(rng.uniform(0.1, 0.13) * p.height)
            style = random_style(noun, radius, scene.luma, rng)
            empty = Trajectory.hold(0.0, 0.0, 0.0, 1.0, 1.0, n_frames)
            empty.visible[:] = False
            actors.append((style, empty))
        style, track = actors[-1]
        verbs = [v for v in p.verbs if new_actor or v != previous_verb]
        verb = _pick(rng, verbs)
        previous_verb = verb
        motion = motion_trajectory(verb, end - start, fps, p.width, p.height, style.radius, rng)
        _place(track, motion, start)
        if new_actor:
            if style.shape in used_nouns[:-1]:
                article = "another"
            else:
                article = "an" if style.colour_name[0] in "aeiou" else "a"
            subject = f"{article} {style.colour_name} {style.shape}"
        else:
            subject = _pick(rng, ("it", f"the {style.shape}"))
        segments.append(
            StorySegment(
                start,
                end,
                verb,
                style.shape,
                len(actors) - 1,
                _sentence(rng, i, n_actions, verb, subject, motion.facts),
            )
        )

    _fill_gaps(actors, segments, n_frames)
    story_verbs = [s.verb for s in segments]
    main_radius = actors[0][0].radius
    distractors = random_distractors(
        int(rng.integers(0, 2)), story_verbs, n_frames, fps, p.width, p.height, main_radius, scene.luma, rng
    )
    return StoryPlan(f"v_story{index:04d}", n_frames, fps, scene, [*distractors, *actors], segments)


def _place(track: Trajectory, part: Trajectory, start: int) -> None:
    end = start + len(part)
    for name in ("x", "y", "angle", "scale_x", "scale_y"):
        getattr(track, name)[start:end] = getattr(part, name)
    track.visible[start:end] = True


def _hold(track: Trajectory, start: int, end: int, pose: tuple[float, float, float, float, float]) -> None:
    if end > start:
        _place(track, Trajectory.hold(*pose, end - start), start)


def _fill_gaps(
    actors: list[tuple[ObjectStyle, Trajectory]], segments: list[StorySegment], n_frames: int
) -> None:
    """Fill the frames between actions: glide the same object, or swap objects halfway."""
    first = actors[segments[0].actor][1]
    _hold(first, 0, segments[0].start, first.pose(segments[0].start))
    for a, b in itertools.pairwise(segments):
        track_a, track_b = actors[a.actor][1], actors[b.actor][1]
        gap = b.start - a.end
        end_pose, start_pose = track_a.pose(a.end - 1), track_b.pose(b.start)
        if a.actor == b.actor:
            w = (np.arange(1, gap + 1) / (gap + 1))[:, None]
            poses = (1 - w) * np.array(end_pose) + w * np.array(start_pose)
            x, y, angle, sx, sy = poses.T
            glide = Trajectory(x, y, angle, sx, sy, np.ones(gap, dtype=bool))
            _place(track_a, glide, a.end)
        else:
            half = a.end + gap // 2
            _hold(track_a, a.end, half, end_pose)
            _hold(track_b, half, b.start, start_pose)
    last = segments[-1]
    track = actors[last.actor][1]
    _hold(track, last.end, n_frames, track.pose(last.end - 1))


def render_story(plan: StoryPlan, seed: int, index: int) -> np.ndarray:
    """The frames of a planned story, ``(T, H, W, 3)`` uint8 BGR."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2, index, 1]))
    height, width = (
        plan.scene.background.shape[0] - 2 * plan.scene.margin,
        plan.scene.background.shape[1] - 2 * plan.scene.margin,
    )
    return render_objects(width, height, plan.fps, plan.scene, plan.objects, rng).frames


def generate_stories(
    out: Path,
    preset: str | DemoPreset,
    seed: int,
    reuse: bool = False,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Render the preset's story videos and their captions JSON into ``out/stories``.

    The last quarter of the stories (at least one) is the ``val`` split:
    ``captions_train.json`` and ``captions_val.json`` map each video id to
    ``{"duration", "timestamps", "sentences"}`` as ActivityNet Captions does.

    Returns
    -------
    list of dict
        One entry per story (``video_id``, ``path``, ``split``, ``frames``, ``duration``) for
        ``demo.json``.
    """
    progress = progress or NullProgress()
    p = get_preset(preset)
    n_val = max(1, p.stories // 4) if p.stories > 1 else 0
    captions: dict[str, dict[str, Any]] = {"train": {}, "val": {}}
    entries = []
    for index in range(1, p.stories + 1):
        progress.check_cancelled()
        plan = plan_story(p, seed, index)
        rel = f"stories/{plan.video_id}.mp4"
        target = out / rel
        if not (reuse and target.exists()):
            write_video(target, render_story(plan, seed, index), p.fps)
        split = "val" if index > p.stories - n_val else "train"
        captions[split][plan.video_id] = {
            "duration": round(plan.duration, 3),
            "timestamps": plan.timestamps(),
            "sentences": plan.sentences(),
        }
        entries.append(
            {
                "video_id": plan.video_id,
                "path": rel,
                "split": split,
                "frames": plan.n_frames,
                "duration": round(plan.duration, 3),
            }
        )
        progress.set_progress(index / p.stories, f"{index}/{p.stories} {plan.video_id}")
    write_json(out / "stories" / "captions_train.json", captions["train"])
    write_json(out / "stories" / "captions_val.json", captions["val"])
    return entries
