"""First launch: offer to build the demo workspace or to open one; the demo build dialog.

The demo build runs :func:`desktop_app.pipeline.build_demo_workspace` as a task with a progress
dialog. Cancelling stops it between clips; because every pipeline stage is resumable, building
again continues where it stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.errors import ActionLensError
from desktop_app.gui.tasks import Task, TaskManager, TaskProgress

DEMO_TASK_OWNER = "demo-build"


class FirstRunDialog(QDialog):
    """Asks what to do when there is no workspace yet.

    After ``exec()``, :attr:`choice` is ``"demo"``, ``"open"`` or ``None`` (closed).
    """

    def __init__(self, demo_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to ActionLens")
        self.choice: str | None = None
        text = QLabel(
            "<h3>Welcome to ActionLens</h3>"
            "<p>ActionLens explores joint video–word embeddings: clips of actions placed in the "
            "same space as word vectors.</p>"
            "<p>No workspace is open yet. Build the <b>demo workspace</b> (synthetic videos, the "
            "whole pipeline; a few minutes) or open a workspace you already have.</p>"
            f"<p><small>The demo goes to {demo_dir}</small></p>"
        )
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox()
        self.demo_button = buttons.addButton(
            "Build the Demo Workspace", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.demo_button.setToolTip("Generate the synthetic dataset and run the pipeline on it, then open it")
        self.open_button = buttons.addButton("Open a Workspace…", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.setToolTip("Choose an existing workspace directory")
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setToolTip("Continue without a workspace")
        self.demo_button.setDefault(True)
        self.demo_button.clicked.connect(lambda: self._choose("demo"))
        self.open_button.clicked.connect(lambda: self._choose("open"))
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()


def _build_demo(workspace: Path | None, preset: str, progress: TaskProgress) -> Path:
    from desktop_app.pipeline import build_demo_workspace

    return build_demo_workspace(workspace, preset=preset, progress=progress).workspace


class DemoBuildDialog(QDialog):
    """Builds the demo workspace in a task, showing its progress, with Cancel.

    Signals
    -------
    built(Path)
        The workspace is ready.
    """

    built = Signal(object)

    def __init__(
        self,
        tasks: TaskManager,
        workspace: Path | None = None,
        preset: str = "small",
        parent: QWidget | None = None,
        build_function: Any = _build_demo,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Building the Demo Workspace")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.outcome: str | None = None  # "built", "cancelled" or "failed"
        self.message = QLabel("Starting…")
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(420)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setToolTip("Progress of the whole build (all pipeline stages)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the build; building again later resumes where it stopped")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignRight)
        self.task: Task = tasks.start(
            DEMO_TASK_OWNER, "Building the demo workspace", build_function, workspace, preset
        )
        self.task.progressChanged.connect(self._on_progress)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)
        self.task.cancelled.connect(self._on_cancelled)

    def cancel(self) -> None:
        """Stop the build (it resumes when started again)."""
        self.message.setText("Stopping…")
        self.cancel_button.setEnabled(False)
        self.task.cancel()

    def reject(self) -> None:  # Escape or the close box: cancel, do not leave it running unseen
        if self.task.is_running():
            self.cancel()
        else:
            super().reject()

    def _on_progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(round(fraction * 1000)))
        if message:
            self.message.setText(message)

    def _on_finished(self, workspace: Path) -> None:
        self.outcome = "built"
        self.built.emit(Path(workspace))
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.outcome = "failed"
        reason = str(exc) if isinstance(exc, ActionLensError) else f"{type(exc).__name__}: {exc}"
        self.message.setText(f"The demo build failed: {reason}")
        self._finish_button()

    def _on_cancelled(self) -> None:
        self.outcome = "cancelled"
        self.message.setText("Cancelled. Build the demo workspace again to resume where it stopped.")
        self._finish_button()

    def _finish_button(self) -> None:
        self.cancel_button.setText("Close")
        self.cancel_button.setEnabled(True)
        self.cancel_button.clicked.disconnect()
        self.cancel_button.clicked.connect(super().reject)
