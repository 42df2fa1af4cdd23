"""The text console: what a person (or a pipe) sees on stdout and stderr."""

from __future__ import annotations

import asyncio
import io

from agentrun.io import NullEndpoint, TextConsole


def console(verbose: bool = False, stdin: str = "") -> tuple[TextConsole, io.StringIO,
                                                            io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return TextConsole(io.StringIO(stdin), out, err, verbose=verbose), out, err


def test_agent_deltas_stream_on_one_line_and_the_final_completes_it() -> None:
    con, out, _ = console()
    con.show_transcript("agent", "Hello ", False, "a1")
    assert out.getvalue() == "agent: Hello "  # visible before the reply is complete
    con.show_transcript("agent", "Hello ", False, "a1")  # a repeated word is still printed
    con.show_transcript("agent", "Hello Hello world", True, "a1")
    assert out.getvalue() == "agent: Hello Hello world\n"


def test_a_final_without_deltas_prints_the_whole_line() -> None:
    con, out, _ = console()
    con.show_transcript("agent", "Hi there.", True, "a1")
    con.show_transcript("agent", "Second.", True, "a2")
    assert out.getvalue() == "agent: Hi there.\nagent: Second.\n"


def test_user_speech_shows_only_final_transcripts_and_ends_an_open_agent_line() -> None:
    con, out, _ = console()
    con.show_transcript("agent", "Let me", False, "a1")
    con.show_transcript("user", "wait", False, "u1")
    con.show_transcript("user", "wait, stop", True, "u1")
    assert out.getvalue() == "agent: Let me\nuser: wait, stop\n"


def test_barge_in_marks_the_cut_reply() -> None:
    con, out, _ = console()
    con.show_transcript("agent", "Your order", False, "a1")
    con.stop_playback("speech started")
    con.close()
    assert out.getvalue() == "agent: Your order …\n"


def test_status_lines_go_to_stderr_and_debug_only_when_verbose() -> None:
    con, out, err = console()
    con.show_status("debug", "noise")
    con.show_status("info", "connected")
    con.show_status("warning", "connection lost")
    assert out.getvalue() == ""
    assert err.getvalue() == "agentrun: connected\nagentrun: warning: connection lost\n"
    loud, _, loud_err = console(verbose=True)
    loud.show_status("debug", "noise")
    assert loud_err.getvalue() == "agentrun: noise\n"


class _Idle:
    """A call that is always idle: every turn may go at once."""

    input_format = output_format = None
    manual_turns = False
    responses = 0
    waits = 0

    async def wait_idle(self) -> None:
        self.waits += 1


async def _turns(endpoint: object) -> list[str]:
    call = _Idle()
    return [item.text async for item in endpoint.caller(call)]  # type: ignore[attr-defined]


def test_console_yields_lines_skips_blanks_and_ends_at_eof() -> None:
    con, _, _ = console(stdin="hello\n\n  \nsecond line  \n")
    assert asyncio.run(_turns(con)) == ["hello", "second line"]


def test_console_waits_for_the_call_to_be_idle_before_each_turn() -> None:
    async def main() -> int:
        con, _, _ = console(stdin="a\nb\n")
        call = _Idle()
        async for _ in con.caller(call):  # type: ignore[arg-type]
            pass
        return call.waits

    assert asyncio.run(main()) == 3  # before a, before b, before learning input ended


def test_null_endpoint_replays_turns_and_counts_audio() -> None:
    endpoint = NullEndpoint(["a"])
    endpoint.play_audio(b"\x00" * 10, "i1")
    endpoint.show_transcript("agent", "partial", False, "i1")
    endpoint.show_transcript("agent", "done", True, "i1")
    assert (endpoint.audio_bytes, endpoint.transcripts) == (10, [("agent", "done")])
    assert asyncio.run(_turns(endpoint)) == ["a"]


def test_console_replaces_undecodable_input_bytes() -> None:
    """A non-UTF-8 byte read with surrogateescape (sys.stdin's default) cannot go on the wire."""
    con, _, _ = console(stdin="caf\udce9 au lait\n")
    assert asyncio.run(_turns(con)) == ["caf\ufffd au lait"]
