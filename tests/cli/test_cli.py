"""The ``actionlens`` command line as a script would use it: exit codes, one-line errors, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.cli import COMMAND_MODULES, build_parser, main


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert len(commands) == len(COMMAND_MODULES)
    for name in commands:
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code == 0
        assert "usage: actionlens" in capsys.readouterr().out


def test_generate_import_info_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, ws = tmp_path / "data", tmp_path / "ws"
    assert main(["generate-demo-data", str(data), "--preset", "tiny", "--stories", "--json"]) == 0
    generated = _json(capsys)
    assert generated["clips"] == 24 and generated["classes"] == 6 and generated["stories"] == 4

    # A broken video among the good ones is skipped and reported; the rest is imported.
    (data / "RiseBall" / "v_RiseBall_g09_c01.mp4").write_bytes(b"")
    with (data / "trainlist01.txt").open("a") as fh:
        fh.write("RiseBall/v_RiseBall_g09_c01.mp4 1\n")
    assert main(["import", "ucf101", str(data), "--workspace", str(ws), "--json"]) == 0
    imported = _json(capsys)
    assert imported["clips_added"] == 24 and imported["classes"] == 6
    assert {"path": "RiseBall/v_RiseBall_g09_c01.mp4", "reason": "empty file"} in imported["skipped"]

    assert main(["info", "--workspace", str(ws), "--json"]) == 0
    info = _json(capsys)
    assert info["clips"] == 24 and info["classes_with_verb_and_noun"] == 6
    assert info["splits"]["1"]["train"] + info["splits"]["1"]["test"] == 24

    assert (
        main(["import", "activitynet", str(data / "stories"), "--workspace", str(tmp_path / "ws2"), "--json"])
        == 0
    )
    assert _json(capsys)["clips_added"] == 4


def test_failures_exit_non_zero_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--workspace", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("actionlens: error: ") and "nowhere" in err and "\n" not in err

    (tmp_path / "empty").mkdir()
    assert main(["import", "folder", str(tmp_path / "empty"), "--workspace", str(tmp_path / "ws")]) == 1
    assert "no usable videos" in capsys.readouterr().err
    assert not (tmp_path / "ws").exists()  # nothing half-written is left behind
