"""What goes wrong in a call is in its record: a tool that raises (with its traceback), a dropped
connection (a reconnect, not a barge-in, and the restored turns not repeated)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

from _record_helpers import agent_file, call, read_jsonl, the_call
from agentrun.io import NullEndpoint


def test_a_tool_that_raises_is_an_error_with_its_traceback(tmp_path: Path) -> None:
    (tmp_path / "orders.db").mkdir()  # sqlite cannot open a folder: the real tool raises
    path = agent_file(tmp_path, extra="tools:\n  - name: lookup_order\n"
                                      "    config: {database: orders.db}\n")
    caller = NullEndpoint(["/call lookup_order order_id=1234"])
    result = call(path, caller, tmp_path / "rec")
    assert result.exit_code == 0
    folder = the_call(tmp_path / "rec")
    (tool,) = [line for line in read_jsonl(folder / "transcript.jsonl") if line["role"] == "tool"]
    assert (tool["name"], tool["ok"], tool["arguments"]) == (
        "lookup_order", False, '{"order_id":"1234"}')
    assert "OperationalError: unable to open database file" in tool["error"]
    assert "Traceback" not in tool["error"] and tool["start"] <= tool["end"]
    report = json.loads((folder / "report.json").read_text())
    (entry,) = report["tool_calls"]
    assert entry["ok"] is False and entry["latency"] >= 0
    assert entry["traceback"].startswith("Traceback (most recent call last):")
    assert entry["traceback"].endswith("sqlite3.OperationalError: unable to open database file")
    (error,) = report["errors"]
    assert error["source"] == "tool lookup_order" and error["traceback"] == entry["traceback"]
    markdown = (folder / "report.md").read_text()
    assert "| failed (see Errors) |" in markdown and "tool lookup_order: tool lookup_order [" \
        in markdown
    assert "  Traceback (most recent call last):" in markdown


def test_a_dropped_connection_is_a_reconnect_and_restored_turns_are_not_repeated(
        tmp_path: Path) -> None:
    scenario = {"responses": [
        {"say": "Let me read you every slot we have this week, one by one.", "audio_ms": 4000,
         "fault": {"close": 1011}},
        {"say": "Tuesday at nine."}]}
    caller = NullEndpoint(["Which slots are free?", "Thanks."])
    result = call(agent_file(tmp_path), caller, tmp_path / "rec", scenario=scenario,
                  backoff_delays=lambda: itertools.repeat(0.0))
    assert result.exit_code == 0 and result.reconnects == 1
    folder = the_call(tmp_path / "rec")
    lines = read_jsonl(folder / "transcript.jsonl")
    users = [line["text"] for line in lines if line["role"] == "user"]
    assert users == ["Which slots are free?", "Thanks."]  # not again after the restore
    cut = [line for line in lines if line.get("interrupted")]
    assert len(cut) == 1 and cut[0]["text"] != scenario["responses"][0]["say"]
    report = json.loads((folder / "report.json").read_text())
    assert [r["count"] for r in report["reconnects"]] == [1]
    assert report["barge_ins"] == []  # the connection dropped; the caller did not interrupt
    events = read_jsonl(folder / "events.jsonl")
    local = [e["event"]["type"] for e in events if e["dir"] == "local"]
    assert "reconnected" in local and "playback.stopped" in local
    updates = [e for e in events if e["dir"] == "out" and e["event"]["type"] == "session.update"]
    assert len(updates) == 2  # the session was sent again on the new connection


def test_serve_refuses_a_record_folder_it_cannot_write_before_serving(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file")
    agent = agent_file(tmp_path)
    result = subprocess.run([sys.executable, "-m", "agentrun", "serve", str(agent), "--port",
                             "0", "--record", str(tmp_path / "taken" / "calls")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("agentrun: cannot record calls in ") and "Traceback" not in line
