"""The :class:`agentrun.io.CallControl` a session hands its channel, and the session's formats.

A channel asks the running call for its audio formats, waits for replies, reports playback
progress and barges in through this object; it reaches into its ``engine.session.Session``
(same package) and performs what the conversation answers under the session's lock. No clock,
no asyncio import: waiting is the session's ``_until``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentrun.io import AudioFormat
from agentrun.protocol import AudioConfig, PcmaFormat, PcmuFormat

if TYPE_CHECKING:
    from agentrun.engine.actions import Action
    from agentrun.engine.setup import ConversationConfig

__all__ = ["SessionControl", "audio_formats"]


def audio_formats(config: ConversationConfig) -> tuple[AudioFormat, AudioFormat]:
    """The caller-side (input) and agent-side (output) audio formats of a session (§4)."""
    audio = config.session.audio or AudioConfig()  # a config built in code may leave it out

    def side(fmt: Any) -> AudioFormat:
        if isinstance(fmt, PcmuFormat):
            return AudioFormat("pcmu", 8000)
        if isinstance(fmt, PcmaFormat):
            return AudioFormat("pcma", 8000)
        return AudioFormat("pcm", int(fmt.rate))

    return side(audio.input.format), side(audio.output.format)


class SessionControl:
    """The :class:`agentrun.io.CallControl` a session hands its channel."""

    def __init__(self, session: Any) -> None:
        self._session = session
        config = session._config
        self.input_format, self.output_format = audio_formats(config)
        self.manual_turns = config.manual_turns

    @property
    def responses(self) -> int:
        conv = self._session._conv
        return conv.responses_created if conv is not None else 0

    async def wait_idle(self) -> None:
        await self._session._until(self._session._ready_for_input)

    async def wait_reply(self, after: int, timeout: float | None = None) -> bool:
        session = self._session
        return await session._until(
            lambda: self.responses > after and session._ready_for_input(), timeout)

    def played(self, item_id: str, played_ms: int) -> None:
        session = self._session
        if session._conv is not None:
            self._later(session._conv.playback_progress(item_id, played_ms))

    def interrupt(self) -> None:
        session = self._session
        if session._conv is not None:
            self._later(session._conv.interrupt(session._clock()))

    def _later(self, actions: list[Action]) -> None:
        """Perform actions caused by a synchronous report, in order, under the session lock."""
        session = self._session
        if actions and session._tg is not None:
            async def perform() -> None:
                async with session._lock:
                    await session._perform(actions)
            session._tg.create_task(perform())
