"""Test results as people and CI systems read them: one line per scenario, the conversation of
a failing one, a summary line, and JUnit XML.

Pure formatting: results in, text out (the command prints it). JUnit XML follows the schema
Jenkins, GitLab and GitHub Actions reporters read: ``testsuites > testsuite (one per file) >
testcase (one per scenario) > failure``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from agentrun.testing._runner import RunResult, ScenarioResult

__all__ = ["conversation_lines", "junit_xml", "result_line", "summary_line"]

_WHO = {"agent": "agent", "caller": "caller", "heard": "caller (as heard)", "tool": "tool",
        "note": "note"}


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value >= 0.1 else f"{value * 1000:.0f} ms"


def result_line(result: ScenarioResult) -> str:
    """``PASS  file::name (0.4 s)`` or ``FAIL  file::name: turn 1 (line 12): expected …``."""
    verdict = "PASS" if result.passed else "FAIL"
    runs = len(result.runs)
    rate = (f" {result.passed_runs}/{runs} runs passed ({100 * result.passed_runs / runs:.0f}%)"
            if runs > 1 else "")
    line = f"{verdict}  {result.plan.id}{rate} ({_seconds(result.seconds)})"
    failed = result.first_failure
    if failed is not None and (not result.passed or runs > 1):
        number, run = failed
        prefix = f"run {number}, " if runs > 1 else ""
        line += f": {prefix}{run.failure}"
    return line


def conversation_lines(run: RunResult, indent: str = "      ") -> list[str]:
    """The conversation of a run (so far, when it failed), one line per utterance or call."""
    if not run.conversation:
        return [f"{indent}(nothing was said)"]
    return [f"{indent}{_WHO.get(who, who)}: {text}" for who, text in run.conversation]


def summary_line(results: Sequence[ScenarioResult], seconds: float) -> str:
    """``3 passed, 1 failed in 2.4 s`` (with the runs per scenario when repeated)."""
    passed = sum(result.passed for result in results)
    failed = len(results) - passed
    parts = [f"{passed} passed"] + ([f"{failed} failed"] if failed else [])
    runs = max((len(result.runs) for result in results), default=1)
    repeat = f" ({runs} runs each)" if runs > 1 else ""
    return f"{', '.join(parts)}{repeat} in {_seconds(seconds)}"


def junit_xml(results: Sequence[ScenarioResult]) -> str:
    """JUnit XML: one ``testsuite`` per test file, one ``testcase`` per scenario.

    Args:
        results: the scenario results.

    Returns:
        The XML document (UTF-8 declaration first).
    """
    root = ET.Element("testsuites", name="agentrun test", tests=str(len(results)),
                      failures=str(sum(not r.passed for r in results)),
                      time=f"{sum(r.seconds for r in results):.3f}")
    files: dict[str, ET.Element] = {}
    for result in results:
        shown = result.plan.suite.shown
        suite = files.get(shown)
        if suite is None:
            suite = ET.SubElement(root, "testsuite", name=shown, tests="0", failures="0",
                                  time="0")
            files[shown] = suite
        suite.set("tests", str(int(suite.get("tests", "0")) + 1))
        suite.set("time", f"{float(suite.get('time', '0')) + result.seconds:.3f}")
        case = ET.SubElement(suite, "testcase", classname=shown, name=result.plan.name,
                             time=f"{result.seconds:.3f}")
        line = result.plan.line()
        if line is not None:
            case.set("file", shown)
            case.set("line", str(line))
        failed = result.first_failure
        if failed is not None:
            number, run = failed
            body = conversation_lines(run, indent="  ")
            if not result.passed:
                suite.set("failures", str(int(suite.get("failures", "0")) + 1))
                element = ET.SubElement(case, "failure", message=str(run.failure),
                                        type="expectation")
                element.text = "conversation so far:\n" + "\n".join(body) + "\n"
            else:
                out = ET.SubElement(case, "system-out")
                out.text = (f"{result.passed_runs}/{len(result.runs)} runs passed; run "
                            f"{number} failed: {run.failure}\n" + "\n".join(body) + "\n")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"
