"""Training and embedding rates of seed-004 runs (``hse``, ``fse``) in a workspace.

    python benchmarks/hse_rate.py WORKSPACE RUN [RUN …]

Prints, per run: training videos/s (recorded in its ``meta.json`` while it trained), clip
embeddings/s (``Run.embed``, what ``actionlens embed`` and the maps use: one clip = one
low-level clip) and video embeddings/s (captioned videos through their segments, what
``query --text`` and the paragraph-retrieval table use), on this machine's threads.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from desktop_app.training.data import SequenceCache, clips_with_streams
from desktop_app.training.experiment import open_sequence_source
from desktop_app.training.inputs import TransformedSource
from desktop_app.training.paragraphs import embed_videos
from desktop_app.training.runs import Run
from desktop_app.workspace import Workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace")
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"| run | train videos/s | clip embeddings/s | video embeddings/s | threads {args.threads} |")
    print("|---|---|---|---|---|")
    with Workspace.open(args.workspace, readonly=True) as ws:
        for run_id in args.runs:
            run = Run.load(ws.runs_dir / run_id)
            source = open_sequence_source(ws, run.meta["features"]["name"])
            ids = clips_with_streams(source, run.streams)
            started = time.perf_counter()
            run.embed(source, ids)
            clip_rate = len(ids) / (time.perf_counter() - started)
            with ws.catalog.transaction() as con:
                captioned = np.array(sorted({r[0] for r in con.execute("SELECT clip_id FROM captions")}))
            captioned = captioned[np.isin(captioned, ids)]
            cache = SequenceCache(TransformedSource(source, run.input_transform), run.streams, run.max_len)
            started = time.perf_counter()
            embed_videos(run.model, cache, ws, captioned)
            video_rate = len(captioned) / (time.perf_counter() - started)
            train_rate = run.meta["training"]["train_clips_per_second"]
            print(f"| {run_id} | {train_rate:.1f} | {clip_rate:.0f} | {video_rate:.0f} | |")


if __name__ == "__main__":
    main()
