"""``agentrun tools`` and ``agentrun tools show`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
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
        "qualified_name": "agentrun-clock/current_time",
        "warnings": [],
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
    assert err == ("agentrun: warning: cannot load tool 'broken_tool' from acme-broken 0.3.0 "
                   "(entry point broken_tool = acme_broken:tool): import failed: ImportError: "
                   "needs libfoo\n")
    code, _, err = invoke("tools", "show", "broken_tool")
    assert code == 2 and err.startswith("agentrun: cannot load tool 'broken_tool' from "
                                        "acme-broken 0.3.0")


def test_help_shows_a_yaml_author_how_to_use_tools() -> None:
    code, out, _ = invoke("tools", "--help")
    assert code == 0
    assert "    - name: create_ticket\n" in out and "agentrun tools show lookup_order" in out
    code, out, _ = invoke("tools", "show", "--help")
    assert code == 0 and "agentrun tools show create_ticket" in out


def test_clashing_and_shadowing_names_are_listed_qualified_and_explained_once(
        plugins: PluginDir) -> None:
    plain = "def {0}(city: str) -> str:\n    \"\"\"Weather for a city.\"\"\"\n    return city\n"
    plugins.add("acme-a", "1.0", {"forecast": "acme_a:forecast",
                                  "web_search": "acme_a:web_search"},
                {"acme_a": plain.format("forecast") + plain.format("web_search")})
    plugins.add("acme-b", "2.0", {"forecast": "acme_b:forecast"},
                {"acme_b": plain.format("forecast")})
    code, out, err = invoke("tools")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()[1:]]
    assert {"acme-a/forecast", "acme-b/forecast", "acme-a/web_search", "web_search"} <= set(names)
    assert "forecast" not in names
    assert err == (
        "agentrun: warning: tool 'forecast' is provided by 2 installed plugins (acme-a 1.0, "
        "acme-b 2.0): write 'acme-a/forecast' or 'acme-b/forecast' under tools: to choose one\n"
        "agentrun: warning: acme-a 1.0 provides a tool named 'web_search', the name of Grok's "
        "built-in tool: '- web_search' in an agent file means the built-in; to use the plugin's, "
        "write '- {name: acme-a/web_search, as: acme_a_web_search}'\n")
    code, out, _ = invoke("tools", "show", "acme-b/forecast")
    assert code == 0 and out.startswith("forecast  (acme-b 2.0, entry point forecast = ")
    code, out, err = invoke("tools", "show", "forecast")
    assert (code, out) == (2, "")
    assert "write 'acme-a/forecast' or 'acme-b/forecast' under tools: to choose one" in err
    code, out, _ = invoke("tools", "show", "web_search")
    assert out == ("web_search: built-in tool, runs on the xAI server; list it under tools: "
                   "by name\n")


def test_a_tool_without_description_or_type_hints_is_warned_about(plugins: PluginDir) -> None:
    plugins.add("acme-bare", "0.1", {"bare": "acme_bare:bare"},
                {"acme_bare": "def bare(city, days: int = 1):\n    return city\n"})
    code, out, err = invoke("tools")
    assert code == 0 and any(line.startswith("bare ") for line in out.splitlines())
    assert err == (
        "agentrun: warning: tool 'bare' has no description, so the model has to guess when to "
        "use it (give the function a docstring, or write description: for it in the agent "
        "file)\n"
        "agentrun: warning: tool 'bare': parameter 'city' has no type hint, so the model is not "
        "told what to send (annotate it in the plugin, e.g. city: str)\n")
    code, _, shown = invoke("tools", "show", "bare")
    assert code == 0 and shown == err


def test_check_warns_about_weak_tools_without_failing(plugins: PluginDir, tmp_path: Path) -> None:
    plugins.add("acme-bare", "0.1", {"bare": "acme_bare:bare", "web_search": "acme_bare:bare"},
                {"acme_bare": "def bare(city, days: int = 1):\n    return city\n"})
    agent = tmp_path / "bare.yaml"
    agent.write_text("name: Bare\ninstructions: Help.\ntools:\n  - bare\n  - web_search\n")
    code, out, err = invoke("check", str(agent))
    assert (code, out) == (0, f"{agent}: ok\n")
    assert err == (
        f"{agent}:4:5: warning: tool 'bare' has no description, so the model has to guess when "
        "to use it (give the function a docstring, or write description: for it in the agent "
        "file)\n"
        f"{agent}:4:5: warning: tool 'bare': parameter 'city' has no type hint, so the model is "
        "not told what to send (annotate it in the plugin, e.g. city: str)\n"
        f"{agent}:5:5: warning: 'web_search' here is Grok's built-in tool, not the tool of that "
        "name from acme-bare 0.1 (to use the plugin's, write '- {name: acme-bare/web_search, as: "
        "acme_bare_web_search}')\n")


def test_tools_of_an_agent_without_tools_says_so(tmp_path: Path) -> None:
    # an empty table (a header and nothing) read as if listing had failed
    agent = tmp_path / "plain.yaml"
    agent.write_text("name: Plain\ninstructions: Help.\ntools: []\n")
    code, out, err = invoke("tools", "--agent", str(agent))
    assert (code, err) == (0, "")
    assert out == (f"{agent} gives its model no tools (add them under tools:; `agentrun tools` "
                   "lists the installed ones)\n")
