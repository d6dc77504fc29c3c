"""Is the demo's anomaly visible before any run embeds it? (seed 003 §VII diagnostic)

For a workspace built with ``actionlens demo --anomalies RATE``, this prints the ROC AUC and P@k
on the test clips of split 1 of the class-mean distance baseline computed on the **mean-pooled
input features** (each stream standardised on the training clips, then concatenated) and on the
**largest frame-to-frame change** of the motion stream (max over time of ‖Δrow‖), beside
chance — so that the anomaly tables of ``actionlens evaluate --task anomaly`` (which score run
embeddings) can be read against what the features themselves carry. Nothing here is fitted on
a test clip: means and scales come from the training clips.

    python benchmarks/anomaly_features_probe.py WS
"""

from __future__ import annotations

import sys

import numpy as np

from desktop_app.evaluation.anomaly import class_mean_scores, precision_at_k, roc_auc
from desktop_app.features import FeatureStore
from desktop_app.training.inputs import raw_rows
from desktop_app.workspace import Workspace


def main(root: str) -> None:
    with Workspace.open(root) as ws:
        store = FeatureStore.open(ws)
        roles = ws.catalog.split("1")
        clips = [c for c in ws.catalog.iter_clips(status="ok") if c.class_id is not None]
        ids = np.array([c.id for c in clips])
        classes = np.array([c.class_id for c in clips])
        marked, _ = ws.catalog.anomaly_marks()
        truth = np.isin(ids, marked)
        role = np.array([roles.get(int(c), "") for c in ids])
        fit, report = role == "train", role == "test"
        pooled, jumps = [], []
        for stream in store.streams:
            rows = [raw_rows(store, int(c), stream) for c in ids]
            pooled.append(np.stack([r.mean(axis=0) for r in rows]))
            if stream == "motion":
                jumps = [
                    float(np.linalg.norm(np.diff(r, axis=0), axis=1).max()) if len(r) > 1 else 0.0
                    for r in rows
                ]
        parts = []
        for p in pooled:  # standardise each stream on the training clips only
            mu, sd = p[fit].mean(axis=0), p[fit].std(axis=0) + 1e-6
            parts.append((p - mu) / sd / np.sqrt(p.shape[1]))
        x = np.concatenate(parts, axis=1)
        base = class_mean_scores(x[fit], classes[fit], x[report], classes[report])
        t = truth[report]
        print(f"{root}: {int(report.sum())} test clips, {int(t.sum())} marked anomalous")
        print("| scores | ROC AUC | P@k |\n|---|---|---|")
        for name, s in (
            ("features: distance to class mean", base["distance"]),
            ("features: cosine distance to class mean", base["cosine"]),
            ("motion stream: largest step", np.array(jumps)[report] if len(jumps) else None),
        ):
            if s is not None:
                print(f"| {name} | {roc_auc(s, t):.3f} | {precision_at_k(s, t):.3f} |")
        print(f"| chance | 0.500 | {t.mean():.3f} |")


if __name__ == "__main__":
    main(sys.argv[1])
