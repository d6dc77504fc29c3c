"""The demo's synthetic world: its verbs and nouns, presets, motions, shapes, scenes and renderer.

What :mod:`desktop_app.data.demo` (the clips of the dataset) and
:mod:`desktop_app.data.demo_stories` (videos of several actions in a row) both draw with: a
*verb* is a motion pattern (:func:`motion_trajectory`), a *noun* an object's silhouette, and
:func:`render_objects` draws objects moving along their trajectories over a random
:class:`Scene`; :func:`apply_anomaly` puts an impossible event into a trajectory. Everything is
deterministic by the random generator it is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.atomic import atomic_path
from desktop_app.errors import ActionLensError

#: The video codec of every demo file.
FOURCC = "mp4v"

#: Motion patterns, each a common English verb (all in GloVe 6B).
DEMO_VERBS: tuple[str, ...] = (
    "bounce",
    "roll",
    "spin",
    "slide",
    "fall",
    "rise",
    "swing",
    "shake",
    "orbit",
    "jump",
    "grow",
    "shrink",
    "zigzag",
    "flip",
)

#: Object appearances, each a common English noun (all in GloVe 6B).
DEMO_NOUNS: tuple[str, ...] = ("ball", "box", "star", "ring", "wheel", "coin", "balloon", "leaf")


# --------------------------------------------------------------------------------------------
# Presets


@dataclass(frozen=True)
class DemoPreset:
    """How big a demo dataset to render.

    Attributes
    ----------
    name
        Registry key (``"tiny"``, ``"small"`` …).
    verbs, nouns
        The verbs and nouns the classes are built from.
    nouns_per_verb
        How many nouns each verb is paired with (``len(nouns)`` gives the full grid).
    groups, clips_per_group
        UCF101-style groups (``gXX``) and clips within a group (``cYY``) per class.
    test_groups
        The last ``test_groups`` groups form the test split.
    width, height, fps
        Frame size in pixels and frame rate of every video.
    duration
        Mean clip length in seconds; each clip varies by ±15 %.
    stories
        How many story videos ``stories=True`` renders (the last quarter is the val split).
    """

    name: str
    verbs: tuple[str, ...]
    nouns: tuple[str, ...]
    nouns_per_verb: int
    groups: int
    clips_per_group: int
    test_groups: int
    width: int
    height: int
    fps: float
    duration: float
    stories: int
    description: str = ""

    @property
    def clips_per_class(self) -> int:
        return self.groups * self.clips_per_group


DEMO_PRESETS: dict[str, DemoPreset] = {
    p.name: p
    for p in (
        DemoPreset(
            name="tiny",
            verbs=("rise", "fall", "spin"),
            nouns=("ball", "box"),
            nouns_per_verb=2,
            groups=4,
            clips_per_group=1,
            test_groups=1,
            width=64,
            height=48,
            fps=15.0,
            duration=1.5,
            stories=4,
            description="6 classes × 4 clips, 64×48, 1.5 s: for tests",
        ),
        DemoPreset(
            name="small",
            verbs=DEMO_VERBS,
            nouns=DEMO_NOUNS,
            nouns_per_verb=3,
            groups=4,
            clips_per_group=4,
            test_groups=1,
            width=160,
            height=120,
            fps=15.0,
            duration=2.5,
            stories=48,
            description="42 classes × 16 clips, 160×120, 2.5 s: the default demo workspace",
        ),
        DemoPreset(
            name="medium",
            verbs=DEMO_VERBS,
            nouns=DEMO_NOUNS,
            nouns_per_verb=5,
            groups=5,
            clips_per_group=4,
            test_groups=1,
            width=224,
            height=168,
            fps=15.0,
            duration=3.0,
            stories=200,
            description="70 classes × 20 clips, 224×168, 3 s",
        ),
        DemoPreset(
            name="large",
            verbs=DEMO_VERBS,
            nouns=DEMO_NOUNS,
            nouns_per_verb=len(DEMO_NOUNS),
            groups=8,
            clips_per_group=3,
            test_groups=2,
            width=320,
            height=240,
            fps=25.0,
            duration=3.0,
            stories=600,
            description="112 classes × 24 clips, 320×240, 3 s at 25 fps: for benchmarks",
        ),
    )
}


def get_preset(preset: str | DemoPreset) -> DemoPreset:
    """Look a preset up by name (a :class:`DemoPreset` passes through)."""
    if isinstance(preset, DemoPreset):
        return preset
    try:
        return DEMO_PRESETS[preset]
    except KeyError:
        raise ActionLensError(
            f"unknown demo preset {preset!r}; choose one of {', '.join(DEMO_PRESETS)}"
        ) from None


def class_name_for(verb: str, noun: str) -> str:
    """UCF101-style CamelCase folder name of a verb–noun class (``BounceBall``)."""
    return verb.capitalize() + noun.capitalize()


def demo_classes(preset: str | DemoPreset = "small") -> list[tuple[str, str, str]]:
    """The classes of a preset as ``(class_name, verb, noun)``, sorted by class name.

    Verb ``i`` takes the ``nouns_per_verb`` nouns that follow ``i · nouns_per_verb`` cyclically
    in the preset's noun list, so the pairs are spread evenly: every verb has
    ``nouns_per_verb`` nouns and every noun about ``len(verbs) · nouns_per_verb / len(nouns)``
    verbs, while many verb–noun combinations stay unseen for zero-shot tests.
    """
    p = get_preset(preset)
    k = min(p.nouns_per_verb, len(p.nouns))
    pairs = set()
    for i, verb in enumerate(p.verbs):
        for j in range(k):
            pairs.add((verb, p.nouns[(i * k + j) % len(p.nouns)]))
    return sorted((class_name_for(v, n), v, n) for v, n in pairs)


# --------------------------------------------------------------------------------------------
# Motion: one trajectory per verb


@dataclass
class Trajectory:
    """Per-frame pose of one object, in pixels of the frame.

    ``angle`` is in radians, clockwise on screen; ``scale_x``/``scale_y`` multiply the object's
    size along its own axes (a negative ``scale_x`` shows its back, as in a flip);
    ``visible`` hides it on frames where it is off stage.
    """

    x: np.ndarray
    y: np.ndarray
    angle: np.ndarray
    scale_x: np.ndarray
    scale_y: np.ndarray
    visible: np.ndarray
    #: Words a sentence may use about this motion (``{"direction": "left"}``).
    facts: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.x)

    @classmethod
    def hold(cls, x: float, y: float, angle: float, sx: float, sy: float, n: int) -> Trajectory:
        """An object that stays still for ``n`` frames."""
        full = np.full
        return cls(full(n, x), full(n, y), full(n, angle), full(n, sx), full(n, sy), np.ones(n, dtype=bool))

    def pose(self, i: int) -> tuple[float, float, float, float, float]:
        """``(x, y, angle, scale_x, scale_y)`` of frame ``i`` (negative counts from the end)."""
        return (
            float(self.x[i]),
            float(self.y[i]),
            float(self.angle[i]),
            float(self.scale_x[i]),
            float(self.scale_y[i]),
        )


def _side(rng: np.random.Generator) -> int:
    return 1 if rng.random() < 0.5 else -1


def _direction_word(d: int) -> str:
    return "right" if d > 0 else "left"


#: The narrowest an object looks edge-on, as a fraction of its width (below it the noun would
#: vanish): a turned object shows ``EDGE_ON_WIDTH + (1 − EDGE_ON_WIDTH) · |cos φ|`` of its width.
EDGE_ON_WIDTH = 0.35
#: Every clip's size factor is ``small · (big / small) ** level`` with ``small``, ``big`` drawn
#: from these ranges; grow sweeps ``level`` 0 → 1 over the clip, shrink 1 → 0, every other verb
#: holds one ``level`` drawn uniformly, so a frame's size has the same distribution under every verb.
SIZE_SMALL = (0.6, 0.72)
SIZE_BIG = (1.3, 1.45)
#: Length of the virtual pass (a fraction of the room) that an object stands on along an axis
#: its verb does not travel: about as long as the travelling verbs' passes along that axis.
VIRTUAL_PASS_X = (0.4, 0.7)
VIRTUAL_PASS_Y = (0.5, 0.75)


def facing_scale(phase: np.ndarray | float) -> np.ndarray:
    """Width factor of an object turned by ``phase`` about its vertical axis (negative: its back).

    ``sign(cos φ) · (w + (1 − w) · |cos φ|)`` with ``w = EDGE_ON_WIDTH``: the object narrows as it
    turns and shows its (shaded) back for half of the turn, but never disappears edge-on.
    """
    c = np.cos(np.asarray(phase, dtype=np.float64))
    return np.where(c >= 0, 1.0, -1.0) * (EDGE_ON_WIDTH + (1 - EDGE_ON_WIDTH) * np.abs(c))


def motion_trajectory(
    verb: str,
    n_frames: int,
    fps: float,
    width: int,
    height: int,
    radius: float,
    rng: np.random.Generator,
) -> Trajectory:
    """The trajectory of an object of ``radius`` pixels doing ``verb`` for ``n_frames`` frames.

    Every clip, whatever its verb, first draws the same static pose from the same
    distributions: a base angle uniform on the circle, a facing (how far the object is turned
    about its vertical axis, which side shows) uniform on the circle, a size factor
    (:data:`SIZE_SMALL`, :data:`SIZE_BIG`), and afterwards a place on the stage uniform among
    those that keep the whole motion in frame (there is no fixed floor: a bounce or a roll
    happens at any height). The verb then moves the object *relative* to that pose — flip turns
    the facing, grow and shrink sweep the size factor over the range the others draw it from,
    spin turns the angle — so that each per-frame quantity has (nearly) the same distribution
    under every verb and no single frame tells the verb; the motion does (``docs/features.md``,
    "The demo dataset").
    """
    try:
        motion = _MOTIONS[verb]
    except KeyError:
        raise ActionLensError(f"unknown demo verb {verb!r}; choose one of {', '.join(DEMO_VERBS)}") from None
    n = n_frames
    t = np.arange(n, dtype=np.float64) / fps
    total = max(n / fps, 1e-6)
    base_angle = float(rng.uniform(0, 2 * np.pi))
    facing = float(rng.uniform(0, 2 * np.pi))
    small, big = float(rng.uniform(*SIZE_SMALL)), float(rng.uniform(*SIZE_BIG))
    level = float(rng.uniform(0.0, 1.0))
    size = small * (big / small) ** level
    ctx = _MotionContext(t, total, float(width), float(height), float(radius) * size, fps, rng)
    local = motion(ctx)

    def arr(v: np.ndarray | float) -> np.ndarray:
        return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)).copy()

    scale = arr(size if local.size_level is None else small * (big / small) ** arr(local.size_level))
    extent = radius * scale
    # Along an axis the verb does not travel, the object stands at a random point of a virtual
    # pass as long as the travelling verbs' passes: its position then has the distribution a
    # travelling object's has at a random frame, not the flatter one of a uniform placement.
    dx, dy = arr(local.x), arr(local.y)
    pass_x = 0.0 if "x" in local.travels else ctx.u(*VIRTUAL_PASS_X) * ctx.room_x
    pass_y = 0.0 if "y" in local.travels else ctx.u(*VIRTUAL_PASS_Y) * ctx.room_y
    x = dx + _place(extent - dx, width - extent - dx - pass_x, rng) + ctx.u(0.0, pass_x)
    # on the vertical pass, where a falling (or rising) object is at a random moment
    point_y = float(_fall_profile(ctx.u(0.0, total), ctx.u(0.7, 0.95) * total))
    y = dy + _place(extent - dy, height - extent - dy - pass_y, rng) + point_y * pass_y
    sx = facing_scale(facing + arr(local.facing)) * scale
    return Trajectory(x, y, base_angle + arr(local.turn), sx, scale, np.ones(n, dtype=bool), local.facts)


def _place(low: np.ndarray, high: np.ndarray, rng: np.random.Generator) -> float:
    """An offset uniform on ``[max(low), min(high)]`` (the middle when the motion is too big).

    ``high`` leaves room for a virtual pass's full length (:func:`motion_trajectory`), so that
    any point of the pass is in frame.
    """
    lo, hi = float(low.max()), float(high.min())
    return float(rng.uniform(lo, hi)) if hi > lo else (lo + hi) / 2


@dataclass
class _MotionContext:
    t: np.ndarray
    total: float
    W: float
    H: float
    r: float  # the object's radius at its static size
    fps: float
    rng: np.random.Generator

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    @property
    def room_x(self) -> float:
        """How far the object's centre can travel across the frame."""
        return max(self.W - 2.2 * self.r, 1.0)

    @property
    def room_y(self) -> float:
        return max(self.H - 2.2 * self.r, 1.0)

    def across(self, frac_lo: float, frac_hi: float) -> tuple[int, float]:
        """A horizontal pass: its direction and its length (a fraction of the room)."""
        d = _side(self.rng)
        return d, self.u(frac_lo, frac_hi) * self.room_x


@dataclass
class _Local:
    """What a verb does, relative to the clip's static pose (:func:`motion_trajectory`).

    ``x``, ``y``: displacement in pixels (the stage position is added afterwards); ``turn``:
    added to the base angle; ``facing``: added to the facing angle (flip); ``size_level``: the
    size factor's level over time (grow, shrink; ``None`` holds the static one).
    """

    x: Any
    y: Any
    turn: Any = 0.0
    facing: Any = 0.0
    size_level: Any = None
    #: The axes the verb travels along ("x", "y", "xy" or ""); the others get a virtual pass.
    travels: str = ""
    facts: dict[str, str] = field(default_factory=dict)


def _bounce(c: _MotionContext) -> _Local:
    d, travel = c.across(0.4, 0.7)
    period = c.u(0.55, 0.85)
    height = c.u(0.35, 0.55) * c.room_y
    y = -height * np.abs(np.sin(np.pi * (c.t / period + c.u(0.0, 1.0))))
    turn = d * c.u(0.5, 1.5) * c.t
    return _Local(d * travel * c.t / c.total, y, turn, travels="xy", facts={"direction": _direction_word(d)})


def _roll(c: _MotionContext) -> _Local:
    d, travel = c.across(0.4, 0.7)
    x = d * travel * c.t / c.total
    # Rolling without slipping: the turn angle is the distance over the radius.
    return _Local(x, 0.0, x / c.r, travels="x", facts={"direction": _direction_word(d)})


def _spin(c: _MotionContext) -> _Local:
    d = _side(c.rng)
    drift = c.u(-0.04, 0.04) * c.W
    rate = c.u(0.6, 1.1) * 2 * np.pi  # well below the 72° symmetry of a star per frame
    return _Local(
        drift * c.t / c.total,
        0.0,
        d * rate * c.t,
        facts={"direction": "clockwise" if d > 0 else "counterclockwise"},
    )


def _slide(c: _MotionContext) -> _Local:
    d, travel = c.across(0.4, 0.7)
    # Friction: fast at first, slowing to a stop; no rotation (that is rolling).
    progress = 1 - (1 - c.t / c.total) ** 2
    slope = c.u(-0.15, 0.15) * travel
    return _Local(
        d * travel * progress, slope * progress, travels="x", facts={"direction": _direction_word(d)}
    )


def _fall_profile(t: np.ndarray | float, fall_time: float) -> np.ndarray:
    """How far (0 … 1) a falling object has fallen at ``t``: ``(t / fall_time)²``, then landed."""
    return np.minimum((np.asarray(t, dtype=np.float64) / fall_time) ** 2, 1.0)


def _fall(c: _MotionContext) -> _Local:
    drop = c.u(*VIRTUAL_PASS_Y) * c.room_y
    y = drop * _fall_profile(c.t, c.u(0.7, 0.95) * c.total)
    x = c.u(-0.05, 0.05) * c.W * c.t / c.total
    return _Local(x, y, c.u(-1.0, 1.0) * c.t, travels="y")


def _rise(c: _MotionContext) -> _Local:
    # A fall played backwards (launched from rest, slowing to the top), so that the heights a
    # rising object passes through, and how long it stays at each, are those of a falling one.
    distance = c.u(*VIRTUAL_PASS_Y) * c.room_y
    y = -distance * (1.0 - _fall_profile(c.total - c.t, c.u(0.7, 0.95) * c.total))
    sway = c.u(0.0, 0.03) * c.W * np.sin(2 * np.pi * c.t / c.u(1.2, 2.0) + c.u(0, 2 * np.pi))
    return _Local(sway, y, travels="y")


def _swing(c: _MotionContext) -> _Local:
    length = c.u(0.5, 0.65) * c.H
    amplitude = min(c.u(0.45, 0.8), math.asin(min(0.95, 0.45 * c.room_x / length)))
    theta = amplitude * np.sin(2 * np.pi * c.t / c.u(1.0, 1.5) + c.u(0, 2 * np.pi))
    return _Local(length * np.sin(theta), length * np.cos(theta), -theta, travels="x")


def _shake(c: _MotionContext) -> _Local:
    freq = min(c.u(3.0, 5.0), c.fps / 3)  # at least three frames per period, never aliased
    phase = c.u(0, 2 * np.pi)
    x = c.u(0.04, 0.07) * c.W * np.sin(2 * np.pi * freq * c.t + phase)
    y = c.u(0.0, 0.02) * c.H * np.sin(2 * np.pi * freq * 1.3 * c.t)
    return _Local(x, y, c.u(0.1, 0.25) * np.sin(2 * np.pi * freq * c.t + phase + 1.0))


def _orbit(c: _MotionContext) -> _Local:
    d = _side(c.rng)
    stretch = c.u(1.0, 1.4)  # a slightly wide ellipse fits the landscape frame
    radius = min(c.u(0.22, 0.3) * c.H, 0.48 * c.room_y, 0.48 * c.room_x / stretch)
    theta = c.u(0, 2 * np.pi) + d * c.u(0.45, 0.8) * 2 * np.pi * c.t
    return _Local(
        stretch * radius * np.cos(theta),
        radius * np.sin(theta),
        travels="xy",
        facts={"direction": "clockwise" if d > 0 else "counterclockwise"},
    )


def _jump(c: _MotionContext) -> _Local:
    period = c.u(0.8, 1.1)
    airtime = c.u(0.45, 0.6)
    height = c.u(0.35, 0.5) * c.room_y
    phase = (c.t / period + c.u(0.0, 1.0)) % 1.0
    s = np.clip(phase / airtime, 0, 1)
    # a dip before take-off (a crouch by position only: a squash would be a shape only jump had)
    crouch = (phase > 1 - 0.15).astype(np.float64)
    return _Local(0.0, -height * 4 * s * (1 - s) * (phase < airtime) + 0.2 * c.r * crouch, travels="y")


def _grow(c: _MotionContext) -> _Local:
    return _Local(0.0, 0.0, size_level=c.t / c.total)


def _shrink(c: _MotionContext) -> _Local:
    return _Local(0.0, 0.0, size_level=1.0 - c.t / c.total)


def _zigzag(c: _MotionContext) -> _Local:
    d, travel = c.across(0.45, 0.7)
    amplitude = min(c.u(0.18, 0.28) * c.H, 0.45 * c.room_y)
    u = c.t / c.u(0.5, 0.8) + c.u(0.0, 1.0)
    triangle = 4 * np.abs(u - np.floor(u + 0.5)) - 1  # sharp corners, unlike a bounce
    return _Local(
        d * travel * c.t / c.total,
        amplitude * triangle,
        travels="xy",
        facts={"direction": _direction_word(d)},
    )


def _flip(c: _MotionContext) -> _Local:
    return _Local(0.0, 0.0, facing=_side(c.rng) * 2 * np.pi * c.u(0.5, 0.9) * c.t)


_MOTIONS: dict[str, Callable[[_MotionContext], _Local]] = {
    "bounce": _bounce,
    "roll": _roll,
    "spin": _spin,
    "slide": _slide,
    "fall": _fall,
    "rise": _rise,
    "swing": _swing,
    "shake": _shake,
    "orbit": _orbit,
    "jump": _jump,
    "grow": _grow,
    "shrink": _shrink,
    "zigzag": _zigzag,
    "flip": _flip,
}
assert set(_MOTIONS) == set(DEMO_VERBS)


# --------------------------------------------------------------------------------------------
# Appearance: one shape per noun, as layers of polygons in unit coordinates


@dataclass(frozen=True)
class _Layer:
    """One drawn part of a shape: polygons in units of the object radius (y down)."""

    polygons: tuple[np.ndarray, ...]
    colour: str  # "main", "dark", "light" or "accent"
    line: float = 0.0  # 0 fills; otherwise a closed/open outline this many radii thick
    closed: bool = True
    rotates: bool = True  # False for shading that stays lit from the top left


def _ellipse(rx: float, ry: float, cx: float = 0.0, cy: float = 0.0, n: int = 28) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def _star(points: int = 5, outer: float = 1.0, inner: float = 0.42) -> np.ndarray:
    a = -np.pi / 2 + np.arange(2 * points) * np.pi / points
    r = np.where(np.arange(2 * points) % 2 == 0, outer, inner)
    return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)


def _poly(*pts: tuple[float, float]) -> np.ndarray:
    return np.asarray(pts, dtype=np.float64)


def _leaf_outline(n: int = 14) -> np.ndarray:
    # Two circular arcs meeting in points at the tip and the stem (a vesica).
    s = np.linspace(-1, 1, n)
    half = 0.5 * (1 - s**2) ** 0.8
    right = np.stack([half, s], axis=1)
    left = np.stack([-half[::-1], s[::-1]], axis=1)
    return np.concatenate([right, left[1:-1]])


def _build_shapes() -> dict[str, tuple[_Layer, ...]]:
    spokes = tuple(
        _poly((0.0, 0.0), (0.72 * math.cos(a), 0.72 * math.sin(a))) for a in np.arange(6) * np.pi / 3
    )
    return {
        "ball": (
            _Layer((_ellipse(1.0, 1.0),), "dark", rotates=False),
            _Layer((_ellipse(0.86, 0.86, -0.1, -0.1),), "main", rotates=False),
            _Layer((_ellipse(0.3, 0.3, -0.38, -0.38, 16),), "light", rotates=False),
            _Layer((_ellipse(0.92, 0.25, 0, 0, 20)[10:],), "accent", line=0.12, closed=False),
            _Layer((_ellipse(0.12, 0.12, 0.0, -0.55, 12),), "accent"),
        ),
        "box": (
            _Layer((_poly((-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)),), "dark"),
            _Layer((_poly((-0.68, -0.68), (0.68, -0.68), (0.68, 0.68), (-0.68, 0.68)),), "main"),
            _Layer((_poly((-0.58, -0.58), (-0.1, -0.58), (-0.1, -0.1), (-0.58, -0.1)),), "light"),
            _Layer(
                (_poly((-0.68, 0.0), (0.68, 0.0)), _poly((0.0, -0.68), (0.0, 0.68))),
                "dark",
                line=0.06,
                closed=False,
            ),
        ),
        "star": (
            _Layer((_star(),), "main"),
            _Layer((_star(),), "dark", line=0.07),
            _Layer((_ellipse(0.18, 0.18, 0, 0, 12),), "light"),
        ),
        "ring": (
            _Layer((_ellipse(0.95, 0.95), _ellipse(0.6, 0.6)), "main"),
            _Layer((_ellipse(0.95, 0.95),), "dark", line=0.05),
            _Layer((_ellipse(0.2, 0.2, 0.0, -0.78, 12),), "accent"),
        ),
        "wheel": (
            _Layer((_ellipse(0.95, 0.95), _ellipse(0.72, 0.72)), "dark"),
            _Layer(spokes, "main", line=0.08, closed=False),
            _Layer((_ellipse(0.72, 0.72),), "main", line=0.06),
            _Layer((_ellipse(0.2, 0.2, 0, 0, 12),), "light"),
        ),
        "coin": (
            _Layer((_ellipse(1.0, 0.62),), "dark"),
            _Layer((_ellipse(0.86, 0.5),), "main"),
            _Layer((_ellipse(0.62, 0.34),), "light", line=0.06),
            _Layer((_poly((0.0, -0.22), (0.0, 0.22)),), "dark", line=0.1, closed=False),
        ),
        "balloon": (
            _Layer(
                (_poly((0.0, 0.72), (0.06, 1.0), (-0.05, 1.25), (0.07, 1.5)),),
                "dark",
                line=0.04,
                closed=False,
            ),
            _Layer((_ellipse(0.68, 0.86, 0.0, -0.15),), "main"),
            _Layer((_poly((0.0, 0.66), (-0.12, 0.82), (0.12, 0.82)),), "dark"),
            _Layer((_ellipse(0.14, 0.24, -0.3, -0.45, 12),), "light"),
        ),
        "leaf": (
            _Layer((_leaf_outline(),), "main"),
            _Layer((_poly((0.0, -0.9), (0.0, 1.0), (0.05, 1.3)),), "dark", line=0.07, closed=False),
            _Layer(
                tuple(_poly((0.0, y), (s * 0.32, y - 0.25)) for y in (-0.3, 0.1, 0.5) for s in (-1, 1)),
                "dark",
                line=0.04,
                closed=False,
            ),
        ),
        # Distractor shapes: none of them is a demo noun.
        "triangle": (_Layer((_poly((0.0, -1.0), (0.87, 0.5), (-0.87, 0.5)),), "main"),),
        "cross": (
            _Layer(
                (
                    _poly(
                        (-0.3, -1),
                        (0.3, -1),
                        (0.3, -0.3),
                        (1, -0.3),
                        (1, 0.3),
                        (0.3, 0.3),
                        (0.3, 1),
                        (-0.3, 1),
                        (-0.3, 0.3),
                        (-1, 0.3),
                        (-1, -0.3),
                        (-0.3, -0.3),
                    ),
                ),
                "main",
            ),
        ),
        "hexagon": (
            _Layer((_ellipse(1.0, 1.0, n=6),), "main"),
            _Layer((_ellipse(1.0, 1.0, n=6),), "dark", line=0.1),
        ),
    }


_SHAPES = _build_shapes()
DISTRACTOR_SHAPES: tuple[str, ...] = ("triangle", "cross", "hexagon")
assert set(DEMO_NOUNS) <= set(_SHAPES)


#: Hue names for sentences; OpenCV hue runs 0..180.
_HUE_NAMES = (
    (8, "red"),
    (20, "orange"),
    (33, "yellow"),
    (80, "green"),
    (130, "blue"),
    (150, "purple"),
    (170, "pink"),
    (181, "red"),
)


@dataclass(frozen=True)
class ObjectStyle:
    """How one object looks: its shape, size in pixels and BGR colours."""

    shape: str
    radius: float
    colours: dict[str, tuple[int, int, int]]
    colour_name: str


def _hsv_to_bgr(h: float, s: float, v: float) -> tuple[int, int, int]:
    import cv2

    px = np.array([[[h, s, v]]], dtype=np.uint8)
    b, g, r = cv2.cvtColor(px, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def random_style(
    shape: str, radius: float, background_luma: float, rng: np.random.Generator, contrast: float = 1.0
) -> ObjectStyle:
    """A random look for ``shape``: any hue, bright on dark backgrounds and dark on bright ones.

    Colour is drawn independently of the class so that only the silhouette names the noun.
    ``contrast`` < 1 pulls the value towards the background (for distractors).
    """
    hue = float(rng.uniform(0, 180))
    sat = float(rng.uniform(120, 255))
    if background_luma < 128:
        value = rng.uniform(190, 255)
    else:
        value = rng.uniform(60, 120)
    value = background_luma + contrast * (value - background_luma)
    v = float(np.clip(value, 0, 255))
    accent_hue = (hue + rng.uniform(60, 120)) % 180
    colours = {
        "main": _hsv_to_bgr(hue, sat, v),
        "dark": _hsv_to_bgr(hue, sat, v * 0.55),
        "light": _hsv_to_bgr(hue, sat * 0.35, min(255.0, v * 1.25 + 30)),
        "accent": _hsv_to_bgr(accent_hue, 220, max(v, 150.0) if background_luma < 128 else v * 0.7),
    }
    name = next(n for limit, n in _HUE_NAMES if hue < limit)
    if v < 130:  # a dark orange reads as brown; other dark hues keep their name
        name = "brown" if name == "orange" else f"dark {name}"
    return ObjectStyle(shape, float(radius), colours, name)


def _draw_object(
    frame: np.ndarray, style: ObjectStyle, pose: tuple[float, float, float, float, float]
) -> None:
    """Draw ``style`` at ``pose`` onto ``frame`` in place (anti-aliased, sub-pixel)."""
    import cv2

    x, y, angle, sx, sy = pose
    c, s = math.cos(angle), math.sin(angle)
    rotation = np.array([[c, s], [-s, c]])  # row vectors: p @ R gives a clockwise turn on screen
    scale = np.array([sx, sy]) * style.radius
    backside = sx * sy < 0
    thickness_scale = style.radius * max(min(abs(sx), abs(sy)), 0.3)
    for layer in _SHAPES[style.shape]:
        colour = style.colours[layer.colour]
        if backside:  # the back of a flipped object is in shadow
            colour = (int(colour[0] * 0.6), int(colour[1] * 0.6), int(colour[2] * 0.6))
        pts = []
        for poly in layer.polygons:
            p = poly * scale
            if layer.rotates:
                p = p @ rotation
            pts.append(np.round((p + np.array([x, y])) * 16).astype(np.int32))
        if layer.line:
            width = max(1, round(layer.line * thickness_scale))
            cv2.polylines(frame, pts, layer.closed, colour, width, cv2.LINE_AA, shift=4)
        else:
            cv2.fillPoly(frame, pts, colour, cv2.LINE_AA, shift=4)


# --------------------------------------------------------------------------------------------
# Scene: background, camera, lighting, noise


@dataclass
class Scene:
    """Everything about a video that is not an object: backdrop, camera path, light and noise."""

    background: np.ndarray  # (H + 2·margin, W + 2·margin, 3) uint8, larger than the frame
    margin: int
    camera_x: np.ndarray  # per-frame pan of the camera in pixels (integers, jitter included)
    camera_y: np.ndarray
    gain: np.ndarray  # per-frame lighting multiplier
    noise_sigma: float

    @property
    def luma(self) -> float:
        return float(self.background.mean())


def random_scene(width: int, height: int, n_frames: int, rng: np.random.Generator) -> Scene:
    """A random backdrop (gradient, blotchy noise or stripes), camera pan with jitter, lighting drift."""
    import cv2

    margin = max(2, round(0.08 * width))
    hw, ww = height + 2 * margin, width + 2 * margin
    base = rng.uniform(20, 235, size=3)
    other = np.clip(base + rng.uniform(-60, 60, size=3), 0, 255)
    yy, xx = np.mgrid[0:hw, 0:ww].astype(np.float32)
    kind = int(rng.integers(3))
    if kind == 0:  # linear gradient at a random angle
        a = rng.uniform(0, 2 * np.pi)
        proj = xx * math.cos(a) + yy * math.sin(a)
        w = (proj - proj.min()) / max(float(np.ptp(proj)), 1.0)
    elif kind == 1:  # smooth blotches: coarse noise upsampled
        coarse = rng.random((int(rng.integers(3, 7)), int(rng.integers(3, 7)))).astype(np.float32)
        w = cv2.resize(coarse, (ww, hw), interpolation=cv2.INTER_CUBIC)
    else:  # soft stripes
        a = rng.uniform(0, np.pi)
        period = rng.uniform(0.08, 0.25) * width
        w = 0.5 + 0.5 * np.sin(2 * np.pi * (xx * math.cos(a) + yy * math.sin(a)) / period)
    w = np.clip(w, 0, 1)[..., None]
    texture = rng.normal(0, rng.uniform(2, 8), size=(hw, ww, 1)).astype(np.float32)  # grain that pans along
    background = np.clip(base * (1 - w) + other * w + texture, 0, 255).astype(np.uint8)

    t = np.linspace(0.0, 1.0, n_frames)
    pan_x = rng.uniform(-0.9, 0.9) * margin * t
    pan_y = rng.uniform(-0.5, 0.5) * margin * t
    jitter = rng.integers(-1, 2, size=(2, n_frames)) * (rng.random((2, n_frames)) < 0.5)
    camera_x = np.clip(np.round(pan_x) + jitter[0], -margin, margin).astype(int)
    camera_y = np.clip(np.round(pan_y) + jitter[1], -margin, margin).astype(int)
    g0, g1 = rng.uniform(0.8, 1.15, size=2)
    flicker = rng.uniform(0.0, 0.05) * np.sin(2 * np.pi * rng.uniform(0.3, 1.0) * t * n_frames / 15)
    gain = g0 + (g1 - g0) * t + flicker
    return Scene(background, margin, camera_x, camera_y, gain, float(rng.uniform(1.0, 5.0)))


@dataclass
class RenderedVideo:
    """Frames of a rendered video and the on-screen trajectory of each object in it.

    ``trajectories[0]`` is the main object (for a story, the objects in order of appearance);
    distractors follow. Positions are in frame pixels, camera pan included.
    """

    frames: np.ndarray  # (T, H, W, 3) uint8 BGR
    trajectories: list[Trajectory]
    styles: list[ObjectStyle]
    fps: float


def render_objects(
    width: int,
    height: int,
    fps: float,
    scene: Scene,
    objects: Sequence[tuple[ObjectStyle, Trajectory]],
    rng: np.random.Generator,
) -> RenderedVideo:
    """Render ``objects`` (drawn in order, later on top) over ``scene``.

    Trajectories are in scene coordinates (the frame with the camera at rest); the returned
    ones are shifted by the camera, i.e. where each object appears in the frames.
    """
    n = len(scene.gain)
    frames = np.empty((n, height, width, 3), dtype=np.uint8)
    m = scene.margin
    for i in range(n):
        cx, cy = int(scene.camera_x[i]), int(scene.camera_y[i])
        frame = scene.background[m + cy : m + cy + height, m + cx : m + cx + width].copy()
        for style, traj in objects:
            if traj.visible[i]:
                x, y, a, sx, sy = traj.pose(i)
                _draw_object(frame, style, (x - cx, y - cy, a, sx, sy))
        lit = frame.astype(np.float32) * np.float32(scene.gain[i])
        lit += rng.standard_normal(lit.shape, dtype=np.float32) * np.float32(scene.noise_sigma)
        np.clip(lit, 0, 255, out=lit)
        frames[i] = lit.astype(np.uint8)
    shown = []
    for _, traj in objects:
        shown.append(
            Trajectory(
                traj.x - scene.camera_x[:n],
                traj.y - scene.camera_y[:n],
                traj.angle.copy(),
                traj.scale_x.copy(),
                traj.scale_y.copy(),
                traj.visible.copy(),
                dict(traj.facts),
            )
        )
    return RenderedVideo(frames, shown, [s for s, _ in objects], fps)


def _object_radius(height: int, rng: np.random.Generator) -> float:
    return float(rng.uniform(0.1, 0.14) * height)


def random_distractors(
    count: int,
    exclude_verbs: Sequence[str],
    n_frames: int,
    fps: float,
    width: int,
    height: int,
    main_radius: float,
    background_luma: float,
    rng: np.random.Generator,
) -> list[tuple[ObjectStyle, Trajectory]]:
    """``count`` smaller, lower-contrast non-noun shapes, each with a motion not in ``exclude_verbs``.

    Demo clips exclude nothing (a distractor may do the clip's own verb, so that what the
    distractors do says nothing about it); stories exclude their own verbs, so that a sentence
    never describes a distractor.
    """
    verbs = [v for v in DEMO_VERBS if v not in exclude_verbs]
    out = []
    for _ in range(count):
        shape = DISTRACTOR_SHAPES[int(rng.integers(len(DISTRACTOR_SHAPES)))]
        radius = main_radius * float(rng.uniform(0.4, 0.6))
        style = random_style(shape, radius, background_luma, rng, contrast=float(rng.uniform(0.4, 0.7)))
        verb = verbs[int(rng.integers(len(verbs)))]
        out.append((style, motion_trajectory(verb, n_frames, fps, width, height, radius, rng)))
    return out


def clip_objects(
    verb: str,
    noun: str,
    width: int,
    height: int,
    fps: float,
    n_frames: int,
    background_luma: float,
    rng: np.random.Generator,
    distractors: bool = True,
) -> list[tuple[ObjectStyle, Trajectory]]:
    """The objects of one clip, main object first, then 1–2 distractors: everything but pixels.

    This is the part of :func:`render_clip` that decides every pose, so a probe can draw many
    clips' true poses without rendering them (``benchmarks/probe_static.py``). The object's
    radius is drawn the same way for every verb, and distractors may do any verb, the clip's
    own included.
    """
    if noun not in DEMO_NOUNS:
        raise ActionLensError(f"unknown demo noun {noun!r}; choose one of {', '.join(DEMO_NOUNS)}")
    radius = _object_radius(height, rng)
    main = (
        random_style(noun, radius, background_luma, rng),
        motion_trajectory(verb, n_frames, fps, width, height, radius, rng),
    )
    extra = (
        random_distractors(
            int(rng.integers(1, 3)), (), n_frames, fps, width, height, radius, background_luma, rng
        )
        if distractors
        else []
    )
    return [main, *extra]


#: Columns of :func:`pose_table`.
POSE_COLUMNS = (
    "x",
    "y",
    "cos_angle",
    "sin_angle",
    "scale_x",
    "scale_y",
    "width",
    "height",
    "back",
    "brightness",
)


def pose_table(trajectory: Trajectory, style: ObjectStyle, width: int, height: int) -> np.ndarray:
    """What each frame shows of an object's pose, ``(T, len(POSE_COLUMNS))``, for probes.

    Position as a fraction of the frame, the angle's cosine and sine, both scale factors, the
    drawn width and height as a fraction of the frame height, whether the back (shaded) side
    shows, and the main colour's brightness after that shading — every per-frame quantity the
    renderer takes from the pose.
    """
    back = (trajectory.scale_x * trajectory.scale_y < 0).astype(np.float64)
    brightness = float(np.mean(style.colours["main"])) / 255.0 * (1 - 0.4 * back)
    return np.stack(
        [
            trajectory.x / width,
            trajectory.y / height,
            np.cos(trajectory.angle),
            np.sin(trajectory.angle),
            trajectory.scale_x,
            trajectory.scale_y,
            style.radius * np.abs(trajectory.scale_x) / height,
            style.radius * np.abs(trajectory.scale_y) / height,
            back,
            brightness,
        ],
        axis=1,
    )


def render_clip(
    verb: str,
    noun: str,
    *,
    width: int = 160,
    height: int = 120,
    fps: float = 15.0,
    n_frames: int = 38,
    rng: np.random.Generator | int = 0,
    distractors: bool = True,
    anomaly: Anomaly | None = None,
) -> RenderedVideo:
    """Render one clip of ``noun`` doing ``verb``, with a random scene.

    Parameters
    ----------
    verb, noun
        One of :data:`DEMO_VERBS` and one of :data:`DEMO_NOUNS`.
    width, height, fps, n_frames
        Video geometry.
    rng
        A generator or an integer seed; everything random about the clip comes from it.
    distractors
        Add 1–2 distractor objects, each doing any verb (off for tests of the main motion).
    anomaly
        An impossible event to insert mid-clip (:func:`apply_anomaly`); everything else about
        the clip is drawn exactly as without it. A split adds the second half as
        ``trajectories[1]``.

    Returns
    -------
    RenderedVideo
        Frames and the on-screen trajectory of the main object (``trajectories[0]``).
    """
    if noun not in DEMO_NOUNS:
        raise ActionLensError(f"unknown demo noun {noun!r}; choose one of {', '.join(DEMO_NOUNS)}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    scene = random_scene(width, height, n_frames, gen)
    main, *extra = clip_objects(verb, noun, width, height, fps, n_frames, scene.luma, gen, distractors)
    mains = [main] if anomaly is None else apply_anomaly(main, anomaly, width, height)
    # Distractors behind the main object, so it is never fully hidden.
    video = render_objects(width, height, fps, scene, [*extra, *mains], gen)
    k = len(mains)
    video.trajectories = video.trajectories[-k:] + video.trajectories[:-k]
    video.styles = video.styles[-k:] + video.styles[:-k]
    return video


# --------------------------------------------------------------------------------------------
# Anomalies: impossible events for seed 003 §VII's anomaly detection

#: The kinds of impossible event ``anomalies=`` inserts, in the order they are dealt out:
#: the object jumps to a far place between two frames; it stops obeying gravity and accelerates
#: upwards (a falling object turns back up mid-fall); it splits into two that fly apart.
ANOMALY_KINDS: tuple[str, ...] = ("teleport", "antigravity", "split")


@dataclass(frozen=True)
class Anomaly:
    """An impossible event of one clip: its ``kind`` (:data:`ANOMALY_KINDS`), the ``onset``
    frame where it happens, and a ``seed`` for its own draws (so that the rest of the clip is
    drawn exactly as its normal version)."""

    kind: str
    onset: int
    seed: int


def apply_anomaly(
    main: tuple[ObjectStyle, Trajectory], anomaly: Anomaly, width: int, height: int
) -> list[tuple[ObjectStyle, Trajectory]]:
    """The main object's trajectory with ``anomaly`` inserted from frame ``anomaly.onset`` on.

    * ``teleport``: from the onset frame the object is elsewhere — displaced by at least 40 %
      of the frame's larger side, in one step, and stays in frame;
    * ``antigravity``: from the onset the object accelerates *upwards* as a fallen object
      would accelerate downwards (``y -= ½ g (t − t₀)²``, ``g`` such that it climbs 60–90 % of
      the frame height by the end), held at the top edge;
    * ``split``: from the onset a second object of the same look appears where the first is
      and the two fly apart horizontally, each 20–30 % of the frame width away by the end.

    Returns
    -------
    list of (ObjectStyle, Trajectory)
        The main object (and for ``split`` its second half), in scene coordinates.
    """
    style, traj = main
    if anomaly.kind not in ANOMALY_KINDS:
        raise ActionLensError(
            f"unknown demo anomaly {anomaly.kind!r}; choose one of {', '.join(ANOMALY_KINDS)}"
        )
    rng = np.random.default_rng(np.random.SeedSequence([anomaly.seed, 13]))
    n = len(traj)
    k = int(np.clip(anomaly.onset, 1, max(1, n - 2)))
    x, y = traj.x.copy(), traj.y.copy()
    margin = style.radius * float(np.max(np.abs(traj.scale_y))) * 1.1
    lo_x, hi_x, lo_y, hi_y = margin, width - margin, margin, height - margin
    after = np.arange(n) >= k
    if anomaly.kind == "teleport":
        # the farthest of a few random spots in frame, at least 40 % of the larger side away
        spots = np.stack(
            [rng.uniform(lo_x, max(hi_x, lo_x + 1), 16), rng.uniform(lo_y, max(hi_y, lo_y + 1), 16)], 1
        )
        here = np.array([x[k], y[k]])
        target = spots[np.argmax(np.linalg.norm(spots - here, axis=1))]
        shift = target - here
        need = 0.4 * max(width, height)
        if np.linalg.norm(shift) < need:  # a cramped stage: jump through the centre instead
            shift = np.array([width / 2 - here[0], height / 2 - here[1]])
            shift = shift / max(float(np.linalg.norm(shift)), 1e-6) * need
        x[after] += shift[0]
        y[after] += shift[1]
        x, y = np.clip(x, 0, width), np.clip(y, 0, height)
        out = [(style, _with_path(traj, x, y))]
    elif anomaly.kind == "antigravity":
        steps = np.maximum(np.arange(n) - k, 0).astype(np.float64)
        climb = float(rng.uniform(0.6, 0.9)) * height
        lift = climb * (steps / max(n - 1 - k, 1)) ** 2
        y = np.maximum(y - lift, lo_y) if lo_y < hi_y else y - lift
        out = [(style, _with_path(traj, x, y))]
    else:  # split
        spread = float(rng.uniform(0.2, 0.3)) * width  # each half's distance from the start
        d = 1.0 if rng.random() < 0.5 else -1.0
        apart = d * spread * np.maximum(np.arange(n) - k, 0) / max(n - 1 - k, 1)
        first = _with_path(traj, np.clip(x + apart, 0, width), y)
        second = _with_path(traj, np.clip(x - apart, 0, width), y)
        second.visible = after.copy()
        out = [(style, first), (style, second)]
    for _, t in out:
        t.facts = {**t.facts, "anomaly": anomaly.kind}
    return out


def _with_path(traj: Trajectory, x: np.ndarray, y: np.ndarray) -> Trajectory:
    return Trajectory(
        x,
        y,
        traj.angle.copy(),
        traj.scale_x.copy(),
        traj.scale_y.copy(),
        traj.visible.copy(),
        dict(traj.facts),
    )


# --------------------------------------------------------------------------------------------
# Writing videos


def write_video(path: Path, frames: np.ndarray, fps: float) -> None:
    """Write BGR ``frames`` to ``path`` as MPEG-4 Part 2 (``mp4v``), atomically.

    OpenCV picks the container from the extension, so the temp file keeps ``.mp4``.
    """
    import cv2

    height, width = frames.shape[1:3]
    with atomic_path(path, suffix=".mp4") as tmp:
        writer = cv2.VideoWriter(
            str(tmp), cv2.VideoWriter.fourcc(*FOURCC), float(fps), (int(width), int(height))
        )
        if not writer.isOpened():
            raise ActionLensError(
                f"OpenCV cannot write {FOURCC} video to {tmp}; install opencv-python-headless with FFmpeg support"
            )
        try:
            for frame in frames:
                writer.write(np.ascontiguousarray(frame))
        finally:
            writer.release()
