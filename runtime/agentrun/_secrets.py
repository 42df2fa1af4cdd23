"""Secrets never leave the process in anything agentrun prints, writes or shows the model.

Owns: :class:`Redactor`, the one way secrets are cut out of text, and the process-wide set of
secret values (every environment value a ``from_env`` variable reads is remembered the moment
it is read; the API key and the tools' secrets are added by whoever reads them), with
:func:`redact`, a Redactor over that set. A value is replaced by a marker naming its environment
variable, ``[hidden $CRM_TOKEN]`` (the name may be shown, the value never), or ``[hidden]`` when
no name is known. Output paths call it: ``render``, ``--dry-run``, error messages, log records
(:class:`RedactingFilter`), records; the tools cut their own secrets out of what the model gets
with a Redactor of their values. Imports nothing of agentrun (and nothing heavy), so any module
may use it. Re-exported by ``agentrun.spec``.

Matching: a value of 8 characters or more is replaced wherever it appears, in any case (also
URL-encoded in a path or a query and JSON-escaped); one of 4 to 7 only where it stands alone
(not inside a longer word or number), so ``2026`` or ``Acme`` does not garble every date and
word; a shorter one cannot be told from ordinary text and is left to exact substitution:
templates mark a value read from the environment (:class:`Secret`), and ``render`` and
``--dry-run`` print the marker in its place.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "HIDDEN",
    "RedactingFilter",
    "Redactor",
    "Secret",
    "SecretFloat",
    "SecretInt",
    "forget_all",
    "marker",
    "redact",
    "redact_data",
    "remember",
    "secret",
    "secret_values",
]

HIDDEN = "[hidden]"
"""What replaces a secret whose environment variable is not known."""

_LONG = 8  # characters: from this length a value is replaced anywhere it appears
_SHORT = 4  # characters: shorter values are not searched for in free text


class Secret(str):
    """Text read from the environment: a ``str`` that remembers its variable's name, so a
    template printing it can show ``[hidden $NAME]`` instead (see ``spec._template``).

    Attributes:
        env_name: the environment variable it came from.
    """

    env_name: str

    def __new__(cls, value: str, env_name: str) -> Secret:
        made = super().__new__(cls, value)
        made.env_name = env_name
        return made


class SecretInt(int):
    """A whole number read from the environment (a ``type: integer`` variable): prints as
    ``[hidden $NAME]`` in ``render`` and ``--dry-run`` like :class:`Secret`, because a short
    number (a PIN) cannot be found in free text by :func:`redact`.

    Attributes:
        env_name: the environment variable it came from.
    """

    env_name: str

    def __new__(cls, value: int, env_name: str) -> SecretInt:
        made = super().__new__(cls, value)
        made.env_name = env_name
        return made


class SecretFloat(float):
    """A number read from the environment (a ``type: number`` variable); see :class:`SecretInt`.

    Attributes:
        env_name: the environment variable it came from.
    """

    env_name: str

    def __new__(cls, value: float, env_name: str) -> SecretFloat:
        made = super().__new__(cls, value)
        made.env_name = env_name
        return made


def secret(value: Any, env_name: str) -> Any:
    """``value`` (converted from environment variable ``env_name``) marked as a secret, so a
    template printing it for people shows ``[hidden $NAME]``: text, whole numbers and numbers
    are marked; a boolean cannot be (``bool`` has no subclasses) and is returned as is."""
    if isinstance(value, str):
        return Secret(value, env_name)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return SecretInt(value, env_name)
    if isinstance(value, float):
        return SecretFloat(value, env_name)
    return value


def marker(name: str | None) -> str:
    """What is printed instead of the value of environment variable ``name``.

    Args:
        name: the variable's name; None or empty when it is not known.

    Returns:
        ``[hidden $NAME]``, or ``[hidden]`` without a name.
    """
    return f"[hidden ${name}]" if name else HIDDEN


_lock = threading.Lock()
_secrets: dict[str, str] = {}  # value → environment variable name
_version = 0  # bumped on every change of _secrets: Redactors over it recompile


_Compiled = tuple[re.Pattern[str] | None, dict[str, str]]


def _compile(secrets: Mapping[str, str | None]) -> _Compiled:
    """The pattern matching every form of every value, and each matched form's marker
    (long forms keyed in lower case: they match in any case)."""
    forms: dict[str, str] = {}
    alone: dict[str, str] = {}
    for value, name in secrets.items():
        if not isinstance(value, str) or len(value.strip()) < _SHORT:
            continue
        if len(value) >= _LONG:
            for form in (value, quote(value, safe=""), quote(value), quote_plus(value, safe=""),
                         json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1]):
                forms.setdefault(form.lower(), marker(name))
        else:
            alone.setdefault(value, marker(name))
    # long values also in another case: `{{ token | upper }}` must not leak it either;
    # longest first, so a value inside a longer one leaves no partial leftovers
    parts = [f"(?i:{re.escape(f)})" for f in sorted(forms, key=len, reverse=True)]
    parts += [rf"(?<![\w.]){re.escape(v)}(?![\w])" for v in sorted(alone, key=len, reverse=True)]
    if not parts:
        return None, {}
    return re.compile("|".join(parts)), {**forms, **alone}


class Redactor:
    """Cuts secret values out of text: ``redactor(text)`` is the text with each replaced.

    What is matched: a value of 8 characters or more wherever it appears, in any case, also
    URL-encoded (as in a path, ``/`` kept or not, and as in a query string, ``+`` for a space)
    and JSON-escaped (``\\"``, ``\\u00e9``); a value of 4 to 7 characters only where it stands
    alone (not inside a longer word or number, nor after a ``.``); shorter or blank values are
    ignored (they cannot be told from ordinary words). The value becomes ``[hidden $NAME]``
    when its environment variable is known, else ``[hidden]``. Safe to share between threads.

    Args:
        secrets: ``{value: environment variable name}`` (a None or empty name gives
            ``[hidden]``), or plain values (each shown as ``[hidden]``).
        remembered: also cut every secret the process remembered (:func:`remember`), as it is
            at each call: values remembered later are cut too.
    """

    def __init__(self, secrets: Mapping[str, str | None] | Iterable[str] = (), *,
                 remembered: bool = False) -> None:
        own = dict(secrets) if isinstance(secrets, Mapping) else dict.fromkeys(secrets)
        self._own: dict[str, str | None] = {v: n for v, n in own.items()
                                            if isinstance(v, str) and v.strip()}
        self._remembered = remembered
        # (store version compiled against, compiled): one attribute, so a thread reading it
        # while another recompiles sees an old pair or a new one, never half of each
        self._compiled: tuple[int, _Compiled] = (-1, _compile(self._own))

    def _current(self) -> _Compiled:
        version, compiled = self._compiled
        if not self._remembered or version == _version:
            return compiled
        with _lock:
            version, store = _version, dict(_secrets)
        # the process's names win: a remembered value is shown with its variable's name
        compiled = _compile({**self._own, **store})
        self._compiled = (version, compiled)
        return compiled

    def __call__(self, text: str) -> str:
        """``text`` with every secret replaced by its marker.

        Args:
            text: anything about to be printed, logged, written or given to the model.

        Returns:
            The text, unchanged when it holds no secret.
        """
        pattern, replacement = self._current()
        if pattern is None or not text:
            return text
        return pattern.sub(lambda m: replacement.get(m.group(0))
                           or replacement.get(m.group(0).lower(), HIDDEN), text)

    def __bool__(self) -> bool:
        """True when there is something to cut (always, for one over the remembered set)."""
        return self._remembered or self._compiled[1][0] is not None


def remember(value: str | None, name: str) -> None:
    """Treat ``value`` (read from environment variable ``name``) as a secret from now on.

    Args:
        value: the value; None or blank is ignored.
        name: the environment variable it came from (named by the marker).
    """
    global _version
    if value is None or not value.strip():
        return
    with _lock:
        if _secrets.get(value) == name:
            return
        _secrets[value] = name
        _version += 1


def forget_all() -> None:
    """Forget every remembered secret (for tests: one process runs many agents' checks)."""
    global _version
    with _lock:
        _secrets.clear()
        _version += 1


def secret_values() -> dict[str, str]:
    """Every secret remembered so far: value → the environment variable it came from."""
    with _lock:
        return dict(_secrets)


_process = Redactor(remembered=True)


def redact(text: str) -> str:
    """``text`` with every remembered secret replaced by ``[hidden $NAME]``.

    The process-wide :class:`Redactor` (same matching rules), compiled again only when a
    secret was remembered since the last call.

    Args:
        text: anything about to be printed, logged or written.

    Returns:
        The text, unchanged when it holds no secret.
    """
    return _process(text)


def redact_data(value: Any) -> Any:
    """:func:`redact` every string inside JSON-like data (dicts, lists; keys too).

    Redacting before serialising keeps the document valid (a secret is never half of an
    escaped sequence) and leaves numbers and booleans alone.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(item) for item in value]
    return value


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message (and its traceback text).

    Attach it to a handler: ``handler.addFilter(RedactingFilter())``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
