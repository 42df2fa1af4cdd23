"""The starter test file ``agentrun new`` writes next to its starter agent.

It passes ``agentrun test`` against that agent offline, and its expectations are ones a live
model can meet too (``agentrun test --live``), so an author starts from something green and
sees every kind of line a test file holds. Imports nothing of ours.
"""

from __future__ import annotations

import contextlib
import json
import shlex
from pathlib import Path

__all__ = ["starter_test"]

_STARTER = """\
{modeline}# Conversation tests for {agent}. Run them:  agentrun test {test}
# Offline (the default) the simulator plays the model as the `model:` lines say, so the tests
# check your configuration, templates, variables and tools. `agentrun test --live` asks Grok
# instead: the model lines are ignored and the expectations become the evaluation.

agent: {agent}
# variables: {{company: Example Inc}}     # values for the agent's template variables
# mocks:                                # stand-ins for tools; tools without one run for real
#   lookup_order: {{result: {{found: true, status: shipped}}}}
#   create_ticket: {{error: the ticket system is down}}

scenarios:
  - name: greets the caller
    expect:
      greeting: How can I help          # the greeting contains these words (case ignored)

  - name: says who it works for
    turns:
      - say: Hello, who am I speaking with?
        model: {model}   # offline: what the model says
        expect:
          reply: Example Inc            # or {{contains: …}}, {{matches: REGEX}}, {{excludes: …}}
          no_tool: true
          latency_under: 5s

  # With a tool, script the model's call and check it:
  #   - name: looks up an order
  #     turns:
  #       - say: Where is my order 1234?
  #         model: {{call: lookup_order, arguments: {{order_id: "1234"}}}}
  #         expect:
  #           tool: {{name: lookup_order, arguments: {{order_id: "1234"}}, output: shipped}}
  #           reply: shipped
  #       - audio: where-is-my-order.wav  # a spoken turn: a WAV file next to this one
"""


def starter_test(agent_file: Path, modeline: str = "") -> str:
    """The text of the starter test for the starter agent at ``agent_file``.

    Args:
        agent_file: the agent file ``new`` writes (the test sits next to it).
        modeline: the ``# yaml-language-server: $schema=…`` line (with its newline), or "".

    Returns:
        The YAML text.
    """
    title = agent_file.stem.replace("-", " ").replace("_", " ").strip().title() or "My Agent"
    test = agent_file.with_name(agent_file.stem + ".test.yaml")
    return _STARTER.format(modeline=modeline, agent=_scalar(agent_file.name),
                           test=shlex.quote(str(test)),
                           model=_scalar(f"This is {title}, the assistant of Example Inc."))


def _scalar(text: str) -> str:
    """``text`` as a YAML value on one line: as it is when YAML reads it back unchanged (a
    ``#`` after a space, a ``: `` or a leading ``*`` would change it), else quoted."""
    import yaml

    with contextlib.suppress(yaml.YAMLError):  # not plain YAML: quote it below
        if yaml.safe_load(f"k: {text}") == {"k": text}:
            return text
    return json.dumps(text, ensure_ascii=False)
