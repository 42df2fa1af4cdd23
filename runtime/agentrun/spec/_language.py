"""Language tags (``es``, ``es-MX``, ``de-CH``): checked against Babel's locale data.

Owns: :func:`check_language` for ``language:`` and ``audio.input.transcription.language_hint``,
with a did-you-mean for a language written as a name (``Spanish``, ``español``). Babel is
imported only when a tag is checked, so an agent without ``language:`` never loads it.
"""

from __future__ import annotations

import functools
import re

from agentrun.spec._fields import fail, shown

__all__ = ["check_language", "language_code"]

_TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
# Languages whose own name authors often write instead of the tag (English names come from
# Babel's data for every language).
_COMMON = ("ar", "bg", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "he",
           "hi", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "nb", "nl", "no", "pl", "pt",
           "ro", "ru", "sk", "sl", "sr", "sv", "th", "tr", "uk", "vi", "zh")


@functools.lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Lower-case language names (English and native) → tag."""
    from babel import Locale

    english = Locale("en")
    found = {name.lower(): code for code, name in english.languages.items() if "_" not in code}
    for code in _COMMON:
        native = Locale.parse(code).get_display_name(code)
        if native:
            found.setdefault(native.lower(), code)
    return found


def language_code(word: str) -> str | None:
    """The tag of a language written by name (``Spanish`` → ``es``), or None."""
    return _names().get(word.strip().lower())


def _hint(value: str, key: str) -> str:
    code = language_code(value)
    if code:
        return f"did you mean '{code}'? write {key}: {code}"
    return "use a language tag such as en, es, es-MX or de-CH"


def check_language(value: str | None, key: str = "language") -> str | None:
    """Accept a language tag Babel knows (``es``, ``es-MX``, ``pt_BR``).

    Args:
        value: the tag as written (None passes).
        key: the YAML key, for the message.

    Returns:
        The tag unchanged.

    Raises:
        PydanticCustomError: (through ``fail``) not a tag, or a tag no locale data exists for.
    """
    if value is None:
        return None
    from babel import Locale, UnknownLocaleError

    if not isinstance(value, str) or not _TAG.match(value):
        fail(f"{key} must be a language tag such as 'es' or 'es-MX', got {shown(value)}",
             _hint(str(value), key))
    try:
        Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        fail(f"unknown {key} '{value}'", _hint(value, key))
    return value
