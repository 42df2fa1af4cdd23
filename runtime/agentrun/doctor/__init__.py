"""``agentrun doctor``: what a person who does not program cannot check by themselves.

Each check returns :class:`Finding` values (ok, warning or problem, with what to do); the CLI only
prints them. The checks: the Python running agentrun and the installation itself
(:mod:`._install`), tool plugins and their names (:mod:`._plugins`), the audio extra and devices
(:mod:`._audio`, probed in a child process), and the API key, including whether the service
accepts it (:mod:`._key`).

    findings = run_checks(DoctorOptions(network=True))
    exit_code(findings)    # 0, 1 (a problem) or 3 (the service rejected the key)
"""

from __future__ import annotations

from agentrun.doctor._findings import Finding, Level, exit_code
from agentrun.doctor._run import DoctorOptions, run_checks

__all__ = ["DoctorOptions", "Finding", "Level", "exit_code", "run_checks"]
