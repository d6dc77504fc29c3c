"""Seed 002's models: training and embedding rates, and the RNN-FV extraction cost.

Synthetic sequences shaped like the demo's feature store (42 classes × 16 clips, appearance
161-d + motion 190-d after the input transform, 15–35 steps; GloVe-50d word space). Prints

1. per model (``meanpool-svm``, ``gmmfv``, ``rnnfv``) at a preset: the fit's wall time, training
   clips/s (the training clips over the whole fit's wall time — for ``rnnfv`` every epoch's RNN
   steps *and* its per-epoch Fisher-vector extraction, PCA and SVM; for the others pooling or GMM
   fitting and the SVM) and embedding clips/s (``trainer.predict``: representation, PCA, SVM,
   word-space map);
2. the RNN-FV extraction (batched per-clip gradient of eq. 5, ``torch.func.vmap(grad)``) against
   a plain forward pass of the same RNN on the same batches — the issue's target is at most 3×.

    .venv/bin/python benchmarks/fisher_rate.py [--threads 1] [--preset small] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from desktop_app.models import ModelShape, get_model_spec
from desktop_app.models.base import TASK_RECOGNITION, concat_streams
from desktop_app.models.fisher import last_layer_fisher_vectors
from desktop_app.training.data import SequenceCache
from desktop_app.training.synthetic import synthetic_actions
from desktop_app.training.trainer import TrainConfig, TrainingData, predict, train_model

DIMS = {"appearance": 161, "motion": 190}


def _timed(fn, repeats: int) -> float:
    """Median seconds of ``fn()`` over ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--preset", default="small", choices=["small", "paper"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--classes", type=int, default=42)
    parser.add_argument("--clips-per-class", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = synthetic_actions(
        num_classes=args.classes,
        clips_per_class=args.clips_per_class,
        word_dim=50,
        dims=DIMS,
        length=(15, 35),
        seed=0,
    )
    ids = np.array(sorted(data.clip_classes))
    labels = np.array([data.clip_classes[i] for i in ids])
    test = ids % 4 == 0  # a quarter of the clips to embed, the rest trains (a sixth of it validates)
    fit_ids, fit_labels = ids[~test], labels[~test]
    val = np.arange(len(fit_ids)) % 6 == 0
    td = TrainingData(
        data.source,
        fit_ids[~val],
        fit_labels[~val],
        fit_ids[val],
        fit_labels[val],
        data.label_vectors,
        TASK_RECOGNITION,
    )
    shape = ModelShape(dict(DIMS), 50, args.classes)
    print(
        f"{len(ids)} synthetic clips ({len(td.train_clips)} train, {len(td.val_clips)} val, "
        f"{int(test.sum())} embedded), 15–35 steps, {sum(DIMS.values())}-d; preset {args.preset}; "
        f"{args.threads} thread(s); device {args.device}"
    )
    header = f"{'model':<14}{'epochs':>7}{'fit s':>9}{'train clips/s':>15}{'embed clips/s':>15}"
    print(header)
    print("-" * len(header))
    rnnfv = None
    for name in ("meanpool-svm", "gmmfv", "rnnfv"):
        spec = get_model_spec(name)
        config = spec.config(args.preset)
        train = {**spec.preset_part(args.preset, "train"), "num_threads": args.threads, "device": args.device}
        started = time.perf_counter()
        result = train_model(name, config, shape, td, TrainConfig.from_json(train))
        fit_seconds = time.perf_counter() - started
        cache = SequenceCache(data.source, result.model.streams, config.max_len)
        embed_ids = ids[test]
        cache.collate(embed_ids)  # read the sequences once, so reading is not timed
        started = time.perf_counter()
        predict(result.model, cache, embed_ids, batch_size=64)
        embed_rate = len(embed_ids) / (time.perf_counter() - started)
        print(
            f"{name:<14}{result.epochs_run:>7}{fit_seconds:>9.1f}"
            f"{len(td.train_clips) / fit_seconds:>15.1f}{embed_rate:>15.1f}",
            flush=True,
        )
        if name == "rnnfv":
            rnnfv = (result.model, cache)
    assert rnnfv is not None
    model, cache = rnnfv
    model.to(args.device).eval()
    batches = [b.to(args.device) for b in cache.batches(ids[test], 64)]
    inputs = [concat_streams(b.features, b.lengths, model.streams) for b in batches]

    def forward() -> None:
        with torch.no_grad():
            for x, _ in inputs:
                model.rnn(x)

    def fisher() -> None:
        for x, length in inputs:
            last_layer_fisher_vectors(model.rnn, x, length)

    def sync(fn):
        def run() -> None:
            fn()
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()

        return run

    forward_s = _timed(sync(forward), args.repeats)
    fisher_s = _timed(sync(fisher), args.repeats)
    n = int(test.sum())
    print()
    header = f"{'RNN (' + str(model.config.lstm_size) + ' units)':<34}{'clips/s':>10}{'× forward':>11}"
    print(header)
    print("-" * len(header))
    print(f"{'plain forward pass (no grad)':<34}{n / forward_s:>10.1f}{1.0:>11.2f}")
    print(f"{'Fisher vectors, vmap(grad)':<34}{n / fisher_s:>10.1f}{fisher_s / forward_s:>11.2f}")
    print(f"target: Fisher vectors ≤ 3× the forward pass's cost; measured {fisher_s / forward_s:.2f}×")


if __name__ == "__main__":
    main()
