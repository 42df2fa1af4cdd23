"""What one doctor check found: a level, a one-line summary and what to do about it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Finding", "Level", "exit_code"]


class Level(StrEnum):
    """How bad a finding is."""

    OK = "ok"
    WARNING = "warning"  # works, but something is missing or will surprise
    PROBLEM = "problem"  # something the person wants will not work until it is fixed


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the doctor's report.

    Attributes:
        topic: what was checked, in two or three words ("Python", "API key").
        level: ok, warning or problem.
        summary: what was found, in plain words.
        fix: what to do, as a command or a sentence; empty for ok findings.
        exit_code: the process exit code a problem asks for (3: the service rejected the key;
            1: anything else); ignored for ok and warning findings.
    """

    topic: str
    level: Level
    summary: str
    fix: str = ""
    exit_code: int = 1

    @classmethod
    def ok(cls, topic: str, summary: str) -> Finding:
        """A check that passed."""
        return cls(topic, Level.OK, summary)

    @classmethod
    def warning(cls, topic: str, summary: str, fix: str) -> Finding:
        """Works, with a caveat and what to do about it."""
        return cls(topic, Level.WARNING, summary, fix)

    @classmethod
    def problem(cls, topic: str, summary: str, fix: str, *, exit_code: int = 1) -> Finding:
        """Something that will not work until fixed."""
        return cls(topic, Level.PROBLEM, summary, fix, exit_code)


def exit_code(findings: Iterable[Finding]) -> int:
    """0 without problems; 3 when the service rejected the API key; 1 for any other problem.

    Args:
        findings: everything the checks found.

    Returns:
        The exit code of ``agentrun doctor``.
    """
    codes = {f.exit_code for f in findings if f.level is Level.PROBLEM}
    if not codes:
        return 0
    return 3 if 3 in codes else 1
