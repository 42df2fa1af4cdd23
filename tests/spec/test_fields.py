"""Every field's validation, as the author reads it: exact FILE:LINE:COL, message and hint."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from agentrun.spec import AgentSpec, CustomVoice, ManualTurns, ServerVad

MINIMAL = "name: T\ninstructions: hi\n"

Problems = Callable[[str], list[str]]
Loaded = Callable[[str], AgentSpec]

# (extra YAML appended to MINIMAL, which takes lines 1-2) -> the one line the author sees
BAD_FIELDS = [
    ("voice: Aria\n",
     "bad.yaml:3:8: unknown voice 'Aria' (did you mean 'Ara'? allowed: Ara, Rex, Sal, Eve, Leo)"),
    ("voice: Zorro\n",
     "bad.yaml:3:8: unknown voice 'Zorro' (allowed: Ara, Rex, Sal, Eve, Leo; a custom voice id "
     "is written voice: {custom: ID})"),
    ("voice: 7\n", "bad.yaml:3:8: voice must be a name such as Ara, got 7 (a custom voice id is "
     "written voice: {custom: ID})"),
    ("voice: {custom: ''}\n", "bad.yaml:3:17: custom must not be empty"),
    ("model: grok voice\n", "bad.yaml:3:8: model cannot contain 'grok voice' (use letters, "
     "digits, '_', '-' or '.' without spaces)"),
    ("name2: x\n", "bad.yaml:3:1: unknown key 'name2' (did you mean 'name'? allowed: name, "
     "description, model, voice, instructions, instructions_file, variables, timezone, "
     "language, greeting, greeting_interruptible, interruptions, turn_detection, audio, tools, "
     "record)"),
    ("timezone: Europe/Berln\n",
     "bad.yaml:3:11: unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)"),
    ("timezone: Mars\n", "bad.yaml:3:11: unknown time zone 'Mars' (use an IANA name such as "
     "Europe/Berlin or America/New_York)"),
    ("greeting: [a]\n", "bad.yaml:3:11: greeting must be text, got a list"),
    ("greeting_interruptible: maybe\n",
     "bad.yaml:3:25: greeting_interruptible must be true or false, got 'maybe'"),
    ("turn_detection: {threshold: 1.5}\n",
     "bad.yaml:3:29: threshold must be between 0.1 and 0.9, got 1.5"),
    ("turn_detection: {threshold: loud}\n",
     "bad.yaml:3:29: threshold must be a number, got 'loud'"),
    ("turn_detection: {silence_duration_ms: 20000}\n",
     "bad.yaml:3:39: silence_duration_ms must be between 0 and 10000, got 20000"),
    ("turn_detection: {silence_duration_ms: 250.5}\n",
     "bad.yaml:3:39: silence_duration_ms must be a whole number, got 250.5"),
    # a number in the wrong unit says the unit and shows the right value
    ("turn_detection: {silence_duration_ms: 2.5}\n",
     "bad.yaml:3:39: silence_duration_ms is in milliseconds: 2.5 looks like seconds (write 2500 "
     "or '2.5s')"),
    ("turn_detection: {silence_duration_ms: 1}\n",
     "bad.yaml:3:39: silence_duration_ms is in milliseconds: 1 looks like seconds (write 1000 or "
     "'1s'; '1ms' if you do mean milliseconds)"),
    ("turn_detection: {idle_timeout_ms: 15}\n",
     "bad.yaml:3:35: idle_timeout_ms is in milliseconds: 15 looks like seconds (write 15000 or "
     "'15s'; '15ms' if you do mean milliseconds)"),
    ("tools:\n  - {name: lookup_order, timeout: 5000}\n",
     "bad.yaml:4:35: timeout is in seconds: 5000 looks like milliseconds (write 5 or '5000ms')"),
    # a percentage where a fraction is meant, kHz where Hz are meant
    ("turn_detection: {threshold: 85}\n",
     "bad.yaml:3:29: threshold must be between 0.1 and 0.9, got 85 (a percentage? write 0.85)"),
    ("audio: {output: {speed: 120}}\n",
     "bad.yaml:3:25: speed must be between 0.7 and 1.5, got 120 (a percentage? write 1.2)"),
    ("audio: {input: {rate: 24}}\n",
     "bad.yaml:3:23: unknown rate 24 (rates are in Hz: write 24000)"),
    ("audio: {input: {rate: 44.1}}\n",
     "bad.yaml:3:23: unknown rate 44.1 (rates are in Hz: write 44100)"),
    # within the limit (an hour) but still milliseconds: 50 minutes for a tool is no one's plan
    ("tools:\n  - {name: lookup_order, timeout: 3000}\n",
     "bad.yaml:4:35: timeout is in seconds: 3000 looks like milliseconds (write 3 or '3000ms'; "
     "'3000s' if you do mean seconds)"),
    ("turn_detection: {prefix_padding_ms: soon}\n",
     "bad.yaml:3:37: prefix_padding_ms must be a duration like 500, '500ms' or '0.5s', got "
     "'soon'"),
    ("language: Spanish\n", "bad.yaml:3:11: language must be a language tag such as 'es' or "
     "'es-MX', got 'Spanish' (did you mean 'es'? write language: es)"),
    ("language: español\n", "bad.yaml:3:11: language must be a language tag such as 'es' or "
     "'es-MX', got 'español' (did you mean 'es'? write language: es)"),
    ("language: xx\n", "bad.yaml:3:11: unknown language 'xx' (use a language tag such as en, "
     "es, es-MX or de-CH)"),
    ("turn_detection: {prefix_padding_ms: -1}\n",
     "bad.yaml:3:37: prefix_padding_ms must be between 0 and 10000, got -1"),
    ("turn_detection: {idle_timeout_ms: -5}\n",
     "bad.yaml:3:35: idle_timeout_ms must be at least 0, got -5"),
    ("turn_detection:\n  silence_duration: 300\n",
     "bad.yaml:4:3: unknown key 'silence_duration' (did you mean 'silence_duration_ms'? allowed: "
     "type, threshold, silence_duration_ms, prefix_padding_ms, idle_timeout_ms)"),
    ("turn_detection: {type: vad}\n",
     "bad.yaml:3:24: unknown turn_detection type 'vad' (did you mean 'server_vad'? allowed: "
     "server_vad, manual)"),
    ("turn_detection: {type: manual, threshold: 0.5}\n",
     "bad.yaml:3:32: unknown key 'threshold' (allowed: type)"),
    ("audio: {input: {format: wav}}\n",
     "bad.yaml:3:25: unknown format 'wav' (did you mean 'pcm'? allowed: pcm, pcmu, pcma)"),
    ("audio: {input: {format: pcm, rate: 12000}}\n",
     "bad.yaml:3:36: unknown rate 12000 (allowed: 8000, 16000, 22050, 24000, 32000, 44100, "
     "48000)"),
    ("audio: {input: {format: pcmu, rate: 16000}}\n",
     "bad.yaml:3:37: pcmu audio is always 8000 Hz, got rate 16000 (remove 'rate:' or set it to "
     "8000)"),
    ("audio: {output: {format: pcma, rate: 24000}}\n",
     "bad.yaml:3:38: pcma audio is always 8000 Hz, got rate 24000 (remove 'rate:' or set it to "
     "8000)"),
    ("audio: {output: {speed: 2}}\n", "bad.yaml:3:25: speed must be between 0.7 and 1.5, got 2"),
    ("audio: {output: {speed: fast}}\n", "bad.yaml:3:25: speed must be a number, got 'fast'"),
    ("audio: {input: {speed: 1.2}}\n", "bad.yaml:3:17: 'speed' is not a key of 'input:'; it "
     "belongs under 'output:' (move it to 'output:')"),
    ("audio:\n  input:\n    transcription: {language_hint: english}\n",
     "bad.yaml:5:36: language_hint must be a language tag such as 'en' or 'en-US', got "
     "'english' (did you mean 'en'?)"),
    ("audio:\n  input:\n    transcription: {keyterms: [ok, '" + "x" * 51 + "']}\n",
     "bad.yaml:5:36: item 2 of keyterms must be at most 50 characters, got 51"),
    ("audio:\n  input:\n    transcription: {keyterms: [" + ", ".join(["k"] * 101) + "]}\n",
     "bad.yaml:5:31: keyterms must have at most 100 items, got 101"),
    ("audio: pcm\n", "bad.yaml:3:8: audio must be a mapping (key: value lines), got 'pcm'"),
    ("variables: {count: {type: integer, default: many}}\n",
     "bad.yaml:3:45: default must fit type integer: expected a whole number, got 'many'"),
    ("variables: {count: {type: int}}\n", "bad.yaml:3:27: unknown type 'int' (did you mean "
     "'integer'? allowed: string, integer, number, boolean)"),
    ("variables: {x: {required: true, default: 1}}\n",
     "bad.yaml:3:27: a required variable cannot have a default (remove 'default:' or "
     "'required: true')"),
    ("variables: {x: {from_env: 'MY-TOKEN'}}\n", "bad.yaml:3:27: 'MY-TOKEN' is not an "
     "environment variable name (use letters, digits and '_', e.g. CRM_TOKEN)"),
    ("variables: {x: {defualt: 1}}\n", "bad.yaml:3:17: unknown key 'defualt' (did you mean "
     "'default'? allowed: type, default, required, description, from_env)"),
    ("variables: {now: 1}\n",
     "bad.yaml:3:13: variable 'now' clashes with the built-in 'now' (choose another name)"),
    ("variables: {first-name: Ann}\n", "bad.yaml:3:13: 'first-name' cannot be a variable name "
     "(use letters, digits and '_', starting with a letter)"),
    ("variables: {x: [1, 2]}\n", "bad.yaml:3:16: default must be a single value (text, a "
     "number or true/false), got a list"),
    ("greeting: yes\n", "bad.yaml:3:11: greeting must be text, got true (put it in quotes)"),
    ("description: 42\n", "bad.yaml:3:14: description must be text, got 42 (put it in quotes)"),
    ("turn_detection: manual\n", "bad.yaml:3:17: turn_detection must be a mapping (key: value "
     "lines), got 'manual' (write turn_detection: {type: manual})"),
    ("audio: {input: {rate: '24000'}}\n",
     "bad.yaml:3:23: rate must be written without quotes, got '24000'"),
    ("tools: lookup_order\n", "bad.yaml:3:8: tools must be a list, got 'lookup_order' (write a "
     "list: tools: [lookup_order], or one '- item' line per item below it)"),
    ("tools:\n  - {name: lookup_order, timeout: soon}\n",
     "bad.yaml:4:35: timeout must be a duration like 5, '5s' or '500ms', got 'soon'"),
    ("tools:\n  - {name: lookup_order, timeout: 0}\n",
     "bad.yaml:4:35: timeout must be more than 0 and at most 3600, got 0"),
    ("tools:\n  - {name: lookup_order, confg: {}}\n", "bad.yaml:4:26: unknown key 'confg' (did "
     "you mean 'config'? allowed: name, as, description, timeout, config, allowed_x_handles, "
     "vector_store_ids, max_num_results, http, mcp)"),
    ("tools:\n  - {as: x}\n", "bad.yaml:4:5: missing required key 'name'"),
    ("tools:\n  - browse_page\n", "bad.yaml:4:5: 'browse_page' is reserved by Grok for its "
     "built-in tools (rename it, e.g. as: my_browse_page)"),
    ("tools:\n  - {name: search_tool, as: x_user_search}\n", "bad.yaml:4:29: 'x_user_search' "
     "is reserved by Grok for its built-in tools (rename it, e.g. as: my_x_user_search)"),
    ("tools:\n  - {name: my_tool, as: 'has space'}\n", "bad.yaml:4:25: 'has space' cannot be a "
     "tool name the model sees (use up to 64 letters, digits, '_' or '-')"),
    ("tools:\n  - file_search\n", "bad.yaml:4:5: file_search needs vector_store_ids (e.g. "
     "{name: file_search, vector_store_ids: [collection_123]})"),
    ("tools:\n  - {name: web_search, allowed_x_handles: [xai]}\n", "bad.yaml:4:43: "
     "'allowed_x_handles' only applies to the built-in tool x_search"),
    ("tools:\n  - {name: lookup_order, max_num_results: 3}\n", "bad.yaml:4:43: "
     "'max_num_results' only applies to the built-in tool file_search"),
    ("tools:\n  - {name: web_search, timeout: 5}\n",
     "bad.yaml:4:33: built-in tool web_search takes no 'timeout' (it runs on Grok's servers)"),
    ("tools:\n  - {name: x_search, config: {a: 1}}\n",
     "bad.yaml:4:30: built-in tool x_search takes no 'config' (it runs on Grok's servers)"),
    ("tools:\n  - {name: web_search, as: search}\n",
     "bad.yaml:4:28: built-in tool web_search takes no 'as' (it runs on Grok's servers)"),
    ("tools:\n  - {name: file_search, vector_store_ids: [c1], max_num_results: 0}\n",
     "bad.yaml:4:66: max_num_results must be at least 1, got 0"),
    ("tools:\n  - lookup_order\n  - {name: lookup_order}\n",
     "bad.yaml:5:12: tool name 'lookup_order' is used twice (also tool 1; rename one with as:)"),
    ("tools:\n  - {name: a_tool, as: b}\n  - {name: b}\n",
     "bad.yaml:5:12: tool name 'b' is used twice (also tool 1; rename one with as:)"),
]


@pytest.mark.parametrize(("extra", "expected"), BAD_FIELDS, ids=[b[0][:40] for b in BAD_FIELDS])
def test_each_bad_field_is_reported_at_its_value(problems: Problems, extra: str,
                                                 expected: str) -> None:
    assert problems(MINIMAL + extra) == [expected]


def test_missing_name_and_instructions_are_reported_at_the_top(problems: Problems) -> None:
    assert problems("voice: Ara\n") == [
        "bad.yaml:1:1: missing required key 'name'",
        "bad.yaml:1:1: missing required key 'instructions' (write the agent's instructions "
        "under 'instructions:' or name a file with 'instructions_file:')",
    ]


def test_a_custom_voice_needs_its_id(problems: Problems) -> None:
    assert problems(MINIMAL + "voice: {id: vc_1}\n") == [
        "bad.yaml:3:8: missing required key 'custom'",
        "bad.yaml:3:9: unknown key 'id' (allowed: custom)",
    ]


def test_empty_instructions(problems: Problems) -> None:
    assert problems("name: T\ninstructions:\n") == [
        "bad.yaml:2:14: instructions is empty (write what the agent should do after "
        "'instructions: |')"]


def test_empty_name_is_refused(problems: Problems) -> None:
    assert problems("name: '  '\ninstructions: hi\n") == ["bad.yaml:1:7: name must not be empty"]


def test_defaults_follow_the_reference(loaded: Loaded) -> None:
    spec = loaded(MINIMAL)
    assert (spec.model, spec.voice_id, spec.timezone, spec.greeting) == (
        "grok-voice-latest", "Ara", "UTC", None)
    assert spec.greeting_interruptible is True
    assert spec.turn_detection == ServerVad(threshold=0.85, silence_duration_ms=None,
                                            prefix_padding_ms=333, idle_timeout_ms=None)
    assert (spec.audio.input.format, spec.audio.input.rate) == ("pcm", 24000)
    assert (spec.audio.output.rate, spec.audio.output.speed) == (24000, 1.0)
    assert spec.audio.input.transcription.keyterms == []
    assert spec.tools == []


@pytest.mark.parametrize(("written", "wire"), [("ara", "Ara"), ("REX", "Rex"), (" eve", "Eve"),
                                               ("{custom: vc_123}", "vc_123")])
def test_voice_is_case_insensitive_and_custom_ids_are_explicit(loaded: Loaded, written: str,
                                                               wire: str) -> None:
    spec = loaded(MINIMAL + f"voice: {written!s}\n".replace("' eve'", "eve"))
    assert spec.voice_id == wire
    if wire == "vc_123":
        assert spec.voice == CustomVoice(custom="vc_123")


def test_g711_formats_default_to_8000(loaded: Loaded) -> None:
    spec = loaded(MINIMAL + "audio: {input: {format: pcmu}, output: {format: pcma, rate: 8000}}\n")
    assert (spec.audio.input.format, spec.audio.input.rate) == ("pcmu", 8000)
    assert (spec.audio.output.format, spec.audio.output.rate) == ("pcma", 8000)


def test_every_pcm_rate_of_the_reference_is_accepted(loaded: Loaded) -> None:
    for rate in (8000, 16000, 22050, 24000, 32000, 44100, 48000):
        assert loaded(MINIMAL + f"audio: {{output: {{rate: {rate}}}}}\n").audio.output.rate == rate


def test_manual_turns_and_type_defaulting_to_server_vad(loaded: Loaded) -> None:
    assert loaded(MINIMAL + "turn_detection: {type: manual}\n").turn_detection == ManualTurns(
        type="manual")
    vad = loaded(MINIMAL + "turn_detection: {silence_duration_ms: 0, threshold: 0.1}\n")
    assert vad.turn_detection == ServerVad(silence_duration_ms=0, threshold=0.1)


def test_variable_shorthand_infers_the_type(loaded: Loaded) -> None:
    spec = loaded(MINIMAL + "variables:\n  company: Acme\n  seats: 3\n  vip: false\n"
                  "  ratio: 0.5\n  note:\n")
    kinds = {name: (v.type, v.default) for name, v in spec.variables.items()}
    assert kinds == {"company": ("string", "Acme"), "seats": ("integer", 3),
                     "vip": ("boolean", False), "ratio": ("number", 0.5),
                     "note": ("string", None)}


def test_tool_entries(loaded: Loaded) -> None:
    spec = loaded(MINIMAL + "tools:\n  - lookup_order\n  - {name: create_ticket, as: "
                  "file_ticket, description: Open one., timeout: 500ms, config: {queue: b}}\n"
                  "  - {name: x_search, allowed_x_handles: [xai]}\n"
                  "  - {name: file_search, vector_store_ids: [c1], max_num_results: 5}\n"
                  "  - web_search\n  - {name: slow, timeout: 1m}\n  - {name: quick, timeout: 2}\n")
    first, ticket, x, files, web, slow, quick = spec.tools
    assert (first.tool, first.name, first.is_builtin, first.timeout) == (
        "lookup_order", "lookup_order", False, None)
    assert (ticket.tool, ticket.name, ticket.description, ticket.timeout, ticket.config) == (
        "create_ticket", "file_ticket", "Open one.", 0.5, {"queue": "b"})
    assert (x.is_builtin, x.allowed_x_handles) == (True, ["xai"])
    assert (files.vector_store_ids, files.max_num_results) == (["c1"], 5)
    assert web.is_builtin and web.name == "web_search"
    assert (slow.timeout, quick.timeout) == (60.0, 2.0)


def test_locations_of_nodes(loaded: Loaded) -> None:
    spec = loaded(MINIMAL + "tools:\n  - lookup_order\n  - name: web_search\n")
    assert spec.location(("tools", 0)) == (4, 5)
    assert spec.location(("tools", 1)) == (5, 5)
    assert spec.location(("tools", 1, "name")) == (5, 11)
    assert spec.location(("tools", 0, "config")) == (4, 5)  # not written: its nearest parent
    assert spec.location(("name",), key=True) == (1, 1)
    assert str(spec.path) == "good.yaml"


def test_all_problems_in_one_file_are_reported_at_once(problems: Problems) -> None:
    assert problems(
        "name: T\n"
        "voice: Aria\n"
        "instructions: Hello {{ compnay }}\n"
        "variables: {company: Acme}\n"
        "turn_detection: {threshold: 1.5, silence_duration: 3}\n"
        "audio: {output: {format: pcmu, rate: 16000}}\n"
        "tools: [browse_page, lookup_order, lookup_order]\n"
    ) == [
        "bad.yaml:2:8: unknown voice 'Aria' (did you mean 'Ara'? allowed: Ara, Rex, Sal, Eve, "
        "Leo)",
        "bad.yaml:3:15: instructions use 'compnay', which is not a declared variable (did you "
        "mean 'company'? declare it under variables:)",
        "bad.yaml:5:29: threshold must be between 0.1 and 0.9, got 1.5",
        "bad.yaml:5:34: unknown key 'silence_duration' (did you mean 'silence_duration_ms'? "
        "allowed: type, threshold, silence_duration_ms, prefix_padding_ms, idle_timeout_ms)",
        "bad.yaml:6:38: pcmu audio is always 8000 Hz, got rate 16000 (remove 'rate:' or set it "
        "to 8000)",
        "bad.yaml:7:9: 'browse_page' is reserved by Grok for its built-in tools (rename it, e.g. "
        "as: my_browse_page)",
        "bad.yaml:7:36: tool name 'lookup_order' is used twice (also tool 2; rename one with "
        "as:)",
    ]


@pytest.mark.parametrize(("written", "ms"), [
    ("1200", 1200), ("1200ms", 1200), ("'1200 ms'", 1200), ("1.2s", 1200), ("1.1s", 1100),
    ("2 seconds", 2000), ("0.1m", 6000), ("'1000'", 1000), ("3ms", 3)])
def test_every_duration_field_takes_the_same_spellings(loaded: Loaded, written: str,
                                                       ms: int) -> None:
    has_unit = any(unit in written for unit in ("s", "m"))
    # a bare 1000 seconds or more is refused as milliseconds: the seconds field gets a 100th
    timeout = written if has_unit else written.replace(str(ms), str(ms // 100))
    spec = loaded(MINIMAL + f"turn_detection: {{silence_duration_ms: {written}, "
                  f"prefix_padding_ms: {written}, idle_timeout_ms: {written}}}\n"
                  f"tools: [{{name: slow, timeout: {timeout}}}]\n")
    vad = spec.turn_detection
    assert isinstance(vad, ServerVad)
    assert (vad.silence_duration_ms, vad.prefix_padding_ms, vad.idle_timeout_ms) == (ms, ms, ms)
    seconds = ms / 1000 if has_unit else float(ms // 100)
    assert spec.tools[0].timeout == pytest.approx(seconds)
    assert isinstance(vad.silence_duration_ms, int)


def test_language_takes_a_locale_tag(loaded: Loaded) -> None:
    assert loaded(MINIMAL).language == "en"
    assert loaded(MINIMAL + "language: es-MX\n").language == "es-MX"
    assert loaded(MINIMAL + "language: pt_BR\n").language == "pt_BR"
