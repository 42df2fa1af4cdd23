"""Files that are not readable agent files: each problem located and said plainly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from agentrun.errors import SpecErrors
from agentrun.spec import AgentSpec, load_spec

Problems = Callable[..., list[str]]


@pytest.mark.parametrize(("content", "expected"), [
    ("", "bad.yaml: the file is empty (an agent file needs at least 'name:' and 'instructions:'; "
         "run 'agentrun new NAME' for a starter)"),
    ("# just a comment\n\n", "bad.yaml: the file is empty (an agent file needs at least 'name:' "
     "and 'instructions:'; run 'agentrun new NAME' for a starter)"),
    ("- name: T\n", "bad.yaml:1:1: the agent file must be a mapping of keys, not a list (start "
     "with lines like 'name: My agent')"),
    ("hello\n", "bad.yaml:1:1: the agent file must be a mapping of keys, not a single value "
     "(start with lines like 'name: My agent')"),
    ("name: T\ninstructions: hi\nvoice: [Ara\n", "bad.yaml:3:8: YAML syntax error: this '[' is "
     "never closed (close it with ']', or put the value in quotes if it is text)"),
    ("name: T\ninstructions: hi\ngreeting: Note: hi\n", "bad.yaml:3:15: YAML syntax error: "
     "a ':' here that cannot start a value (put a value that contains ': ' in quotes, or fix "
     "the indentation: a key lines up with the keys above it)"),
    ("name: T\n---\nname: U\n", "bad.yaml:2:1: YAML syntax error: the file holds more than one "
     "YAML document ('---') (an agent file is one document; remove the extra '---' part)"),
    ("name: T\ninstructions: hi\nvoice: *nope\n", "bad.yaml:3:8: YAML syntax error: '*nope' "
     "uses an anchor '&nope' that is not defined above it (define the anchor with '&name' "
     "before using '*name')"),
    ("name: T\ninstructions: hi\nturn_detection:\n\tthreshold: 0.5\n", "bad.yaml:4:1: tab "
     "character used for indentation (YAML indents with spaces only; replace the tab with "
     "spaces)"),
    ("name: T\ninstructions: hi\nvoice:\tAra\n", "bad.yaml:3:7: YAML syntax error: a tab "
     "character where YAML expects spaces (replace the tab with spaces)"),
    ("name: T\ninstructions: hi\nvoice: Ara\nvoice: Rex\n", "bad.yaml:4:1: duplicate key "
     "'voice' (it is already set on line 3; keep one of them)"),
    ("name: T\ninstructions: hi\naudio:\n  input: {format: pcm, format: pcmu}\n",
     "bad.yaml:4:24: duplicate key 'format' (it is already set on line 4; keep one of them)"),
    ("a: &a [*a]\n", "bad.yaml:1:4: an alias refers to itself (remove the recursive '*' alias)"),
    ("name: T\ninstructions: hi\x07\n", "bad.yaml:2:17: the file contains a control character "
     "(#x0007) that YAML does not allow (delete it; most editors do not show it)"),
    # a list item indented deeper than the one above it: YAML folds it into that item's text
    ("name: T\ninstructions: hi\ntools:\n- lookup_order\n  - create_ticket\n",
     "bad.yaml:5:3: this '- create_ticket' is indented deeper than the item above it, so YAML "
     "read both as one item, 'lookup_order - create_ticket' (start every '- ' of a list at the "
     "same column)"),
    ("name: T\ninstructions: hi\naudio:\n  input:\n    transcription:\n      keyterms:\n"
     "        - Acme\n          - order number\n",
     "bad.yaml:8:11: this '- order number' is indented deeper than the item above it, so YAML "
     "read both as one item, 'Acme - order number' (start every '- ' of a list at the same "
     "column)"),
])
def test_unreadable_yaml(problems: Problems, content: str, expected: str) -> None:
    assert problems(content) == [expected]


# PyYAML's own words (expected <block end>, but found '?' ...) never reach the author
@pytest.mark.parametrize(("content", "expected"), [
    ("name: T\ntools:\n  - lookup_order\n  instructions: hi\n", "bad.yaml:4:3: a key here is "
     "not in line with the list items above it (check the indentation of line 4: a key of the "
     "last item lines up with that item's first key, after its '- '; a key after the list "
     "lines up with the key that holds the list)"),
    ("name: T\ntools:\n  - name: lookup_order\n   timeout: 5s\n", "bad.yaml:4:4: a key here "
     "is not in line with the list items above it (check the indentation of line 4: a key of "
     "the last item lines up with that item's first key, after its '- '; a key after the list "
     "lines up with the key that holds the list)"),
    ("name: T\naudio:\n    input: {format: pcm}\n  output: {format: pcm}\n", "bad.yaml:4:3: "
     "a key here is not in line with the keys above it (check the indentation of line 4: the "
     "keys of one mapping start at the same column)"),
    ("name: T\ntools:\n  lookup_order: {}\n  - create_ticket\n", "bad.yaml:4:3: a list item "
     "('- ') here, among keys (check the indentation of line 4: indent it under the key that "
     "holds the list, or line it up with the other '- ' items)"),
    ("name: T\ntools:\n    - lookup_order\n  - create_ticket\n", "bad.yaml:4:3: a list here "
     "is not in line with the lines above it (check the indentation of line 4: every '- ' of "
     "one list starts at the same column)"),
    ("name: 'Ann' Smith\n", "bad.yaml:1:13: more text after a complete value (a value that "
     "goes on after a closing quote or bracket needs quotes around all of it; else check the "
     "indentation of line 1)"),
    ("name: T\ntools: - lookup_order\n", "bad.yaml:2:8: a list item ('- ') cannot start on "
     "the same line as its key (put the item on the next line, indented under the key, or "
     "quote the value if the '-' is text)"),
    ("name: T\ninstructions\nvoice: Ara\n", "bad.yaml:2:1: this line has no ':' after its key "
     "(write 'key: value'; text that continues the value above is indented under its key)"),
    ('name: T\ninstructions: "Order numbers look like \\d+"\n', "bad.yaml:2:41: '\\d' is not "
     "an escape YAML knows inside double quotes (use single quotes, where a backslash is plain "
     "text: '\\d'; or double the backslash: \"\\\\d\")"),
    ("name: 'T\ninstructions: hi\n", "bad.yaml:1:7: this quote is never closed (end the value "
     "with the same quote; a ' inside single quotes is written '')"),
    ("name: T\ninstructions: @company\n", "bad.yaml:2:15: a value cannot start with '@' (put "
     "the value in quotes)"),
    ("name: T\naudio: {input: {format: pcm} output: {}}\n", "bad.yaml:2:30: inside { } the "
     "entries are separated by commas (add a ',' before this or close with '}'; quote a value "
     "that holds ', ' or ': ')"),
])
def test_yaml_syntax_in_plain_words(problems: Problems, content: str, expected: str) -> None:
    place, _, said = expected.partition(": ")
    assert problems(content) == [f"{place}: YAML syntax error: {said}"]


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['echo pwned']",
    "!!python/object:collections.OrderedDict {}",
    "!!python/name:os.system",
])
def test_python_tags_are_refused_and_build_nothing(problems: Problems, tag: str) -> None:
    shown_tag = tag.split()[0]
    assert problems(f"name: {tag}\ninstructions: hi\n") == [
        f"bad.yaml:1:7: YAML tag '{shown_tag}' is not allowed (agent files hold plain text, "
        "numbers, lists and mappings)"]


def test_other_tags_are_refused_too(problems: Problems) -> None:
    assert problems("name: T\ninstructions: hi\ngreeting: !!binary aGk=\nvoice: !custom x\n") == [
        "bad.yaml:3:11: YAML tag '!!binary' is not allowed (agent files hold plain text, "
        "numbers, lists and mappings)",
        "bad.yaml:4:8: YAML tag '!custom' is not allowed (agent files hold plain text, numbers, "
        "lists and mappings)",
    ]


def test_an_alias_bomb_is_stopped(problems: Problems) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in "bcdef":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 10) + "]")
    assert problems("\n".join(lines) + "\n") == [
        "bad.yaml:1:35: the file is too large or repeats aliases ('*') too often"]


def test_anchors_and_merge_keys_work(loaded: Callable[[str], AgentSpec]) -> None:
    spec = loaded("name: T\ninstructions: hi\n"
                  "audio:\n  input: &fmt {format: pcmu}\n  output: {<<: *fmt, speed: 1.2}\n")
    assert spec.audio.output.format == "pcmu"
    assert spec.audio.output.speed == 1.2


def test_dates_stay_text(loaded: Callable[[str], AgentSpec]) -> None:
    spec = loaded("name: T\ninstructions: hi\nvariables: {opening: 2026-01-05}\n")
    assert spec.variables["opening"].default == "2026-01-05"


def test_invalid_utf8_names_the_line(problems: Problems) -> None:
    assert problems(b"name: T\ninstructions: caf\xe9\n") == [
        "bad.yaml:2:18: the file is not valid UTF-8 text (byte 0xe9) (save the file as UTF-8 in "
        "your editor)"]


def test_binary_file(problems: Problems) -> None:
    assert problems(b"\x7fELF\x02\x01\x00\x00") == [
        "bad.yaml:1: this is not a text file (it contains NUL bytes) (an agent file is YAML text)"]


def test_a_byte_order_mark_is_fine(agent_dir: Path) -> None:
    (agent_dir / "bom.yaml").write_bytes(b"\xef\xbb\xbfname: T\ninstructions: hi\n")
    assert load_spec("bom.yaml").name == "T"


def test_missing_file_and_directory(agent_dir: Path) -> None:
    with pytest.raises(SpecErrors) as missing:
        load_spec("nope.yaml")
    assert str(missing.value) == "nope.yaml: file not found (check the path and the spelling)"
    (agent_dir / "agents").mkdir()
    with pytest.raises(SpecErrors) as directory:
        load_spec("agents")
    assert str(directory.value) == ("agents: is a directory, not an agent file (name a .yaml "
                                    "file, e.g. agents/support.yaml)")


def test_devices_and_huge_files_are_not_read(agent_dir: Path) -> None:
    with pytest.raises(SpecErrors) as device:
        load_spec("/dev/zero")
    assert str(device.value) == "/dev/zero: is not a regular file (name a .yaml file)"
    with (agent_dir / "huge.yaml").open("wb") as handle:
        handle.truncate(10_000_001)
    with pytest.raises(SpecErrors) as huge:
        load_spec("huge.yaml")
    assert str(huge.value) == ("huge.yaml: is too large for an agent file (10000001 bytes) "
                               "(agent files are at most 10 MB)")


def test_deep_nesting_is_an_error_not_a_crash(problems: Problems) -> None:
    assert problems("name: T\ninstructions: hi\nx: " + "[" * 3000 + "]" * 3000 + "\n") == [
        "bad.yaml: the file nests lists or mappings too deeply (agent files need at most 50 "
        "levels)"]
    assert problems("name: T\ninstructions: hi\nx: " + "[" * 60 + "]" * 60 + "\n") == [
        "bad.yaml:3:54: lists or mappings nest too deeply here (agent files need at most 50 "
        "levels)"]
