"""The one error hierarchy of agentrun.

Every error agentrun raises on purpose derives from :class:`AgentrunError`, so the CLI turns
them into a message and an exit code in exactly one place (``agentrun.cli``). This module
imports nothing of ours.

* AgentrunError                 exit 1, base
  * SpecError                   exit 2, one problem in an agent file (file:line:col + hint)
    * SpecErrors                exit 2, every problem found in one file, reported at once
  * ToolError                   a tool could not be found, loaded or run
    * ToolNotFound              exit 2, no installed plugin provides the name
    * ToolLoadError             exit 2, a plugin failed to import or names nothing callable
    * ToolArgumentsError        the model's arguments did not validate
    * ToolTimeout               the call ran past its timeout
    * ToolFailed                the tool raised
  * ProtocolError               the realtime conversation broke a rule
    * LocalProtocolError        agentrun (or a tool) attempted something illegal
    * RemoteProtocolError       the server sent something unusable
  * TransportError              the connection failed; ``retryable`` says whether to reconnect
  * ServiceError                exit 3, the service refused us for good (auth, quota)
  * InputError                  exit 2, bad input outside an agent file (message + hint)
    * AudioError                audio agentrun cannot use
      * AudioFileError          a sound file (a WAV caller) is missing, unreadable or not audio
      * DeviceError             a microphone or speaker is missing, busy or unusable
    * RecordError               a call record folder cannot be written or read
    * ListenError               a server cannot listen on the host/port it was given
"""

from __future__ import annotations

__all__ = [
    "AgentrunError",
    "AudioError",
    "AudioFileError",
    "DeviceError",
    "InputError",
    "ListenError",
    "LocalProtocolError",
    "ProtocolError",
    "RecordError",
    "RemoteProtocolError",
    "ServiceError",
    "SpecError",
    "SpecErrors",
    "ToolArgumentsError",
    "ToolError",
    "ToolFailed",
    "ToolLoadError",
    "ToolNotFound",
    "ToolTimeout",
    "TransportError",
]


class AgentrunError(Exception):
    """Base of every error agentrun raises on purpose.

    Attributes:
        exit_code: the process exit code the CLI uses when this error ends a command.
    """

    exit_code: int = 1


class SpecError(AgentrunError):
    """One problem in an agent file, located for its author.

    Args:
        message: what is wrong, in plain language.
        path: the file (as the user named it).
        line: 1-based line, or None when the problem has no place (e.g. a missing file).
        column: 1-based column, or None.
        hint: what to try (``did you mean 'Ara'?``), or None.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.hint = hint

    @property
    def location(self) -> str:
        """``FILE:LINE:COL`` (or as much of it as is known)."""
        parts = [self.path or "<agent>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


_LONG_LISTING = 50  # characters: an "allowed:" list longer than this is shown once per file


class SpecErrors(SpecError):
    """Every problem found in one agent file; ``str()`` gives one line per problem."""

    def __init__(self, errors: list[SpecError]) -> None:
        if not errors:
            raise ValueError("SpecErrors needs at least one error")
        ordered = sorted(errors, key=lambda e: (e.path or "", e.line or 0, e.column or 0))
        first = ordered[0]
        super().__init__(first.message, path=first.path, line=first.line, column=first.column,
                         hint=first.hint)
        self.errors = ordered

    def condensed(self) -> list[SpecError]:
        """The errors as printed: a long ``allowed: …`` list in a hint is shown at its first
        line in each file; later hints repeating it point there (``allowed: see line 3``).

        Returns:
            New errors (``errors`` is left as it is, every hint complete).
        """
        shown: dict[tuple[str | None, str], int | None] = {}
        result: list[SpecError] = []
        for error in self.errors:
            hint = error.hint
            head, found, listing = (hint or "").partition("allowed: ")
            if found and len(listing) > _LONG_LISTING:
                key = (error.path, listing)
                if key in shown:
                    where = shown[key]
                    hint = head + ("allowed: see line " + str(where) if where else
                                   "allowed: as listed above")
                else:
                    shown[key] = error.line
            result.append(SpecError(error.message, path=error.path, line=error.line,
                                    column=error.column, hint=hint))
        return result

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.condensed())


class ToolError(AgentrunError):
    """A tool could not be found, loaded or run.

    The engine turns these into a ``function_call_output`` for the model, never a crash;
    ``model_message`` is the text the model sees (no traceback, no secrets).
    """

    def __init__(self, message: str, *, tool: str | None = None) -> None:
        super().__init__(message)
        self.tool = tool

    @property
    def model_message(self) -> str:
        """What the model is told (the function output): the message, without internals."""
        return str(self)


class ToolNotFound(ToolError):
    """No installed plugin (and no built-in) provides this tool name."""

    exit_code = 2  # a name the person typed (``agentrun tools show NAME``): bad input


class ToolLoadError(ToolError):
    """A plugin failed to import, or its entry point names nothing callable."""

    exit_code = 2  # the installation needs fixing before anything can run


class ToolArgumentsError(ToolError):
    """The model's arguments are not valid JSON or do not match the tool's schema."""


class ToolTimeout(ToolError):
    """The tool ran past its timeout."""


class ToolFailed(ToolError):
    """The tool raised an exception."""


class ProtocolError(AgentrunError):
    """The realtime conversation broke a protocol rule."""


class LocalProtocolError(ProtocolError):
    """agentrun (or a tool) attempted something the protocol does not allow in this state."""


class RemoteProtocolError(ProtocolError):
    """The server sent something agentrun cannot use (malformed JSON, a bad event)."""


class TransportError(AgentrunError):
    """The connection to the realtime service failed.

    Attributes:
        retryable: True when reconnecting may help (abnormal close 1006, 1011-1014, resets).
        code: the WebSocket close code, when there was one.
    """

    def __init__(self, message: str, *, retryable: bool = False, code: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class ServiceError(AgentrunError):
    """The service refused the session for good (bad API key, quota); reconnecting won't help."""

    exit_code = 3


class InputError(AgentrunError):
    """Bad input outside an agent file — a sound file, a device, a record folder, an address
    to listen on: one line, with a hint, and exit 2.

    Args:
        message: what is wrong, naming the file, device, folder or address.
        hint: what to try, or None.
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class AudioError(InputError):
    """Audio that agentrun cannot use: a sound file, a microphone or a speaker.

    Args:
        message: what is wrong, naming the file or device.
        hint: what to try, or None.
    """


class AudioFileError(AudioError):
    """A sound file is missing, unreadable, or not audio that libsndfile can read.

    Args:
        path: the file, as the user named it.
        message: what is wrong with it.
        hint: what to try, or None.
    """

    def __init__(self, path: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}", hint=hint)
        self.path = path


class DeviceError(AudioError):
    """A microphone or speaker does not exist, is busy, or cannot be used (no audio extra,
    no PortAudio). Raised before a call starts; a device lost mid-call is reported instead."""


class RecordError(InputError):
    """A call record cannot be written (checked before the call starts) or read
    (``agentrun report``). A disk that fills mid-call is reported, never raised.

    Args:
        message: what is wrong, naming the folder or file.
        hint: what to try, or None.
    """


class ListenError(InputError):
    """A server (``agentrun serve``, ``agentrun sim``) cannot listen where it was told to.

    A busy port or an address this machine does not have is the user's choice to change, like
    a busy microphone, hence exit 2.

    Args:
        message: ``cannot listen on HOST:PORT: <the system's reason>``.
        hint: what to try (another ``--port``, which process holds it), or None.
    """
