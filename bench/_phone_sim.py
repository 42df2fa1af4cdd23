"""agentrun's simulator with timing probes, for `serve_bench.py` (its own process).

Runs ``agentrun.sim.Simulator`` unchanged except for three probes on each connection: when the
``session.update`` arrives (call set-up), when each ``input_audio_buffer.append`` arrives and how
far into the caller's audio it reaches, and when each ``response.output_audio.delta`` is sent and
how far into the agent's audio it reaches. Each connection is tied to its phone call by the call
id the relay puts in the instructions (``... call CA…``). Timestamps are ``time.monotonic()``,
the same clock as the load generator's (CLOCK_MONOTONIC is system-wide). Prints
``listening on URL`` first; on SIGTERM writes the probes as JSON to the file given.

    python bench/_phone_sim.py OUT.json [--reply-ms 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import time
from typing import Any

from agentrun.sim import Scenario, Simulator
from agentrun.sim._audio import bytes_per_ms
from agentrun.sim._connection import SimConnection

_CALL = re.compile(r"call (CA[0-9a-f]+)")
PROBES: dict[str, dict[str, Any]] = {}


def _probe(conn: SimConnection) -> dict[str, Any]:
    probe = getattr(conn, "_bench_probe", None)
    if probe is None:
        probe = {"setup": None, "in_t": [], "in_ms": [], "out_t": [], "out_ms": [],
                 "in_total": 0.0, "out_total": 0.0}
        conn._bench_probe = probe  # type: ignore[attr-defined]
    return probe


def install() -> None:
    """Wrap three SimConnection methods with probes (measurement only; behaviour unchanged)."""
    on_update = SimConnection._on_session_update
    on_append = SimConnection._on_audio_append
    send_raw = SimConnection.send_raw

    async def session_update(self: SimConnection, event: dict[str, Any]) -> None:
        now = time.monotonic()
        probe = _probe(self)
        found = _CALL.search(str((event.get("session") or {}).get("instructions", "")))
        if found and probe["setup"] is None:
            probe["setup"] = now
            PROBES[found[1]] = probe
        await on_update(self, event)

    async def append(self: SimConnection, event: dict[str, Any]) -> None:
        probe = _probe(self)
        audio = event.get("audio") or ""
        size = len(audio) * 3 // 4 - audio[-2:].count("=")
        probe["in_total"] += size / bytes_per_ms(self.audio_format("input"))
        probe["in_t"].append(time.monotonic())
        probe["in_ms"].append(round(probe["in_total"], 1))
        await on_append(self, event)

    async def raw(self: SimConnection, text: str, kind: str, call_id: str | None = None) -> None:
        if kind == "response.output_audio.delta":
            probe = _probe(self)
            delta = text[text.rindex('"delta":"') + 9:-2]
            size = len(delta) * 3 // 4 - delta[-2:].count("=")
            probe["out_total"] += size / bytes_per_ms(self.audio_format("output"))
            probe["out_t"].append(time.monotonic())
            probe["out_ms"].append(round(probe["out_total"], 1))
        await send_raw(self, text, kind, call_id)

    SimConnection._on_session_update = session_update  # type: ignore[method-assign]
    SimConnection._on_audio_append = append  # type: ignore[method-assign]
    SimConnection.send_raw = raw  # type: ignore[method-assign]
    # the handler table holds bound methods made in __init__ from the class attributes
    init = SimConnection.__init__

    def init_probed(self: SimConnection, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.handlers["session.update"] = self._on_session_update
        self.handlers["input_audio_buffer.append"] = self._on_audio_append

    SimConnection.__init__ = init_probed  # type: ignore[method-assign]


async def main(out: str, reply_ms: int) -> None:
    install()
    scenario = Scenario.load({"audio": {"chunk_ms": 20, "pace": "realtime"},
                              "responses": [{"say": "Your order ships tomorrow.",
                                             "audio_ms": reply_ms, "repeat": 10_000_000}]})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with Simulator(scenario, record=False) as sim:
        print(f"listening on {sim.url}", flush=True)
        await stop.wait()
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(PROBES, handle)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--reply-ms", type=int, default=4000)
    args = parser.parse_args()
    asyncio.run(main(args.out, args.reply_ms))
    sys.exit(0)
