"""Can the demo's verb be read from one frame? Single-frame and over-time verb probes.

Prints three tables, each with chance beside it:

1. **True object pose** (no rendering): many clips per verb are drawn with the demo's own
   trajectory code; each clip gives one random frame's pose vector (position, angle, scales,
   size, back side, brightness of the main object; optionally of its first distractor too).
   A gradient-boosted classifier is fitted on 70 % of the clips and scored on the rest (one
   sample per clip, so the split is clip-wise). The over-time row pools the pose over the
   whole clip (``[mean; std; mean |Δ|]``): it shows that the probe finds a cue when there is one.
2. **Feature streams** of a workspace (``--workspace``): every step of a clip is a sample;
   split 1's train clips fit, its test clips score (clip- and group-wise). Raw rows
   (``reduced=False``); the scaler is fitted on the training clips only.
3. **Over time** from the motion stream: ``[mean; std; mean |Δ|]`` over the clip's steps.

Usage::

    .venv/bin/python benchmarks/probe_static.py [--preset small] [--clips-per-verb 300]
        [--workspace WS] [--store NAME] [--seed 0]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from desktop_app.data import demo


def pose_samples(
    preset: str, clips_per_verb: int, seed: int, distractor: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One random frame's pose per clip, the clip's pooled pose over time, and the verb labels."""
    p = demo.get_preset(preset)
    rng = np.random.default_rng(seed)
    frames, pooled, labels = [], [], []
    for verb in p.verbs:
        for _ in range(clips_per_verb):
            noun = p.nouns[int(rng.integers(len(p.nouns)))]
            n_frames = max(4, round(p.duration * float(rng.uniform(0.85, 1.15)) * p.fps))
            luma = float(rng.uniform(20, 235))
            objects = demo.clip_objects(verb, noun, p.width, p.height, p.fps, n_frames, luma, rng)
            table = demo.pose_table(objects[0][1], objects[0][0], p.width, p.height)
            if distractor:
                table = np.hstack([table, demo.pose_table(objects[1][1], objects[1][0], p.width, p.height)])
            frames.append(table[int(rng.integers(n_frames))])
            pooled.append(
                np.concatenate([table.mean(0), table.std(0), np.abs(np.diff(table, axis=0)).mean(0)])
            )
            labels.append(verb)
    return np.asarray(frames), np.asarray(pooled), np.asarray(labels)


def _boosted() -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=0)


def _linear() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000))


def _score(model: object, x: np.ndarray, y: np.ndarray, fit: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x[fit], y[fit])  # type: ignore[attr-defined]
        return float(model.score(x[~fit], y[~fit]))  # type: ignore[attr-defined]


def pose_probe(preset: str, clips_per_verb: int, seed: int) -> None:
    """Table 1: verb accuracy from the true pose of one frame, and over time."""
    n_verbs = len(demo.get_preset(preset).verbs)
    print(f"true object pose, preset {preset}, {clips_per_verb} clips per verb, 30 % of clips scored")
    print("| input                              | boosted | linear | chance |")
    print("|------------------------------------|---------|--------|--------|")
    for distractor in (False, True):
        frames, pooled, labels = pose_samples(preset, clips_per_verb, seed, distractor)
        fit = np.random.default_rng(seed + 1).random(len(labels)) < 0.7
        who = "main + 1st distractor" if distractor else "main object"
        for name, x in ((f"one frame, {who}", frames), (f"over time, {who}", pooled)):
            boosted, linear = _score(_boosted(), x, labels, fit), _score(_linear(), x, labels, fit)
            print(f"| {name:<34} | {boosted:7.3f} | {linear:6.3f} | {1 / n_verbs:6.3f} |")


def stream_probe(workspace: str, store_name: str | None, seed: int) -> None:
    """Tables 2 and 3: single-step verb accuracy of every stream, over-time accuracy of motion."""
    from desktop_app.features import FeatureStore
    from desktop_app.workspace import Workspace

    ws = Workspace.open(workspace)
    store = FeatureStore.open(ws, store_name)
    verb_of = {c.id: c.verb for c in ws.catalog.classes()}
    class_of = {c.id: c.class_id for c in ws.catalog.clips() if c.class_id is not None}
    split = ws.catalog.split("1")
    print(f"\nworkspace {workspace}, store {store.name}: split 1 train clips fit, test clips score")
    print("| stream      | input                | boosted | linear | chance |")
    print("|-------------|----------------------|---------|--------|--------|")
    for stream in store.streams:
        ids = np.asarray(store.clip_ids(stream))
        ids = ids[[split.get(int(i)) in ("train", "test") and int(i) in class_of for i in ids]]
        rows, step_labels, step_fit, pooled = [], [], [], []
        for clip_id in ids:
            seq = store.get(int(clip_id), stream, reduced=False).astype(np.float64)
            rows.append(seq)
            step_labels += [verb_of[class_of[int(clip_id)]]] * len(seq)
            step_fit += [split[int(clip_id)] == "train"] * len(seq)
            delta = np.abs(np.diff(seq, axis=0)).mean(0) if len(seq) > 1 else np.zeros(seq.shape[1])
            pooled.append(np.concatenate([seq.mean(0), seq.std(0), delta]))
        labels = np.asarray([verb_of[class_of[int(i)]] for i in ids])
        fit = np.asarray([split[int(i)] == "train" for i in ids])
        chance = 1 / len(set(labels))
        x, y, f = np.vstack(rows), np.asarray(step_labels), np.asarray(step_fit)
        boosted, linear = _score(_boosted(), x, y, f), _score(_linear(), x, y, f)
        print(f"| {stream:<11} | one step (all)       | {boosted:7.3f} | {linear:6.3f} | {chance:6.3f} |")
        x = np.asarray(pooled)
        boosted, linear = _score(_boosted(), x, labels, fit), _score(_linear(), x, labels, fit)
        print(f"| {stream:<11} | [mean; std; mean|Δ|] | {boosted:7.3f} | {linear:6.3f} | {chance:6.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--clips-per-verb", type=int, default=300)
    parser.add_argument("--workspace", default=None)
    parser.add_argument("--store", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-pose", action="store_true", help="skip the true-pose table")
    args = parser.parse_args()
    if not args.no_pose:
        pose_probe(args.preset, args.clips_per_verb, args.seed)
    if args.workspace:
        stream_probe(args.workspace, args.store, args.seed)


if __name__ == "__main__":
    main()
