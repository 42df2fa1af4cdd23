"""``Agent``: a loaded agent file, ready to run calls — the one way in.

The CLI, the service, the test runner and embedders all do the same two steps::

    agent = Agent.load("agents/support.yaml")        # every problem at once, or a ready agent
    result = await agent.run(TextConsole())          # one call on one channel

``load`` validates the file, its template, its variables and its tools once (plugins are
imported once); ``run`` renders the instructions for this call (its time, its caller), picks the
realtime service (a given URL, Grok when an API key is set, else the embedded simulator), and
runs one :class:`~agentrun.engine.session.Session` with its own tool state. Imports spec, tools
and engine; asyncio, the session and the simulator only when a call runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agentrun.errors import SpecErrors

if TYPE_CHECKING:
    from agentrun.engine import ConversationConfig
    from agentrun.engine.observe import CallObserver
    from agentrun.engine.session import SessionResult, ToolRunner
    from agentrun.io import Endpoint
    from agentrun.spec import AgentSpec
    from agentrun.tools import ToolRegistry

__all__ = ["DEFAULT_API_KEY_ENV", "OFFLINE_NOTICE", "Agent"]

DEFAULT_API_KEY_ENV = "XAI_API_KEY"
OFFLINE_NOTICE = ("no {env} set — talking to the embedded simulator "
                  "(offline; replies are simulated)")


class Agent:
    """An agent file, validated, with its tools loaded.

    Build it with :meth:`load`. One ``Agent`` serves any number of calls, one after another or
    at once: each call renders its own instructions and gets its own tool state.

    Attributes:
        spec: the validated agent file.
        tools: its function tools.
        variables: the typed value of every declared variable (``--var`` > environment >
            default), as fixed at load time.
    """

    def __init__(self, spec: AgentSpec, tools: ToolRegistry, variables: Mapping[str, Any]) -> None:
        self.spec = spec
        self.tools = tools
        self.variables = dict(variables)
        self.environ: Mapping[str, str] = os.environ  # what from_env and tool secrets read

    @classmethod
    def load(cls, path: str | os.PathLike[str], *,
             variables: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None,
             unknown_variables: Literal["error", "ignore"] = "error") -> Agent:
        """Read an agent file and make it ready to run.

        Every problem is found in one pass (``agentrun check`` calls this too, so a file that
        checks ok runs): the file itself, its templates (the instructions and the greeting,
        rendered once), its variables' values and its tools, even while other parts are wrong.

        Args:
            path: the YAML file; messages name it as given.
            variables: template variable values by name (text is converted to the declared
                type), e.g. from ``--var``.
            environ: the environment ``from_env`` variables read (default ``os.environ``).
            unknown_variables: ``ignore`` to skip ``variables`` the file does not declare.

        Returns:
            The agent.

        Raises:
            SpecErrors: every problem in the file, its templates, its variables and its tools,
                each at FILE:LINE:COL with a hint.
        """
        from agentrun.spec import inspect_spec
        from agentrun.tools import ToolRegistry

        report = inspect_spec(path, variables, environ=environ, unknown=unknown_variables)
        registry = ToolRegistry.for_spec(report.partial, environ=environ)
        problems = [*report.problems, *registry.problems]
        problems.extend(registry.environment_problems())  # a secret the tools need is unset
        if problems or report.spec is None:
            raise SpecErrors(problems)
        agent = cls(report.spec, registry, report.values)
        if environ is not None:
            agent.environ = environ
        agent.config()  # the reserved-name check of the wire config: an error now, not mid-call
        return agent

    @property
    def name(self) -> str:
        """The agent's name (``name:`` in the file)."""
        return self.spec.name

    @property
    def file_stem(self) -> str:
        """The agent file's name without folder and extension (``support``), or ""."""
        return self.spec.path.stem if self.spec.path else ""

    def config(self, *, call: Mapping[str, str] | None = None, now: datetime | None = None,
               tools: ToolRegistry | None = None, secrets: bool = True,
               phone: bool = False) -> ConversationConfig:
        """What one call sends and how it behaves: instructions rendered for this call.

        Args:
            call: facts about the call for ``call.*`` in templates (``caller``, ``id``).
            now: the time templates see as ``now`` (default: the current time).
            tools: the opened registry whose tools the call declares (MCP tools are known
                only once their servers run); default: :attr:`tools` (no MCP tools).
            secrets: put secret values into the session (header values of servers Grok calls,
                environment values in the templates); False shows a marker instead
                (``--dry-run``).
            phone: a phone call (Twilio Media Streams): the session's audio is G.711 μ-law
                8 kHz both ways (``audio/pcmu``, grok-realtime.md §4) whatever the file's
                ``audio:`` says, so the caller's audio passes through byte for byte.

        Returns:
            The conversation config.

        Raises:
            SpecErrors: the template failed to render, or a tool name is reserved.
        """
        from agentrun.engine import ConversationConfig
        from agentrun.spec import render_greeting, render_instructions

        facts = dict(call or {})
        if "id" in facts or "call_id" in facts:
            facts.setdefault("id", facts.get("call_id", ""))
            facts.setdefault("call_id", facts["id"])
        given = {name: value for name, value in self.variables.items() if value is not None}
        instructions = render_instructions(self.spec, given, call=facts, now=now,
                                           hide_secrets=not secrets)
        greeting = render_greeting(self.spec, given, call=facts, now=now,
                                   hide_secrets=not secrets)
        registry = self.tools if tools is None else tools
        config = ConversationConfig.from_spec(self.spec, instructions=instructions,
                                              greeting=greeting,
                                              function_tools=registry.function_schemas(),
                                              server_tools=registry.server_tools(reveal=secrets))
        return _phone_config(config) if phone else config

    def tool_variables(self) -> dict[str, str]:
        """The variables as tools see them (``ToolContext.variables``): text, "" for unset."""
        return {name: "" if value is None else str(value)
                for name, value in self.variables.items()}

    def record_dir(self, record: str | os.PathLike[str] | Literal[False] | None = None,
                   ) -> Path | None:
        """Where this agent's calls are recorded: ``record`` when given, else ``record.dir``
        of the agent file (relative to the file), else nowhere.

        Args:
            record: a folder (relative to the working directory), False for no record, or
                None for what the agent file says.

        Returns:
            The record directory, or None.
        """
        if record is False:
            return None
        if record is not None:
            return Path(record)
        if self.spec.record is None:
            return None
        folder = Path(self.spec.record.dir).expanduser()
        if not folder.is_absolute() and self.spec.path is not None:
            folder = self.spec.path.parent / folder
        return folder

    def _hide_secrets(self, api_key: str | None, api_key_env: str) -> None:
        """Make every secret of this call one the process never prints, logs or records: the
        API key and the environment values the tools read (``from_env`` values are already
        remembered when read)."""
        from agentrun._secrets import remember

        if api_key and len(api_key) >= 8:  # a placeholder ("offline") must not hide that word
            remember(api_key, api_key_env)
        for tool in self.spec.tools:
            names = list(tool.http.secrets.values()) if tool.http is not None else []
            if tool.mcp is not None:
                names += [*tool.mcp.env.values(), *tool.mcp.secrets.values()]
            for name in names:
                remember(self.environ.get(name), name)

    async def run(self, endpoint: Endpoint, *, url: str | None = None,
                  api_key: str | None = None, api_key_env: str = DEFAULT_API_KEY_ENV,
                  call: Mapping[str, str] | None = None, channel: str = "embedded",
                  observers: Sequence[CallObserver] = (), now: datetime | None = None,
                  tools: ToolRunner | None = None, open_tools: ToolRegistry | None = None,
                  phone: bool = False,
                  record: str | os.PathLike[str] | Literal[False] | None = None,
                  **session_options: Any) -> SessionResult:
        """Run one call on ``endpoint`` until the caller hangs up or the conversation ends.

        The service: ``url`` when given (a proxy, ``agentrun sim``, a test server); else Grok
        (``wss://api.x.ai/v1/realtime``) when an API key is given or set in ``api_key_env``;
        else the embedded simulator, started for this call, which the endpoint is told first.

        Args:
            endpoint: the caller's channel.
            url: the realtime endpoint; ``?model=`` is added (an existing query is kept).
            api_key: the API key; default: the ``api_key_env`` environment variable.
            api_key_env: where the key comes from (never printed).
            call: facts about the call: ``caller`` (number or address) and ``id``.
            channel: how the caller reaches the agent, for records and metrics.
            observers: watch the call (records, metrics).
            now: the time templates see (default: the current time).
            tools: runs the model's function calls instead of :attr:`tools` (e.g. the test
                runner's mocks); the model still sees the agent's tool schemas.
            open_tools: an opened registry (``agent.tools.open()``) whose tools the call
                declares and runs: a service sharing its MCP servers between calls. Default:
                :attr:`tools` is opened for this call (its MCP servers start now and stop when
                the call ends; one that cannot start is a status line).
            phone: a phone call: G.711 μ-law 8 kHz both ways (see :meth:`config`).
            record: a folder that gets this call's record (``agentrun.record``); None records
                where the agent file's ``record.dir`` says (if anywhere); False records nothing.
                The folder is checked before the call starts; the call's folder is the
                result's ``record``.
            **session_options: passed to :class:`~agentrun.engine.session.Session`.

        Returns:
            How the call ended.

        Raises:
            RecordError: the record folder cannot be written (before the call starts).
            SpecErrors: the template failed to render for this call.
            ServiceError: the service refused the key or the quota is used up.
            TransportError: the connection failed and could not be re-established.
        """
        import contextlib

        from agentrun.engine import DEFAULT_BASE_URL, connection_url
        from agentrun.engine.observe import CallInfo
        from agentrun.engine.session import Session

        facts = dict(call or {})
        config = self.config(call=facts, now=now, phone=phone)
        key = api_key if api_key is not None else (os.environ.get(api_key_env) or None)
        info = CallInfo(call_id=facts.get("id", facts.get("call_id", "")), agent=self.name,
                        agent_file=self.file_stem, channel=channel,
                        caller=facts.get("caller", ""))
        self._hide_secrets(key, api_key_env)
        folder = self.record_dir(record)
        recorder = None
        if folder is not None:
            from agentrun.record import CallRecorder, prepare_root

            recorder = CallRecorder(prepare_root(folder),
                                    on_error=lambda message: endpoint.show_status("error",
                                                                                  message))
            observers = [*observers, recorder]
        async with contextlib.AsyncExitStack() as stack:
            if url is None and key is None:
                from agentrun.sim import Simulator

                endpoint.show_status("info", OFFLINE_NOTICE.format(env=api_key_env))
                url = (await stack.enter_async_context(Simulator())).url
            opened = open_tools
            if opened is None:  # MCP servers start for this call and stop with it
                opened = await stack.enter_async_context(
                    self.tools.open(report=endpoint.show_status))
            if opened is not self.tools:  # MCP tools are declared once their servers run
                config = self.config(call=facts, now=now, tools=opened, phone=phone)
            target = connection_url(self.spec, url or DEFAULT_BASE_URL)
            if recorder is not None:
                recorder.service = _service_name(target)
            if tools is None:  # the call's facts reach ToolContext.call
                facts.setdefault("channel", channel)
                tools = _CallTools(opened, {k: str(v) for k, v in facts.items()
                                            if k in ("caller", "id", "channel")})
            session = Session.for_url(config, target, api_key=key, endpoint=endpoint,
                                      tools=tools,
                                      variables=self.tool_variables(),
                                      call=info, observers=observers, **session_options)
            try:
                result = await session.run()
            finally:
                if recorder is not None:
                    await recorder.wait_closed()  # the record is whole before run returns
            if recorder is not None and recorder.path is not None:
                result.record = str(recorder.path)
            return result


class _CallTools:
    """The agent's tools as one call runs them, its facts handed to ``ToolContext.call``."""

    def __init__(self, registry: ToolRegistry, facts: Mapping[str, str]) -> None:
        self._registry = registry
        self._facts = facts

    async def call(self, name: str, arguments_json: str, *, call_id: str,
                   variables: Mapping[str, str], state: dict[str, Any]) -> Any:
        return await self._registry.call(name, arguments_json, call_id=call_id,
                                         variables=variables, state=state, call=self._facts)


def _phone_config(config: ConversationConfig) -> ConversationConfig:
    """``config`` with μ-law 8 kHz both ways, keeping transcription hints and speed."""
    import dataclasses

    from agentrun.protocol import AudioConfig, PcmuFormat

    audio = config.session.audio or AudioConfig()
    audio = audio.model_copy(update={
        "input": audio.input.model_copy(update={"format": PcmuFormat()}),
        "output": audio.output.model_copy(update={"format": PcmuFormat()})})
    return dataclasses.replace(config, session=config.session.model_copy(update={"audio": audio}))


def _service_name(url: str) -> str:
    """The realtime URL without credentials or query (a proxy URL may carry a token)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"
