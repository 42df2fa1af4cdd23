"""``agentrun.audio``'s public names, and that importing it costs nothing until one is used."""

from __future__ import annotations

import subprocess
import sys

import agentrun.audio


def test_every_public_name_resolves() -> None:
    for name in agentrun.audio.__all__:
        assert getattr(agentrun.audio, name) is not None, name
    assert sorted(dir(agentrun.audio)) == sorted(agentrun.audio.__all__)


def test_importing_the_package_loads_no_numpy_soxr_or_soundfile() -> None:
    code = ("import sys, agentrun.audio; "
            "print(sorted(m for m in ('numpy', 'soxr', 'soundfile') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
