"""The talk page in real headless Chromium against the running service and the simulator.

Debian's ``chromium`` (apt) is driven by Playwright's Python package through
``executable_path`` (Playwright's own browser download is not used). The fake microphone plays
a WAV made by espeak-ng at test time, in a loop: the simulator's energy VAD hears the speech and
answers. The page exposes its counters as ``window.agentrunTalk``.
"""

from __future__ import annotations

import base64
import os
import pathlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import soundfile
from agentrun.audio import read_sound, resample_array
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from talk_client import CuttableProxy, OtherSite

CHROMIUM = os.environ.get("AGENTRUN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

CLOCK_AGENT = """\
name: Clock Desk
instructions: You tell the time.
greeting: Hello, this is the clock desk.
turn_detection: {type: server_vad, silence_duration_ms: 400}
tools:
  - current_time
"""
SCENARIO = {"responses": [{"call": "current_time", "arguments": {"timezone": "Europe/Berlin"}},
                          {"say": "It is noon in Berlin."}]}


@pytest.fixture(scope="module")
def microphone(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """What the fake microphone plays, looped: 0.5 s of silence, a spoken question (espeak-ng),
    2 s of silence (so the simulator's VAD hears the turn end), at 48 kHz."""
    folder = tmp_path_factory.mktemp("microphone")
    spoken = folder / "spoken.wav"
    subprocess.run(["espeak-ng", "-w", str(spoken), "What time is it in Berlin?"], check=True)
    samples, info = read_sound(str(spoken))
    speech = resample_array(samples.mean(axis=1), info.rate, 48000)
    silence = np.zeros(48000 // 2, dtype=np.float32)
    wav = folder / "microphone.wav"
    soundfile.write(wav, np.concatenate([silence, speech, silence, silence, silence, silence]),
                    48000, subtype="PCM_16")
    return wav


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    assert pathlib.Path(CHROMIUM).exists(), (
        f"no Chromium at {CHROMIUM}: apt-get install chromium (or set AGENTRUN_CHROMIUM)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright, microphone: pathlib.Path) -> Iterator[Browser]:
    """Chromium whose microphone is allowed and plays ``microphone``."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-audio-capture={microphone}"])
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def talk(page: Page) -> dict[str, Any]:
    return page.evaluate("window.agentrunTalk")


def appended(sim: Any) -> bytes:
    return b"".join(base64.b64decode(e["audio"]) for e in sim.received
                    if e["type"] == "input_audio_buffer.append")


def wait_js(page: Page, expression: str, timeout: float = 20.0) -> None:
    """Poll a page expression until it is true (``page.wait_for_function`` evaluates strings
    in the page, which the page's Content-Security-Policy rightly forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}: {talk(page)}"
        time.sleep(0.05)


def wait_until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_call_from_the_page_shows_the_transcript_and_tool_calls_and_plays_the_agent(
        served: Any, agents: pathlib.Path, page: Page) -> None:
    (agents / "clock.yaml").write_text(CLOCK_AGENT)
    with served(scenario=SCENARIO) as (server, sim):
        page.goto(server.url + "/")
        page.click("text=Clock Desk")  # the agent list links to the talk page
        assert page.title() == "Talk to Clock Desk"
        page.click("#call")
        wait_js(page, "window.agentrunTalk.state === 'live'")
        assert page.inner_text("#call") == "End the call"
        # the greeting, then the spoken question: the tool call, then the answer
        page.wait_for_selector("#transcript li.agent:not(.partial) >> text=Hello, this is the "
                               "clock desk.")
        tool = page.wait_for_selector("#transcript li.tool[data-state=ok]")
        assert "current_time" in tool.inner_text() and "Europe/Berlin" in tool.inner_text()
        page.wait_for_selector("#transcript li.agent >> text=It is noon in Berlin.")
        page.wait_for_selector("#transcript li.user >> text=(simulated transcript)")
        # the agent's voice played for at least half a second, and the page said so
        wait_js(page, "window.agentrunTalk.samplesPlayed > "
                               "window.agentrunTalk.sampleRate / 2")
        wait_js(page, "window.agentrunTalk.clears > 0")  # the looping question
        counters = talk(page)
        # lines in the order they happened: the tool ran before the answer that used it
        kinds = page.eval_on_selector_all("#transcript li", "els => els.map(e => e.className)")
        tool_at = kinds.index("tool")
        assert "agent" in kinds[tool_at + 1:]
        page.click("#call")  # end the call
        wait_js(page, "window.agentrunTalk.state === 'ended'")
        assert page.inner_text("#status") == "You ended the call."
        wait_until(lambda: server.service.active_calls == 0)
    assert counters["errors"] == []
    assert counters["callId"].startswith("WB") and counters["micFrames"] > 50
    assert counters["playedReports"] > 0
    # barge-in flushed the queue: some received audio was dropped, never played
    assert counters["samplesReceived"] > counters["samplesPlayed"] + counters["queued"]
    # the microphone reached the model: speech, not silence, at the session's rate
    caller = np.frombuffer(appended(sim), dtype="<i2")
    assert len(caller) > 24000 and np.abs(caller).max() > 3000


def test_a_refused_microphone_is_explained_and_no_call_starts(
        served: Any, playwright: Playwright, microphone: pathlib.Path) -> None:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*ARGS, "--deny-permission-prompts", "--use-fake-device-for-media-stream"])
    try:
        page = browser.new_page()
        with served() as (server, sim):
            page.goto(server.url + "/talk/line")
            page.click("#call")
            wait_js(page, "window.agentrunTalk.state === 'failed'")
            status = page.inner_text("#status")
            assert page.inner_text("#call") == "Start the call"
            assert not sim.received and server.service.active_calls == 0
    finally:
        browser.close()
    assert status.startswith("Microphone access was refused.")
    assert "allow the microphone" in status.lower()


def test_a_dropped_connection_is_said_on_the_page_and_frees_the_call(served: Any,
                                                                    page: Page) -> None:
    with served() as (server, _), CuttableProxy(server.port) as network:
        page.goto(network.url + "/talk/line")
        page.click("#call")
        wait_js(page, "window.agentrunTalk.state === 'live'")
        page.wait_for_selector("#transcript li.agent")
        network.cut()
        wait_js(page, "window.agentrunTalk.state === 'failed'")
        status = page.inner_text("#status")
        wait_until(lambda: server.service.active_calls == 0)
        assert page.inner_text("#call") == "Start the call"
    assert status.startswith("The connection to the service was lost")


def test_other_origins_and_junk_sockets_get_no_call_and_hurt_none(served: Any,
                                                                 page: Page) -> None:
    """A page on another site cannot open a call; a page that sends junk on its own socket is
    disconnected; the real call from the talk page goes on."""
    open_socket = """async ([url, frames]) => await new Promise((done) => {
        const ws = new WebSocket(url);
        let opened = false;
        ws.onopen = () => {
          opened = true;
          for (const f of frames) ws.send(f === "HUGE" ? new Uint8Array(2 * 1024 * 1024) : f);
        };
        ws.onclose = (e) => done({ opened, code: e.code });
    })"""
    with served() as (server, _):
        socket_url = server.url.replace("http://", "ws://") + "/talk/line/socket"
        # another site on this machine (so Chrome's own local-network rules let it try, and
        # it is the service that says no)
        with OtherSite() as other:
            page.goto(other.url)
            foreign = page.evaluate(open_socket, [socket_url, []])
        page.goto(server.url + "/talk/line")
        junk = page.evaluate(open_socket, [socket_url, ["not json", '{"type":"start"}', "HUGE"]])
        page.click("#call")
        wait_js(page, "window.agentrunTalk.state === 'live'")
        page.wait_for_selector("#transcript li.agent >> text=Hello, thanks for calling Acme.")
        page.click("#call")
        wait_until(lambda: server.service.active_calls == 0)
        metrics = page.evaluate("async (u) => (await fetch(u)).text()", server.url + "/metrics")
    assert foreign == {"opened": False, "code": 1006}  # refused at the handshake (403)
    assert junk["opened"] and junk["code"] == 1009  # the huge frame closed only that socket
    assert 'agentrun_calls_refused_total{channel="browser",reason="bad_origin"} 1.0' in metrics
    assert 'agentrun_calls_total{agent="line",channel="browser"} 1.0' in metrics


def test_the_caller_can_hang_up_and_call_again_and_no_call_is_left_behind(
        served: Any, page: Page) -> None:
    with served() as (server, _):
        page.goto(server.url + "/talk/line")
        page.click("#call")
        page.click("#call", timeout=20_000)  # hang up as soon as the button allows it
        wait_js(page, "window.agentrunTalk.state === 'ended'")
        page.click("#call")
        wait_js(page, "window.agentrunTalk.state === 'live'")
        page.wait_for_selector("#transcript li.agent >> text=Hello, thanks for calling Acme.")
        page.click("#call")
        wait_until(lambda: server.service.active_calls == 0)
        metrics = page.evaluate("async (u) => (await fetch(u)).text()", server.url + "/metrics")
    assert talk(page)["errors"] == []
    # the first call may not have reached the service before it was hung up; none stays
    calls = [line for line in metrics.splitlines()
             if line.startswith('agentrun_calls_total{agent="line",channel="browser"}')]
    assert calls and float(calls[0].rsplit(" ", 1)[1]) in (1.0, 2.0)


def test_a_push_to_talk_agent_gets_a_hold_to_talk_button_and_the_space_bar(
        served: Any, agents: pathlib.Path, page: Page) -> None:
    (agents / "ptt.yaml").write_text(CLOCK_AGENT.replace(
        "{type: server_vad, silence_duration_ms: 400}", "{type: manual}"))
    with served(scenario={"responses": [{"say": "You asked something."}]}) as (server, sim):
        page.goto(server.url + "/talk/ptt")
        page.click("#call")
        wait_js(page, "window.agentrunTalk.state === 'live'")
        assert page.is_visible("#talk") and "hold" in page.inner_text("#status").lower()
        page.wait_for_selector("#transcript li.agent >> text=Hello, this is the clock desk.")
        sent_before = talk(page)["micFrames"]
        time.sleep(0.5)
        assert talk(page)["micFrames"] == sent_before  # nothing goes out while not held
        page.keyboard.down("Space")  # hold through the looping question (about 4 s)
        time.sleep(4.5)
        page.keyboard.up("Space")
        page.wait_for_selector("#transcript li.agent >> text=You asked something.")
        assert talk(page)["state"] == "live"  # the space bar did not press "End the call"
        page.click("#call")
        wait_until(lambda: server.service.active_calls == 0)
    kinds = [e["type"] for e in sim.received]
    assert "input_audio_buffer.commit" in kinds
    assert np.abs(np.frombuffer(appended(sim), dtype="<i2")).max() > 3000  # speech went out
