"""Background tasks for the GUI, in the manner of Orange3's ``concurrent.py`` (STYLE habit 4).

A task is a plain function ``fn(*args, progress)`` that knows nothing of Qt: it calls
``progress.set_progress(fraction, message)``, ``progress.check_cancelled()`` and, to stream
partial results (a map converging, ranked clips arriving), ``progress.set_partial_result(obj)``.

:class:`TaskManager` runs it on a worker thread. Each task has an *owner* (a panel id such as
``"map"``): starting a task cancels the owner's previous one, whose late result is dropped.
Progress, partial results, the result and errors reach the GUI thread over queued signals.

Two pools: background work (an index build, word vectors, a UMAP) shares one; a task started
with ``urgent=True`` — what the user is looking at and waits for: the first map, the map's
aggregate image for the view — runs on a worker of its own lane, so it never waits in the queue
behind background tasks that started before it (issue 12: on two cores, a FAISS build and the
WordNet load held both workers while the map waited).

Example (in a panel)::

    task = models.tasks.start("map", "Computing t-SNE", compute_tsne, space, method)
    task.finished.connect(self._show_layout)
    task.partialResult.connect(self._show_layout)
    task.failed.connect(self._show_error)   # an ActionLensError, or any exception
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop_app.errors import TaskCancelled
from desktop_app.progress import ProgressBase


class TaskProgress(ProgressBase):
    """The core progress handle, adapted to Qt: reports travel to the GUI thread as signals.

    Progress reports are thinned to about 20 per second, because a tight loop reporting every
    item would flood the event queue.
    """

    #: Seconds between two forwarded progress reports (the last report always goes through).
    MIN_INTERVAL = 0.05

    def __init__(self, task: Task) -> None:
        super().__init__()
        self._task = task
        self._last_emit = 0.0

    def set_progress(self, fraction: float, message: str = "") -> None:
        super().set_progress(fraction, message)
        now = time.monotonic()
        if self.fraction >= 1.0 or now - self._last_emit >= self.MIN_INTERVAL:
            self._last_emit = now
            if not self.is_cancelled():
                self._task._progressed.emit(self.fraction, self.message)

    def set_partial_result(self, result: Any) -> None:
        """Hand an intermediate result to the GUI (Orange3's ``set_partial_result``)."""
        if not self.is_cancelled():
            self._task._partial.emit(result)


class Task(QObject):
    """One background computation, as the GUI sees it.

    Signals (all delivered on the GUI thread)
    -----------------------------------------
    progressChanged(float, str)
        Fraction done (0..1) and a status line.
    partialResult(object)
        An intermediate result the function streamed.
    finished(object)
        The function's return value (never emitted for a cancelled task).
    failed(object)
        The exception the function raised (not :class:`TaskCancelled`); ``traceback_text`` holds
        the formatted traceback.
    cancelled()
        The task was cancelled (by a newer task of its owner, by the user, or at shutdown).
    done()
        Emitted last, whatever the outcome.
    """

    progressChanged = Signal(float, str)
    partialResult = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    done = Signal()
    # Internal: worker → GUI thread hand-over. Queued to this object's (the GUI) thread, so the
    # public signals fire there, after whoever started the task has connected to them.
    _completed = Signal(str, object)
    _progressed = Signal(float, str)
    _partial = Signal(object)

    def __init__(self, task_id: int, owner: str, title: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.task_id = task_id
        self.owner = owner
        self.title = title
        self.progress = TaskProgress(self)
        self.state = "running"  # then "finished", "failed" or "cancelled"
        self.traceback_text = ""
        self.future: Future[Any] | None = None
        self.quiet = False
        self._completed.connect(self._on_completed)
        self._progressed.connect(self._on_progressed)
        self._partial.connect(self._on_partial)

    @property
    def fraction(self) -> float:
        """The last reported fraction done."""
        return self.progress.fraction

    @property
    def message(self) -> str:
        """The last reported status line."""
        return self.progress.message

    def cancel(self) -> None:
        """Ask the task to stop; its result, if it still comes, is dropped."""
        if self.state == "running":
            self.progress.cancel()
            if self.future is not None and self.future.cancel():
                # Never started: no worker will report it, so report it here.
                self._completed.emit("cancelled", None)

    def is_running(self) -> bool:
        """True until the task's outcome has been delivered."""
        return self.state == "running"

    def _on_progressed(self, fraction: float, message: str) -> None:
        if self.state == "running" and not self.progress.is_cancelled():
            self.progressChanged.emit(fraction, message)

    def _on_partial(self, result: object) -> None:
        if self.state == "running" and not self.progress.is_cancelled():
            self.partialResult.emit(result)

    def _on_completed(self, outcome: str, value: object) -> None:
        if self.state != "running":
            return
        if outcome == "finished" and self.progress.is_cancelled():
            outcome = "cancelled"
        self.state = outcome
        if outcome == "finished":
            self.finished.emit(value)
        elif outcome == "failed":
            self.failed.emit(value)
        else:
            self.cancelled.emit()
        self.done.emit()


#: The interpreter's thread switch interval while a :class:`TaskManager` exists (seconds).
GUI_SWITCH_INTERVAL_S = 0.001
#: Workers of the urgent lane (see :meth:`TaskManager.start`).
URGENT_WORKERS = 2


def _start_every_thread(executor: ThreadPoolExecutor, workers: int) -> None:
    """Make ``executor`` start all its threads now, not in a later ``submit``.

    ``ThreadPoolExecutor`` starts a thread in ``submit`` when none is idle, and starting one
    waits until the new thread runs, which needs the GIL: with a worker holding it, a task
    started from the GUI thread froze it 100-150 ms at a million clips. ``workers`` tasks that
    wait for each other keep every thread busy until the last one has started, so each submit
    here starts one (the stdlib executor has no eager start).
    """
    barrier = threading.Barrier(workers)

    def wait() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10.0)

    for _ in range(workers):
        executor.submit(wait)


class TaskManager(QObject):
    """Runs tasks on a thread pool, one slot per owner.

    Signals
    -------
    taskStarted(Task)
        A task was started (the status bar lists it).
    taskDone(Task)
        A task ended, whatever the outcome.
    """

    taskStarted = Signal(object)
    taskDone = Signal(object)

    def __init__(self, parent: QObject | None = None, max_workers: int | None = None) -> None:
        super().__init__(parent)
        # At least 2: a long task (a demo build) must not hold up a quick one (a thumbnail batch).
        workers = max_workers or max(2, min(4, os.cpu_count() or 2))
        # Workers share the GIL with the GUI thread, which waits up to the interpreter's switch
        # interval (5 ms by default) to get it back each time it lets it go, as most Qt calls
        # do: a run switch's few hundred such calls held the event loop 100-400 ms while the
        # tasks it started ran. 1 ms bounds each wait (for the whole process: there is one GIL).
        if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
            sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="actionlens-task")
        self._urgent = ThreadPoolExecutor(max_workers=URGENT_WORKERS, thread_name_prefix="actionlens-urgent")
        _start_every_thread(self._executor, workers)
        _start_every_thread(self._urgent, URGENT_WORKERS)
        self._ids = itertools.count(1)
        self._by_owner: dict[str, Task] = {}
        self._running: dict[int, Task] = {}
        self._shut_down = False
        self._held: list[tuple[Task, Callable[[], Future[Any]]]] | None = None  # see batch()

    def start(
        self,
        owner: str,
        title: str,
        fn: Callable[..., Any],
        *args: Any,
        quiet: bool = False,
        urgent: bool = False,
    ) -> Task:
        """Run ``fn(*args, progress)`` on a worker; cancel ``owner``'s previous task.

        Parameters
        ----------
        owner
            Who runs it (a panel id); a newer task of the same owner cancels this one.
        title
            What the status bar shows, e.g. ``"Loading word vectors"``.
        fn, args
            The function and its arguments; ``progress`` (a :class:`TaskProgress`) comes last.
        quiet
            Leave it out of the status bar (for short, frequent tasks such as a lookup).
        urgent
            Run it on the urgent lane's workers (:data:`URGENT_WORKERS`), not behind the
            background tasks: for what the user waits on now (the first map, the map's image of
            the view). Keep such tasks short or rare, or they queue behind each other.

        Returns
        -------
        Task
            Connect to its signals right away: results are delivered through the event loop,
            never before this call returns.
        """
        if self._shut_down:
            raise RuntimeError("the task manager has been shut down")
        self.cancel(owner)
        task = Task(next(self._ids), owner, title, self)
        task.quiet = quiet
        self._by_owner[owner] = task
        self._running[task.task_id] = task
        task.done.connect(lambda t=task: self._on_done(t))
        progress = task.progress

        def work() -> None:
            if progress.is_cancelled():
                task._completed.emit("cancelled", None)
                return
            try:
                result = fn(*args, progress)
            except TaskCancelled:
                task._completed.emit("cancelled", None)
            except BaseException as exc:
                task.traceback_text = traceback.format_exc()
                task._completed.emit("cancelled" if progress.is_cancelled() else "failed", exc)
            else:
                task._completed.emit("finished", result)

        executor = self._urgent if urgent else self._executor
        if self._held is not None:
            self._held.append((task, lambda: executor.submit(work)))
        else:
            task.future = executor.submit(work)
        self.taskStarted.emit(task)
        return task

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hand the tasks started inside the block to the workers only when it ends.

        For one user action that many panels answer by starting a task each (switching the
        run): the workers would otherwise run, and take the GIL, while the GUI thread is still
        going through the other panels' slots. A task cancelled inside the block never starts.
        """
        if self._held is not None:  # nested: the outer block submits
            yield
            return
        self._held = []
        try:
            yield
        finally:
            held, self._held = self._held, None
            for task, submit in held:
                if not task.is_running():
                    continue
                if self._shut_down or task.progress.is_cancelled():
                    task._completed.emit("cancelled", None)
                else:
                    task.future = submit()

    def task(self, owner: str) -> Task | None:
        """The owner's running task, if any."""
        task = self._by_owner.get(owner)
        return task if task is not None and task.is_running() else None

    def running(self) -> list[Task]:
        """Running tasks, oldest first."""
        return [t for t in self._running.values() if t.is_running()]

    def cancel(self, owner: str) -> None:
        """Cancel the owner's running task."""
        task = self._by_owner.get(owner)
        if task is not None:
            task.cancel()

    def cancel_all(self) -> None:
        """Cancel every running task."""
        for task in list(self._running.values()):
            task.cancel()

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Cancel everything and wait up to ``timeout`` seconds for the workers to stop.

        Called when the window closes. Returns whether every worker stopped in time; a worker
        that does not check its cancel flag is abandoned (its thread ends with the process).
        """
        self._shut_down = True
        self.cancel_all()
        deadline = time.monotonic() + timeout
        futures = [t.future for t in self._running.values() if t.future is not None]
        for future in futures:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                future.exception(timeout=remaining)
            except Exception:  # timeout or cancelled: nothing more to wait for here
                pass
        stopped = all(f.done() for f in futures)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._urgent.shutdown(wait=False, cancel_futures=True)
        return stopped

    def _on_done(self, task: Task) -> None:
        self._running.pop(task.task_id, None)
        if self._by_owner.get(task.owner) is task:
            del self._by_owner[task.owner]
        self.taskDone.emit(task)
