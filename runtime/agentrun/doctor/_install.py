"""The Python running agentrun, and agentrun's own installation."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from importlib import metadata

from agentrun.doctor._findings import Finding

__all__ = ["DISTRIBUTION", "MINIMUM_PYTHON", "check_installation", "check_python"]

DISTRIBUTION = "agentrun-voice"
MINIMUM_PYTHON = (3, 11)

# `pip install agentrun` installs an unrelated package (a code sandbox) that owns the same name
_UNRELATED = "agentrun"


def check_python(version: tuple[int, int, int] | None = None,
                 executable: str | None = None) -> Finding:
    """Is this Python new enough?

    Args:
        version: (major, minor, micro); default the running interpreter's.
        executable: its path; default ``sys.executable``.

    Returns:
        ok for 3.11 and later, else a problem saying how to get one.
    """
    major, minor, micro = version or sys.version_info[:3]
    where = executable or sys.executable
    text = f"{major}.{minor}.{micro} at {where}"
    if (major, minor) >= MINIMUM_PYTHON:
        return Finding.ok("Python", text)
    need = ".".join(map(str, MINIMUM_PYTHON))
    return Finding.problem("Python", f"{text} is too old: agentrun needs Python {need} or later",
                           f"install Python {need}+ and make the virtual environment with it: "
                           f"python3.{MINIMUM_PYTHON[1]} -m venv .venv")


def check_installation(environ: Mapping[str, str]) -> list[Finding]:
    """agentrun's version, a look-alike package, and which ``agentrun`` the shell runs.

    Args:
        environ: the environment (its ``PATH`` decides which command the shell finds).

    Returns:
        One or more findings.
    """
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "(not installed as a package: running from source)"
    findings = [Finding.ok("agentrun", f"{DISTRIBUTION} {version}")]
    try:
        other = metadata.distribution(_UNRELATED)
    except metadata.PackageNotFoundError:
        other = None
    if other is not None and other.metadata["Name"].lower() == _UNRELATED:
        findings.append(Finding.problem(
            "agentrun", f"an unrelated package named '{_UNRELATED}' "
            f"{other.version} is installed too; it can take over the agentrun command",
            f"pip uninstall {_UNRELATED}   (this project's package is {DISTRIBUTION})"))
    findings.append(_command_on_path(environ))
    return findings


def _command_on_path(environ: Mapping[str, str]) -> Finding:
    ours = os.path.join(sysconfig.get_path("scripts"), "agentrun")
    found = shutil.which("agentrun", path=environ.get("PATH", os.defpath))
    activate = os.path.join(os.path.dirname(ours), "activate")
    if found is None:
        return Finding.warning("command", "the agentrun command is not on your PATH",
                               f"activate the environment first: . {activate}   "
                               "(or run: python -m agentrun)")
    if os.path.realpath(found) != os.path.realpath(ours) and os.path.exists(ours):
        return Finding.warning("command", f"the agentrun command your shell runs is {found}, "
                               f"not this installation's {ours}",
                               f"activate this environment: . {activate}")
    return Finding.ok("command", f"agentrun on your PATH is {found}")
