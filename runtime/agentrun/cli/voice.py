"""How ``agentrun FILE`` reaches its caller (text, microphone and speaker, or WAV callers), and
``agentrun devices``.

The default: the microphone and speaker when input is a terminal, the ``audio`` extra is
installed and both devices exist; else the text console, and the first status line says why.
``--voice`` and ``--text`` force a mode; ``--caller-wav`` calls the agent with recorded speech.
Every impossible choice is a one-line error with exit code 2 before anything connects. Only
wiring: the channels live in ``agentrun.io``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import click

from agentrun.cli import main

__all__ = ["Channel", "choose_channel", "devices"]

VOICE_HINT = "speak, or type a line; /help lists commands; Ctrl-D or /quit ends the call"
TEXT_HINT = "type a line per turn; /help lists commands; Ctrl-D or /quit ends the call"
SIM_COMMANDS = {"/call": "make the simulated model call a tool: /call NAME key=value ... "
                         "or /call NAME {\"key\": \"value\"}"}


@dataclass
class Channel:
    """The caller's side of one CLI call.

    Attributes:
        kind: ``console``, ``voice`` or ``wav`` (the call's channel, for records).
        endpoint: what the session talks to.
        console: the text console that shows the conversation.
        notes: status lines to show before the call (why text mode, which devices).
    """

    kind: str
    endpoint: Any
    console: Any
    notes: list[str] = field(default_factory=list)

    async def start(self) -> None:
        """Open the devices (voice): a missing or busy device fails here, before connecting."""
        if self.kind == "voice":
            await self.endpoint.start()

    async def finish(self, *, completed: bool) -> None:
        """Let the last reply play out (voice, after a normal end), close devices, end lines."""
        try:
            if self.kind == "voice":
                await self.endpoint.finish(drain=completed)
        finally:
            self.console.close()

    def failure(self) -> str | None:
        """Why a call that ended normally still failed its caller (a WAV turn unanswered)."""
        unanswered = getattr(self.endpoint, "unanswered", None)
        if unanswered:
            return "no reply to " + ", ".join(unanswered)
        return None


def choose_channel(agent: Any, *, text: bool, voice: bool, caller_wavs: tuple[str, ...],
                   fast: bool, input_device: str | None, output_device: str | None,
                   verbose: bool, offline: bool = False) -> Channel:
    """Pick and build the caller's channel for ``agentrun run``.

    Args:
        agent: the loaded ``Agent`` (its audio formats).
        text: ``--text``.
        voice: ``--voice``.
        caller_wavs: ``--caller-wav`` files, in order.
        fast: ``--fast``.
        input_device: ``--input-device``.
        output_device: ``--output-device``.
        verbose: show debug status lines.
        offline: the embedded simulator answers (the console offers ``/call``).

    Returns:
        The channel, not yet started.

    Raises:
        click.UsageError: contradictory options.
        AudioFileError: a WAV caller file is missing, unreadable or not audio.
        DeviceError: ``--voice`` (or a device option) and audio is impossible.
    """
    from agentrun.io import TextConsole

    devices_named = input_device is not None or output_device is not None
    if sum((text, voice, bool(caller_wavs))) > 1:
        raise click.UsageError("choose one of --text, --voice and --caller-wav")
    if fast and not caller_wavs:
        raise click.UsageError("--fast paces --caller-wav files; give at least one")
    if devices_named and (text or caller_wavs):
        raise click.UsageError("--input-device and --output-device are for voice calls, "
                               "not with --text or --caller-wav")
    tty = _is_terminal()
    commands = SIM_COMMANDS if offline else {}
    if caller_wavs:
        from agentrun.io import WavCaller

        console = TextConsole(verbose=verbose)
        return Channel("wav", WavCaller(list(caller_wavs), display=console, fast=fast), console)
    why_not = None if text or voice or devices_named else _why_not_voice(tty)
    if text or why_not is not None:
        console = TextConsole(verbose=verbose, commands=commands,
                              hint=TEXT_HINT if tty else None)
        return Channel("console", console, console, [f"text mode: {why_not}"] if why_not else [])
    from agentrun.engine.session import audio_formats
    from agentrun.io import DeviceEndpoint
    from agentrun.io._devices import load_sounddevice

    load_sounddevice()  # --voice without the extra: one line, exit 2
    input_format, output_format = audio_formats(agent.config())
    # typed lines go alongside live audio: no waiting for each reply before reading the next
    console = TextConsole(verbose=verbose, commands=commands, hint=VOICE_HINT,
                          turn_by_turn=False)
    endpoint = DeviceEndpoint(console, input_format=input_format, output_format=output_format,
                              input_device=input_device, output_device=output_device)
    return Channel("voice", endpoint, console)


def _is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced stdin
        return False


def _why_not_voice(tty: bool) -> str | None:
    """Why the default run stays in text mode, or None when voice is possible."""
    if not tty:
        return "input is not a terminal (use --voice to talk anyway)"
    from agentrun.io import audio_unavailable

    reason = audio_unavailable()
    return reason


_DEVICES_HELP = """List the microphones and speakers PortAudio sees, with their default rates.

\b
`*` marks the system default. Pick others for a call by index or part of the name:
  agentrun agents/support.yaml --input-device 2 --output-device "USB"
Needs the audio extra: pip install 'agentrun-voice[audio]'.
"""


@main.command("devices", help=_DEVICES_HELP)
def devices() -> None:
    from agentrun.io import list_devices

    found = list_devices()
    for kind, title in (("input", "microphones (input)"), ("output", "speakers (output)")):
        able = [d for d in found if d.channels(kind) > 0]  # type: ignore[arg-type]
        click.echo(f"{title}:")
        if not able:
            click.echo("    none found")
        for device in able:
            mark = "*" if device.is_default(kind) else " "  # type: ignore[arg-type]
            channels = device.channels(kind)  # type: ignore[arg-type]
            click.echo(f"  {mark} {device.index:>2}  {device.name}  ({device.host_api}, "
                       f"{channels} ch, {device.default_rate} Hz)")
