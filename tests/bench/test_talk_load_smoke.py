"""Smoke test of the browser-call load benchmark: `bench/talk_load.py` runs end to end (the
simulator and the service in their own processes, pages streaming real time) and every call it
places is held. Not pass/fail on speed."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_talk_load_holds_its_calls_and_prints_every_figure() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "talk_load.py"), "--calls", "2", "--seconds", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    out = proc.stdout
    assert re.search(r"calls held to the end\s+2/2", out), out
    for label in ("start -> ready (ms)", "start -> first audio (ms)", "playback gaps",
                  "service CPU", "service RSS", "load generator CPU"):
        assert label in out, out
    heard = re.search(r"agent items heard\s+(\d+)", out)
    assert heard and int(heard[1]) >= 2, out  # at least each page's greeting
