"""First run: the welcome dialog and the cancellable demo build dialog."""

from __future__ import annotations

import threading
from pathlib import Path

from desktop_app.gui.first_run import DemoBuildDialog, FirstRunDialog
from desktop_app.pipeline import build_demo_workspace


def test_first_run_offers_the_demo_or_opening_a_workspace(qtbot, tmp_path):
    dialog = FirstRunDialog(tmp_path)
    qtbot.addWidget(dialog)
    dialog.open_button.click()
    assert dialog.choice == "open"
    assert dialog.demo_button.toolTip() and dialog.open_button.toolTip()


def test_the_demo_build_can_be_cancelled_and_says_how_to_resume(qtbot, models, tmp_path):
    def build(workspace, preset, progress):
        return build_demo_workspace(tmp_path / "ws", data=tmp_path / "data", preset="tiny", progress=progress)

    dialog = DemoBuildDialog(models.tasks, preset="tiny", build_function=build)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.task.cancelled, timeout=30000):
        dialog.cancel_button.click()
    assert dialog.outcome == "cancelled"
    assert "resume" in dialog.message.text()


def test_a_finished_build_reports_the_workspace(qtbot, models, tiny_workspace):
    release = threading.Event()

    def build(workspace, preset, progress) -> Path:
        progress.set_progress(0.5, "extracting features")
        release.wait(5)
        return tiny_workspace

    dialog = DemoBuildDialog(models.tasks, build_function=build)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.bar.value() == 500, timeout=5000)
    assert dialog.message.text() == "extracting features"
    with qtbot.waitSignal(dialog.built, timeout=5000) as blocker:
        release.set()
    assert blocker.args == [tiny_workspace]
    assert dialog.outcome == "built"
