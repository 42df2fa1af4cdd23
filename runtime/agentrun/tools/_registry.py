"""The tools of one agent: ``ToolRegistry`` (Contract 2).

``ToolRegistry.for_spec`` imports only the plugins the agent names and never raises for a bad
tool: each problem (not installed, broken plugin, clash, bad config, reserved or duplicate name)
becomes a ``SpecError`` located at the YAML line naming the tool, and every other tool keeps
working. ``call`` runs only declared tools. HTTP tools (``http:``) are built here; MCP servers
(``mcp:``) are started by :meth:`ToolRegistry.open`, which gives a registry with their tools and
stops them again (``tools._open``). Reads ``AgentSpec`` by attribute (Contract 1) without
importing ``agentrun.spec``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agentrun._secrets import Redactor
from agentrun.errors import SpecError, ToolLoadError
from agentrun.tools._advice import tool_advice
from agentrun.tools._discovery import (
    BUILTIN_TOOLS,
    RESERVED_NAMES,
    InstalledTool,
    clash_message,
    find_providers,
    installed_tools,
    missing_message,
    shadow_hint,
)
from agentrun.tools._http import HttpTool
from agentrun.tools._result import ToolResult, error_output
from agentrun.tools._tool import Tool, ToolConfigError

if TYPE_CHECKING:
    from agentrun.tools._mcp import McpConnection

Report = Callable[[str, str], None]
"""``report(level, message)``: one status line for the person running the call."""

__all__ = ["ToolRegistry"]


class _ToolRefLike(Protocol):
    """What ``for_spec`` reads of an ``agentrun.spec.ToolRef`` (Contract 1)."""

    @property
    def tool(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def timeout(self) -> float | None: ...
    @property
    def config(self) -> Mapping[str, Any]: ...


class _SpecLike(Protocol):
    """What ``for_spec`` reads of an ``agentrun.spec.AgentSpec`` (Contract 1)."""

    @property
    def tools(self) -> Sequence[Any]: ...
    @property
    def path(self) -> Any: ...

    def location(self, path: tuple[Any, ...], *, key: bool = False
                 ) -> tuple[int, int] | None: ...


class ToolRegistry:
    """The function tools one agent may call, and the problems found loading them.

    One registry serves one conversation: ``state`` (the dict ``ToolContext.state`` hands to
    tools) is shared by its calls. To share one registry between conversations, pass each
    conversation's own dict as ``call(..., state=...)``.

    Args:
        tools: the tools, each under its ``name``.
        problems: problems found while building them (``for_spec`` fills this).

    Raises:
        ValueError: two tools share a name.
    """

    def __init__(self, tools: Iterable[Any] = (), *, problems: Iterable[SpecError] = ()) -> None:
        self._tools: dict[str, Any] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"two tools are named '{tool.name}'")
            self._tools[tool.name] = tool
        self.problems: list[SpecError] = list(problems)
        # located notes that do not stop the agent (an undescribed tool, a shadowed built-in)
        self.warnings: list[SpecError] = []
        self.state: dict[str, Any] = {}
        self.function_names: frozenset[str] = frozenset(self._tools)
        self.servers: list[McpConnection] = []  # the MCP servers of an opened registry
        self._mcp_refs: list[tuple[int, Any]] = []  # (index in tools:, entry) to start on open
        self._spec: _SpecLike | None = None
        self._environ: Mapping[str, str] = os.environ
        self._closers: list[Callable[[], Any]] = []

    @classmethod
    def for_spec(cls, spec: _SpecLike, *, environ: Mapping[str, str] | None = None
                 ) -> ToolRegistry:
        """Load the tools an agent names; collect problems instead of raising.

        Built-ins (``web_search``, ``x_search``, ``file_search``) run on the server and are
        skipped here. A tool's YAML ``as:``, ``description``, ``timeout`` and ``config`` apply.
        HTTP tools are built (their secrets read from ``environ``); MCP servers are only
        remembered: :meth:`open` starts them. Nothing here starts a process or connects.

        Args:
            spec: the agent (``agentrun.spec.AgentSpec``).
            environ: where secrets are read (default ``os.environ``); a missing one is not a
                problem here (see :meth:`environment_problems`).

        Returns:
            The registry; ``problems`` lists every tool that could not be made callable, located
            at the YAML line naming it.
        """
        env = os.environ if environ is None else environ
        refs: list[_ToolRefLike] = list(spec.tools)
        plugin_refs = [(i, ref) for i, ref in enumerate(refs)
                       if not _is_builtin(ref) and _kind(ref) in ("plugin", "http")]
        installed = installed_tools() if any(
            _kind(r) == "plugin" for _, r in plugin_refs) or any(_is_builtin(r) for r in refs) \
            else {}
        reserved = reserved_names(refs)
        tools: list[Any] = []
        problems: list[SpecError] = []
        chosen = {p.qualified_name for _, ref in plugin_refs if _kind(ref) == "plugin"
                  for p in find_providers(installed, ref.tool)}
        warnings = [_located(spec, i, f"'{ref.tool}' here is Grok's built-in tool, not the "
                             f"tool of that name from {plugin.distribution} {plugin.version}",
                             shadow_hint(plugin))
                    for i, ref in enumerate(refs) if _is_builtin(ref)
                    for plugin in installed.get(ref.tool, ())
                    if plugin.qualified_name not in chosen]  # used under its qualified name
        for index, ref in plugin_refs:
            def problem(message: str, hint: str | None = None, index: int = index) -> None:
                problems.append(_located(spec, index, message, hint))

            if ref.name in reserved:
                problem(f"tool name '{ref.name}' is reserved by the built-in "
                        f"'{reserved[ref.name]}'",
                        "rename it with `as:`; the server fails the first response otherwise")
                continue
            if any(t.name == ref.name for t in tools):
                problem(f"two tools are named '{ref.name}' for the model",
                        "rename one with `as:`")
                continue
            if _kind(ref) == "http":
                tools.append(HttpTool.from_ref(ref, env, _defaults(spec)))
                continue
            providers = find_providers(installed, ref.tool)
            if not providers:
                problem(*missing_message(ref.tool, installed))
                continue
            if len(providers) > 1:
                problem(clash_message(ref.tool, providers))
                continue
            try:
                tools.append(load_tool(providers[0], ref, _folder(spec)))
                warnings.extend(_located(spec, index, message, hint) for message, hint in
                                tool_advice(ref.name, tools[-1].description, tools[-1].info))
            except ToolConfigError as exc:
                if not exc.problems:
                    problem(str(exc))
                for path, message, hint in exc.problems:
                    problems.append(_located(spec, index, f"tool '{ref.name}': {message}", hint,
                                             inner=("config", *path)))
            except ToolLoadError as exc:
                problem(str(exc))
        mcp_refs = [(i, ref) for i, ref in enumerate(refs) if _kind(ref) == "mcp"]
        if any(ref.mcp.called_by == "agentrun" for _, ref in mcp_refs) and not _has_mcp():
            index = next(i for i, ref in mcp_refs if ref.mcp.called_by == "agentrun")
            problems.append(_located(spec, index, "MCP servers need the mcp package, which is "
                                     "not installed", "pip install 'agentrun-voice[mcp]'"))
        registry = cls(tools, problems=problems)
        registry.warnings = sorted(warnings, key=lambda w: (w.line or 0, w.column or 0))
        registry._mcp_refs = mcp_refs
        registry._spec = spec
        registry._environ = env
        return registry

    def environment_problems(self) -> list[SpecError]:
        """Secrets and server environment values whose environment variable is not set.

        ``agentrun check`` does not ask (a file is checked anywhere); running the agent does:
        such a tool could not work.

        Returns:
            One located problem per missing variable.
        """
        found: list[SpecError] = []
        spec = self._spec
        for tool in self._tools.values():
            if isinstance(tool, HttpTool):
                index = _index_of(spec, tool.name, "http")
                for key, var in tool.missing.items():
                    found.append(_located(spec, index, f"tool '{tool.name}': secret '{key}' "
                                          f"reads environment variable {var}, which is not set",
                                          f"set {var}", inner=("http", "secrets", key)))
        for index, ref in self._mcp_refs:
            for what, mapping in (("env", ref.mcp.env), ("secret", ref.mcp.secrets)):
                for key, var in mapping.items():
                    if self._environ.get(var) is None:
                        inner = ("mcp", "env" if what == "env" else "secrets", key)
                        found.append(_located(spec, index, f"MCP server '{ref.name}': {what} "
                                              f"'{key}' reads environment variable {var}, which "
                                              "is not set", f"set {var}", inner=inner))
        return found

    @property
    def has_servers(self) -> bool:
        """True when :meth:`open` has MCP servers to start or reach."""
        return bool(self._mcp_refs)

    def server_tools(self, *, reveal: bool = True) -> list[dict[str, Any]]:
        """The MCP servers Grok calls itself (``called_by: grok``), as ``session.tools[]``
        entries (``{"type": "mcp", "server_url", "server_label", ...}``, grok-realtime.md §4.1).

        Args:
            reveal: put the secret header values in (for the wire); False shows
                ``${VARIABLE}`` instead (for ``--dry-run`` and logs).

        Returns:
            One entry per such server, in YAML order.
        """
        remote = [ref for _, ref in self._mcp_refs if ref.mcp.called_by == "grok"]
        if not remote:
            return []  # and no asyncio imported: --dry-run stays light
        from agentrun.tools._open import server_tool

        return [server_tool(ref, self._environ, reveal=reveal) for ref in remote]

    def redact(self, text: str) -> str:
        """``text`` with every secret value this registry's tools read replaced by
        ``[hidden $VARIABLE]`` (matching as ``agentrun._secrets.Redactor``).

        Args:
            text: anything about to reach the model, a log or a screen.

        Returns:
            The text, unchanged when it holds no secret.
        """
        return self._redactor()(text)

    def _redactor(self) -> Redactor:
        secrets = {value: var for tool in self._tools.values() if isinstance(tool, HttpTool)
                   for value, var in tool.secret_variables.items()}
        for _, ref in self._mcp_refs:
            secrets.update({self._environ[var]: var for var in (*ref.mcp.env.values(),
                                                                *ref.mcp.secrets.values())
                            if self._environ.get(var)})
        return Redactor(secrets)

    @asynccontextmanager
    async def open(self, *, report: Report | None = None, remote: bool = False
                   ) -> AsyncIterator[ToolRegistry]:
        """Start the MCP servers and share one HTTP client: a registry ready for calls.

        ``async with registry.open(report=endpoint.show_status) as tools:`` gives a registry
        with every tool (MCP tools included, so ``tools.function_schemas()`` is what the
        session declares); leaving the block stops every server agentrun started, even when
        the block fails or is cancelled. A server that cannot start is one ``report`` line and
        a located entry in ``tools.problems``; the others work. Open once per call, or once for
        a service whose calls then share the servers (each passes its own ``state=``).

        Args:
            report: where one-line problems go (a server that cannot start or is lost, an
                ``allowed_tools`` name it does not offer, a name clash); default: the log.
            remote: also reach the servers Grok calls itself (``called_by: grok``) to list
                their tools (``check --connect``); a call never needs them.

        Yields:
            The opened registry.
        """
        opened = await self.start(report=report, remote=remote)
        try:
            yield opened
        finally:
            await opened.aclose()

    async def start(self, *, report: Report | None = None, remote: bool = False
                    ) -> ToolRegistry:
        """:meth:`open` without the block: call ``await opened.aclose()`` when done.

        Returns:
            The opened registry (this one is left as it was).
        """
        from agentrun.tools._open import start

        return await start(self, report, remote)

    async def aclose(self) -> None:
        """Stop the servers and close the HTTP client of an opened registry (idempotent)."""
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            await close()

    @classmethod
    def from_functions(cls, *functions: Callable[..., Any], timeout: float | None = None
                       ) -> ToolRegistry:
        """A registry of plain functions, each named after its ``__name__`` (for embedding).

        Args:
            *functions: the tool functions.
            timeout: seconds per call for all of them (default 10).

        Returns:
            The registry.

        Raises:
            ToolLoadError: a function cannot be described.
            ValueError: two functions share a name.
        """
        return cls(Tool.from_function(f, timeout=timeout) for f in functions)

    @property
    def tools(self) -> Mapping[str, Any]:
        """The callable tools by the name the model uses (``Tool``, ``HttpTool``, ``McpTool``)."""
        return dict(self._tools)

    def function_schemas(self) -> list[dict[str, Any]]:
        """Every tool in the flat ``session.tools[]`` shape (grok-realtime.md §4.1).

        Returns:
            ``{"type": "function", "name", "description", "parameters"}`` dicts, in YAML order.
        """
        return [tool.function_schema() for tool in self._tools.values()]

    async def call(
        self,
        name: str,
        arguments_json: str,
        *,
        call_id: str,
        variables: Mapping[str, str] | None = None,
        state: dict[str, Any] | None = None,
        call: Mapping[str, str] | None = None,
    ) -> ToolResult:
        """Run one function call the model asked for.

        Args:
            name: the function name the model called.
            arguments_json: its arguments, as the JSON text the model sent.
            call_id: the call's id.
            variables: the conversation's call variables (caller, call_id, …).
            state: the per-conversation dict for ``ToolContext.state`` (default ``self.state``).
            call: facts about the call for ``ToolContext.call`` (``caller``, ``id``,
                ``channel``).

        Returns:
            The result; an undeclared name gives ``ok=False`` with an "unknown tool" output.
            Never raises except ``asyncio.CancelledError``.
        """
        tool = self._tools.get(name)
        if tool is None:
            callable_names = ", ".join(sorted(self._tools)) or "none"
            return ToolResult(
                output=error_output(f"unknown tool '{name}'; the tools you can call are: "
                                    f"{callable_names}"),
                ok=False,
                error=f"tool {name} call {call_id or '-'}: the model called an undeclared tool",
                name=name,
                call_id=call_id,
            )
        if isinstance(tool, Tool):  # plugin functions see the call's facts (ToolContext.call)
            return await tool.run(arguments_json, call_id=call_id, variables=variables,
                                  state=self.state if state is None else state, call=call)
        return await tool.run(arguments_json, call_id=call_id, variables=variables,
                              state=self.state if state is None else state)


def load_tool(installed: InstalledTool, ref: _ToolRefLike, folder: Path | None = None) -> Tool:
    """Import one installed tool and configure it as the YAML entry says.

    Args:
        installed: the entry point.
        ref: the agent's tool entry (name, description, timeout, config overrides).
        folder: the agent file's folder (relative paths in ``config:`` start there).

    Returns:
        The tool.

    Raises:
        ToolLoadError: one line naming the distribution, its version and the entry point
            (or, for a bad ``config:`` block, the tool's name and the field at fault).
    """
    function = installed.load()
    try:
        return Tool.from_function(function, name=ref.name, description=ref.description,
                                  timeout=ref.timeout, config=ref.config or {},
                                  source=installed.origin, config_base=folder)
    except ToolConfigError as exc:
        raise ToolConfigError(f"tool '{ref.name}': {exc}", tool=ref.name,
                              problems=exc.problems) from exc
    except ToolLoadError as exc:
        raise ToolLoadError(f"cannot load tool '{installed.name}' from {installed.origin}: {exc}",
                            tool=ref.name) from exc


def _folder(spec: _SpecLike) -> Path | None:
    """The agent file's folder, or None for a spec built in code."""
    path = getattr(spec, "path", None)
    return Path(path).parent if path is not None else None


def _kind(ref: _ToolRefLike) -> str:
    return str(getattr(ref, "kind", "plugin"))


def _is_builtin(ref: _ToolRefLike) -> bool:
    return bool(getattr(ref, "is_builtin", ref.tool in BUILTIN_TOOLS))


def _has_mcp() -> bool:
    import importlib.util

    return importlib.util.find_spec("mcp") is not None


def _defaults(spec: Any) -> dict[str, str]:
    """The agent's variable defaults as text (what a tool sees when a call passes none)."""
    found = {}
    for name, variable in (getattr(spec, "variables", None) or {}).items():
        default = getattr(variable, "default", None)
        if default is not None:
            found[name] = ("true" if default else "false") if isinstance(default, bool) \
                else str(default)
    return found


def reserved_names(refs: Iterable[Any]) -> dict[str, str]:
    """Function names the enabled built-ins reserve, each with its built-in."""
    reserved: dict[str, str] = {}
    for ref in refs:
        if _is_builtin(ref):
            reserved.update(dict.fromkeys(RESERVED_NAMES.get(ref.tool, ()), ref.tool))
    return reserved


def _index_of(spec: Any, name: str, kind: str) -> int:
    for index, ref in enumerate(getattr(spec, "tools", ()) or ()):
        if _kind(ref) == kind and ref.name == name:
            return index
    return 0


def _located(spec: _SpecLike | None, index: int, message: str, hint: str | None,
             inner: tuple[str | int, ...] = ()) -> SpecError:
    # A config problem points at its key (``databse:``), anything else at the tool's entry.
    if spec is None:
        return SpecError(message, hint=hint)
    place = (spec.location(("tools", index, *inner), key=True) if inner
             else spec.location(("tools", index)))
    line, column = place if place is not None else (None, None)
    path = str(spec.path) if getattr(spec, "path", None) is not None else None
    return SpecError(message, path=path, line=line, column=column, hint=hint)
