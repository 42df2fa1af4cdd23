"""HTTP tools: a ``tools:`` entry with an ``http:`` block becomes one request per call (httpx).

A call never raises (except cancellation): invalid arguments, a request that cannot be built, a
timeout, an unreachable host, a non-2xx status, a redirect to another host and a body that is
not the JSON promised all become a ``ToolResult`` with ``ok=False`` and an error the model can
act on. Secret values (read from the environment variables the file names) go only into the
request: they are cut out of everything the model gets and every log line, as
``[hidden $VARIABLE]`` (``agentrun._secrets.Redactor``: also URL-encoded, JSON-escaped or in
another case). Argument values are percent-encoded in the URL, so the model cannot change the
host, the path or the query.
Reads the spec's ``HttpCall`` by attribute; imports httpx and Jinja only when a call runs.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from agentrun._secrets import Redactor
from agentrun.tools._result import ToolResult, encode_output, error_output
from agentrun.tools._tool import DEFAULT_TIMEOUT, format_validation_error

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_BODY_BYTES", "MAX_REDIRECTS", "HttpTool"]

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 2_000_000
"""A response body is read up to this size; a larger JSON body is an error, larger text is cut."""

_SNIPPET = 300  # characters of an error response's body shown to the model
_TYPES: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}
_ARGUMENTS_CONFIG = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
_SINGLE_NAME = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$")
_log = logging.getLogger("agentrun.tools")


class _Failure(Exception):
    """A call that ends in an error output: what the model reads, what the log says."""

    def __init__(self, model_text: str, log_text: str | None = None) -> None:
        super().__init__(model_text)
        self.model_text = model_text
        self.log_text = log_text or model_text


def arguments_model(arguments: Mapping[str, Any]) -> tuple[type[BaseModel], dict[str, Any]]:
    """The validator and the JSON Schema of an http tool's declared arguments.

    Args:
        arguments: name → ``ToolArgument`` (type, description, required, enum, default).

    Returns:
        ``(model, parameters)``: a pydantic model validating the model's JSON, and the
        ``parameters`` JSON Schema the model sees.
    """
    fields: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, argument in arguments.items():
        kind: Any = _TYPES[argument.type]
        prop: dict[str, Any] = {"type": argument.type}
        if argument.description:
            prop["description"] = argument.description
        if argument.enum:
            kind = Literal[tuple(argument.enum)]
            prop["enum"] = list(argument.enum)
        if argument.is_required:
            required.append(name)
            fields[name] = (kind, Field(...))
        else:
            if argument.default is not None:
                prop["default"] = argument.default
            fields[name] = (kind | None, Field(argument.default))
        properties[name] = prop
    model = create_model("HttpArguments", __config__=_ARGUMENTS_CONFIG, **fields)
    return model, {"type": "object", "properties": properties, "required": required}


@dataclass
class HttpTool:
    """A tool the model calls that sends one HTTP request (``tools: [{name, http: ...}]``).

    Attributes:
        name: the name the model sees.
        call: the ``http:`` block (``agentrun.spec.HttpCall``).
        description: what the model reads.
        timeout: seconds the whole request (redirects included) may take.
        secrets: secret values by name (read from the environment when the agent loads).
        missing: secret name → the environment variable that was not set.
        defaults: the agent's variable defaults, used when a call does not pass them.
        client: a shared ``httpx.AsyncClient`` while the registry is open; None opens one per
            call.
        secret_variables: each secret value → its environment variable (set from ``secrets``).
        redact: cuts those values out of text, as ``[hidden $VARIABLE]``.
    """

    name: str
    call: Any
    description: str = ""
    timeout: float = DEFAULT_TIMEOUT
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    missing: dict[str, str] = field(default_factory=dict)
    client: httpx.AsyncClient | None = field(default=None, repr=False)
    source: str = ""
    defaults: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._model, self._parameters = arguments_model(self.call.arguments)
        names = getattr(self.call, "secrets", {})  # secret name → environment variable
        self.secret_variables = {value: names.get(key) for key, value in self.secrets.items()}
        self.redact = Redactor(self.secret_variables)
        self.source = self.source or f"http {self.call.method} {_shown_url(self.call.url)}"

    @classmethod
    def from_ref(cls, ref: Any, environ: Mapping[str, str] | None = None,
                 defaults: Mapping[str, str] | None = None) -> HttpTool:
        """Build the tool of a ``tools:`` entry with an ``http:`` block.

        Args:
            ref: the entry (``agentrun.spec.ToolRef``).
            environ: where secrets are read (default ``os.environ``).
            defaults: the agent's variable defaults (a call's variables override them).

        Returns:
            The tool; secrets whose variable is not set are listed in ``missing``.
        """
        env = os.environ if environ is None else environ
        values = {key: env[var] for key, var in ref.http.secrets.items() if env.get(var)}
        missing = {key: var for key, var in ref.http.secrets.items() if not env.get(var)}
        return cls(name=ref.name, call=ref.http, description=(ref.description or "").strip(),
                   timeout=DEFAULT_TIMEOUT if ref.timeout is None else float(ref.timeout),
                   secrets=values, missing=missing, defaults=dict(defaults or {}))

    def function_schema(self) -> dict[str, Any]:
        """The tool as ``session.tools[]`` wants it (grok-realtime.md §4.1, flat shape)."""
        return {"type": "function", "name": self.name, "description": self.description,
                "parameters": self._parameters}

    async def run(self, arguments_json: str, *, call_id: str = "",
                  variables: Mapping[str, str] | None = None,
                  state: dict[str, Any] | None = None) -> ToolResult:
        """Validate the arguments, send the request, select the output.

        Args:
            arguments_json: the arguments exactly as the model sent them.
            call_id: the call id, for log lines.
            variables: the agent's variables for this call (text).
            state: unused (HTTP tools keep no state).

        Returns:
            The result; never raises except ``asyncio.CancelledError``.
        """
        import asyncio

        start = time.perf_counter()
        try:
            arguments = self._model.model_validate_json(arguments_json or "{}")
        except ValidationError as exc:
            detail = format_validation_error(exc)
            return self._failed(start, call_id, _Failure(f"invalid arguments: {detail}"))
        values = {name: getattr(arguments, name) for name in self.call.arguments}
        variables = {**self.defaults, **(variables or {})}
        scope = asyncio.timeout(self.timeout)
        try:
            if self.missing:
                key, var = next(iter(self.missing.items()))
                raise _Failure(f"{self.name} is not configured on this machine; tell the "
                               "caller it is unavailable",
                               f"secret '{key}' needs environment variable {var}, which is not "
                               "set")
            request = _Request.build(self.call, values, variables or {}, self.secrets)
            async with scope:
                output = await self._exchange(request, values, variables or {})
        except _Failure as failure:
            return self._failed(start, call_id, failure)
        except TimeoutError:
            if not scope.expired():
                raise
            return self._failed(start, call_id, _Failure(
                f"{self.name}: {self._host()} did not answer within {self.timeout:g} s"))
        return ToolResult(output=self.redact(output), seconds=time.perf_counter() - start,
                          name=self.name, call_id=call_id)

    def _host(self) -> str:
        return _shown_url(self.call.url).split("/")[0] or "the server"

    async def _exchange(self, request: _Request, values: Mapping[str, Any],
                        variables: Mapping[str, str]) -> str:
        import httpx

        try:
            if self.client is not None:
                response, body = await self._send(self.client, request)
            else:
                async with httpx.AsyncClient(follow_redirects=False,
                                             timeout=self.timeout) as client:
                    response, body = await self._send(client, request)
        except httpx.TimeoutException as exc:
            raise _Failure(f"{self.name}: {request.shown} did not answer within "
                           f"{self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise _Failure(f"{self.name}: could not reach {request.shown} "
                           f"({type(exc).__name__})",
                           f"could not reach {request.shown}: {type(exc).__name__}: "
                           f"{self.redact(str(exc))}") from exc
        return self._output(response, body, values, variables, request)

    async def _send(self, client: httpx.AsyncClient, request: _Request
                    ) -> tuple[httpx.Response, bytes]:
        """Send, following redirects as the block allows; read at most MAX_BODY_BYTES."""
        policy = self.call.follow_redirects
        import httpx

        # merged, not passed as params=: httpx would drop the query written in the URL
        url = httpx.URL(request.url).copy_merge_params(request.query)
        outgoing = client.build_request(request.method, url, headers=request.headers,
                                        json=request.body)
        for _ in range(MAX_REDIRECTS + 1):
            response = await client.send(outgoing, stream=True)
            try:
                if not response.is_redirect or policy == "never":
                    return response, await _read_capped(response)
            finally:
                await response.aclose()
            outgoing = _follow(client, outgoing, response, policy, request.secret_headers,
                               request.shown)
        raise _Failure(f"{self.name}: {request.shown} redirected more than {MAX_REDIRECTS} "
                       "times")

    def _output(self, response: httpx.Response, body: bytes, values: Mapping[str, Any],
                variables: Mapping[str, str], request: _Request) -> str:
        selection = self.call.response
        text = body.decode(response.encoding or "utf-8", errors="replace")
        if not response.is_success:
            snippet = " ".join(self.redact(text).split())[:_SNIPPET]
            where = f" (a redirect to {response.headers.get('location', '?')}, not followed)" \
                if response.is_redirect else ""
            raise _Failure(f"{self.name}: {request.shown} answered HTTP {response.status_code} "
                           f"{response.reason_phrase}{where}" + (f": {snippet}" if snippet
                                                                 else ""))
        if selection.format == "text":
            return encode_output(text, limit=selection.max_chars)
        if len(body) >= MAX_BODY_BYTES:
            raise _Failure(f"{self.name}: {request.shown} sent more than {MAX_BODY_BYTES} bytes")
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError as exc:
            raise _Failure(f"{self.name}: {request.shown} did not answer with JSON "
                           f"({' '.join(text.split())[:80]!r}…)") from exc
        if selection.field is not None:
            data = _select(data, selection.field, self.name)
        if selection.template is not None:
            from agentrun.spec import render_tool_template

            names = {**dict(variables), **values, "response": data}
            try:
                data = render_tool_template(selection.template, names)
            except Exception as exc:  # a template over foreign data may fail in many ways
                raise _Failure(f"{self.name}: the response did not fit the response template "
                               f"({type(exc).__name__}: {exc})") from exc
        return encode_output(data, limit=selection.max_chars)

    def _failed(self, start: float, call_id: str, failure: _Failure) -> ToolResult:
        seconds = time.perf_counter() - start
        line = (f"tool {self.name} [{self.source}] call {call_id or '-'}: "
                f"{self.redact(failure.log_text)} ({seconds:.3f} s)")
        _log.warning("%s", line)
        return ToolResult(output=error_output(self.redact(failure.model_text)), ok=False,
                          error=line, seconds=seconds, name=self.name, call_id=call_id)


@dataclass
class _Request:
    """One rendered request: what is sent and how it is named in messages."""

    method: str
    url: str
    headers: dict[str, str]
    query: dict[str, str]
    body: Any
    secret_headers: frozenset[str]
    shown: str

    @classmethod
    def build(cls, call: Any, values: Mapping[str, Any], variables: Mapping[str, str],
              secrets: Mapping[str, str]) -> _Request:
        """Render every template of the block for one call.

        Raises:
            _Failure: a template failed, or the URL is not an http(s) URL.
        """
        from agentrun.spec import Raw, render_tool_template

        plain = {**{k: v for k, v in variables.items()}, **values, "secrets": dict(secrets)}
        in_url = {**{k: Raw(v) for k, v in variables.items()}, **values,
                  "secrets": dict(secrets)}
        try:
            url = render_tool_template(call.url, in_url, url=True).strip()
            headers = {k: render_tool_template(v, plain) for k, v in call.headers.items()}
            query = {k: v for k, raw in call.query.items()
                     if (v := _value(raw, plain)) is not None}
            body = _body(call.body, plain) if call.body is not None else (
                dict(values) if call.method in ("POST", "PUT", "PATCH") else None)
        except Exception as exc:  # a sandbox violation or an undefined name: report, go on
            raise _Failure(f"could not build the request ({type(exc).__name__}: {exc})") from exc
        if not url.lower().startswith(("http://", "https://")):
            raise _Failure(f"the request URL must start with http:// or https:// "
                           f"(got {url[:40]!r})")
        for name, value in headers.items():
            if "\n" in value or "\r" in value:
                raise _Failure(f"header {name} would contain a line break; not sent")
        secret_headers = frozenset(k for k, v in call.headers.items() if "secrets" in v)
        return cls(method=call.method, url=url, headers=headers,
                   query={k: str(v).lower() if isinstance(v, bool) else str(v)
                          for k, v in query.items()},
                   body=body, secret_headers=secret_headers,
                   shown=f"{call.method} {_shown_url(url)}")


def _value(raw: Any, names: Mapping[str, Any]) -> Any:
    """A query or body value: ``{{ name }}`` alone keeps its type (None: leave it out)."""
    if not isinstance(raw, str):
        return raw
    single = _SINGLE_NAME.match(raw)
    if single and single.group(1) in names:
        return names[single.group(1)]
    from agentrun.spec import render_tool_template

    return render_tool_template(raw, names)


def _body(value: Any, names: Mapping[str, Any]) -> Any:
    """A JSON body with its templates rendered; ``{"a": "{{ unset }}"}`` loses the key."""
    if isinstance(value, dict):
        rendered = {key: _body(item, names) for key, item in value.items()}
        return {key: item for key, item in rendered.items()
                if item is not None or not _is_single_name(value[key])}
    if isinstance(value, list):
        return [_body(item, names) for item in value]
    return _value(value, names)


def _is_single_name(value: Any) -> bool:
    return isinstance(value, str) and _SINGLE_NAME.match(value) is not None


def _shown_url(url: str) -> str:
    """``host/path`` of a URL (no scheme, no query: the query may hold secrets)."""
    rest = url.split("://", 1)[-1]
    return rest.split("?", 1)[0].split("#", 1)[0]


def _follow(client: httpx.AsyncClient, request: httpx.Request, response: httpx.Response,
            policy: str, secret_headers: frozenset[str], shown: str) -> httpx.Request:
    """The next request of a redirect, or a _Failure when the policy refuses it."""
    location = response.headers.get("location")
    if not location:
        raise _Failure(f"{shown} answered HTTP {response.status_code} without a Location")
    target = request.url.join(location)
    same = (target.scheme, target.host, target.port) == (request.url.scheme, request.url.host,
                                                           request.url.port)
    if target.scheme not in ("http", "https"):
        raise _Failure(f"{shown} redirected to a {target.scheme}: URL; not followed")
    if not same and policy == "same_host":
        raise _Failure(f"{shown} redirected to another host ({target.host}); not followed",
                       f"{shown} redirected to {target.scheme}://{target.host}{target.path}; "
                       "not followed (follow_redirects: same_host)")
    headers = dict(request.headers)
    if not same:
        lowered = {h.lower() for h in secret_headers}
        headers = {k: v for k, v in headers.items() if k.lower() not in lowered}
    headers.pop("host", None)
    method, content = request.method, request.content
    if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
        method, content = "GET", b""
        headers = {k: v for k, v in headers.items()
                   if k.lower() not in ("content-length", "content-type")}
    return client.build_request(method, target, headers=headers, content=content or None)


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY_BYTES:
            break
    return b"".join(chunks)[:MAX_BODY_BYTES]


def _select(data: Any, path: str, tool: str) -> Any:
    """The value at a dotted path (list items by number), or a _Failure naming the step."""
    current = data
    for depth, step in enumerate(path.split(".")):
        where = ".".join(path.split(".")[:depth + 1])
        if isinstance(current, dict) and step in current:
            current = current[step]
        elif isinstance(current, list) and step.lstrip("-").isdigit() and \
                -len(current) <= int(step) < len(current):
            current = current[int(step)]
        else:
            keys = ", ".join(list(current)[:10]) if isinstance(current, dict) else \
                f"a list of {len(current)}" if isinstance(current, list) else \
                type(current).__name__
            raise _Failure(f"{tool}: the response has no field {where} (found: {keys})")
    return current
