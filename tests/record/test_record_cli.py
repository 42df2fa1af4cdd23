"""``agentrun run --record`` / ``record:`` and ``agentrun report``, as real processes."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

AGENTRUN = [sys.executable, "-m", "agentrun"]


def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k != "XAI_API_KEY"}
    return {**clean, "HOME": str(tmp_path / "home"), "PYTHONWARNINGS": "ignore"}


def agentrun(tmp_path: Path, *args: str, input: str = "", cwd: Path | None = None,
             limit_file_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # a disk that fills up: writes past the limit fail (EFBIG)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        assert limit_file_bytes is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run([*AGENTRUN, *args], input=input, capture_output=True, text=True,
                          env=env(tmp_path), cwd=cwd or tmp_path, timeout=60, check=False,
                          preexec_fn=limit if limit_file_bytes else None)


def write_agent(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "desk.yaml"
    path.write_text("name: Front Desk\ninstructions: Answer briefly.\n"
                    "greeting: Hello, front desk.\n" + extra, encoding="utf-8")
    return path


def calls_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def test_record_then_report_one_call_and_a_folder_of_calls(tmp_path: Path) -> None:
    agent = write_agent(tmp_path)
    first = agentrun(tmp_path, str(agent), "--record", "records", input="Is it open today?\n")
    assert first.returncode == 0, first.stderr
    (folder,) = calls_in(tmp_path / "records")
    assert first.stderr.splitlines()[-1] == f"agentrun: call record: {folder}"
    lines = [json.loads(line) for line in (folder / "transcript.jsonl").read_text().splitlines()]
    assert [(line["role"], line["text"]) for line in lines] == [
        ("agent", "Hello, front desk."), ("user", "Is it open today?"),
        ("agent", "(simulated) You said: Is it open today?")]
    assert lines[1]["typed"] is True

    shown = agentrun(tmp_path, "report", str(folder))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (folder / "report.md").read_text()
    assert shown.stdout.startswith("# Call ") and "## Turns" in shown.stdout
    assert "| 1 |" in shown.stdout and "Is it open today?" in shown.stdout
    (folder / "report.md").unlink()  # lost: rebuilt from report.json, the same text
    assert agentrun(tmp_path, "report", str(folder)).stdout == shown.stdout

    second = agentrun(tmp_path, str(agent), "--record", "records", input="Thanks\nBye\n")
    assert second.returncode == 0, second.stderr
    second_folder = second.stderr.splitlines()[-1].rsplit("/", 1)[1]
    listing = agentrun(tmp_path, "report", "records")
    assert listing.returncode == 0, listing.stderr
    header, rule, *rows = listing.stdout.splitlines()
    assert header.startswith("| call | started (UTC) | agent |") and rule.startswith("|---|")
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [folder.name, second_folder]
    turns = [row.split(" | ")[6] for row in rows]
    assert turns == ["1", "2"]
    assert all(row.endswith("| ok |") for row in rows)


def test_the_agent_file_records_and_the_command_line_wins(tmp_path: Path) -> None:
    agent = write_agent(tmp_path / "agents", "record: {dir: calls}\n")
    plain = agentrun(tmp_path, str(agent), input="hi\n")
    assert plain.returncode == 0, plain.stderr
    assert len(calls_in(tmp_path / "agents" / "calls")) == 1  # relative to the agent file
    moved = agentrun(tmp_path, str(agent), "--record", "elsewhere", input="hi\n")
    assert moved.returncode == 0, moved.stderr
    assert len(calls_in(tmp_path / "elsewhere")) == 1
    assert len(calls_in(tmp_path / "agents" / "calls")) == 1
    off = agentrun(tmp_path, str(agent), "--no-record", input="hi\n")
    assert off.returncode == 0 and "call record" not in off.stderr
    assert len(calls_in(tmp_path / "agents" / "calls")) == 1


def test_a_record_folder_that_cannot_be_written_is_one_line_before_the_call(
        tmp_path: Path) -> None:
    agent = write_agent(tmp_path)
    (tmp_path / "taken").write_text("a file, not a folder")
    for where in ("taken", str(tmp_path / "taken" / "sub")):
        result = agentrun(tmp_path, str(agent), "--record", where, input="hi\n")
        assert result.returncode == 2
        assert result.stdout == ""  # the call never started
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"agentrun: cannot record calls in {where}: ")
        assert "--record" in line and "Traceback" not in result.stderr
    in_file = write_agent(tmp_path / "a", "record: {dir: ../taken/calls}\n")
    result = agentrun(tmp_path, str(in_file), input="hi\n")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1


def test_a_disk_that_fills_mid_call_stops_the_record_once_and_the_call_goes_on(
        tmp_path: Path) -> None:
    agent = write_agent(tmp_path)
    turns = "".join(f"Question number {n}?\n" for n in range(4))
    result = agentrun(tmp_path, str(agent), "--record", "records", input=turns,
                      limit_file_bytes=150_000)
    assert result.returncode == 0, result.stderr
    answers = [line for line in result.stdout.splitlines() if line.startswith("agent: ")]
    assert len(answers) == 5  # the greeting and every answer
    problems = [line for line in result.stderr.splitlines() if "recording stopped" in line]
    assert len(problems) == 1 and "File too large" in problems[0], result.stderr
    assert problems[0].startswith("agentrun: error: recording stopped: cannot write ")
    (folder,) = calls_in(tmp_path / "records")
    report = json.loads((folder / "report.json").read_text())  # small files still made it
    assert report["errors"][-1]["source"] == "record"
    assert len(report["turns"]) == 4
    info = soundfile.info(str(folder / "audio.wav"))  # the header matches what was written
    assert info.channels == 2 and 0 < info.frames * 4 <= 150_000


def test_report_refuses_what_is_not_a_record(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    running = tmp_path / "running"
    running.mkdir()
    (running / "events.jsonl").write_text("")
    for path, words in ((tmp_path / "missing", "no such folder"),
                        (tmp_path / "empty", "no call records here"),
                        (running, "still be running")):
        result = agentrun(tmp_path, "report", str(path))
        assert result.returncode == 2, result
        (line,) = result.stderr.splitlines()
        assert words in line and str(path) in line


def test_a_call_interrupted_with_ctrl_c_still_leaves_a_whole_record(tmp_path: Path) -> None:
    agent = write_agent(tmp_path)
    process = subprocess.Popen(
        [*AGENTRUN, str(agent), "--record", "records"], cwd=tmp_path, env=env(tmp_path),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("Hello?\n")
    process.stdin.flush()  # stdin stays open: the caller is still on the line
    for line in process.stdout:
        if "You said: Hello?" in line:
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130 and "Traceback" not in err
    (folder,) = calls_in(tmp_path / "records")
    report = json.loads((folder / "report.json").read_text())
    assert report["result"] == {"exit_code": 130, "reason": "interrupted"}
    assert report["errors"] == [] and len(report["turns"]) == 1
    assert soundfile.info(str(folder / "audio.wav")).frames > 0
    listing = agentrun(tmp_path, "report", "records")
    assert listing.stdout.splitlines()[-1].endswith("| interrupted |")


def test_a_call_made_with_recorded_speech_is_recorded_with_that_speech(
        tmp_path: Path, speech_wav: Any) -> None:
    from agentrun.audio import wav_to_session

    first = speech_wav("Where is my order?", name="q1")
    second = speech_wav("Thank you, goodbye.", name="q2", rate=8000, channels=2)
    agent = write_agent(tmp_path, "turn_detection: {type: server_vad, silence_duration_ms: "
                                  "400}\n")
    result = agentrun(tmp_path, str(agent), "--caller-wav", str(first), "--caller-wav",
                      str(second), "--record", "records")
    assert result.returncode == 0, result.stderr
    (folder,) = calls_in(tmp_path / "records")
    report = json.loads((folder / "report.json").read_text())
    assert report["channel"] == "wav" and len(report["turns"]) == 2
    lines = [json.loads(line) for line in (folder / "transcript.jsonl").read_text().splitlines()]
    users = [line for line in lines if line["role"] == "user"]
    for turn, user in zip(report["turns"], users, strict=True):
        reply = turn["agent"]
        assert reply is not None and turn["latency"] > 0
        assert abs(turn["latency"] - (reply["start"] - user["end"])) < 0.0015
    frames, rate = soundfile.read(folder / "audio.wav", dtype="int16", always_2d=True)
    left, right = frames[:, 0], frames[:, 1]
    # the first file, converted as the caller sent it, is on the left sample by sample
    spoken = np.frombuffer(wav_to_session(str(first), encoding="pcm", rate=24000), "<i2")
    offset = int(np.flatnonzero(left)[0]) - int(np.flatnonzero(spoken)[0])
    assert np.array_equal(left[offset:offset + len(spoken)], spoken)
    assert users[0]["start"] >= round(offset / rate, 3) - 0.001
    assert right[offset + len(spoken):].any()  # the agent answered after it
