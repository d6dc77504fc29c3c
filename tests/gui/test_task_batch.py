"""TaskManager.batch: tasks started inside the block reach the workers when it ends."""

from __future__ import annotations

import threading

from desktop_app.gui.tasks import TaskManager, TaskProgress


def test_tasks_started_in_a_batch_run_after_it_and_a_superseded_one_never_runs(qtbot):
    tasks = TaskManager()
    ran: list[str] = []
    lock = threading.Lock()

    def work(name: str, progress: TaskProgress) -> str:
        with lock:
            ran.append(name)
        return name

    with tasks.batch():
        first = tasks.start("map", "First map", work, "first")
        other = tasks.start("query", "Query", work, "query")
        second = tasks.start("map", "Second map", work, "second")  # cancels the first
        threading.Event().wait(0.2)  # a worker would have run by now, were it handed the task
        assert ran == [] and first.future is None
    qtbot.waitUntil(lambda: not tasks.running(), timeout=5000)
    assert (first.state, other.state, second.state) == ("cancelled", "finished", "finished")
    assert sorted(ran) == ["query", "second"]
    tasks.shutdown()
