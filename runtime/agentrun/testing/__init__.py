"""agentrun.testing: conversation tests in YAML (``*.test.yaml``) that authors write and CI runs.

A test file names an agent, mocks some of its tools and lists scenarios: each is one call in
which a scripted caller says its turns (typed, or spoken from WAV files) and the runner checks
what happened (the greeting, replies, tool calls with their arguments and outputs, latency,
the end of the call). Offline, the embedded simulator plays the model as the file scripts it;
live, the real model answers and only the expectations count.

    suites = load_test_files(find_test_files(["agents"]))     # every problem at file:line
    results = asyncio.run(run_suites(select(suites)))          # one call per scenario
    print("\\n".join(result_line(r) for r in results))

Owns the test file's models (``_models``), loading and cross-checks (``_load``), mocked tools
(``_mocks``), the recording observer (``_record``), the scripted caller (``_caller``), the
expectations (``_expect``), running (``_runner``) and reports (``_report``). Imports spec,
tools, the agent, io, and (when a scenario runs) the engine and the simulator.
"""

from __future__ import annotations

from typing import Any

from agentrun.testing._expect import Failure
from agentrun.testing._load import (
    ScenarioPlan,
    TestSuite,
    find_test_files,
    is_test_file,
    load_test_file,
    load_test_files,
)
from agentrun.testing._mocks import MockedTools
from agentrun.testing._models import TestFile
from agentrun.testing._report import conversation_lines, junit_xml, result_line, summary_line
from agentrun.testing._runner import (
    Mode,
    RunResult,
    ScenarioResult,
    run_scenario,
    run_suites,
    select,
)
from agentrun.testing._starter import starter_test

__all__ = [
    "Failure",
    "MockedTools",
    "Mode",
    "RunResult",
    "ScenarioPlan",
    "ScenarioResult",
    "TestFile",
    "TestSuite",
    "conversation_lines",
    "find_test_files",
    "is_test_file",
    "json_schema",
    "junit_xml",
    "load_test_file",
    "load_test_files",
    "result_line",
    "run_scenario",
    "run_suites",
    "select",
    "starter_test",
    "summary_line",
]

_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of test files (what ``agentrun schema --tests`` prints).

    Returns:
        ``TestFile.model_json_schema()`` with ``$schema`` and ``title`` first.
    """
    schema = TestFile.model_json_schema()
    body = {k: v for k, v in schema.items() if k not in ("title", "$schema")}
    return {"$schema": _SCHEMA_DIALECT, "title": "agentrun test file", **body}
