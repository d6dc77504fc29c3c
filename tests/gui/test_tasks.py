"""The task manager and the status bar's task list, driven with real worker threads."""

from __future__ import annotations

import threading

from desktop_app.errors import ActionLensError
from desktop_app.gui.statusbar import TaskStatusWidget
from desktop_app.gui.tasks import TaskManager, TaskProgress


def _wait_for_cancel(started: threading.Event, progress: TaskProgress) -> str:
    started.set()
    while not progress.is_cancelled():
        progress.set_progress(0.5, "waiting")
        threading.Event().wait(0.01)
    progress.check_cancelled()
    return "never"


def test_result_and_progress_reach_the_gui_thread(qtbot):
    tasks = TaskManager()
    seen: list[float] = []

    def work(x: int, progress: TaskProgress) -> int:
        progress.set_progress(1.0, "done")
        return x * 2

    task = tasks.start("owner", "Doubling", work, 21)
    task.progressChanged.connect(lambda f, _m: seen.append(f))
    with qtbot.waitSignal(task.finished, timeout=5000) as blocker:
        pass
    assert blocker.args == [42]
    assert seen == [1.0]
    assert task.state == "finished"
    assert tasks.running() == []
    tasks.shutdown()


def test_a_new_start_cancels_the_previous_task_of_the_same_owner(qtbot):
    tasks = TaskManager()
    started = threading.Event()
    first = tasks.start("map", "First", _wait_for_cancel, started)
    assert started.wait(5)
    results: list[object] = []
    first.finished.connect(results.append)
    other = tasks.start("query", "Other owner", lambda progress: "other")
    with qtbot.waitSignal(first.cancelled, timeout=5000):
        second = tasks.start("map", "Second", lambda progress: "second")
    qtbot.waitUntil(lambda: second.state == "finished" and other.state == "finished", timeout=5000)
    assert first.state == "cancelled"
    assert results == []  # the superseded task's result never arrives
    assert tasks.task("map") is None
    tasks.shutdown()


def test_errors_are_delivered_with_their_message(qtbot):
    tasks = TaskManager()

    def fail(progress: TaskProgress) -> None:
        raise ActionLensError("word 'zzz' is not in the word vectors")

    task = tasks.start("query", "Searching", fail)
    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        pass
    assert isinstance(blocker.args[0], ActionLensError)
    assert "zzz" in str(blocker.args[0])
    assert "ActionLensError" in task.traceback_text
    tasks.shutdown()


def test_status_bar_lists_a_running_task_and_its_cancel_button_stops_it(qtbot):
    tasks = TaskManager()
    widget = TaskStatusWidget(tasks)
    qtbot.addWidget(widget)
    started = threading.Event()
    task = tasks.start("demo-build", "Building the demo workspace", _wait_for_cancel, started)
    # Listed once it has run a moment (ROW_DELAY_MS): quick tasks never get a row.
    qtbot.waitUntil(lambda: [row.task.title for row in widget.rows()] == ["Building the demo workspace"])
    assert not widget.isHidden()
    qtbot.waitUntil(lambda: widget.rows()[0].bar.value() == 500, timeout=5000)
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        widget.rows()[0].cancel_button.click()
    qtbot.waitUntil(lambda: widget.rows() == [], timeout=5000)
    assert widget.isHidden()
    tasks.shutdown()


def test_shutdown_cancels_running_workers_and_waits_for_them(qtbot):
    tasks = TaskManager()
    started = threading.Event()
    task = tasks.start("map", "Endless", _wait_for_cancel, started)
    assert started.wait(5)
    assert tasks.shutdown(timeout=5.0)
    assert task.future is not None and task.future.done()


def test_an_urgent_task_runs_while_background_tasks_hold_every_worker(qtbot):
    tasks = TaskManager(max_workers=2)
    started = [threading.Event(), threading.Event()]
    busy = [tasks.start(f"background-{i}", "Busy", _wait_for_cancel, started[i]) for i in range(2)]
    assert all(event.wait(5) for event in started)  # both background workers are taken
    queued = tasks.start("background-2", "Queued", lambda progress: "late")
    urgent = tasks.start("map", "The first map", lambda progress: "now", urgent=True)
    with qtbot.waitSignal(urgent.finished, timeout=5000) as blocker:
        pass
    assert blocker.args == ["now"]
    assert queued.is_running() and all(task.is_running() for task in busy)  # still waiting
    for task in busy:
        task.cancel()
    with qtbot.waitSignal(queued.finished, timeout=5000) as late:
        pass
    assert late.args == ["late"]
    tasks.shutdown()


def test_starting_a_task_starts_no_thread(qtbot, monkeypatch):
    # A thread started in submit() waits for the GIL to run; from the GUI thread, with a worker
    # holding the GIL, that froze the window (issue 12). Every worker runs from the start.
    manager = TaskManager(max_workers=2)
    started: list[str] = []
    real_start = threading.Thread.start

    def counting_start(self: threading.Thread) -> None:
        started.append(self.name)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    tasks = [manager.start(f"t{i}", "t", lambda i, progress: i, i, urgent=i % 2 == 0) for i in range(6)]
    for task in tasks:
        qtbot.waitUntil(lambda task=task: not task.is_running(), timeout=5000)
    assert started == []
    manager.shutdown()
