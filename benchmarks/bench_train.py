"""Training and embedding throughput of every joint-embedding model on CPU, per preset.

Synthetic sequences shaped like the demo's feature store (appearance 208-d, motion 416-d after
PCA, ~40 steps at 10 fps; GloVe-50d word space). Prints a table: training clips/s, embedding
clips/s and the process's peak resident memory after each row (ru_maxrss, monotone).

    .venv/bin/python benchmarks/bench_train.py [--threads 2] [--clips 240] [--epochs 2]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from desktop_app.models import ModelShape, get_model_spec, model_names
from desktop_app.models.base import TASK_ZSL
from desktop_app.training.data import SequenceCache
from desktop_app.training.synthetic import synthetic_actions
from desktop_app.training.trainer import TrainConfig, TrainingData, predict, train_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clips", type=int, default=240)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--presets", nargs="+", default=["small", "paper"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    classes = 20
    data = synthetic_actions(
        num_classes=classes,
        clips_per_class=max(1, args.clips // classes),
        word_dim=50,
        dims={"appearance": 208, "motion": 416},
        length=(30, 50),
        seed=0,
    )
    ids = np.array(sorted(data.clip_classes))
    labels = np.array([data.clip_classes[i] for i in ids])
    val = ids % 10 == 0
    td = TrainingData(
        data.source, ids[~val], labels[~val], ids[val], labels[val], data.label_vectors, TASK_ZSL
    )
    shape = ModelShape({"appearance": 208, "motion": 416}, 50, classes)
    print(f"{len(ids)} clips × ~40 steps, {args.threads} threads, {args.epochs} epochs")
    header = f"{'model':<14}{'preset':<8}{'params':>10}{'train clips/s':>15}{'embed clips/s':>15}{'peak RSS MB':>13}"
    print(header)
    print("-" * len(header))
    for preset in args.presets:
        for name in model_names():
            spec = get_model_spec(name)
            config = spec.config(preset)
            result = train_model(
                name,
                config,
                shape,
                td,
                TrainConfig(epochs=args.epochs, patience=0, num_threads=args.threads, lr=1e-3),
            )
            params = sum(p.numel() for p in result.model.parameters())
            cache = SequenceCache(data.source, result.model.streams, getattr(config, "max_len", 10**9))
            started = time.perf_counter()
            predict(result.model, cache, ids, batch_size=64)
            embed_rate = len(ids) / (time.perf_counter() - started)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{name:<14}{preset:<8}{params:>10,}{result.train_clips_per_second:>15.1f}{embed_rate:>15.1f}{peak:>13.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
