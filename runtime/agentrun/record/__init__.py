"""agentrun.record: a folder per call — transcript, stereo audio, wire events and a report.

:class:`CallRecorder` is a call observer (``engine.observe``): it watches a session and never
steers it. ``Agent.run(endpoint, record="records")`` (``agentrun run --record DIR``, or
``record: {dir: ...}`` in the agent file) gives every call one of these folders::

    records/20250101T120000Z-support-1a2b3c4d/
        transcript.jsonl   one line per finished utterance and per tool call
        audio.wav          16-bit stereo: caller left, agent right, on the call's clock
        events.jsonl       every wire event both ways (audio as byte counts), timed
        report.json        turns, latencies (median, p90), tools, barge-ins, reconnects, tokens,
        report.md          errors — the same as text

Secrets (the API key, ``from_env`` values, tool secrets) are cut out of every file. Imports
numpy and ``agentrun.audio`` when a call is recorded; ``agentrun report`` needs neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentrun._lazy import lazy_exports

if TYPE_CHECKING:
    from agentrun.record._recorder import CallRecorder, folder_name, prepare_root
    from agentrun.record._report import (
        CALL_FILES,
        find_calls,
        load_report,
        render_listing,
        render_markdown,
    )

__all__ = [
    "CALL_FILES",
    "CallRecorder",
    "find_calls",
    "folder_name",
    "load_report",
    "prepare_root",
    "render_listing",
    "render_markdown",
]

_HOMES = {
    **dict.fromkeys(("CallRecorder", "folder_name", "prepare_root"), "agentrun.record._recorder"),
    **dict.fromkeys(("CALL_FILES", "find_calls", "load_report", "render_listing",
                     "render_markdown"), "agentrun.record._report"),
}

__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOMES)
