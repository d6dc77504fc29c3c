"""Take the README's screenshot, or one screenshot per panel, from the real program on a workspace.

Run it under a display (``xvfb-run``) or with ``QT_QPA_PLATFORM=offscreen``::

    # the README's screenshot: the main window after a query, with a clip playing
    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python packaging/screenshot.py WS resources/screenshot.png
    # one PNG per registered panel (desktop_app.gui.panels.PANELS), each showing content
    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshot.py --panels docs/screenshots WS

For ``--panels`` every panel is shown in its own floating dock of one size, given content as a user
would (:data:`CONTENT`: a query typed, a clip playing, an analogy filled …), waited on until its
background tasks are done, grabbed, scaled down to ``--width`` pixels and saved as
``<panel id>.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
from PySide6.QtGui import QImage

from desktop_app.gui.app import create_application

if TYPE_CHECKING:
    from desktop_app.gui.main_window import MainWindow

PANEL_SIZE = (1000, 640)  # the floating dock's size while a panel is grabbed
SETTLE_S = 0.5  # a panel is ready when no task has run for this long
PANEL_TIMEOUT_S = 60.0
MAX_PNG_BYTES = 200_000  # docs/screenshots stay small


def wait(ms: int) -> None:
    """Let the event loop (and the workers' results) run for ``ms`` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until_idle(
    window: MainWindow, shown: Callable[[], bool], timeout_s: float = PANEL_TIMEOUT_S
) -> bool:
    """Run the event loop until ``shown()`` holds and no task has run for :data:`SETTLE_S`.

    Returns False (and stops waiting) after ``timeout_s``; the caller grabs what is there.
    """
    deadline = time.monotonic() + timeout_s
    quiet_from = time.monotonic()
    while time.monotonic() < deadline:
        wait(20)
        if window.models.tasks.running():
            quiet_from = time.monotonic()
            continue
        if time.monotonic() - quiet_from >= SETTLE_S and shown():
            return True
    return False


def _first_query_hit(window: MainWindow) -> int | None:
    scores = window.models.query.scores
    return max(scores, key=scores.__getitem__, default=None)


def _library(window: MainWindow, query: str) -> Callable[[], bool]:
    clips = window.models.workspace.clips()
    window.models.selection.set([c.id for c in clips[:3]], "screenshot")
    return lambda: True


def _player(window: MainWindow, query: str) -> Callable[[], bool]:
    player: Any = window.panel("player")
    clip = _first_query_hit(window)
    if clip is None:
        clip = window.models.workspace.clips()[0].id
    window.models.current_clip.set(clip, "screenshot")
    return lambda: bool(player.video.has_frame() and player.slider.value() > 3)


def _map(window: MainWindow, query: str) -> Callable[[], bool]:
    panel: Any = window.panel("map")
    scores = window.models.query.scores
    hits = sorted(scores, key=scores.__getitem__, reverse=True)[:5]
    if hits:
        window.models.selection.set(hits, "screenshot")
    return lambda: panel.map is not None


def _query(window: MainWindow, query: str) -> Callable[[], bool]:
    panel: Any = window.panel("query")
    panel.run_query(query)
    return lambda: window.models.query.text == query and panel.results.clips.rowCount() > 0


def _analogy(window: MainWindow, query: str) -> Callable[[], bool]:
    """``class A − class B + class C``: the first three classes of the workspace."""
    panel: Any = window.panel("analogy")
    classes = list(window.models.workspace.classes().values())[:3]
    operands = [{"kind": "class", "id": c.id, "label": c.phrase} for c in classes]
    panel.load_terms(list(zip([1, -1, 1], operands, strict=False)))
    return lambda: panel.results.words.rowCount() > 0


def _wordnet(window: MainWindow, query: str) -> Callable[[], bool]:
    panel: Any = window.panel("wordnet")
    return lambda: panel.stack.currentIndex() == 1


def _evaluation(window: MainWindow, query: str) -> Callable[[], bool]:
    panel: Any = window.panel("evaluation")
    return lambda: panel.recognition_table.rowCount() > 0


def _compare(window: MainWindow, query: str) -> Callable[[], bool]:
    panel: Any = window.panel("compare")
    return lambda: panel.table.model().rowCount() > 0


#: What each panel is given before it is grabbed: ``content(window, query) -> shown`` does what a
#: user would and returns the condition under which the panel shows its result. A panel missing
#: here (a newly registered one) is grabbed as it shows itself once its tasks are done.
CONTENT: dict[str, Callable[[MainWindow, str], Callable[[], bool]]] = {
    "library": _library,
    "player": _player,
    "map": _map,
    "query": _query,
    "analogy": _analogy,
    "wordnet": _wordnet,
    "evaluation": _evaluation,
    "compare": _compare,
}

#: The widget that shows each panel's content (an attribute of the panel), checked by the tests.
KEY_WIDGETS: dict[str, str] = {
    "library": "view",
    "player": "video",
    "map": "plot_widget",
    "query": "results",
    "analogy": "results",
    "wordnet": "graphics",
    "evaluation": "tabs",
    "compare": "table",
}


def grab_panel(window: MainWindow, panel_id: str, query: str) -> tuple[QImage, bool]:
    """Show one panel in a floating dock of :data:`PANEL_SIZE`, give it content, grab it.

    Returns the image and whether the panel showed its content before the timeout. The dock is
    docked again afterwards.
    """
    dock = window.docks[panel_id]
    dock.show()
    dock.setFloating(True)
    dock.resize(*PANEL_SIZE)
    dock.raise_()
    wait(200)
    content = CONTENT.get(panel_id)
    shown = content(window, query) if content is not None else (lambda: True)
    ok = wait_until_idle(window, shown)
    wait(300)  # the last paint
    image = dock.widget().grab().toImage()
    dock.setFloating(False)
    wait(100)
    return image, ok


def save_scaled(image: QImage, path: Path, width: int, max_bytes: int = MAX_PNG_BYTES) -> None:
    """Save ``image`` as PNG, scaled down (smoothly) to at most ``width`` pixels wide; where that is
    over ``max_bytes`` (thumbnails of noisy video frames), as a 256-colour PNG with error diffusion."""
    if image.width() > width:
        image = image.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path)):
        raise OSError(f"could not write {path}")
    if path.stat().st_size > max_bytes:
        indexed = image.convertToFormat(QImage.Format.Format_Indexed8, Qt.ImageConversionFlag.DiffuseDither)
        if not indexed.save(str(path)):
            raise OSError(f"could not write {path}")


def open_window(
    workspace: Path, settings_file: Path, size: tuple[int, int] = (1600, 960), run: str | None = None
) -> MainWindow:
    """The main window on ``workspace`` (showing ``run``, or the workspace's default run) with
    private settings, its first background work done."""
    from desktop_app.gui.main_window import MainWindow

    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    settings.clear()
    window = MainWindow(settings=settings)
    window.resize(*size)
    window.show()
    window.open_initial_workspace(workspace)
    if run is not None:
        window.models.workspace.set_run(run)
    wait_until_idle(window, lambda: True)
    return window


def close_window(window: MainWindow) -> None:
    """Close the window (stops the workers and the player's decoder) and drop its settings file."""
    settings = window.settings
    window.close()
    wait(500)
    settings.clear()
    Path(settings.fileName()).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        Path(settings.fileName()).parent.rmdir()  # the private folder main() made, once empty


def panel_screenshots(
    window: MainWindow, out_dir: Path, query: str, width: int = 800
) -> dict[str, tuple[Path, bool]]:
    """One ``<panel id>.png`` per registered panel, in :data:`~desktop_app.gui.panels.PANELS`
    order. The query is run first, so the Player, Map and Library show its hits."""
    from desktop_app.gui.panels import PANELS

    results: dict[str, tuple[Path, bool]] = {}
    order = ["query"] + [spec.id for spec in PANELS if spec.id != "query"]
    for panel_id in order:
        if panel_id not in window.docks:
            continue
        image, ok = grab_panel(window, panel_id, query)
        path = out_dir / f"{panel_id}.png"
        save_scaled(image, path, width)
        results[panel_id] = (path, ok)
    return results


def window_screenshot(window: MainWindow, out: Path, query: str) -> None:
    """The README's screenshot: the main window after ``query``, its best clip playing on the Map tab."""
    window.docks["query"].raise_()
    window.panel("query").run_query(query)  # type: ignore[attr-defined]
    wait_until_idle(window, lambda: bool(window.models.query.scores))
    window.docks["map"].raise_()
    first = _first_query_hit(window)
    if first is not None:
        window.models.selection.set({first}, "screenshot")
        window.models.current_clip.set(first, "screenshot")
    wait_until_idle(window, lambda: True)
    wait(1500)  # a few frames into the clip
    window.grab().save(str(out))


def main(argv: list[str] | None = None) -> int:
    """Command line: ``screenshot.py WS OUT.png`` or ``screenshot.py --panels OUTDIR WS``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("workspace", type=Path)
    parser.add_argument("out", type=Path, nargs="?", help="the window's PNG (without --panels)")
    parser.add_argument("--panels", type=Path, metavar="OUTDIR", help="write one PNG per panel here")
    parser.add_argument("--query", default="basketball", help="the words typed into the Query panel")
    parser.add_argument("--run", help="the run every panel shows (default: the workspace's default)")
    parser.add_argument("--width", type=int, default=800, help="panel PNGs are scaled down to this width")
    args = parser.parse_args(argv)
    if args.panels is None and args.out is None:
        parser.error("give OUT.png, or --panels OUTDIR")
    create_application(sys.argv[:1])
    window = open_window(
        args.workspace, Path(tempfile.mkdtemp(prefix="actionlens-shots-")) / "settings.ini", run=args.run
    )
    try:
        if args.panels is not None:
            for panel_id, (path, ok) in panel_screenshots(
                window, args.panels, args.query, args.width
            ).items():
                note = "" if ok else "  (timed out waiting for its content)"
                print(f"{panel_id:12s} {path}  {path.stat().st_size // 1024} KB{note}")
        else:
            window_screenshot(window, args.out, args.query)
            print(args.out)
    finally:
        close_window(window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
