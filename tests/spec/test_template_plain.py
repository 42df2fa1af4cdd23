"""Plain instructions skip Jinja: same text out, no Jinja import, no Jinja checks to fail."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from agentrun.spec import load_spec, render_instructions
from agentrun.spec._template import _compile, is_plain, plain

PIECES = ["Hello", " ", "\n", "\r\n", "\r", "\t", "}}", "%}", "#}", "{", "}", "{ {", "% }",
          "#", "%", "\u00a0", "\u2028", "\x0b", "é", "'", '"', "\\", "raw", "endraw", ""]


def jinja_render(source: str) -> str:
    """What render_instructions returned when every template went through Jinja."""
    return _compile(source).render({}).strip()


@pytest.mark.parametrize("source", ["", "\n", "Be kind.\n", "a\r\nb\rc\n\n", "  x  \n\n\n",
                                     "100% sure } of {it}", "trailing\r", "{ {x} }"])
def test_plain_text_renders_as_jinja_would(source: str) -> None:
    assert is_plain(source)
    assert plain(source) == jinja_render(source)


def test_random_plain_text_renders_as_jinja_would() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        source = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))
        if is_plain(source):
            assert plain(source) == jinja_render(source), repr(source)


@pytest.mark.parametrize("source", ["{{ x }}", "a {% if 1 %}b{% endif %}", "{# note #}",
                                    "{%- raw -%}{%- endraw -%}"])
def test_any_tag_makes_it_a_template(source: str) -> None:
    assert not is_plain(source)


def test_a_plain_agent_loads_and_renders_without_importing_jinja(tmp_path: Path) -> None:
    agent = tmp_path / "plain.yaml"
    agent.write_text("name: T\ninstructions: |\n  Be brief.\r\n  Say 100% of it.\n",
                     encoding="utf-8")
    code = ("import sys; from agentrun.spec import load_spec, render_instructions; "
            f"print(repr(render_instructions(load_spec({str(agent)!r})))); "
            "print('jinja2' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.splitlines() == [repr(render_instructions(load_spec(agent))), "False"]
    assert render_instructions(load_spec(agent)) == jinja_render(load_spec(agent).template)
