"""Before/after figures for the catalog in columns (issue 12): opening, the Library, queries, CLI.

Builds (or reuses) synthetic workspaces with :func:`desktop_app.data.scale.build_scale_workspace`
and measures, each in a fresh process so that "cold" means cold:

* **open → interactive**: ``WorkspaceModel.open`` with a shown Library panel, the longest GUI
  freeze while it opens (a 5 ms heartbeat timer) and the time until the Library shows every
  clip;
* **first / second query** in the app: the Query panel's ``run_query`` until the shared query
  model has the scores, started once the window's workers are idle (a person reads the window
  before typing; the time until then is its own row);
* **Library filter per keystroke**: one ``_set_filters(text=…)`` (what one keystroke cost before;
  with the change a keystroke in a large workspace is debounced and this is what runs once
  typing pauses);
* **CLI ``query`` / ``info``** cold: wall time of ``python -m desktop_app.cli …`` subprocesses;
* **peak memory** (max RSS) of the app process after open, the queries and the filters.

Run it on the tree to measure (``--tree``, default this checkout); the "before" figures come from
a worktree of the commit before the change::

    git worktree add /tmp/wt_before f6b3c0f
    python benchmarks/bench_columns.py --sizes 100000 --tree /tmp/wt_before
    python benchmarks/bench_columns.py --sizes 100000

The workspaces are built once under ``--dir`` with this checkout's builder (both trees read the
same format) from the demo workspace ``--source``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

APP_SNIPPET = r"""
import json, resource, sys, time
from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop_app.gui.models import AppModels
from desktop_app.gui.panels.library import LibraryPanel
from desktop_app.gui.panels.query import QueryPanel
from PySide6.QtCore import QSettings
ws = sys.argv[1]
models = AppModels.create()
library = LibraryPanel(models); library.resize(700, 500); library.show()
settings = QSettings(sys.argv[2], QSettings.Format.IniFormat)
query = QueryPanel(models, settings=settings); query.show()
for _ in range(20): app.processEvents()
gaps = []
clock = QElapsedTimer(); clock.start()
last = [clock.elapsed()]
def beat():
    now = clock.elapsed(); gaps.append(now - last[0]); last[0] = now
timer = QTimer(); timer.setInterval(5); timer.timeout.connect(beat); timer.start()
def wait(pred, limit=600.0):
    t = time.perf_counter()
    while not pred():
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() - t > limit: raise TimeoutError
t0 = time.perf_counter()
last[0] = clock.elapsed()
models.workspace.open(ws)
opened = time.perf_counter() - t0
n = models.workspace.workspace.catalog.num_clips()
wait(lambda: library.proxy.rowCount() == n)
shown = time.perf_counter() - t0
for _ in range(20): app.processEvents(); time.sleep(0.005)
timer.stop()
freeze = max(gaps) / 1000 if gaps else opened
# a person reads the window before typing: the queries start once the workers are idle
t = time.perf_counter()
wait(lambda: not models.tasks.running())
settled = shown + time.perf_counter() - t
times = []
for text in ("ball", "box"):
    done = []
    models.query.changed.connect(lambda *_: done.append(1) if models.query.scores else None)
    t = time.perf_counter()
    query.run_query(text)
    wait(lambda: bool(done))
    times.append(time.perf_counter() - t)
    models.query.changed.disconnect()
filt = []
for text in ("b", "ba", "bal", "ball", ""):
    t = time.perf_counter()
    library._set_filters(text=text)
    filt.append(time.perf_counter() - t)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"open_call": opened, "open_freeze": freeze, "library_shown": shown, "settled": settled,
    "query_first": times[0], "query_second": times[1], "filter_keystroke": max(filt[:4]),
    "peak_mb": peak}))
models.shutdown(5.0)
"""


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(tree), QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1")
    return env


def _cli(tree: Path, *argv: str) -> float:
    start = time.perf_counter()
    code = f"import sys; from desktop_app.cli import main; sys.exit(main({list(argv)!r}))"
    subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=_env(tree), check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def measure(tree: Path, ws: Path, scratch: Path) -> dict[str, float]:
    """Every figure for one workspace, each from a fresh process running ``tree``'s code."""
    out = subprocess.run(
        [sys.executable, "-c", APP_SNIPPET, str(ws), str(scratch / "settings.ini")],
        cwd=tree,
        env=_env(tree),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    figures["cli_query"] = min(_cli(tree, "query", "--workspace", str(ws), "ball") for _ in range(2))
    figures["cli_info"] = min(_cli(tree, "info", "--workspace", str(ws)) for _ in range(2))
    return figures


ROWS = (
    ("open_freeze", "longest GUI freeze while opening (s)"),
    ("library_shown", "open → Library shows every clip (s)"),
    ("settled", "open → workers idle (columns, index, vocabulary) (s)"),
    ("query_first", "first query in the app, once idle (s)"),
    ("query_second", "second query in the app (s)"),
    ("filter_keystroke", "Library filter, one keystroke's pass (s)"),
    ("cli_query", "CLI query, cold (s)"),
    ("cli_info", "CLI info, cold (s)"),
    ("peak_mb", "peak memory of the app process (MB)"),
)


def main() -> None:
    """Build the workspaces and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench_columns"))
    parser.add_argument("--source", type=Path, default=None, help="demo workspace to build from")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    from desktop_app.data.scale import build_scale_workspace

    args.dir.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, float]] = {}
    for size in args.sizes:
        ws = args.dir / f"ws_{size}"
        if not ws.is_dir():
            build_scale_workspace(ws, size, source=args.source)
        results[size] = measure(args.tree.resolve(), ws, args.dir)
    print(f"tree: {args.tree}")
    print("| | " + " | ".join(f"{s:,}" for s in args.sizes) + " |")
    print("|---|" + "---|" * len(args.sizes))
    for key, label in ROWS:
        print(f"| {label} | " + " | ".join(f"{results[s][key]:.3g}" for s in args.sizes) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
