"""Audio as pure functions: G.711, resampling (soxr) and sound files in (soundfile).

Nothing here does I/O beyond reading a named file. Endpoints (``agentrun.io``) and call records
use these to turn whatever a caller, a device or a file has into the session's format and back.
Names load on first use, so ``import agentrun.audio`` costs no numpy, soxr or soundfile import
(``agentrun check`` and ``--dry-run`` never pay for them).

    pcm = agentrun.audio.ulaw_decode(mulaw_bytes)                 # G.711 μ-law -> PCM16 LE
    audio = agentrun.audio.wav_to_session("q1.wav", encoding="pcm", rate=24000)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentrun._lazy import lazy_exports

if TYPE_CHECKING:
    from agentrun.audio._convert import (
        ENCODINGS,
        Encoding,
        convert,
        decode,
        encode,
        silence,
        to_float,
        to_pcm16,
    )
    from agentrun.audio._g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
    from agentrun.audio._resample import StreamResampler, resample, resample_array
    from agentrun.audio._wav import SoundInfo, read_sound, sound_info, wav_to_session

__all__ = [
    "ENCODINGS",
    "Encoding",
    "SoundInfo",
    "StreamResampler",
    "alaw_decode",
    "alaw_encode",
    "convert",
    "decode",
    "encode",
    "read_sound",
    "resample",
    "resample_array",
    "silence",
    "sound_info",
    "to_float",
    "to_pcm16",
    "ulaw_decode",
    "ulaw_encode",
    "wav_to_session",
]

_HOMES = {
    **dict.fromkeys(("ENCODINGS", "Encoding", "convert", "decode", "encode", "silence",
                     "to_float", "to_pcm16"), "agentrun.audio._convert"),
    **dict.fromkeys(("alaw_decode", "alaw_encode", "ulaw_decode", "ulaw_encode"),
                    "agentrun.audio._g711"),
    **dict.fromkeys(("StreamResampler", "resample", "resample_array"),
                    "agentrun.audio._resample"),
    **dict.fromkeys(("SoundInfo", "read_sound", "sound_info", "wav_to_session"),
                    "agentrun.audio._wav"),
}

__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOMES)
