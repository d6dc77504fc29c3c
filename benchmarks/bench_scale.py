"""Issue 12's scale table: the app and the CLI on synthetic 13 k / 100 k / 1 M-clip workspaces.

Builds (or reuses, under ``--cache``) one workspace per ``--sizes`` entry with
:func:`desktop_app.data.scale.build_scale_workspace` (catalog rows pointing at the demo's videos,
clustered 50-d embeddings, the demo's run copied), then measures every row of the issue's table
in fresh processes, each against the code of every ``--src`` checkout (so before and after are
measured in the same run, on the same workspaces)::

    git worktree add /tmp/wt_before f6b3c0f
    .venv/bin/python benchmarks/bench_scale.py --sizes 13000 100000 \
        --src before=/tmp/wt_before --src after=. --out benchmarks/results/bench_scale.txt

Each measurement is a subprocess running that checkout's ``desktop_app`` (``PYTHONPATH`` set to
it; this file's child modes import nothing else of it): ``launch`` times ``run_app`` from the
process's start to a window titled with the workspace; ``script`` opens the main window
offscreen (``QT_QPA_PLATFORM=offscreen``), opens the workspace and drives the real panels —
first map, pan/zoom, hover, lasso, query, recolour, Library filter, play — with a 10 ms
heartbeat ``QTimer`` on the GUI thread counting every gap over 100 ms; the CLI rows run
``python -m desktop_app`` cold. Before each measurement the workspace's cached maps,
thumbnails and saved views are removed, so "nothing cached" holds every time. See
``docs/scale.md`` for what each row measures exactly.

A row the code under test cannot do (a missing widget or method) prints ``n/a`` and the reason
below the table. Timings are wall-clock on a shared machine: compare columns of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULT_PREFIX = "BENCH_RESULT "
FREEZE_MS = 100.0
BEAT_MS = 10
QUIET_S = 0.4  # a step has settled when the GUI thread did no work for this long and no task runs
BUSY_S = 0.004  # one processEvents() call longer than this did work
STEP_TIMEOUT_S = 900.0
QUERY_WORDS = "spin ball"
FILTER_TEXT = "spin"
LASSO_SHARE = 0.576  # issue 12: the 1 M lasso selected 576 k points

ROWS: list[tuple[str, str]] = [
    ("launch", "app launch → titled window"),
    ("open_frozen", "window frozen while the workspace opens"),
    ("first_map", "first map, nothing cached"),
    ("pan_zoom", "pan/zoom frame, whole map in view"),
    ("hover", "hover, with repaint"),
    ("lasso", "lasso (points selected)"),
    ("recolour", "recolour by score / class"),
    ("query", "first query in the Query panel"),
    ("filter", "Library text filter, per keystroke"),
    ("freezes", "GUI freezes > 100 ms in one scripted run"),
    ("cli", "CLI `query` / `info`"),
    ("umap", "`project umap`"),
    ("rss", "peak RSS: app script / CLI query / project umap"),
]


# ============================================================================ the child processes
def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()


def child_launch(workspace: Path, t0: float) -> None:
    """``run_app(workspace)`` as ``actionlens app`` calls it; report when the titled window shows."""
    from PySide6.QtCore import QTimer

    from desktop_app.gui.app import create_application, run_app

    app = create_application([sys.argv[0]])

    def poll() -> None:
        for widget in app.topLevelWidgets():
            if widget.isVisible() and workspace.name in widget.windowTitle():
                _emit({"launch": time.time() - t0})
                os._exit(0)  # the map and every other first task are not part of this row

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(poll)
    timer.start()
    run_app(workspace, [sys.argv[0]])


class Heartbeat:
    """A 10 ms GUI-thread timer recording every gap between beats (how long the loop was blocked)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QObject, Qt, QTimer

        self._owner = QObject()
        self.timer = QTimer(self._owner)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(BEAT_MS)
        self.timer.timeout.connect(self.beat)
        self.last = 0.0
        self.gaps: list[tuple[float, str]] = []  # (gap ms, step) for gaps over the freeze limit
        self.longest: dict[str, float] = {}
        self.step = ""
        # BENCH_FREEZE_DUMP=FILE: every thread's stack is written to FILE when the GUI thread has
        # not beaten for FREEZE_MS (faulthandler's watchdog is a C thread: it needs no GIL).
        dump = os.environ.get("BENCH_FREEZE_DUMP")
        self._dump = open(dump, "w") if dump else None

    def _arm(self) -> None:
        if self._dump is not None:
            import faulthandler

            faulthandler.dump_traceback_later(FREEZE_MS / 1000.0, repeat=True, file=self._dump)

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def set_step(self, step: str) -> None:
        self.beat()
        self.step = step
        self.longest.setdefault(step, 0.0)
        if self._dump is not None:
            self._dump.write(f"=== step {step} at {time.perf_counter():.3f}\n")
            self._dump.flush()

    def stop(self) -> None:
        self.beat()
        self.timer.stop()
        if self._dump is not None:
            import faulthandler

            faulthandler.cancel_dump_traceback_later()

    def beat(self) -> None:
        """Record the gap since the last beat (the timer calls it; a step may call it to close a gap)."""
        now = time.perf_counter()
        gap = (now - self.last) * 1000.0
        self.last = now
        self.longest[self.step] = max(self.longest.get(self.step, 0.0), gap)
        if gap > FREEZE_MS:
            self.gaps.append((gap, self.step))
            if self._dump is not None:
                self._dump.write(f"=== gap {gap:.0f} ms in {self.step} ending {now:.3f}\n")
                self._dump.flush()
        self._arm()


class Driver:
    """Runs posted user actions in the event loop and waits until the app settles."""

    def __init__(self, app: Any, tasks: Any) -> None:
        self.app = app
        self.tasks = tasks

    def run_until(self, done: Callable[[], bool], timeout: float = STEP_TIMEOUT_S) -> float:
        """Process events until ``done()``; returns the seconds it took."""
        t0 = time.perf_counter()
        while not done():
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError(f"not done after {timeout:.0f} s")
            self.app.processEvents()
            time.sleep(0.001)
        return time.perf_counter() - t0

    def settle(self, t0: float, done: Callable[[], bool], timeout: float = STEP_TIMEOUT_S) -> float:
        """Seconds from ``t0`` until ``done()`` holds and the GUI thread's last work ended.

        The GUI thread's work is seen as ``processEvents`` calls longer than :data:`BUSY_S`;
        the step is over when ``done()`` holds, no task runs, and no such call came for
        :data:`QUIET_S` (so a debounced timer's work, or a task's result, is counted).
        """
        last_work = time.perf_counter()
        while True:
            start = time.perf_counter()
            self.app.processEvents()
            end = time.perf_counter()
            if end - start > BUSY_S:
                last_work = end
            if end - t0 > timeout:
                raise TimeoutError(f"not settled after {timeout:.0f} s")
            if self.tasks.running():
                last_work = max(last_work, end)
            elif done() and end - last_work > QUIET_S:
                return last_work - t0
            time.sleep(0.001)

    def post(self, action: Callable[[], object]) -> float:
        """Run ``action`` from the event loop (as a user's event would); returns its start time."""
        from PySide6.QtCore import QTimer

        started = [0.0]

        def run() -> None:
            started[0] = time.perf_counter()
            action()

        QTimer.singleShot(0, run)
        while not started[0]:
            self.app.processEvents()
            time.sleep(0.0005)
        return started[0]

    def wait(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.app.processEvents()
            time.sleep(0.002)


def child_script(workspace: Path, config_dir: Path) -> None:
    """The scripted run of the table's app rows, with a heartbeat over all of it."""
    from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
    from PySide6.QtTest import QTest

    from desktop_app.gui.app import create_application
    from desktop_app.gui.main_window import MainWindow

    app = create_application([sys.argv[0]])
    result: dict[str, Any] = {"notes": {}}
    notes: dict[str, str] = result["notes"]
    # Warm the big libraries the panels import on first use (as the heartbeat test does): their
    # import holds the GIL on a worker for long stretches, which is not the panels' doing.
    import sklearn.decomposition  # noqa: F401
    import torch  # noqa: F401

    settings = QSettings(str(config_dir / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1400, 900)
    window.show()
    QTest.qWaitForWindowExposed(window)
    models = window.models
    driver = Driver(app, models.tasks)
    heartbeat = Heartbeat()
    driver.wait(0.5)
    heartbeat.start()
    heartbeat.set_step("idle")
    driver.wait(1.0)
    result["jitter_ms"] = heartbeat.longest["idle"]

    def step(name: str) -> None:
        """Start step ``name``; first emit what is measured so far (a killed run keeps it)."""
        heartbeat.set_step(name)
        result["freezes"] = _freezes(heartbeat)
        _emit(result)

    map_panel: Any = window.panel("map")
    library: Any = window.panel("library")

    def library_rows() -> int:
        return int(library.view.model().rowCount())

    # ---- open, and the first map (nothing cached)
    step("open")
    t_open = driver.post(lambda: window.open_workspace(workspace))
    opened = [0.0]

    def is_open() -> bool:
        if not opened[0] and workspace.name in window.windowTitle() and library_rows() > 0:
            opened[0] = time.perf_counter()
        return bool(opened[0])

    driver.run_until(is_open)
    heartbeat.beat()  # the gap up to now: a synchronous open has not let the timer fire since
    result["open_s"] = opened[0] - t_open
    result["open_frozen"] = heartbeat.longest["open"] / 1000.0
    step("first map")
    driver.run_until(lambda: map_panel.map is not None)
    result["first_map"] = time.perf_counter() - t_open
    the_map = map_panel.map
    result["map"] = {"method": the_map.method, "points": len(the_map.ids)}
    driver.settle(time.perf_counter(), lambda: True)
    coords = the_map.coords
    ids = the_map.ids

    # ---- pan/zoom with the whole map in view: one posted step + a synchronous repaint per frame
    step("pan/zoom")
    view_box = getattr(map_panel, "view_box", None)
    plot_widget = getattr(map_panel, "plot_widget", None)
    if view_box is None or plot_widget is None:
        notes["pan_zoom"] = "the map panel has no view_box/plot_widget"
    else:
        view_box.autoRange(padding=0.05)
        driver.settle(time.perf_counter(), lambda: True)
        frames: list[float] = []
        width = float(coords[:, 0].max() - coords[:, 0].min()) or 1.0
        moves: list[Callable[[], None]] = []
        for _ in range(4):
            moves += [
                lambda: view_box.translateBy(x=width * 0.01),
                lambda: view_box.translateBy(x=-width * 0.01),
                lambda: view_box.scaleBy((0.98, 0.98)),
                lambda: view_box.scaleBy((1 / 0.98, 1 / 0.98)),
            ]
        for move in moves:
            box: list[float] = []

            def frame(move: Callable[[], None] = move, box: list[float] = box) -> None:
                t = time.perf_counter()
                move()
                plot_widget.grab()  # a full paint of the plot, as the screen would get it
                box.append(time.perf_counter() - t)

            driver.post(frame)
            driver.wait(0.03)
            frames.extend(box)
        result["pan_zoom"] = frames

    # ---- hover over points, with the card shown and the plot repainted
    step("hover")
    card = getattr(map_panel, "hover_card", None)
    if view_box is None or plot_widget is None or card is None:
        notes["hover"] = "the map panel has no hover_card"
    else:
        import numpy as np

        rng = np.random.default_rng(0)
        viewport = plot_widget.viewport()
        corner = QPoint(viewport.width() - 3, 3)
        hovers: list[float] = []
        for row in rng.choice(len(ids), size=min(8, len(ids)), replace=False):
            move_mouse(viewport, corner)
            driver.wait(0.08)
            scene = view_box.mapViewToScene(QPointF(float(coords[row, 0]), float(coords[row, 1])))
            pos = plot_widget.mapFromScene(scene)
            t0 = time.perf_counter()
            move_mouse(viewport, pos)
            try:
                driver.run_until(card.isVisible, timeout=5.0)
            except TimeoutError:
                continue
            plot_widget.grab()
            hovers.append(time.perf_counter() - t0)
        move_mouse(viewport, corner)
        driver.wait(0.1)
        if hovers:
            result["hover"] = hovers
        else:
            notes["hover"] = "moving the mouse onto points never showed the hover card"

    # ---- lasso: the points left of the 57.6 % quantile of x
    step("lasso")
    if not hasattr(map_panel, "select_region"):
        notes["lasso"] = "the map panel has no select_region"
    else:
        import numpy as np

        cut = float(np.quantile(coords[:, 0], LASSO_SHARE))
        (x0, y0), y1 = coords.min(axis=0) - 1.0, float(coords[:, 1].max()) + 1.0
        polygon = np.array([[x0, y0], [cut, y0], [cut, y1], [x0, y1]], dtype=np.float64)
        t0 = driver.post(lambda: map_panel.select_region(polygon))
        result["lasso"] = driver.settle(t0, lambda: len(models.selection) > 0)
        result["lasso_points"] = len(models.selection)

    # ---- the first query in the Query panel
    step("query")
    query: Any = window.panel("query")
    window.docks["query"].raise_()
    words = _query_words(models)
    QTest.keyClicks(query.search, words)
    QTest.keyClick(query.search, Qt.Key.Key_Escape)  # close the completion list, if open
    driver.settle(time.perf_counter(), lambda: True)
    t0 = driver.post(lambda: QTest.keyClick(query.search, Qt.Key.Key_Return))
    result["query"] = driver.settle(t0, lambda: models.query.text == words and bool(models.query.scores))
    result["query_words"] = words

    # ---- recolour by score, then by class
    window.docks["map"].raise_()
    recolour: dict[str, float] = {}
    for key in ("score", "class"):
        step(f"recolour {key}")
        legend = map_panel.legend_labels()
        refused: list[str] = []

        def colour_by(key: str = key, refused: list[str] = refused) -> None:
            try:
                map_panel.set_colouring(key)
            except KeyError as exc:
                refused.append(repr(exc))

        def recoloured(legend: list[str] = legend, refused: list[str] = refused) -> bool:
            return bool(refused) or map_panel.legend_labels() != legend

        t0 = driver.post(colour_by)
        seconds = driver.settle(t0, recoloured)
        if refused:
            notes["recolour"] = f"colouring by {key} is not offered ({refused[0]})"
        else:
            recolour[key] = seconds
    result["recolour"] = recolour

    # ---- the Library's text filter, one keystroke at a time
    step("filter")
    window.docks["library"].raise_()
    search = getattr(library, "search", None)
    if search is None:
        notes["filter"] = "the Library has no search field"
    else:
        search.setFocus()
        keystrokes: list[float] = []
        for ch in FILTER_TEXT:

            def press(ch: str = ch) -> None:
                QTest.keyClicks(search, ch)

            t0 = driver.post(press)
            keystrokes.append(driver.settle(t0, lambda: True))
        result["filter"] = keystrokes
        result["filter_rows"] = library_rows()
        search.clear()
        driver.settle(time.perf_counter(), lambda: True)

    # ---- play the first clip of the Library
    step("play")
    player: Any = window.panel("player")
    view = library.view
    try:
        first = view.visualRect(view.model().index(0, 0)).center()
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, first)
        window.docks["player"].raise_()
        t0 = driver.post(lambda: QTest.keyClick(view, Qt.Key.Key_Return))
        driver.run_until(lambda: player.video.has_frame(), timeout=60.0)
        result["play"] = time.perf_counter() - t0
        driver.wait(1.0)  # a second of playing, inside the heartbeat
    except (TimeoutError, AttributeError) as exc:
        notes["play"] = f"playing a clip did not show a frame ({exc})"

    heartbeat.stop()
    result["freezes"] = _freezes(heartbeat)
    result["complete"] = True
    _emit(result)
    os._exit(0)  # skip the panels' shutdown: not part of any row


def move_mouse(widget: Any, pos: Any) -> None:
    """Send ``widget`` a mouse move to ``pos`` with no button held (what hovering delivers).

    ``QTest.mouseMove`` moves no mouse on the offscreen platform, so the event is sent directly.
    """
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    local = QPointF(pos)
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        local,
        QPointF(widget.mapToGlobal(pos)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def _freezes(heartbeat: Heartbeat) -> dict[str, Any]:
    """The gaps over the freeze limit so far, the idle loop's excluded."""
    gaps = [g for g, step in heartbeat.gaps if step != "idle"]
    return {"count": len(gaps), "max_ms": max(gaps, default=0.0), "by_step": _count_by_step(heartbeat.gaps)}


def _count_by_step(gaps: list[tuple[float, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, step in gaps:
        if step != "idle":
            counts[step] = counts.get(step, 0) + 1
    return counts


def _query_words(models: Any) -> str:
    """:data:`QUERY_WORDS` if a class has that phrase, else the first class's phrase."""
    ws = models.workspace.workspace
    phrases = [c.phrase for c in ws.catalog.classes()]
    return QUERY_WORDS if QUERY_WORDS in phrases else phrases[0]


# ============================================================================ the parent
@dataclass
class Checkout:
    """A source tree whose ``desktop_app`` is measured."""

    label: str
    root: Path

    def env(self, config_dir: Path) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(self.root) + os.pathsep + env.get("PYTHONPATH", "")
        env["QT_QPA_PLATFORM"] = "offscreen"
        env["XDG_CONFIG_HOME"] = str(config_dir)  # QSettings of run_app: never the user's
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return env


@dataclass
class Measured:
    """One subprocess: its result (or why there is none), wall time and peak RSS."""

    result: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    error: str = ""


def run_child(
    argv: list[str], env: dict[str, str], timeout: float, memory_gb: float | None = None
) -> Measured:
    """Run a subprocess, time it and read its peak RSS (``wait4``); parse a result line if any.

    ``memory_gb`` caps the child's resident memory: it is read from ``/proc`` every 20 ms and the
    child is killed above it (the row then reads n/a, naming the cap), so that a measurement
    that would need more does not push the shared machine into swap.
    """
    t0 = time.time()
    env = {**env, "BENCH_T0": repr(t0)}
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = t0 + timeout
        killed = ""
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            over = memory_gb is not None and _rss_gb(proc.pid) > memory_gb
            if over or time.time() > deadline:
                proc.kill()
                _, status, rusage = os.wait4(proc.pid, 0)
                killed = f"killed above {memory_gb:g} GB resident" if over else f"timeout > {timeout:.0f} s"
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.time() - t0
        out.seek(0)
        text = out.read()
    m = Measured(wall_s=wall, peak_rss_mb=rusage.ru_maxrss / 1024.0)
    for line in text.splitlines():
        if line.startswith(RESULT_PREFIX):
            m.result = json.loads(line[len(RESULT_PREFIX) :])  # the last one: a child emits as it goes
    if killed:
        m.error = killed
        return m
    if proc.returncode != 0 or (not m.result and "--child" in argv):
        tail = [ln for ln in text.strip().splitlines() if ln.strip()][-1:] or [f"exit {proc.returncode}"]
        m.error = f"exit {proc.returncode}: {tail[0][:160]}"
    return m


def _rss_gb(pid: int) -> float:
    """The resident memory of a running process, from ``/proc/PID/status`` (0 if unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError):
        pass
    return 0.0


PRISTINE = ".pristine"  # beside each cached workspace: its catalog and manifest as built


def reset_workspace(ws: Path) -> None:
    """Put the workspace back as built: remove what the app and ``project`` cache (maps,
    thumbnails, saved views) and restore the catalog and manifest (a checkout that adds an
    index or migrates the catalog must not change what the next checkout measures)."""
    for sub in ("maps", "thumbnails"):
        shutil.rmtree(ws / sub, ignore_errors=True)
        (ws / sub).mkdir()
    (ws / "views.json").unlink(missing_ok=True)
    pristine = ws.parent / (ws.name + PRISTINE)
    for name in ("catalog.sqlite", "workspace.json"):
        if (pristine / name).is_file():
            shutil.copy2(pristine / name, ws / name)
    for extra in ("catalog.sqlite-wal", "catalog.sqlite-shm", "catalog.sqlite-journal"):
        (ws / extra).unlink(missing_ok=True)


def ensure_workspace(cache: Path, n: int, source: Path | None) -> Path:
    """The cached workspace of ``n`` clips, built once, with a copy of its catalog and manifest."""
    from desktop_app.data.scale import build_scale_workspace

    ws = cache / f"ws-{n}"
    if not (ws / "workspace.json").is_file():
        t0 = time.perf_counter()
        build_scale_workspace(ws, n, source=source)
        print(f"built {ws} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    pristine = ws.parent / (ws.name + PRISTINE)
    if not (pristine / "catalog.sqlite").is_file():
        pristine.mkdir(exist_ok=True)
        for name in ("workspace.json", "catalog.sqlite"):
            shutil.copy2(ws / name, pristine / name)
    return ws


def measure(
    checkout: Checkout,
    ws: Path,
    rows: set[str],
    timeouts: dict[str, float],
    log: Callable[[str], None],
    memory_gb: float | None = None,
) -> dict[str, Measured]:
    """Every measurement of one checkout on one workspace."""
    python = sys.executable
    me = str(Path(__file__).absolute())
    found: dict[str, Measured] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        env = checkout.env(Path(tmp))
        app_rows = rows & {"open_frozen", "first_map", "pan_zoom", "hover", "lasso", "recolour", "query"}
        app_rows |= rows & {"filter", "freezes", "rss"}
        if "launch" in rows:
            reset_workspace(ws)
            log(f"  {checkout.label}: launch")
            found["launch"] = run_child(
                [python, me, "--child", "launch", "--workspace", str(ws)], env, timeouts["app"], memory_gb
            )
        if app_rows:
            reset_workspace(ws)
            log(f"  {checkout.label}: scripted app run")
            found["script"] = run_child(
                [python, me, "--child", "script", "--workspace", str(ws), "--config", tmp],
                env,
                timeouts["app"],
                memory_gb,
            )
        if rows & {"cli", "rss"}:
            cli = [python, "-m", "desktop_app"]
            log(f"  {checkout.label}: CLI info, query")
            found["info"] = run_child([*cli, "info", "--workspace", str(ws)], env, timeouts["cli"], memory_gb)
            found["cli_query"] = run_child(
                [*cli, "query", "--workspace", str(ws), *QUERY_WORDS.split()], env, timeouts["cli"], memory_gb
            )
        if "umap" in rows:
            reset_workspace(ws)
            log(f"  {checkout.label}: project umap")
            found["umap"] = run_child(
                [
                    python,
                    "-m",
                    "desktop_app",
                    "project",
                    "--workspace",
                    str(ws),
                    "--method",
                    "umap",
                    "--force",
                ],
                env,
                timeouts["umap"],
                memory_gb,
            )
        reset_workspace(ws)
    return found


def _s(seconds: float) -> str:
    if seconds < 0.1:
        return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s"


def _spread(values: list[float]) -> str:
    """Median and range of repeated timings."""
    if not values:
        return "n/a"
    lo, med, hi = min(values), statistics.median(values), max(values)
    return f"{_s(med)} ({_s(lo)}–{_s(hi)})"


def _count(n: int) -> str:
    """``13 k``, ``576 k``, ``7.5 k``, ``1 M``, ``1.25 M``."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.2f}".rstrip("0").rstrip(".") + " M"
    if n >= 10_000:
        return f"{round(n / 1000)} k"
    return f"{n / 1000:.1f} k" if n >= 1000 else str(n)


def cells(found: dict[str, Measured], n: int) -> tuple[dict[str, str], list[str]]:
    """The table's cell per row for one column, and notes (why a cell is n/a, what it shows)."""
    cell: dict[str, str] = {}
    notes: list[str] = []

    def failed(key: str, row: str) -> bool:
        m = found.get(key)
        if m is None:
            cell[row] = "–"
            return True
        if m.error and not m.result:
            cell[row] = "n/a"
            notes.append(f"{row}: {m.error}")
            return True
        return False

    if not failed("launch", "launch"):
        cell["launch"] = _s(found["launch"].result["launch"])
    script_rows: tuple[str, ...] = (
        "open_frozen",
        "first_map",
        "pan_zoom",
        "hover",
        "lasso",
        "recolour",
        "query",
        "filter",
    )
    script_rows += ("freezes",)
    if "script" not in found:
        for row in script_rows:
            cell[row] = "–"
    elif found["script"].error and not found["script"].result:
        for row in script_rows:
            cell[row] = "n/a"
        notes.append(f"app script: {found['script'].error}")
    else:
        r = found["script"].result
        if not r.get("complete"):
            notes.append(
                f"app script stopped ({found['script'].error}); the rows it had not reached read n/a"
            )
        for key, why in r.get("notes", {}).items():
            notes.append(f"{key}: {why}")
        cell["open_frozen"] = _s(r["open_frozen"]) if "open_frozen" in r else "n/a"
        if "first_map" in r:
            points = r["map"]["points"]
            placed = "" if points >= n else f", {_count(points)} of {_count(n)} placed"
            cell["first_map"] = f"{_s(r['first_map'])} ({r['map']['method']}{placed})"
        else:
            cell["first_map"] = "n/a"
        cell["pan_zoom"] = _spread(r["pan_zoom"]) if "pan_zoom" in r else "n/a"
        cell["hover"] = _spread(r["hover"]) if "hover" in r else "n/a"
        cell["lasso"] = f"{_s(r['lasso'])} ({_count(r['lasso_points'])})" if "lasso" in r else "n/a"
        rc = r.get("recolour", {})
        cell["recolour"] = " / ".join(_s(rc[k]) if k in rc else "n/a" for k in ("score", "class"))
        cell["query"] = _s(r["query"]) if "query" in r else "n/a"
        cell["filter"] = (
            f"{_s(statistics.median(r['filter']))} (max {_s(max(r['filter']))})" if "filter" in r else "n/a"
        )
        fr = r.get("freezes", {"count": 0, "max_ms": 0.0, "by_step": {}})
        at_least = "" if r.get("complete") else "≥ "
        cell["freezes"] = f"{at_least}{fr['count']} (max {_s(fr['max_ms'] / 1000)})"
        if fr["by_step"]:
            notes.append("freezes by step: " + ", ".join(f"{k} {v}" for k, v in fr["by_step"].items()))
        extra = f"; first frame played after {_s(r['play'])}" if "play" in r else ""
        extra += f"; filter {FILTER_TEXT!r} shows {r['filter_rows']:,} clips" if "filter_rows" in r else ""
        words = f"; query {r['query_words']!r}" if "query_words" in r else ""
        notes.append(f"idle jitter {r['jitter_ms']:.0f} ms{words}{extra}")
    cli = []
    for key in ("cli_query", "info"):
        if key not in found:
            cli.append("–")
        elif found[key].error:
            cli.append("n/a")
            notes.append(f"CLI {key}: {found[key].error}")
        else:
            cli.append(_s(found[key].wall_s))
    cell["cli"] = " / ".join(cli)
    if "umap" in found:
        m = found["umap"]
        if m.error:
            cell["umap"] = "n/a" if not m.error.startswith("timeout") else f"> {m.error.split('> ')[1]}"
            notes.append(f"project umap: {m.error}")
        else:
            cell["umap"] = _s(m.wall_s)
    else:
        cell["umap"] = "–"
    rss = []
    for key in ("script", "cli_query", "umap"):
        rss.append(f"{found[key].peak_rss_mb / 1024:.2f} GB" if key in found else "–")
    cell["rss"] = " / ".join(rss)
    return cell, notes


def format_table(columns: list[tuple[str, dict[str, str]]], rows: list[tuple[str, str]]) -> str:
    """A Markdown table: one row per measurement, one column per (size, checkout)."""
    header = "| | " + " | ".join(name for name, _ in columns) + " |"
    rule = "|---|" + "---|" * len(columns)
    body = [f"| {title} | " + " | ".join(c.get(key, "–") for _, c in columns) + " |" for key, title in rows]
    return "\n".join([header, rule, *body])


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; run a child mode or the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[13_000, 100_000, 1_000_000])
    p.add_argument("--cache", type=Path, default=Path("/tmp/actionlens-scale"), help="built workspaces")
    p.add_argument(
        "--src",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="a checkout to measure (repeatable; default: this one, as 'this')",
    )
    p.add_argument("--source", type=Path, help="the demo workspace to build from (default: the demo's)")
    p.add_argument("--rows", nargs="+", choices=[k for k, _ in ROWS], help="only these rows (default: all)")
    p.add_argument("--skip", nargs="+", default=[], choices=[k for k, _ in ROWS], help="leave rows out")
    p.add_argument("--app-timeout", type=float, default=1800.0)
    p.add_argument("--cli-timeout", type=float, default=300.0)
    p.add_argument("--umap-timeout", type=float, default=1800.0)
    p.add_argument(
        "--memory-limit-gb",
        type=float,
        help="kill a measured process whose resident memory exceeds this; its rows read n/a",
    )
    p.add_argument("--out", type=Path, help="also write the table and notes here")
    p.add_argument("--json-out", type=Path, help="write every raw measurement here")
    p.add_argument("--child", choices=("launch", "script"), help=argparse.SUPPRESS)
    p.add_argument("--workspace", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child == "launch":
        child_launch(args.workspace, float(os.environ["BENCH_T0"]))
        return 0
    if args.child == "script":
        child_script(args.workspace, args.config)
        return 0

    checkouts = []
    for spec in args.src or [f"this={Path(__file__).absolute().parents[1]}"]:
        label, _, root = spec.rpartition("=")
        checkouts.append(Checkout(label or Path(root).name, Path(root).absolute()))
    rows = set(args.rows or [k for k, _ in ROWS]) - set(args.skip)
    timeouts = {"app": args.app_timeout, "cli": args.cli_timeout, "umap": args.umap_timeout}

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    columns: list[tuple[str, dict[str, str]]] = []
    all_notes: list[str] = []
    raw: dict[str, Any] = {}
    for n in args.sizes:
        ws = ensure_workspace(args.cache, n, args.source)
        log(f"{_count(n)} clips: {ws}")
        for checkout in checkouts:
            found = measure(checkout, ws, rows, timeouts, log, args.memory_limit_gb)
            name = f"{_count(n)} {checkout.label}" if len(checkouts) > 1 else _count(n)
            cell, notes = cells(found, n)
            columns.append((name, cell))
            all_notes += [f"[{name}] {note}" for note in notes]
            raw[name] = {k: vars(m) for k, m in found.items()}
            log(format_table(columns, [r for r in ROWS if r[0] in rows]))
    shown = [r for r in ROWS if r[0] in rows]
    text = (
        f"bench_scale.py, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs; "
        + ", ".join(f"{c.label} = {c.root}" for c in checkouts)
        + "\n\n"
        + format_table(columns, shown)
        + "\n\n"
        + "\n".join(all_notes)
        + "\n"
    )
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    if args.json_out:
        args.json_out.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
