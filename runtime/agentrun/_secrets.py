"""Secrets never leave the process in anything agentrun prints or writes.

Owns: the process-wide set of secret values (every environment value a ``from_env`` variable
reads is remembered the moment it is read; the API key is added by whoever reads it) and
:func:`redact`, which replaces each of them in a text with a marker naming its environment
variable: ``[hidden $CRM_TOKEN]``. Output paths call it: ``render``, ``--dry-run``, error
messages, log records (:class:`RedactingFilter`), records. Imports nothing of agentrun (and
nothing heavy), so any module may use it. Re-exported by ``agentrun.spec``.

Matching: a value of 8 characters or more is replaced wherever it appears, in any case (also
URL-encoded and JSON-escaped); one of 4 to 7 only where it stands alone (not inside a longer word or
number), so ``2026`` or ``Acme`` does not garble every date and word; a shorter one cannot be
told from ordinary text and is left to exact substitution: templates mark a value read from the
environment (:class:`Secret`), and ``render`` and ``--dry-run`` print the marker in its place.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any
from urllib.parse import quote

__all__ = [
    "RedactingFilter",
    "Secret",
    "forget_all",
    "marker",
    "redact",
    "redact_data",
    "remember",
    "secret_values",
]

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

_lock = threading.Lock()
_secrets: dict[str, str] = {}  # value → environment variable name
_pattern: re.Pattern[str] | None = None
_replacement: dict[str, str] = {}  # every matched form → its marker


def marker(name: str) -> str:
    """What is printed instead of the value of environment variable ``name``."""
    return f"[hidden ${name}]"


def remember(value: str | None, name: str) -> None:
    """Treat ``value`` (read from environment variable ``name``) as a secret from now on.

    Args:
        value: the value; None or blank is ignored.
        name: the environment variable it came from (named by the marker).
    """
    global _pattern
    if value is None or not value.strip():
        return
    with _lock:
        if _secrets.get(value) == name:
            return
        _secrets[value] = name
        _pattern = None


def forget_all() -> None:
    """Forget every remembered secret (for tests: one process runs many agents' checks)."""
    global _pattern
    with _lock:
        _secrets.clear()
        _pattern = None


def secret_values() -> dict[str, str]:
    """Every secret remembered so far: value → the environment variable it came from."""
    with _lock:
        return dict(_secrets)


def _compiled() -> tuple[re.Pattern[str] | None, dict[str, str]]:
    global _pattern, _replacement
    with _lock:
        if _pattern is not None or not _secrets:
            return _pattern, _replacement
        forms: dict[str, str] = {}
        alone: dict[str, str] = {}
        for value, name in _secrets.items():
            if len(value) < _SHORT:
                continue
            if len(value) >= _LONG:
                for form in (value, quote(value, safe=""), quote(value),
                             json.dumps(value, ensure_ascii=False)[1:-1],
                             json.dumps(value)[1:-1]):
                    forms.setdefault(form, marker(name))
            else:
                alone.setdefault(value, marker(name))
        # long values also in another case: `{{ token | upper }}` must not leak it either
        parts = [f"(?i:{re.escape(f)})" for f in sorted(forms, key=len, reverse=True)]
        parts += [rf"(?<![\w.]){re.escape(v)}(?![\w])"
                  for v in sorted(alone, key=len, reverse=True)]
        if not parts:
            return None, {}
        _pattern = re.compile("|".join(parts))
        _replacement = {**alone, **{form.lower(): name for form, name in forms.items()}}
        return _pattern, _replacement


def redact(text: str) -> str:
    """``text`` with every remembered secret replaced by ``[hidden $NAME]``.

    Args:
        text: anything about to be printed, logged or written.

    Returns:
        The text, unchanged when it holds no secret.
    """
    pattern, replacement = _compiled()
    if pattern is None or not text:
        return text
    return pattern.sub(lambda m: replacement.get(m.group(0))
                       or replacement.get(m.group(0).lower(), "[hidden]"), text)


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
