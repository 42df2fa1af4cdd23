"""``agentrun tools`` and ``agentrun tools show`` through click's CliRunner."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from agentrun.cli import main
from click.testing import CliRunner

if TYPE_CHECKING:
    from conftest import PluginDir


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_tools_lists_every_installed_tool_as_a_table() -> None:
    code, out, err = invoke("tools")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "DISTRIBUTION", "VERSION", "DESCRIPTION", "PARAMETERS"]
    lookup = next(line for line in lines if line.startswith("lookup_order "))
    assert lookup.split()[1:3] == ["agentrun-orders", "0.1.0"]
    assert "Look up an order: its status" in lookup
    assert lookup.endswith("order_id: string")
    ticket = next(line for line in lines if line.startswith("create_ticket "))
    assert ticket.endswith("summary: string, priority?: low|normal|high, order_id?: string")
    assert any(line.split()[:2] == ["web_search", "built-in"] for line in lines)


def test_tools_json_is_one_object_per_tool() -> None:
    code, out, _ = invoke("tools", "--json")
    entries = {e["name"]: e for e in json.loads(out)}
    assert code == 0
    assert entries["current_time"] == {
        "name": "current_time",
        "distribution": "agentrun-clock",
        "version": "0.1.0",
        "entry_point": "agentrun_clock:current_time",
        "description": "The current date, time and weekday in a timezone.",
        "parameters": {
            "type": "object",
            "properties": {"timezone": {
                "default": "UTC",
                "description": 'IANA timezone name such as "Europe/Berlin" or '
                               '"America/New_York".',
                "type": "string"}},
            "required": [],
        },
        "config": None,
        "problem": None,
    }
    assert entries["lookup_order"]["config"]["properties"]["database"]["type"] == "string"


def test_show_prints_the_schema_and_config_options() -> None:
    code, out, _ = invoke("tools", "show", "lookup_order")
    assert code == 0
    assert out.startswith("lookup_order  (agentrun-orders 0.1.0, entry point lookup_order = "
                          "agentrun_orders:lookup_order)\n")
    schema_text = out.split("What the model sees (session.tools[] entry):\n")[1].split("\n\n")[0]
    assert json.loads(schema_text)["parameters"]["required"] == ["order_id"]
    assert "Config options (the tool's `config:` block in an agent file):\n  database: string, " \
           "optional. SQLite file with the orders" in out


def test_show_json_and_a_tool_without_config() -> None:
    code, out, _ = invoke("tools", "show", "add_to_date", "--json")
    entry = json.loads(out)
    assert code == 0 and entry["config"] is None
    assert entry["parameters"]["required"] == ["date"]
    _, text, _ = invoke("tools", "show", "add_to_date")
    assert "  none (the tool has no ToolContext parameter; a config: block is an error)" in text


def test_show_an_unknown_name_suggests_the_closest() -> None:
    code, out, err = invoke("tools", "show", "lookup_ordr")
    assert (code, out) == (2, "")
    assert err == ("agentrun: no installed plugin provides 'lookup_ordr' (did you mean "
                   "'lookup_order'?)\n")


def test_broken_plugins_are_reported_not_fatal(plugins: PluginDir) -> None:
    plugins.add("acme-broken", "0.3.0", {"broken_tool": "acme_broken:tool"},
                {"acme_broken": "raise ImportError('needs libfoo')\n"})
    code, out, err = invoke("tools")
    assert code == 0 and "lookup_order" in out and "broken_tool" not in out
    assert err == ("problem: cannot load tool 'broken_tool' from acme-broken 0.3.0 (entry point "
                   "broken_tool = acme_broken:tool): import failed: ImportError: needs libfoo\n")
    code, _, err = invoke("tools", "show", "broken_tool")
    assert code == 2 and err.startswith("agentrun: cannot load tool 'broken_tool' from "
                                        "acme-broken 0.3.0")


def test_help_shows_a_yaml_author_how_to_use_tools() -> None:
    code, out, _ = invoke("tools", "--help")
    assert code == 0
    assert "    - name: create_ticket\n" in out and "agentrun tools show lookup_order" in out
    code, out, _ = invoke("tools", "show", "--help")
    assert code == 0 and "agentrun tools show create_ticket" in out
