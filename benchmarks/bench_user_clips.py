"""Newly rendered videos through ``query --clip-file``: how often the nearest class is their class.

Renders ``--per-class`` new demo videos of every class of a demo workspace (random scenes from
seeds the demo never used, the preset's geometry), extracts and embeds each with each run in
memory (what ``actionlens query --clip-file`` does) and counts how often the nearest class (the
re-normalised mean of the class's unit clip embeddings) is the rendered class. None of the new
videos is in the workspace, so none is in a class mean or in any run's training clips. Prints
mean ± std over the runs (seeds) with chance beside it.

    OMP_NUM_THREADS=1 python benchmarks/bench_user_clips.py --workspace WS --runs R1 R2 R3
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np


def main() -> None:
    import torch

    from desktop_app.analysis import new_clips
    from desktop_app.analysis.retrieval import Retriever
    from desktop_app.data.demo_scenes import get_preset, render_clip, write_video
    from desktop_app.evaluation.embed import embed_workspace
    from desktop_app.progress import NullProgress
    from desktop_app.workspace import Workspace

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--runs", nargs="+", required=True)
    parser.add_argument("--per-class", type=int, default=2)
    parser.add_argument("--seed", type=int, default=10_000)
    args = parser.parse_args()

    ws = Workspace.open(args.workspace)
    preset = get_preset((ws.manifest.get("demo") or {}).get("preset", "small"))
    classes = [c for c in ws.catalog.classes() if c.verb and c.noun]
    with tempfile.TemporaryDirectory() as tmp:
        files, truth = [], []
        for c in classes:
            for i in range(args.per_class):
                seed = args.seed + 100 * c.id + i
                video = render_clip(
                    str(c.verb),
                    str(c.noun),
                    width=preset.width,
                    height=preset.height,
                    fps=preset.fps,
                    n_frames=int(round(preset.duration * preset.fps)),
                    rng=seed,
                )
                path = Path(tmp) / f"{c.name}_{i}.mp4"
                write_video(path, video.frames, preset.fps)
                files.append(path)
                truth.append(c.id)
        accuracies = []
        encoded_by_store: dict[str, list] = {}
        for run_id in args.runs:
            if not (ws.embeddings_dir / run_id / "clips.npy").is_file():
                embed_workspace(ws, run_id)
            run, space, store = new_clips._open_run_and_store(ws, run_id)
            if store.name not in encoded_by_store:
                encoded, failed = new_clips._encode_files(files, store, NullProgress())
                assert not failed, failed
                encoded_by_store[store.name] = encoded
            vectors = new_clips._embed(run, store, encoded_by_store[store.name], NullProgress())
            retriever = Retriever(space, "numpy")
            top = [retriever.nearest_classes(v, 1)[0].class_id for v in vectors]
            accuracy = float(np.mean(np.asarray(top) == np.asarray(truth)))
            test = ((run.meta.get("metrics") or {}).get("recognition") or {}).get("accuracy")
            print(
                f"{run_id}: nearest class of {len(files)} new videos {accuracy:.3f} (run's test accuracy {test})"
            )
            accuracies.append(accuracy)
    print(
        f"| runs | new videos | nearest-class accuracy (mean ± std over runs) | chance |\n|---|---|---|---|\n"
        f"| {len(accuracies)} | {len(files)} | {np.mean(accuracies):.3f} ± {np.std(accuracies):.3f} | {1 / len(classes):.3f} |"
    )


if __name__ == "__main__":
    main()
