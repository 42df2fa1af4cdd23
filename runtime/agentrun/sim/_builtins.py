"""Grok's server-side tools as the simulator plays them: canned, plausible, clearly simulated.

On the live API ``web_search``, ``x_search`` and ``file_search`` run on xAI's servers: the
client sees the call (``response.function_call_arguments.done`` under the tool's internal
name, reference §4.1 and §7.9), must not answer it, and hears the model speak the result. The
simulator does the same with a canned result built from the query, so an offline call that
uses a built-in is never silent. Imports nothing of ours.
"""

from __future__ import annotations

from typing import Any

__all__ = ["INTERNAL_NAMES", "canned_result"]

INTERNAL_NAMES = {
    # the first internal name of each built-in (reference §4.1, measured by LiveKit)
    "web_search": "web_search",
    "x_search": "x_keyword_search",
    "file_search": "collections_search",
}


def canned_result(kind: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A made-up result of a built-in tool and the sentence the model says about it.

    Args:
        kind: ``web_search``, ``x_search`` or ``file_search``.
        arguments: the call's arguments (``query`` is used when present).

    Returns:
        ``(result, spoken)``: the result as JSON data, and the reply text.
    """
    query = str(arguments.get("query") or arguments.get("q") or "your question").strip()
    if kind == "web_search":
        results = [{"title": f"{query.title()} - Example Encyclopedia",
                    "url": "https://example.com/wiki/" + "_".join(query.split()),
                    "snippet": f"An overview of {query}, updated this week."},
                   {"title": f"Latest news on {query}", "url": "https://news.example.org/",
                    "snippet": f"What changed recently about {query}."}]
        spoken = f"(simulated) I searched the web for {query}: the top result is " \
                 f"\"{results[0]['title']}\", {results[0]['snippet']}"
    elif kind == "x_search":
        results = [{"author": "@example", "text": f"Thread: everything about {query}.",
                    "url": "https://x.com/example/status/1"}]
        spoken = f"(simulated) On X, @example posted: \"Thread: everything about {query}.\""
    else:
        results = [{"document": "handbook.pdf", "score": 0.82,
                    "text": f"Section 3 explains {query}."}]
        spoken = f"(simulated) Your documents say: section 3 of the handbook explains {query}."
    return {"query": query, "results": results, "simulated": True}, spoken
