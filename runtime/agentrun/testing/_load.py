"""Test files on disk → validated :class:`TestSuite` objects, or every problem at once.

Owns: finding ``*.test.yaml`` files, reading them (the agent file's safe YAML reader and
located messages), and the checks that need more than the file: the agent loads, every
variable, mock, scripted call and expected tool exists in it, and every WAV file is audio.
Each problem is a ``SpecError`` at FILE:LINE:COL with a hint, like the agent file's. Imports
spec, tools (through ``Agent``) and, only for spoken turns, ``agentrun.audio``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agentrun.agent import Agent
from agentrun.errors import AudioError, SpecError, SpecErrors
from agentrun.spec._fields import coerce_variable, did_you_mean
from agentrun.spec._located import translate
from agentrun.spec._yaml import Locations, parse_yaml, read_text
from agentrun.testing._models import DEFAULT_TIMEOUT, Mock, Scenario, TestFile, Turn

__all__ = ["TEST_SUFFIXES", "ScenarioPlan", "TestSuite", "find_test_files", "is_test_file",
           "load_test_file"]

TEST_SUFFIXES = (".test.yaml", ".test.yml")
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "build", "dist", "site-packages"})
# parse_yaml speaks of agent files; these two of its messages are reworded for test files
_REWORDED = {
    "the file is empty": ("the test file is empty", "a test file needs 'agent:' and "
                          "'scenarios:'; 'agentrun new NAME' writes a starter"),
    "the agent file must be a mapping": ("a test file must be a mapping of keys",
                                         "start with lines like 'agent: support.yaml'"),
}


def is_test_file(path: str | os.PathLike[str]) -> bool:
    """True when the file name says it holds conversation tests (``*.test.yaml``)."""
    return os.fspath(path).endswith(TEST_SUFFIXES)


def find_test_files(paths: Sequence[str] = ()) -> list[str]:
    """The test files to run: named files as given, folders searched for ``*.test.yaml``.

    Args:
        paths: files and folders; empty means the current folder. Hidden folders, virtual
            environments and build output are skipped.

    Returns:
        File names (as given, or joined to the folder given), folders' files sorted.

    Raises:
        SpecErrors: a path does not exist, or a named file is not a ``*.test.yaml`` file.
    """
    found: list[str] = []
    problems: list[SpecError] = []
    for given in paths or (".",):
        if os.path.isdir(given):
            found += _search(given)
        elif not os.path.exists(given):
            problems.append(SpecError("no such file or folder", path=given,
                                      hint="check the path and the spelling"))
        elif not is_test_file(given):
            problems.append(SpecError("not a test file: test files are named NAME.test.yaml",
                                      path=given, hint="'agentrun new NAME' writes an agent "
                                      "with a starter test next to it"))
        else:
            found.append(given)
    if problems:
        raise SpecErrors(problems)
    return list(dict.fromkeys(found))


def _search(folder: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS
                         and not os.path.exists(os.path.join(root, d, "pyvenv.cfg")))
        found += [os.path.normpath(os.path.join(root, name)) if root != "." else name
                  for name in sorted(files) if is_test_file(name)]
    return found


@dataclass(frozen=True)
class ScenarioPlan:
    """One scenario, resolved: its agent (with this scenario's variables), mocks and limits.

    Attributes:
        suite: the file it is in.
        index: its position in the file (0-based).
        spec: the scenario as written.
        agent: the agent with this scenario's variables.
        mocks: tool name → mock (the file's, overridden per tool by the scenario's).
        timeout: seconds the scenario may take.
        call: facts for ``call.*`` in templates.
        now: the time templates see, or None for the current time.
    """

    suite: TestSuite
    index: int
    spec: Scenario
    agent: Agent
    mocks: Mapping[str, Mock]
    timeout: float
    call: Mapping[str, str]
    now: datetime | None

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.spec.name

    @property
    def id(self) -> str:
        """``FILE::NAME``, as reports and JUnit name it."""
        return f"{self.suite.shown}::{self.spec.name}"

    def line(self, *inner: str | int) -> int | None:
        """The line of a node inside this scenario (``line("turns", 1)``), or of the scenario."""
        return self.suite.line("scenarios", self.index, *inner)

    def audio_path(self, turn: Turn) -> str:
        """A spoken turn's file, relative to the test file's folder."""
        return os.path.join(os.path.dirname(self.suite.shown), turn.audio or "")


@dataclass
class TestSuite:
    """A loaded test file.

    Attributes:
        shown: the file name as given.
        spec: the validated file.
        locations: where each YAML node sits (for messages).
        agent: the agent under test with the file's variables.
        plans: every scenario, resolved, in file order.
    """

    __test__ = False  # not a pytest test class
    shown: str
    spec: TestFile
    locations: Locations
    agent: Agent
    plans: list[ScenarioPlan] = field(default_factory=list)

    def line(self, *path: str | int) -> int | None:
        """The line of a YAML node (or its nearest written parent)."""
        return (self.locations.value(path) or self.locations.nearest(path))[0]


def _located(shown: str, locations: Locations, path: tuple[str | int, ...], message: str,
             hint: str | None = None, *, key: bool = False) -> SpecError:
    place = (locations.key(path) if key else locations.value(path)) or locations.nearest(path)
    return SpecError(message, path=shown, line=place[0], column=place[1], hint=hint)


def _read(shown: str) -> tuple[Any, Locations]:
    text = read_text(Path(shown), shown)
    try:
        doc = parse_yaml(text, shown)
    except SpecErrors as exc:
        reworded = []
        for error in exc.errors:
            for start, (message, hint) in _REWORDED.items():
                if error.message.startswith(start):
                    error = SpecError(message, path=error.path, line=error.line,
                                      column=error.column, hint=hint)
            reworded.append(error)
        raise SpecErrors(reworded) from None
    return doc.data, doc.locations


def _explained(error: SpecError) -> SpecError:
    """A key that is valid elsewhere in a test file gets a hint saying where it belongs."""
    if error.message == "unknown key 'greeting'":
        error.hint = ("the greeting is checked once per scenario: move it to the scenario's "
                      "expect:, next to name: and turns:")
    return error


def load_test_file(path: str | os.PathLike[str]) -> TestSuite:
    """Read, validate and cross-check a test file and load the agent it tests.

    Args:
        path: the ``*.test.yaml`` file; messages name it as given.

    Returns:
        The suite, every scenario resolved.

    Raises:
        SpecErrors: every problem in the test file (and in the agent file, located there),
            each at FILE:LINE:COL with a hint.
    """
    shown = os.fspath(path)
    try:
        data, locations = _read(shown)
    except SpecError as exc:
        raise exc if isinstance(exc, SpecErrors) else SpecErrors([exc]) from None
    try:
        spec = TestFile.model_validate(data)
    except ValidationError as exc:
        raise SpecErrors([_explained(e) for e in translate(exc, TestFile, data, locations,
                                                             shown)]) from None
    at = _Checker(shown, locations)
    agent = _load_agent(spec, shown, at)
    suite = TestSuite(shown, spec, locations, agent)
    at.tools(agent, spec)
    at.audio(spec, os.path.dirname(shown))
    at.variables(agent, spec)
    at.raise_problems()
    suite.plans = [_plan(suite, index, scenario, at) for index, scenario
                   in enumerate(spec.scenarios)]
    at.raise_problems()
    return suite


def _load_agent(spec: TestFile, shown: str, at: _Checker) -> Agent:
    """The agent under test, without variable values (each scenario gets its own)."""
    from agentrun.spec import load_spec
    from agentrun.tools import ToolRegistry

    agent_shown = os.path.normpath(os.path.join(os.path.dirname(shown), spec.agent))
    if not os.path.isfile(agent_shown):
        folder = os.path.dirname(agent_shown) or "."
        candidates = sorted(name for name in (os.listdir(folder) if os.path.isdir(folder) else [])
                            if name.endswith((".yaml", ".yml")) and not is_test_file(name))
        hint = (did_you_mean(os.path.basename(spec.agent), candidates, listing=False)
                or "the path is relative to this test file")
        at.problem(("agent",), f"no agent file {agent_shown}", hint)
        at.raise_problems()
    loaded = load_spec(agent_shown)  # its problems are located in the agent file
    registry = ToolRegistry.for_spec(loaded)
    problems = [*registry.problems, *registry.environment_problems()]
    if problems:
        raise SpecErrors(problems)
    return Agent(loaded, registry, {})


class _Checker:
    """Collects the cross-checks' problems, each located in the test file."""

    def __init__(self, shown: str, locations: Locations) -> None:
        self.shown = shown
        self.locations = locations
        self.problems: list[SpecError] = []

    def problem(self, path: tuple[str | int, ...], message: str, hint: str | None = None, *,
                key: bool = False) -> None:
        self.problems.append(_located(self.shown, self.locations, path, message, hint, key=key))

    def raise_problems(self) -> None:
        if self.problems:
            unique = {str(problem): problem for problem in self.problems}
            raise SpecErrors(list(unique.values()))

    def tools(self, agent: Agent, spec: TestFile) -> None:
        """Mocks, scripted calls and expected calls name the agent's function tools."""
        functions = agent.tools.tools
        builtins = [ref.tool for ref in agent.spec.tools if getattr(ref, "is_builtin", False)]
        # an MCP server's tools are known only once it runs: their names are checked then
        servers = any(getattr(ref, "mcp", None) is not None for ref in agent.spec.tools)
        agent_file = agent.file_stem + ".yaml" if agent.file_stem else "the agent"

        def known(name: str, path: tuple[str | int, ...], what: str, key: bool = False) -> bool:
            if name in functions:
                return True
            if servers and name not in builtins:
                return False
            if name in builtins:
                self.problem(path, f"{name} runs on Grok's servers: {what}", key=key)
            else:
                # every tool the agent declares, built-ins too: a misspelt web_search is
                # pointed to as well as a misspelt plugin tool
                names = [*functions, *(b for b in builtins if b not in functions)]
                hint = did_you_mean(name, names) if names else f"{agent_file} has no tools"
                self.problem(path, f"{agent_file} has no tool '{name}'", hint, key=key)
            return False

        def mocks(found: Mapping[str, Mock], where: tuple[str | int, ...]) -> None:
            for name in found:
                known(name, (*where, "mocks", name), "it cannot be mocked", key=True)

        mocks(spec.mocks, ())
        for s, scenario in enumerate(spec.scenarios):
            mocks(scenario.mocks, ("scenarios", s))
            for t, turn in enumerate(scenario.turns):
                here = ("scenarios", s, "turns", t)
                if turn.model is not None:
                    for c, call in enumerate(turn.model.all_calls):
                        path = ((*here, "model", "call") if c == 0 and turn.model.call
                                else (*here, "model", "calls", c - bool(turn.model.call),
                                      "name"))
                        known(call.name, path, "the simulated model calls function tools only")
                checks: list[tuple[tuple[str | int, ...], Any]] = [
                    (("tool",), check) for check in ([turn.expect.tool]
                                                     if turn.expect.tool else [])]
                checks += [(("tools", i), check) for i, check in enumerate(turn.expect.tools)]
                for inner, check in checks:
                    where: tuple[str | int, ...] = (*here, "expect", *inner)
                    if known(check.name, where, "agentrun does not see its calls"):
                        self._arguments(functions[check.name], check.arguments or {},
                                        (*where, "arguments"))

    def _arguments(self, tool: Any, arguments: Mapping[str, Any],
                   path: tuple[str | int, ...]) -> None:
        """An expected argument the tool does not take can never match: say so now."""
        parameters = tool.function_schema().get("parameters") or {}
        names = list((parameters.get("properties") or {}).keys())
        for name in arguments:
            if name not in names:
                hint = did_you_mean(name, names) if names else "it takes no arguments"
                self.problem((*path, name), f"{tool.name} has no argument '{name}'", hint,
                             key=True)

    def audio(self, spec: TestFile, folder: str) -> None:
        """Every spoken turn's file exists and holds audio (read when the scenario runs)."""
        for s, scenario in enumerate(spec.scenarios):
            for t, turn in enumerate(scenario.turns):
                if turn.audio is None:
                    continue
                from agentrun.audio import sound_info

                try:
                    sound_info(os.path.join(folder, turn.audio))
                except AudioError as exc:
                    self.problem(("scenarios", s, "turns", t, "audio"),
                                 str(exc.message).replace(os.path.join(folder, ""), "", 1),
                                 exc.hint or "the path is relative to this test file")

    def variables(self, agent: Agent, spec: TestFile) -> None:
        """Variable names and types, and a value for every required variable."""
        declared = agent.spec.variables
        places: list[tuple[tuple[str | int, ...], Mapping[str, Any]]] = [((), spec.variables)]
        places += [(("scenarios", i), s.variables) for i, s in enumerate(spec.scenarios)]
        for place, values in places:
            for name, value in values.items():
                path = (*place, "variables", name)
                if name not in declared:
                    hint = did_you_mean(name, list(declared)) or "the agent declares no variables"
                    self.problem(path, f"the agent has no variable '{name}'", hint, key=True)
                    continue
                try:
                    coerce_variable(declared[name].type, value)
                except ValueError as exc:
                    self.problem(path, f"variable '{name}': {exc}",
                                 f"'{name}' is declared as {declared[name].type}")
        reported: set[tuple[tuple[str | int, ...], str]] = set()
        for index, scenario in enumerate(spec.scenarios):
            given = {**spec.variables, **scenario.variables}
            where: tuple[str | int, ...] = (
                ("scenarios", index, "variables") if scenario.variables
                else ("variables",) if spec.variables else ("agent",))
            for name, variable in declared.items():
                needed = variable.required and variable.default is None and not variable.from_env
                if needed and name not in given and (where, name) not in reported:
                    reported.add((where, name))
                    self.problem(where, f"the agent needs a value for its variable '{name}'",
                                 f"add it under variables:, e.g. {name}: …",
                                 key=where != ("agent",))


def _plan(suite: TestSuite, index: int, scenario: Scenario, at: _Checker) -> ScenarioPlan:
    spec = suite.spec
    variables = {**spec.variables, **scenario.variables}
    agent = suite.agent
    try:
        from agentrun.spec import variable_values

        agent = Agent(agent.spec, agent.tools, variable_values(agent.spec, variables))
        now = scenario.now or spec.now
        moment = datetime.fromisoformat(now) if now else None
        call = (scenario.call or spec.call)
        facts = call.facts() if call is not None else {}
        agent.config(call=facts, now=moment)  # a template that fails is a problem now
    except SpecErrors as exc:
        at.problems += exc.errors
        moment, facts = None, {}
    return ScenarioPlan(suite=suite, index=index, spec=scenario, agent=agent,
                        mocks={**spec.mocks, **scenario.mocks},
                        timeout=float(scenario.timeout or spec.timeout or DEFAULT_TIMEOUT),
                        call=facts, now=moment)


def load_test_files(paths: Iterable[str]) -> list[TestSuite]:
    """Load several test files, reporting every problem in all of them at once.

    Args:
        paths: the files.

    Returns:
        The suites, in order.

    Raises:
        SpecErrors: every problem in every file.
    """
    suites: list[TestSuite] = []
    problems: list[SpecError] = []
    for path in paths:
        try:
            suites.append(load_test_file(path))
        except SpecErrors as exc:
            problems += exc.errors
    if problems:
        raise SpecErrors(problems)
    return suites
