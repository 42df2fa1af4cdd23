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


def test_read_turn_returns_lines_skips_blanks_and_stays_at_eof() -> None:
    async def main() -> list[str | None]:
        con, _, _ = console(stdin="hello\n\n  \nsecond line  \n")
        return [await con.read_turn() for _ in range(4)]

    assert asyncio.run(main()) == ["hello", "second line", None, None]


def test_null_endpoint_replays_turns_and_counts_audio() -> None:
    async def main() -> list[str | None]:
        endpoint = NullEndpoint(["a"])
        endpoint.play_audio(b"\x00" * 10, "i1")
        endpoint.show_transcript("agent", "partial", False, "i1")
        endpoint.show_transcript("agent", "done", True, "i1")
        assert (endpoint.audio_bytes, endpoint.transcripts) == (10, [("agent", "done")])
        return [await endpoint.read_turn(), await endpoint.read_turn()]

    assert asyncio.run(main()) == ["a", None]


def test_read_turn_replaces_undecodable_input_bytes() -> None:
    """A non-UTF-8 byte read with surrogateescape (sys.stdin's default) cannot go on the wire."""
    async def main() -> str | None:
        con, _, _ = console(stdin="caf\udce9 au lait\n")
        return await con.read_turn()

    assert asyncio.run(main()) == "caf\ufffd au lait"
