"""The status bar's list of running background tasks, each with progress and a Cancel button.

A task gets its row only once it has run for :data:`ROW_DELAY_MS`: most tasks a click starts
(a lookup, a table, a map read from its cache) end sooner, and building, laying out and then
removing a row for each of them held the GUI thread longer than the tasks took (switching the
run starts eight at once). A long task (training, a map, the demo build) is listed, with its
progress so far, after that short delay.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from desktop_app.gui.tasks import Task, TaskManager

#: How long a task runs before the status bar lists it.
ROW_DELAY_MS = 400


class TaskRow(QWidget):
    """One running task: its title and message, a progress bar, and Cancel."""

    def __init__(self, task: Task, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.task = task
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.label = QLabel(task.title)
        self.label.setToolTip(task.title)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(120)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.bar.setToolTip(f"{task.title}: progress")
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip(f"Stop “{task.title}”")
        self.cancel_button.setAutoRaise(True)
        self.cancel_button.clicked.connect(task.cancel)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        task.progressChanged.connect(self._on_progress)
        if task.fraction or task.message:  # listed late: show how far it has come
            self._on_progress(task.fraction, task.message)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(round(fraction * 1000)))
        text = f"{self.task.title}: {message}" if message else self.task.title
        # Long stage messages would push the rest of the status bar away.
        self.label.setText(text if len(text) <= 60 else text[:59] + "…")
        self.label.setToolTip(text)


class TaskStatusWidget(QWidget):
    """Lists the task manager's running tasks; hidden while none runs."""

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(12)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignRight)
        self._rows: dict[int, TaskRow] = {}
        tasks.taskStarted.connect(self._add_later)
        tasks.taskDone.connect(self._remove)
        for task in tasks.running():
            self._add(task)
        self.setVisible(bool(self._rows))

    def rows(self) -> list[TaskRow]:
        """The rows shown, oldest first."""
        return list(self._rows.values())

    def _add_later(self, task: Task) -> None:
        if not task.quiet:
            QTimer.singleShot(ROW_DELAY_MS, self, lambda: self._add(task))

    def _add(self, task: Task) -> None:
        if task.task_id in self._rows or task.quiet or not task.is_running():
            return
        row = TaskRow(task, self)
        self._rows[task.task_id] = row
        self._layout.addWidget(row)
        self.setVisible(True)

    def _remove(self, task: Task) -> None:
        row = self._rows.pop(task.task_id, None)
        if row is not None:
            self._layout.removeWidget(row)
            row.deleteLater()
        self.setVisible(bool(self._rows))
