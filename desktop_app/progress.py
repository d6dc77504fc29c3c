"""The progress/cancel handle that every long task takes (STYLE habit 4).

A long task is a plain function ``run(inputs, progress)`` that calls
``progress.set_progress(fraction, message)`` and ``progress.check_cancelled()``.
It knows nothing of Qt or terminals: the CLI adapts the handle to a tqdm bar, the GUI to a
progress bar with a Cancel button.
"""

from __future__ import annotations

import threading
from typing import Protocol

from desktop_app.errors import TaskCancelled


class Progress(Protocol):
    """What a long task may call on its handle."""

    def set_progress(self, fraction: float, message: str = "") -> None:
        """Report that ``fraction`` (0..1) of the task is done, with a short status line."""

    def is_cancelled(self) -> bool:
        """True once somebody asked the task to stop."""

    def check_cancelled(self) -> None:
        """Raise :class:`~desktop_app.errors.TaskCancelled` if the task should stop."""


class ProgressBase:
    """A handle that records the latest report and can be cancelled from another thread."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self.fraction = 0.0
        self.message = ""

    def set_progress(self, fraction: float, message: str = "") -> None:
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        if message:
            self.message = message

    def cancel(self) -> None:
        """Ask the task to stop at its next check."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise TaskCancelled("cancelled")


class NullProgress(ProgressBase):
    """A handle for callers that do not watch progress."""


class SubProgress:
    """Maps a stage's 0..1 onto ``[start, end]`` of a parent handle (stage-weighted progress)."""

    def __init__(self, parent: Progress, start: float, end: float, label: str = "") -> None:
        self.parent, self.start, self.end, self.label = parent, start, end, label

    def set_progress(self, fraction: float, message: str = "") -> None:
        msg = f"{self.label}: {message}" if self.label and message else (message or self.label)
        self.parent.set_progress(self.start + (self.end - self.start) * min(max(fraction, 0.0), 1.0), msg)

    def is_cancelled(self) -> bool:
        return self.parent.is_cancelled()

    def check_cancelled(self) -> None:
        self.parent.check_cancelled()
