"""Smoke test of `bench/two_way_audio.py`: every client holds a two-way audio call and gets a
CPU figure, for both formats. Not pass/fail on speed; it only keeps the benchmark from rotting."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_two_way_audio_prints_a_figure_per_client_and_format(tmp_path: pathlib.Path) -> None:
    env = {**os.environ, "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}"}
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "two_way_audio.py"),
                           "--seconds", "1", "--reps", "1", "--keep", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| client CPU per second of two-way audio (ms/s) | floor | "
                              "agentrun | device |")
    for label, row in zip(("24 kHz PCM16", "8 kHz G.711 μ-law"), rows[1:], strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0] == label
        assert all(re.fullmatch(r"\d+\.\d\d", c) and float(c) > 0 for c in cells[1:4]), row
    # audio really flowed both ways in every call (the simulator's trace)
    for trace in tmp_path.glob("*.trace.jsonl"):
        text = trace.read_text()
        assert '"input_audio_buffer.append"' in text and '"response.output_audio.delta"' in text
