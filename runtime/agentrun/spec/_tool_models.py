"""Tools written in YAML: the ``http:`` and ``mcp:`` blocks of a ``tools:`` entry.

Owns: the schema of an HTTP call (URL, headers, query and body templates over the declared
arguments, the agent's variables and ``secrets``; what part of the response the model gets) and
of an MCP server (stdio command or Streamable HTTP URL; which tools, under which names; who
calls it). Secrets are only ever *names* of environment variables here: their values are read
when the agent runs (``agentrun.tools``), never written in the file, never shown.
Each block's checks collect every problem (``Problems``) rather than stop at the first; the
names its templates read are checked against the whole file by :func:`http_name_problems`.
Imports ``spec._fields`` and ``spec._tool_templates``; no ``from __future__ import
annotations`` (see ``spec._models``).
"""

import re
from typing import Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from agentrun.spec._duration import duration
from agentrun.spec._fields import Problems, did_you_mean, shown
from agentrun.spec._tool_templates import template_names, template_problem

__all__ = ["HttpCall", "HttpResponse", "McpServer", "NameProblem", "ToolArgument",
           "http_name_problems", "request_templates"]

_PLAIN = ConfigDict(extra="forbid")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token
_MCP_TOOL_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,128}$")
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HTTP_URL = re.compile(r"^https?://[^\s/]+")
_ENV_HINT = "name an environment variable (letters, digits and '_'); values are never written " \
            "in the file"

DEFAULT_MAX_CHARS = 4000
"""Characters of an HTTP response the model gets unless ``max_chars`` says otherwise."""

Scalar = str | int | float | bool
NodePath = tuple[str | int, ...]
"""Where a node sits inside an ``http:`` block: ``("headers", "Authorization")``."""


def _empty_dict() -> dict[str, Any]:
    return {}


def _empty_list() -> list[Any]:
    return []


def _env_names(value: dict[str, str], at: str, problems: Problems) -> None:
    """``{KEY: ENV_VARIABLE}`` mappings: every value must name an environment variable."""
    for key, name in value.items():
        if not _ENV_NAME.match(name):
            problems.add(f"'{name}' is not an environment variable name", _ENV_HINT,
                         at=[at, key])


def _secret_names(secrets: dict[str, str], problems: Problems) -> None:
    """``secrets: {NAME: ENV_VARIABLE}``: every bad name and variable."""
    for key in secrets:
        if not _IDENTIFIER.match(key):
            problems.add(f"'{key}' cannot be a secret name", "use letters, digits and '_'",
                         at=["secrets", key, "#key"])
    _env_names(secrets, "secrets", problems)


class ToolArgument(BaseModel):
    """One argument the model fills in. ``day: string`` is shorthand for ``day: {type: string}``."""

    model_config = _PLAIN
    type: Literal["string", "integer", "number", "boolean"] = Field(
        default="string", description="What kind of value the model must give.",
        examples=["integer"])
    description: str = Field(default="", description="What the value means (the model reads "
                             "this to fill it in).", examples=["The day, as YYYY-MM-DD"])
    required: bool | None = Field(
        default=None, description="Whether the model must give it. Default: true, unless the "
        "argument has a default.", examples=[False])
    enum: list[Scalar] | None = Field(default=None, min_length=1, description="The only values "
                                      "allowed.", examples=[["cleaning", "check-up"]])
    default: Scalar | None = Field(default=None, description="The value used when the model "
                                   "leaves the argument out.", examples=[3])

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        ref = handler(core_schema)
        return {"anyOf": [ref, {"enum": ["string", "integer", "number", "boolean"]}]}

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @property
    def is_required(self) -> bool:
        """True when the model must give the argument."""
        return self.default is None if self.required is None else self.required

    @model_validator(mode="after")
    def _consistent(self) -> "ToolArgument":
        problems = Problems()
        kinds = {"string": (str,), "integer": (int,), "number": (int, float),
                 "boolean": (bool,)}[self.type]
        for option in ("default", "enum"):
            values = getattr(self, option)
            values = values if isinstance(values, list) else [] if values is None else [values]
            for value in values:
                wrong_bool = isinstance(value, bool) and self.type != "boolean"
                if wrong_bool or not isinstance(value, kinds):
                    problems.add(f"{option} must fit type {self.type}, got {shown(value)}",
                                 at=[option])
        if self.required and self.default is not None:
            problems.add("a required argument cannot have a default",
                         "remove 'default:' or 'required: true'", at=["required"])
        problems.raise_any()
        return self


class HttpResponse(BaseModel):
    """What the model gets from the HTTP response: the whole JSON, one field, or a template."""

    model_config = _PLAIN
    format: Literal["json", "text"] = Field(
        default="json", description="json: the body must be JSON (anything else is an error the "
        "model sees); text: the body is passed on as text.", examples=["text"])
    field: str | None = Field(
        default=None, description="Only this field of the JSON body, as a dotted path (list "
        "items by number: `slots.0.start`).", examples=["data.slots"])
    template: str | None = Field(
        default=None, description="A short Jinja2 template over `response` (the JSON body), the "
        "arguments and the agent's variables; its text is what the model gets.",
        examples=["{{ response.slots | join(', ') }}"])
    max_chars: int = Field(default=DEFAULT_MAX_CHARS, ge=1, le=100_000, description="The output "
                           "is cut to this many characters (a note says so).", examples=[2000])

    @model_validator(mode="after")
    def _consistent(self) -> "HttpResponse":
        problems = Problems()
        if self.field is not None and self.template is not None:
            problems.add("give either field or template, not both", at=["template"])
        if self.format == "text" and self.field is not None:
            problems.add("field needs format: json", at=["field"])
        if self.field is not None and not re.fullmatch(r"[^.\s]+(\.[^.\s]+)*", self.field):
            problems.add(f"field must be a dotted path such as data.slots, got "
                         f"{shown(self.field)}", at=["field"])
        if self.template is not None:
            problem = template_problem(self.template)
            if problem:
                problems.add(f"response template: {problem[0]}", problem[1], at=["template"])
        problems.raise_any()
        return self


class HttpCall(BaseModel):
    """An HTTP request agentrun sends when the model calls the tool (no Python needed)."""

    model_config = _PLAIN
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(
        default="GET", description="The HTTP method.", examples=["POST"])
    url: str = Field(description="A template over the arguments, the agent's variables and "
                     "`secrets`. Argument and secret values are URL-encoded; variables are "
                     "inserted as written (so one can hold a base URL). http or https only.",
                     examples=["{{ booking_api }}/slots/{{ day }}"])
    headers: dict[str, str] = Field(
        default_factory=_empty_dict, description="Request headers (templates). Secrets go here "
        "as `{{ secrets.NAME }}`; the model never sees them.",
        examples=[{"Authorization": "Bearer {{ secrets.token }}"}])
    query: dict[str, Scalar] = Field(
        default_factory=_empty_dict, description="Query parameters (templates), encoded for you. "
        "A parameter that is just an optional argument the model left out is not sent.",
        examples=[{"day": "{{ day }}", "limit": 5}])
    body: Any = Field(
        default=None, description="A JSON body: any YAML value whose strings are templates; a "
        "string that is just `{{ name }}` keeps the value's type. Default for POST, PUT and "
        "PATCH: the arguments as a JSON object.",
        examples=[{"slot": "{{ slot_id }}", "patient": "{{ name }}"}])
    arguments: dict[str, ToolArgument] = Field(
        default_factory=_empty_dict, description="What the model fills in, by name (this becomes "
        "the tool's JSON Schema).", examples=[{"day": {"type": "string", "description":
                                                       "YYYY-MM-DD"}}])
    secrets: dict[str, str] = Field(
        default_factory=_empty_dict, description="Secret values for the templates, each read "
        "from the named environment variable when the agent runs: `{NAME: ENV_VARIABLE}`. Never "
        "printed, and cut out of anything the model gets.",
        examples=[{"token": "BOOKING_API_TOKEN"}])
    response: HttpResponse = Field(default_factory=HttpResponse, description="What the model "
                                   "gets from the response.", examples=[{"field": "slots"}])
    follow_redirects: Literal["same_host", "never", "any"] = Field(
        default="same_host", description="Redirects followed: same_host (the default) follows "
        "only those to the same scheme, host and port; any drops the headers holding secrets "
        "when the host changes.", examples=["never"])

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def templates(self) -> list[tuple[NodePath, str]]:
        """Every request template with its path inside the block (``("headers", "X")``)."""
        return request_templates(self.url, self.headers, self.query, self.body)

    @model_validator(mode="after")
    def _consistent(self) -> "HttpCall":
        # Names that are neither arguments nor variables are found by http_name_problems: only
        # the whole file knows its variables.
        problems = Problems()
        _secret_names(self.secrets, problems)
        for key in self.arguments:
            if not _IDENTIFIER.match(key):
                problems.add(f"'{key}' cannot be an argument name",
                             "use letters, digits and '_', starting with a letter",
                             at=["arguments", key, "#key"])
            elif key == "secrets":
                problems.add("'secrets' cannot be an argument name", "it names the secrets in "
                             "templates", at=["arguments", key, "#key"])
        for key in self.headers:
            if not _HEADER_NAME.match(key):
                problems.add(f"'{key}' is not a header name", at=["headers", key, "#key"])
        for path, source in self.templates():
            problem = template_problem(source, secrets=set(self.secrets))
            if problem:
                problems.add(f"{path[0]} template: {problem[0]}", problem[1], at=list(path))
        if self.body is not None and self.method in ("GET", "DELETE"):
            problems.add(f"a {self.method} request has no body", "send the values in query:",
                         at=["body"])
        problems.raise_any()
        return self


def request_templates(url: Any, headers: Any, query: Any, body: Any) -> list[tuple[NodePath, str]]:
    """Every request template of an ``http:`` block, with its path inside the block.

    Takes the fields as validated or as written (a value of the wrong type holds no template).

    Args:
        url: the URL template.
        headers: header name → template.
        query: parameter name → template or plain value.
        body: any YAML value whose strings are templates.

    Returns:
        ``[(("url",), "{{ base }}/slots"), (("headers", "X-Key"), "…"), …]`` in file order.
    """
    found: list[tuple[NodePath, str]] = [(("url",), url)] if isinstance(url, str) else []
    for field, values in (("headers", headers), ("query", query)):
        if isinstance(values, dict):
            found += [((field, str(k)), v) for k, v in values.items() if isinstance(v, str)]
    found += list(_strings(body, ("body",)))
    return found


class NameProblem(NamedTuple):
    """A name an ``http:`` block cannot use, at ``path`` inside the block (on its key when
    ``key``)."""

    message: str
    hint: str | None
    path: NodePath
    key: bool = False


def http_name_problems(block: Any, variables: set[str]) -> list[NameProblem]:
    """The names an ``http:`` block's templates read that are neither its arguments nor the
    agent's variables, and arguments named like a variable.

    Works on the block as written, so these are found together with the block's other
    problems (pydantic would check the whole file's names only once every tool is valid).
    Templates that do not parse are skipped: :class:`HttpCall` reports them.

    Args:
        block: the ``http:`` value as written in the file.
        variables: the names declared under the file's ``variables:``.

    Returns:
        Every problem, in the block's order.
    """
    if not isinstance(block, dict):
        return []
    written = block.get("arguments")
    arguments = {str(name) for name in written} if isinstance(written, dict) else set()
    found = [NameProblem(f"argument '{name}' has the name of a variable", "rename one of them",
                         ("arguments", name), key=True)
             for name in sorted(arguments & variables)]
    known = arguments | variables
    response = block.get("response")
    checks = [(path, source, known) for path, source in request_templates(
        block.get("url"), block.get("headers"), block.get("query"), block.get("body"))]
    if isinstance(response, dict) and isinstance(response.get("template"), str):
        checks.append((("response", "template"), response["template"], known | {"response"}))
    from jinja2 import TemplateSyntaxError

    for path, source, allowed in checks:
        try:
            used = template_names(source)
        except (TemplateSyntaxError, RecursionError):
            continue  # HttpCall reports it at this template
        for name in sorted(used - allowed - {"secrets"}):  # secrets.NAME: HttpCall checks it
            close = did_you_mean(name, sorted(allowed), listing=False)
            found.append(NameProblem(
                f"{path[0]} template uses '{name}', which is neither an argument nor a variable",
                (close + " " if close else "") + "declare it under arguments: (the model fills "
                "it in) or variables:", path))
    return found


def _strings(value: Any, path: NodePath) -> Any:
    """Every string inside a YAML value, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


class McpServer(BaseModel):
    """A Model Context Protocol server whose tools the model may call.

    agentrun starts a stdio server (``command:``) or reaches a Streamable HTTP one (``url:``)
    when the call starts, lists its tools, and stops what it started when the call ends.
    """

    model_config = _PLAIN
    command: str | None = Field(
        default=None, description="Start the server with this program (stdio). `python` means "
        "the Python running agentrun.", examples=["npx"])
    args: list[str] = Field(default_factory=_empty_list, description="Its arguments.",
                            examples=[["servers/calendar.py"]])
    env: dict[str, str] = Field(
        default_factory=_empty_dict, description="Environment variables for the server, each "
        "taken from a named environment variable of agentrun's: `{SERVER_NAME: OUR_NAME}`. "
        "Besides these the server sees only HOME, LOGNAME, PATH, SHELL, TERM and USER.",
        examples=[{"CALENDAR_TOKEN": "ACME_CALENDAR_TOKEN"}])
    cwd: str | None = Field(default=None, description="The server's working directory, relative "
                            "to the agent file (default: the agent file's directory).",
                            examples=["servers"])
    url: str | None = Field(default=None, description="Reach the server at this Streamable HTTP "
                            "URL instead.", examples=["https://mcp.example.com/mcp"])
    headers: dict[str, str] = Field(
        default_factory=_empty_dict, description="HTTP headers for a url server (templates over "
        "`secrets`).", examples=[{"Authorization": "Bearer {{ secrets.token }}"}])
    secrets: dict[str, str] = Field(
        default_factory=_empty_dict, description="Secret values for the headers, each read from "
        "the named environment variable: `{NAME: ENV_VARIABLE}`. Never printed.",
        examples=[{"token": "DOCS_MCP_TOKEN"}])
    allowed_tools: list[str] | None = Field(
        default=None, description="Only these of the server's tools (by the server's names). "
        "Default: all of them.", examples=[["free_slots", "book_slot"]])
    prefix: str = Field(default="", description="Put before each tool's name, as the model sees "
                        "it.", examples=["calendar_"])
    rename: dict[str, str] = Field(
        default_factory=_empty_dict, description="Names the model sees for some tools: "
        "`{server_name: model_name}` (instead of the prefix).",
        examples=[{"free_slots": "find_free_slots"}])
    called_by: Literal["agentrun", "grok"] = Field(
        default="agentrun", description="agentrun (the default) calls the server from this "
        "machine; grok hands a public url server to Grok, whose servers call it (a server-side "
        "`mcp` tool: private addresses are unreachable from there).", examples=["grok"])
    startup_timeout: duration("s", gt=0, le=300) = Field(
        default=10.0, description="How long the server may take to start and list "
        "its tools, in seconds ('10s'); then the call goes on without it.", examples=["20s"])

    @property
    def transport(self) -> str:
        """``stdio`` or ``http``."""
        return "stdio" if self.command is not None else "http"

    @model_validator(mode="after")
    def _consistent(self) -> "McpServer":
        problems = Problems()
        self._name_problems(problems)
        if (self.command is None) == (self.url is None):
            both = self.command is not None
            problems.add(
                "give either command (a stdio server agentrun starts) or url (a Streamable HTTP "
                "server), not both" if both else "an MCP server needs command (a stdio server "
                "agentrun starts) or url (a Streamable HTTP server)",
                "e.g. {command: python, args: [server.py]} or {url: https://mcp.example.com/mcp}",
                at=["url"] if both else [])
        else:  # which keys fit depends on which kind of server this is
            stdio_only = {"args": self.args, "env": self.env, "cwd": self.cwd}
            http_only = {"headers": self.headers, "secrets": self.secrets}
            wrong = http_only if self.command is not None else stdio_only
            for key, value in wrong.items():
                if value:
                    kind = "url" if key in http_only else "command"
                    problems.add(f"'{key}' only applies to a {kind} server", at=[key])
        for key, source in self.headers.items():
            problem = template_problem(source, secrets=set(self.secrets), names=set())
            if problem:
                problems.add(f"headers template: {problem[0]}", problem[1], at=["headers", key])
        if self.called_by == "grok":
            self._grok_problems(problems)
        problems.raise_any()
        return self

    def _name_problems(self, problems: Problems) -> None:
        """Names and the URL, each checked on its own."""
        for key in self.env:
            if not _ENV_NAME.match(key):
                problems.add(f"'{key}' is not an environment variable name",
                             at=["env", key, "#key"])
        _env_names(self.env, "env", problems)
        _secret_names(self.secrets, problems)
        for index, name in enumerate(self.allowed_tools or ()):
            if not _MCP_TOOL_NAME.match(name):
                problems.add(f"'{name}' cannot be an MCP tool name", at=["allowed_tools", index])
        for key, name in self.rename.items():
            if not _FUNCTION_NAME.match(name):
                problems.add(f"'{name}' cannot be a tool name the model sees",
                             "use up to 64 letters, digits, '_' or '-'", at=["rename", key])
        if self.prefix and not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", self.prefix):
            problems.add(f"prefix {shown(self.prefix)} can hold only letters, digits, '_' or '-'",
                         at=["prefix"])
        if self.url is not None and not _HTTP_URL.match(self.url):
            problems.add(f"url must start with http:// or https://, got {shown(self.url)}",
                         at=["url"])

    def _grok_problems(self, problems: Problems) -> None:
        """What stops Grok's servers from calling this server (``called_by: grok``)."""
        if self.url is None:
            problems.add("called_by: grok needs a url server: Grok cannot start a program",
                         at=["called_by"])
        for key in ("prefix", "rename"):
            if getattr(self, key):
                problems.add(f"'{key}' does not apply when Grok calls the server",
                             "Grok names the tools itself", at=[key])
        if self.url is None or not _HTTP_URL.match(self.url):
            return
        host = re.sub(r"^https?://([^/:]+|\[[^\]]+\]).*$", r"\1", self.url)
        if _is_private(host):
            problems.add(f"Grok's servers cannot reach {host}",
                         "remove called_by: grok to call it from this machine", at=["url"])


def _is_private(host: str) -> bool:
    import ipaddress

    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return not address.is_global
