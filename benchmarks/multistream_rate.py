"""Training and embedding rate of seed 003's ``multistream`` model, per preset.

Synthetic sequences shaped like the demo's handcrafted feature store (appearance 161-d, motion
190-d, 21–29 steps at 10 fps; a 50-d word space), with an audio stream (64-d log-mel) for half of
the clips when ``--audio`` is given. Every stream trains for ``--epochs`` epochs (no early
stopping), then the fusion SVM and the word map are fitted. Prints one row per preset:

* ``train clips/s``: clips passed through a stream encoder's training step per second, summed
  over the streams (what ``meta.json`` records as ``train_clips_per_second``);
* ``fit s``: wall time of the whole ``fit_run`` (streams, SVM, ridge);
* ``embed clips/s``: clips per second through the trained model's ``forward`` (every stream, the
  SVM and the word map), batches of 64, in inference mode.

    .venv/bin/python benchmarks/multistream_rate.py [--threads 2] [--clips 420] [--epochs 3]
        [--presets small paper] [--audio] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from desktop_app.models import ModelShape, get_model_spec
from desktop_app.models.base import TASK_RECOGNITION
from desktop_app.training.data import InMemorySequenceSource, SequenceCache
from desktop_app.training.synthetic import synthetic_actions
from desktop_app.training.trainer import TrainConfig, TrainingData, predict, train_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clips", type=int, default=420, help="training clips (the demo's split 1: 420)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per stream")
    parser.add_argument("--presets", nargs="+", default=["small"])
    parser.add_argument("--audio", action="store_true", help="add a 64-d audio stream to half of the clips")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    classes = 42
    dims = {"appearance": 161, "motion": 190}
    if args.audio:
        dims["audio"] = 64
    data = synthetic_actions(
        num_classes=classes,
        clips_per_class=max(2, round(args.clips * 1.2 / classes)),
        word_dim=50,
        dims=dims,
        length=(21, 29),
        seed=0,
    )
    source = data.source
    if args.audio:
        sequences = {s: {c: source.get(c, s) for c in data.clip_classes} for s in dims}
        sequences["audio"] = {c: v for c, v in sequences["audio"].items() if c % 2 == 0}
        source = InMemorySequenceSource(sequences, name="synthetic")
    ids = np.array(sorted(data.clip_classes))
    labels = np.array([data.clip_classes[i] for i in ids])
    val = ids % 6 == 0
    td = TrainingData(
        source, ids[~val], labels[~val], ids[val], labels[val], data.label_vectors, TASK_RECOGNITION
    )
    shape = ModelShape(dims, 50, classes)
    spec = get_model_spec("multistream")
    streams = ", ".join(f"{s} {d}-d" for s, d in dims.items())
    print(
        f"{int((~val).sum())} training clips ({streams}; audio on half of them)"
        if args.audio
        else f"{int((~val).sum())} training clips ({streams})",
        f"× 21–29 steps, {args.threads} thread(s), {args.epochs} epochs per stream, device {args.device}",
    )
    header = f"{'preset':<8}{'params':>11}{'train clips/s':>15}{'fit s':>8}{'embed clips/s':>15}"
    print(header)
    print("-" * len(header))
    for preset in args.presets:
        train = TrainConfig.from_json(
            {
                **spec.preset_part(preset, "train"),
                "epochs": args.epochs,
                "patience": 0,
                "num_threads": args.threads,
            }
        )
        train.device = args.device
        config = spec.config(preset)
        started = time.perf_counter()
        result = train_model("multistream", config, shape, td, train)
        fit_seconds = time.perf_counter() - started
        model = result.model.to(args.device)
        params = sum(p.numel() for p in model.parameters())
        cache = SequenceCache(source, model.streams, config.max_len)
        for _batch in cache.batches(ids, 64):  # read every sequence once, outside the timing
            pass
        started = time.perf_counter()
        predict(model, cache, ids, batch_size=64, device=args.device)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        embed_rate = len(ids) / (time.perf_counter() - started)
        print(
            f"{preset:<8}{params:>11,}{result.train_clips_per_second:>15.1f}{fit_seconds:>8.1f}{embed_rate:>15.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
