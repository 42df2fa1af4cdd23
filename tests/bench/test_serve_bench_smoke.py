"""Smoke test of the phone-call load benchmark: `bench/serve_bench.py` runs end to end (the
simulator, `agentrun serve` and the bare relay in their own processes, Twilio paced in real
time by the lean load generator) and every call it places is answered and held. Without pipecat
installed (the project venv) its row says so. Not pass/fail on speed."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_serve_bench_holds_its_calls_and_prints_every_figure(tmp_path: pathlib.Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "serve_bench.py"), "--servers", "agentrun,pipecat",
         "--calls", "3", "--hold", "9", "--ramp", "1", "--keep", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in proc.stdout.splitlines() if line.startswith("| ")}
    header = rows.pop("server")
    assert header[:4] == ["N", "held", "refused", "underruns"], header
    agentrun = dict(zip(header, rows["agentrun"], strict=True))
    assert agentrun["N"] == "3" and agentrun["held"] == "3" and agentrun["refused"] == "0", rows
    for figure in ("CPU %/call", "KiB/call", "in med ms", "out med ms", "setup med ms",
                   "1st audio med", "generator CPU %"):
        float(agentrun[figure])  # a number, not "—": each was measured
    assert any(name.startswith("pipecat") for name in rows), rows
