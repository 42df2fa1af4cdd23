"""The talk page and socket are safe by default: same-origin sockets only, no plain HTTP
beyond this machine, nothing from elsewhere in the page, nothing from an agent file unescaped."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from talk_client import TalkClient
from websockets.exceptions import InvalidStatus

# uvicorn trusts X-Forwarded-* from 127.0.0.1 (its default forwarded_allow_ips), so a request
# carrying these is what the service sees from a caller on another machine behind a proxy
REMOTE = {"X-Forwarded-For": "203.0.113.7"}
REMOTE_TLS = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


async def get(url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.get(url, headers=headers)


async def socket_status(base: str, origin: str | None, headers: dict[str, str] | None = None,
                        agent: str = "line") -> int:
    """101 when the socket is accepted (and a call starts), else the handshake's status."""
    try:
        async with TalkClient(base, agent, origin=origin, headers=headers) as page:
            await page.start(24000)
            await page.wait_for(lambda: page.heard.ready)
            await page.hangup()
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


@pytest.mark.parametrize("origin", [
    "https://evil.example", "http://127.0.0.1:1", "https://127.0.0.1", "null", "", None,
    "http://127.0.0.1.evil.example", "javascript:alert(1)",
])
def test_a_socket_from_another_origin_is_refused_before_any_call(served: Any,
                                                                 origin: str | None) -> None:
    with served() as (server, sim):
        status = asyncio.run(socket_status(server.url, origin))
        metrics = asyncio.run(get(server.url + "/metrics")).text
    assert status == 403
    assert not sim.received  # no session was opened
    assert 'agentrun_calls_refused_total{channel="browser",reason="bad_origin"} 1.0' in metrics


def test_the_services_own_origin_and_the_allowed_ones_may_call(served: Any) -> None:
    with served(allowed_origins=["https://app.example.com"]) as (server, _):
        own = asyncio.run(socket_status(server.url, "same"))
        localhost = asyncio.run(socket_status(server.url.replace("127.0.0.1", "localhost"),
                                              "same"))
        allowed = asyncio.run(socket_status(server.url, "https://app.example.com"))
        allowed_port = asyncio.run(socket_status(server.url, "https://app.example.com:443"))
        other = asyncio.run(socket_status(server.url, "https://www.example.com"))
        proxied = asyncio.run(socket_status(server.url, "https://voice.example.com",
                                            {"X-Forwarded-Host": "voice.example.com"}))
    assert (own, localhost, allowed, allowed_port, other, proxied) == (101, 101, 101, 101, 403,
                                                                       101)
    with served(allowed_origins=["*"]) as (server, _):
        assert asyncio.run(socket_status(server.url, "https://anywhere.example")) == 101


def test_plain_http_is_for_this_machine_only(served: Any) -> None:
    with served() as (server, _):
        local = asyncio.run(get(server.url + "/talk/line"))
        remote = asyncio.run(get(server.url + "/talk/line", **REMOTE))
        remote_tls = asyncio.run(get(server.url + "/talk/line", **REMOTE_TLS))
        remote_socket = asyncio.run(socket_status(server.url, "same", REMOTE))
        remote_tls_socket = asyncio.run(socket_status(server.url, "https://" + server.url[7:],
                                                      REMOTE_TLS))
        metrics = asyncio.run(get(server.url + "/metrics")).text
    assert local.status_code == 200 and remote_tls.status_code == 200
    assert remote.status_code == 403
    assert "https" in remote.text and "--allow-insecure-http" in remote.text
    assert remote_socket == 403 and remote_tls_socket == 101
    assert 'agentrun_calls_refused_total{channel="browser",reason="insecure"} 2.0' in metrics


def test_the_operator_may_allow_plain_http_on_a_trusted_network(served: Any) -> None:
    with served(allow_insecure_http=True) as (server, _):
        page = asyncio.run(get(server.url + "/talk/line", **REMOTE))
        status = asyncio.run(socket_status(server.url, "same", REMOTE))
    assert page.status_code == 200 and status == 101


def test_the_page_loads_nothing_from_elsewhere_and_locks_itself_down(served: Any) -> None:
    with served() as (server, _):
        response = asyncio.run(get(server.url + "/talk/line"))
    page = response.text
    csp = response.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    # every script and style carries the nonce; nothing is fetched from another host
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", page):
        assert f'nonce="{nonce[1]}"' in tag or 'type="application/json"' in tag \
            or 'type="text/plain"' in tag, tag
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", page)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "Test Line" in page


def test_an_agent_name_cannot_inject_markup(served: Any, agents: Any) -> None:
    hostile = '</script><script>alert(1)</script><b onmouseover=alert(2)>'
    text = (agents / "line.yaml").read_text().replace("name: Test Line",
                                                      f"name: '{hostile}'")
    (agents / "evil.yaml").write_text(text)
    with served() as (server, _):
        page = asyncio.run(get(server.url + "/talk/evil")).text
        index = asyncio.run(get(server.url + "/", accept="text/html")).text
    for body in (page, index):
        assert "<script>alert(1)" not in body and "<b onmouseover" not in body
    assert "\\u003c/script\\u003e" in page  # only inside the JSON block, escaped
    assert "&lt;/script&gt;" in index


def test_the_agent_list_is_html_for_a_browser_and_json_otherwise(served: Any,
                                                                  agents: Any) -> None:
    text = (agents / "line.yaml").read_text()
    (agents / "line.yaml").write_text(text.replace(
        "instructions:", "description: Orders & <deliveries>\ninstructions:", 1))
    with served() as (server, _):
        html = asyncio.run(get(server.url + "/", accept="text/html,application/xhtml+xml"))
        data = asyncio.run(get(server.url + "/")).json()
        unknown = asyncio.run(get(server.url + "/talk/nobody"))
    assert html.headers["content-type"].startswith("text/html")
    assert '<a href="/talk/line">Test Line</a>' in html.text
    assert "/twilio/line" in html.text  # the other channels' URLs too
    assert "Orders &amp; &lt;deliveries&gt;" in html.text  # the file's description, escaped
    assert "broken" not in html.text  # a file that fails its check is not listed
    assert any(url.endswith("/talk/line") for url in data["agents"]["line"]["urls"])
    assert unknown.status_code == 404 and "No agent named" in unknown.text


def test_mounted_in_another_app_the_links_and_the_socket_stay_inside_the_mount(
        agents: Any) -> None:
    from agentrun.serve import ServeOptions, Service, create_app
    from serve_harness import LiveServer, SimThread
    from starlette.applications import Starlette
    from starlette.routing import Mount

    with SimThread() as sim:
        options = ServeOptions(agents, url=sim.url, reload=False)
        service = Service(options)
        voice = create_app(options, service=service)
        outer = Starlette(routes=[Mount("/voice", voice)],
                          lifespan=lambda app: voice.router.lifespan_context(voice))
        server = LiveServer(options)
        server.app, server.service = outer, service
        server.server.config.app = outer
        server.server.config.loaded = False
        with server:
            index = asyncio.run(get(server.url + "/voice/", accept="text/html"))
            page = asyncio.run(get(server.url + "/voice/talk/line"))

            async def call() -> TalkClient:
                async with TalkClient(server.url + "/voice", "line", origin=server.url) as talk:
                    await talk.start(24000)
                    await talk.wait_for(lambda: talk.heard.audio)
                    await talk.hangup()
                return talk

            talk = asyncio.run(call())
    assert '<a href="/voice/talk/line">Test Line</a>' in index.text
    assert page.status_code == 200
    assert talk.heard.ready is not None and talk.heard.audio


def test_start_up_lines_warn_about_the_options_that_weaken_the_page(agents: Any) -> None:
    from agentrun.serve import BrowserChannel, ServeOptions
    from agentrun.serve._app import startup_lines

    def warnings(**options: Any) -> list[str]:
        lines = startup_lines(ServeOptions(agents, **options), [], [BrowserChannel()])
        return [line for line in lines if line.startswith("WARNING") and "TWILIO" not in line]

    assert warnings() == []
    assert warnings(allowed_origins=["https://www.example.com"]) == []
    (insecure,) = warnings(allow_insecure_http=True)
    assert "UNENCRYPTED" in insecure
    (anyone,) = warnings(allowed_origins=["*"])
    assert "ANY web site" in anyone
