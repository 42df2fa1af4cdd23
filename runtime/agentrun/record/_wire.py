"""Wire frames as ``events.jsonl`` lines: audio payloads replaced by their length, secrets cut.

Pure functions of their arguments. A frame is parsed once here; the recorder reads the parsed
event for the facts it dates (speech started/stopped, commits, typed turns). Base64 audio never
reaches the file: the known audio fields become ``<field>_bytes`` (the decoded length), any
other ``audio`` string anywhere in an event too, and long base64 runs in a frame that is not JSON
are shortened. Secrets are cut by the redactor the caller passes (the recorder's: an
``agentrun._secrets.Redactor`` over every secret the process read plus its own values). Imports
nothing of agentrun.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

__all__ = ["local_line", "wire_line"]

Redact = Callable[[str], str]

# where each audio-carrying event keeps its base64 payload (grok-realtime.md §3.1)
_AUDIO_FIELDS = {
    "input_audio_buffer.append": "audio",
    "response.output_audio.delta": "delta",
    "response.audio.delta": "delta",  # the OpenAI Realtime dialect's name
}
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{256,}={0,2}")
# an audio payload, found without parsing the frame: audio deltas are most of the traffic, and
# parsing their base64 only to drop it cost most of the record's CPU
_PAYLOAD = re.compile(r'"(audio|delta)"\s*:\s*"([A-Za-z0-9+/]{64,}={0,2})"')
_FAST_FROM = 512  # frames shorter than this are parsed as they are
_MALFORMED_KEEP = 4000  # characters of an unparsable frame kept for debugging


def _b64_bytes(text: str) -> int:
    padding = 2 if text.endswith("==") else 1 if text.endswith("=") else 0
    return len(text) * 3 // 4 - padding


def _strip_audio(value: Any) -> Any:
    """Replace every ``audio`` string in a nested event by ``audio_bytes``."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "audio" and isinstance(item, str):
                out["audio_bytes"] = _b64_bytes(item)
            else:
                out[key] = _strip_audio(item)
        return out
    if isinstance(value, list):
        return [_strip_audio(item) for item in value]
    return value


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def wire_line(t: float, direction: str, text: str,
              redact: Redact) -> tuple[str, dict[str, Any] | None]:
    """One ``events.jsonl`` line for a frame on the realtime socket.

    Args:
        t: seconds since the call's start (monotonic clock).
        direction: ``in`` (from the server) or ``out`` (to it).
        text: the frame as sent or received.
        redact: cuts secrets out of the line (``agentrun._secrets.Redactor``).

    Returns:
        (the line without its newline, the event as written — audio payloads replaced by
        their length — or None when the frame is not a JSON object).
    """
    if len(text) >= _FAST_FROM:
        match = _PAYLOAD.search(text)
        if match is not None:
            field = match.group(1)
            small = (f'{text[:match.start()]}"{field}_bytes":{_b64_bytes(match.group(2))}'
                     f'{text[match.end():]}')
            try:
                event = json.loads(small)
            except ValueError:
                event = None
            # only where the protocol puts audio: a long word in a transcript "delta" is text
            if isinstance(event, dict) and _AUDIO_FIELDS.get(str(event.get("type"))) == field \
                    and '"audio"' not in small:
                if "\n" in small or "\r" in small:  # pretty-printed: one line it must be
                    small = _dumps(event)
                line = f'{{"t":{round(t, 6)},"dir":"{direction}","event":{small}}}'
                return redact(line), event
    try:
        event = json.loads(text)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        kept = _BASE64_RUN.sub(lambda m: f"<{len(m.group())} base64 characters>",
                               text[:_MALFORMED_KEEP])
        record = {"t": round(t, 6), "dir": direction, "malformed": kept,
                  "length": len(text)}
        return redact(_dumps(record)), None
    field = _AUDIO_FIELDS.get(event.get("type"))  # type: ignore[arg-type]
    shown = event
    if field is not None and isinstance(event.get(field), str):
        shown = {k: v for k, v in event.items() if k != field}
        shown[f"{field}_bytes"] = _b64_bytes(event[field])
    if '"audio"' in text:
        shown = _strip_audio(shown)
    return redact(_dumps({"t": round(t, 6), "dir": direction, "event": shown})), shown


def local_line(t: float, kind: str, redact: Redact, **fields: Any) -> str:
    """One ``events.jsonl`` line for something agentrun did locally (``dir`` ``local``).

    Args:
        t: seconds since the call's start.
        kind: what happened, e.g. ``playback.stopped``, ``tool.finished``.
        redact: cuts secrets out of the line (``agentrun._secrets.Redactor``).
        **fields: its details (JSON values).

    Returns:
        The line without its newline.
    """
    return redact(_dumps({"t": round(t, 6), "dir": "local", "event": {"type": kind, **fields}}))
