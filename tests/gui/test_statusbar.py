"""The status bar lists a task only once it has run a moment; a quick one never gets a row."""

from __future__ import annotations

import threading

from desktop_app.gui.statusbar import ROW_DELAY_MS, TaskStatusWidget
from desktop_app.gui.tasks import TaskManager, TaskProgress


def test_a_quick_task_gets_no_row_and_a_long_one_is_listed_with_its_progress_so_far(qtbot):
    tasks = TaskManager()
    widget = TaskStatusWidget(tasks)
    qtbot.addWidget(widget)
    quick = tasks.start("lookup", "Looking up a word", lambda progress: "found")
    qtbot.waitUntil(lambda: quick.state == "finished", timeout=5000)
    release = threading.Event()

    def long_task(progress: TaskProgress) -> str:
        progress.set_progress(0.25, "a quarter")
        release.wait(10)
        return "done"

    long = tasks.start("map", "Computing a map", long_task)
    qtbot.wait(ROW_DELAY_MS // 4)
    assert widget.rows() == [] and widget.isHidden()  # not yet: it may still end at once
    qtbot.waitUntil(lambda: [row.task.title for row in widget.rows()] == ["Computing a map"], timeout=5000)
    row = widget.rows()[0]
    assert row.bar.value() == 250 and "a quarter" in row.label.text()
    assert not widget.isHidden()
    release.set()
    qtbot.waitUntil(lambda: long.state == "finished" and widget.rows() == [], timeout=5000)
    assert widget.isHidden()
    tasks.shutdown()
