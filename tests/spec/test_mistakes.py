"""Messages that name the mistake the person made, not only the rule they broke."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Problems = Callable[[str], list[str]]
MINIMAL = "name: T\ninstructions: hi\n"

MISTAKES = [
    # a key valid one level deeper: an indentation mistake, and where the key belongs
    ("turn_detection:\n  type: server_vad\nsilence_duration_ms: 500\n",
     "bad.yaml:5:1: 'silence_duration_ms' is not a key here; it belongs under "
     "'turn_detection:' (an indentation mistake: indent it below 'turn_detection:')"),
    ("silence_duration_ms: 500\n",
     "bad.yaml:3:1: 'silence_duration_ms' is not a key here; it belongs under "
     "'turn_detection:' (write it indented below a 'turn_detection:' line)"),
    ("audio:\n  input:\n    format: pcmu\n  rate: 8000\n",
     "bad.yaml:6:3: 'rate' is not a key here; it belongs under 'input:' or 'output:' (an "
     "indentation mistake: indent it below 'input:' or 'output:')"),
    ("format: pcmu\n", "bad.yaml:3:1: 'format' is not a key here; it belongs under 'audio: "
     "input:' or 'audio: output:' (an indentation mistake: write it two levels further in)"),
    # ... and one level shallower
    ("turn_detection:\n  type: server_vad\n  greeting: Hello!\n",
     "bad.yaml:5:3: 'greeting' is not a key of 'turn_detection:'; it belongs at the top level "
     "(an indentation mistake: move it left, in line with 'turn_detection:')"),
    ("tools:\n  - name: lookup_order\n    voice: Ara\n",
     "bad.yaml:5:5: 'voice' is not a key of a 'tools' entry; it belongs at the top level (an "
     "indentation mistake: move it left, in line with 'tools:')"),
    ("tools:\n  - name: lookup_order\n    database: orders.db\n",
     "bad.yaml:5:5: unknown key 'database' (a tool's own settings go under config:; allowed: "
     "name, as, description, timeout, config, allowed_x_handles, vector_store_ids, "
     "max_num_results, http, mcp)"),
    # a common other name for an allowed value points to it
    ("turn_detection: {type: push-to-talk}\n",
     "bad.yaml:3:24: unknown turn_detection type 'push-to-talk' (did you mean 'manual'? "
     "allowed: server_vad, manual)"),
    ("audio: {output: {format: ulaw}}\n",
     "bad.yaml:3:26: unknown format 'ulaw' (did you mean 'pcmu'? allowed: pcm, pcmu, pcma)"),
    ("variables: {count: {type: float}}\n",
     "bad.yaml:3:27: unknown type 'float' (did you mean 'number'? allowed: string, integer, "
     "number, boolean)"),
    ("audio: {input: {rate: 16kHz}}\n",
     "bad.yaml:3:23: rate is a number of Hz without a unit, got '16kHz' (write rate: 16000)"),
    # a comma-separated line where a list is expected shows list syntax
    ("audio:\n  input:\n    transcription:\n      keyterms: Acme, order number, tracking\n",
     "bad.yaml:6:17: keyterms must be a list, got 'Acme, order number, tracking' (write a list: "
     "keyterms: [Acme, order number, tracking], or one '- item' line per item below it)"),
    ("tools: lookup_order, web_search\n",
     "bad.yaml:3:8: tools must be a list, got 'lookup_order, web_search' (write a list: tools: "
     "[lookup_order, web_search], or one '- item' line per item below it)"),
]


@pytest.mark.parametrize(("extra", "expected"), MISTAKES, ids=[m[0][:40] for m in MISTAKES])
def test_the_mistake_is_named(problems: Problems, extra: str, expected: str) -> None:
    assert problems(MINIMAL + extra) == [expected]


def test_a_long_allowed_list_is_shown_once_per_file(problems: Problems) -> None:
    assert problems("name: T\ninstructions: hi\nvoise: Ara\ngreting: Hi\nturn_detection:\n"
                    "  treshold: 0.5\n  silense_duration_ms: 300\n") == [
        "bad.yaml:3:1: unknown key 'voise' (did you mean 'voice'? allowed: name, description, "
        "model, voice, instructions, instructions_file, variables, timezone, language, greeting, "
        "greeting_interruptible, interruptions, turn_detection, audio, tools, record)",
        "bad.yaml:4:1: unknown key 'greting' (did you mean 'greeting'? allowed: see line 3)",
        "bad.yaml:6:3: unknown key 'treshold' (did you mean 'threshold'? allowed: type, "
        "threshold, silence_duration_ms, prefix_padding_ms, idle_timeout_ms)",
        "bad.yaml:7:3: unknown key 'silense_duration_ms' (did you mean 'silence_duration_ms'? "
        "allowed: see line 6)",
    ]
