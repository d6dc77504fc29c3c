"""Linear probe of a workspace's feature store: how much of class / verb / noun each stream holds.

Every clip becomes ``[mean over time ; std over time]`` of its L2-normalised feature rows (a store
extracted before the per-run input transform also applies its old PCA; ``--raw`` for the
extractor's own rows);
a standardised, L2-regularised logistic regression is fitted on the ``train`` clips of split ``1``
and scored on its ``test`` clips. Prints one table of test accuracies (chance in the last row).

Usage::

    .venv/bin/python benchmarks/probe_features.py WORKSPACE [--store NAME] [--C 1.0] [--raw]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from desktop_app.features import FeatureStore
from desktop_app.workspace import Workspace


def pooled(store: FeatureStore, stream: str, reduced: bool) -> tuple[np.ndarray, np.ndarray]:
    """Clip ids and ``[mean ; std]`` over time of every clip of ``stream``."""
    ids = np.asarray(store.clip_ids(stream))
    rows = []
    for clip_id in ids:
        seq = store.get(int(clip_id), stream, reduced=reduced)
        rows.append(np.concatenate([seq.mean(0), seq.std(0)]))
    return ids, np.asarray(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace")
    parser.add_argument("--store", default=None)
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument(
        "--raw", action="store_true", help="probe the extractor's own rows (no L2, no old PCA)"
    )
    args = parser.parse_args()
    ws = Workspace.open(args.workspace)
    store = FeatureStore.open(ws, args.store)
    clips = {c.id: c for c in ws.catalog.clips()}
    classes = {c.id: c for c in ws.catalog.classes()}
    split = ws.catalog.split("1")
    features = {s: pooled(store, s, not args.raw) for s in ("appearance", "motion")}
    targets = ("class", "verb", "noun")
    print(f"store {store.name}: " + ", ".join(f"{s} {x.shape[1] // 2}-d" for s, (_, x) in features.items()))
    print(f"| streams            | {' | '.join(f'{t:>6}' for t in targets)} |")
    print(f"|--------------------|{'|'.join('-' * 8 for _ in targets)}|")
    chance: dict[str, float] = {}
    for streams in (("appearance",), ("motion",), ("appearance", "motion")):
        ids = features[streams[0]][0]
        x = np.hstack([features[s][1] for s in streams])
        cls = np.array([clips[int(i)].class_id for i in ids])
        labels = {
            "class": cls,
            "verb": np.array([classes[c].verb for c in cls]),
            "noun": np.array([classes[c].noun for c in cls]),
        }
        train = np.array([split.get(int(i)) == "train" for i in ids])
        scores = []
        for target in targets:
            y = labels[target]
            chance[target] = 1.0 / len(set(y))
            model = make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=3000))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(x[train], y[train])
            scores.append(model.score(x[~train], y[~train]))
        print(f"| {'+'.join(streams):<18} | {' | '.join(f'{s:6.3f}' for s in scores)} |")
    print(f"| {'chance':<18} | {' | '.join(f'{chance[t]:6.3f}' for t in targets)} |")


if __name__ == "__main__":
    main()
