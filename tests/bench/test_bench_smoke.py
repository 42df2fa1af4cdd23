"""Smoke test of the pipecat comparison: `bench/compare.py --quick` runs and prints its table.

Benchmarks are not pass/fail on speed; this only proves the script works end to end (simulator
process, floor client, agentrun through its real CLI and Session API, trace parsing) so the
comparison cannot rot. pipecat is usually not installed in the test venv: then its column must
say so instead of failing.
"""

from __future__ import annotations

import importlib.util
import pathlib
import re
import subprocess
import sys

__all__: list[str] = []

ROOT = pathlib.Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?$")


def _row(table: str, label: str) -> list[str]:
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in:\n{table}")


def test_compare_quick_prints_every_figure_for_floor_and_agentrun(tmp_path: pathlib.Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "compare.py"), "--quick", "--keep", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = proc.stdout
    header = _row(table, "figure")
    assert header[:4] == ["figure", "floor", "agentrun", "pipecat"]
    for label in (
        "tool round trip → function_call_output, median (µs)",
        "tool round trip → next response.create, p99 (µs)",
        "audio CPU per delta, unpaced (µs)",
        "audio CPU per delta, paced real time (µs)",
        "cold start: spawn → first session.update (ms)",
        "bare import (ms, minus `python -c pass`)",
        "RSS with 1 call (MiB)",
    ):
        row = _row(table, label)
        assert NUMBER.match(row[1]) and NUMBER.match(row[2]), row
        if importlib.util.find_spec("pipecat") is None:
            assert row[3] == "pipecat: not installed", row
    assert "targets (issue 5):" in table
