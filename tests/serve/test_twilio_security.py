"""Who may place calls: Twilio signatures (Twilio's own library) and the signed stream token."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from twilio.request_validator import RequestValidator
from twilio_fake import (
    TwilioStream,
    call_sid,
    parse_twiml,
    placed_call,
    post_webhook,
    webhook_form,
)

TOKEN = "0123456789abcdef0123456789abcdef"
CALLER = "+15557770000"


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    return TOKEN


def test_a_webhook_signed_by_twilio_is_answered(served: Any, signed: str) -> None:
    with served() as (server, _):
        response = asyncio.run(post_webhook(server.url, "line", webhook_form(call_sid(), CALLER),
                                            auth_token=signed))
    assert response.status_code == 200
    assert parse_twiml(response.text)[1]["caller"] == CALLER


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "wrong-token"])
def test_a_webhook_without_a_valid_signature_gets_403(served: Any, signed: str,
                                                      signature: str) -> None:
    async def main(server: Any) -> Any:
        form = webhook_form(call_sid(), CALLER)
        if signature == "wrong-token":  # signed with another account's token
            forged = RequestValidator("f" * 32).compute_signature(
                f"{server.url}/twilio/line", form)
            return await post_webhook(server.url, "line", form, signature=forged)
        return await post_webhook(server.url, "line", form, signature=signature)

    with served() as (server, _):
        response = asyncio.run(main(server))
        metrics = asyncio.run(_get(server.url + "/metrics"))
    assert response.status_code == 403
    assert "<Stream" not in response.text
    assert 'agentrun_calls_refused_total{channel="twilio",reason="bad_signature"} 1.0' in metrics


def test_a_signature_for_other_form_fields_is_refused(served: Any, signed: str) -> None:
    """A captured signature does not cover a changed caller number."""
    async def main(server: Any) -> Any:
        form = webhook_form(call_sid(), CALLER)
        good = RequestValidator(signed).compute_signature(f"{server.url}/twilio/line", form)
        return await post_webhook(server.url, "line", {**form, "From": "+15550000000"},
                                  signature=good)

    with served() as (server, _):
        assert asyncio.run(main(server)).status_code == 403


def test_signatures_are_checked_against_the_public_url(served: Any, signed: str) -> None:
    """Behind a proxy Twilio signs the public URL; --public-url makes it match."""
    public = "https://voice.example.com"
    form = webhook_form(call_sid(), CALLER)
    signature = RequestValidator(signed).compute_signature(f"{public}/twilio/line", form)
    with served(public_url=public) as (server, _):
        ok = asyncio.run(post_webhook(server.url, "line", form, signature=signature))
    assert ok.status_code == 200
    assert parse_twiml(ok.text)[0] == "wss://voice.example.com/twilio/line/stream"


def test_a_stream_with_a_valid_token_is_accepted_once_and_a_replay_is_refused(
        served: Any, signed: str) -> None:
    async def main(server: Any) -> tuple[Any, Any]:
        first = await placed_call(server.url, "line", call_sid(9), CALLER, auth_token=signed)
        async with first:
            await first.start()
            await first.wait_for(lambda: first.heard.media)  # the greeting: accepted
            await first.stop()
            await asyncio.wait_for(first.closed, 20)
        replay = TwilioStream(first.url, first.parameters, first.call_sid)
        async with replay:
            await replay.start()
            closed = await asyncio.wait_for(replay.closed, 20)
        return first, (closed, replay)

    with served() as (server, _):
        first, ((code, reason), replay) = asyncio.run(main(server))
    assert first.heard.media
    assert code == 1008 and "already used" in reason
    assert not replay.heard.media


@pytest.mark.parametrize("case", ["missing", "forged", "other-call", "other-agent", "expired",
                                  "garbage"])
def test_a_stream_without_a_valid_token_is_refused(served: Any, signed: str, case: str,
                                                    agents: Any) -> None:
    (agents / "other.yaml").write_text((agents / "line.yaml").read_text())

    async def main(server: Any) -> tuple[int | None, str, TwilioStream]:
        stream = await placed_call(server.url, "line", call_sid(2), CALLER, auth_token=signed)
        params = dict(stream.parameters)
        url = stream.url
        if case == "missing":
            del params["token"]
        elif case == "forged":
            body, _, mac = params["token"].partition(".")
            params["token"] = body + "." + ("A" if mac[0] != "A" else "B") + mac[1:]
        elif case == "other-call":
            stream.call_sid = call_sid(3)
        elif case == "other-agent":
            url = url.replace("/line/", "/other/")
        elif case == "expired":
            server.service.tokens._clock = lambda: 4102444800.0  # the year 2100
        elif case == "garbage":
            params["token"] = "\u2603" * 5000
        attempt = TwilioStream(url, params, stream.call_sid)
        async with attempt:
            await attempt.start()
            code, reason = await asyncio.wait_for(attempt.closed, 20)
        return code, reason, attempt

    with served() as (server, sim):
        code, reason, attempt = asyncio.run(main(server))
        metrics = asyncio.run(_get(server.url + "/metrics"))
    assert code == 1008, reason
    assert not attempt.heard.media
    assert not any(e["type"] == "session.update" for e in sim.received), "a session was opened"
    assert 'reason="bad_token"} 1.0' in metrics


def test_without_an_auth_token_anyone_can_call_but_still_only_through_the_webhook(
        served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)

    async def main(server: Any) -> tuple[Any, Any]:
        unsigned = await post_webhook(server.url, "line", webhook_form(call_sid(), CALLER))
        url, _params = parse_twiml(unsigned.text)
        direct = TwilioStream(url, {"caller": CALLER, "call_id": call_sid()}, call_sid())
        async with direct:
            await direct.start()
            closed = await asyncio.wait_for(direct.closed, 20)
        return unsigned, closed

    with served() as (server, _):
        unsigned, (code, _) = asyncio.run(main(server))
    assert unsigned.status_code == 200
    assert code == 1008


async def _get(url: str) -> str:
    import httpx

    async with httpx.AsyncClient(timeout=20) as client:
        return (await client.get(url)).text
