"""The browser channel's HTML: the agent list, the talk page, and the pages that say no.

The talk page is ``talk.html`` next to this module (one file: its style, its script and its
AudioWorklet code inline, nothing loaded from elsewhere), with the agent's facts put in as a
JSON block and a fresh CSP nonce per response. Every value from an agent file is escaped.
"""

from __future__ import annotations

import functools
import html
import json
import secrets
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

if TYPE_CHECKING:
    from agentrun.agent import Agent
    from agentrun.serve._service import Service

__all__ = ["index", "insecure", "talk", "unknown"]

# blob: is the worklet module (built from the page's own text); 'self' covers the socket
_CSP = ("default-src 'none'; script-src 'nonce-{nonce}' blob:; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; img-src data:; media-src 'self' blob:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'")


def _headers(nonce: str = "") -> dict[str, str]:
    return {"Content-Security-Policy": _CSP.format(nonce=nonce or secrets.token_urlsafe(8)),
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
            "Cache-Control": "no-store"}


@functools.cache
def _talk_template() -> str:
    return resources.files("agentrun.serve").joinpath("talk.html").read_text(encoding="utf-8")


def _script_json(data: dict[str, Any]) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no comment tricks)."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def talk(agent: Agent) -> Response:
    """The talk page for ``agent``: its name, and the rate the page's audio should run at
    (the agent's output rate, so the browser resamples nothing it need not)."""
    nonce = secrets.token_urlsafe(16)
    output = agent.spec.audio.output
    config = {"name": agent.name, "agent": agent.file_stem,
              "sample_rate": output.rate or 24000}
    page = (_talk_template().replace("__NONCE__", nonce)
            .replace("__CONFIG__", _script_json(config)))
    return HTMLResponse(page, headers=_headers(nonce))


def _page(title: str, body: str, status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(16)
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style nonce="{nonce}">
  :root {{ color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI",
          Roboto, sans-serif; }}
  main {{ max-width: 46rem; margin: 0 auto; padding: 1.5rem 1rem; line-height: 1.5; }}
  li {{ margin: .6rem 0; }} a {{ font-weight: 600; }}
  .muted {{ opacity: .7; font-size: .9rem; }} code {{ font-size: .9rem; }}
</style></head>
<body><main>
<h1>{html.escape(title)}</h1>
{body}
</main></body></html>
"""
    return HTMLResponse(text, status_code=status, headers=_headers(nonce))


def index(service: Service, request: Request, prefix: str) -> Response:
    """``GET /``: the served agents, as HTML for a browser and as the app's JSON otherwise."""
    from agentrun.serve._app import agent_index
    from agentrun.serve._twilio import public_base

    channels = getattr(request.app.state, "channels", [])
    base = public_base(request, service.options.public_url)
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(agent_index(service, channels, base))
    items = []
    for stem, agent in sorted(service.registry.agents.items()):
        path = str(request.url_for("agentrun_talk", agent=stem).path)
        other = [line for channel in channels if getattr(channel, "name", "") != "browser"
                 for line in channel.describe(stem, base)]
        about = getattr(agent.spec, "description", "") or ""
        extra = (f"<br>{html.escape(about)}" if about else "") + "".join(
            f'<br><span class="muted">{html.escape(line)}</span>' for line in other)
        items.append(f'<li><a href="{html.escape(path)}">{html.escape(agent.name)}</a> '
                     f'<span class="muted">({html.escape(stem)})</span>{extra}</li>')
    listing = (f"<ul>{''.join(items)}</ul>" if items else
               "<p>No agent is served right now: no file passes its check "
               "(see the service's log).</p>")
    return _page("Agents", "<p>Pick an agent to talk to it in your browser "
                           "(you will be asked for the microphone).</p>" + listing)


def unknown(stem: str) -> Response:
    """The talk page of an agent that is not served."""
    return _page("No such agent", f"<p>No agent named <code>{html.escape(stem[:80])}</code> "
                                  'is served here. <a href="../">See the served agents</a>.</p>',
                 status=404)


def insecure() -> Response:
    """The talk page asked for over plain HTTP from another machine: why not, and what to do."""
    return _page("This page needs https", """
<p>The talk page sends your microphone over the network, so this service shows it over
plain HTTP only on the machine it runs on (<code>http://localhost</code>).</p>
<p>Open it over <strong>https</strong>: put the service behind a proxy that terminates TLS
(and sends <code>X-Forwarded-Proto: https</code>). On a network you trust, the operator can
start the service with <code>--allow-insecure-http</code> instead.</p>""", status=403)
