"""ToolRegistry.for_spec with real agent files, real entry points and plugins made on the fly."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentrun.spec import AgentSpec
from agentrun.tools import ToolRegistry

if TYPE_CHECKING:
    from conftest import PluginDir

Agent = Callable[[str], AgentSpec]

FORECAST = '''
def forecast(city: str, days: int = 1) -> dict:
    """Weather forecast for a city.

    Args:
        city: City name.
        days: Days ahead.
    """
    return {"city": city, "days": days, "sky": "sunny"}
'''


def problems(registry: ToolRegistry) -> list[str]:
    return [str(p) for p in registry.problems]


def call(registry: ToolRegistry, name: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    result = asyncio.run(registry.call(name, json.dumps(arguments), call_id="c1"))
    return result.ok, json.loads(result.output)


def test_the_real_example_plugin_runs_through_yaml_overrides(agent: Agent, tmp_path: Path
                                                               ) -> None:
    database = tmp_path / "orders.db"
    spec = agent(f"""
        - name: lookup_order
          as: find_order
          description: Find an order by its number.
          timeout: 2s
          config: {{database: "{database}"}}
        - current_time
        """)
    registry = ToolRegistry.for_spec(spec)
    assert problems(registry) == []
    assert registry.function_names == frozenset({"find_order", "current_time"})
    schema = registry.function_schemas()[0]
    assert (schema["name"], schema["description"]) == ("find_order",
                                                       "Find an order by its number.")
    assert registry.tools["find_order"].timeout == 2.0
    ok, row = call(registry, "find_order", {"order_id": "4321"})
    assert ok and (row["status"], row["delivered_on"] is not None) == ("delivered", True)
    assert database.exists()
    ok, answer = call(registry, "lookup_order", {"order_id": "4321"})
    assert not ok and answer["error"].startswith("unknown tool 'lookup_order'")


def test_only_the_named_plugins_are_imported(plugins: PluginDir, agent: Agent) -> None:
    plugins.add("acme-weather", "1.2.0", {"forecast": "acme_weather:forecast"},
                {"acme_weather": FORECAST})
    plugins.add("acme-heavy", "0.1.0", {"heavy": "acme_heavy:heavy"},
                {"acme_heavy": "raise RuntimeError('imported although nobody named it')"})
    registry = ToolRegistry.for_spec(agent("- forecast"))
    assert problems(registry) == []
    assert "acme_weather" in sys.modules and "acme_heavy" not in sys.modules
    assert call(registry, "forecast", {"city": "Oslo"}) == (
        True, {"city": "Oslo", "days": 1, "sky": "sunny"})


def test_a_plugin_that_fails_to_import_is_one_located_line_and_others_still_work(
        plugins: PluginDir, agent: Agent) -> None:
    plugins.add("acme-broken", "0.3.0", {"broken_tool": "acme_broken:tool"},
                {"acme_broken": "import not_a_real_module_xyz\n"})
    plugins.add("acme-weather", "1.2.0", {"forecast": "acme_weather:forecast"},
                {"acme_weather": FORECAST})
    spec = agent("""
        - broken_tool
        - forecast
        """)
    registry = ToolRegistry.for_spec(spec)
    assert problems(registry) == [
        f"{spec.path}:4:5: cannot load tool 'broken_tool' from acme-broken 0.3.0 (entry point "
        "broken_tool = acme_broken:tool): import failed: ModuleNotFoundError: No module named "
        "'not_a_real_module_xyz'"]
    assert registry.function_names == frozenset({"forecast"})
    assert call(registry, "forecast", {"city": "Rome", "days": 2})[0]


def test_entry_points_naming_nothing_callable_or_nothing_at_all(plugins: PluginDir,
                                                                agent: Agent) -> None:
    plugins.add("acme-odd", "2.0.0", {"constant": "acme_odd:LIMIT", "ghost": "acme_odd:ghost"},
                {"acme_odd": "LIMIT = 3\n"})
    spec = agent("""
        - constant
        - ghost
        """)
    assert problems(ToolRegistry.for_spec(spec)) == [
        f"{spec.path}:4:5: cannot load tool 'constant' from acme-odd 2.0.0 (entry point "
        "constant = acme_odd:LIMIT): acme_odd:LIMIT is not callable (type int)",
        f"{spec.path}:5:5: cannot load tool 'ghost' from acme-odd 2.0.0 (entry point "
        "ghost = acme_odd:ghost): import failed: AttributeError: module 'acme_odd' has no "
        "attribute 'ghost'",
    ]


def test_two_distributions_providing_one_name_is_a_clash(plugins: PluginDir,
                                                         agent: Agent) -> None:
    plugins.add("acme-b", "2.0.0", {"forecast": "acme_b:forecast"}, {"acme_b": FORECAST})
    plugins.add("acme-a", "1.0.0", {"forecast": "acme_a:forecast", "other": "acme_a:forecast"},
                {"acme_a": FORECAST})
    spec = agent("""
        - forecast
        - other
        """)
    registry = ToolRegistry.for_spec(spec)
    assert problems(registry) == [
        f"{spec.path}:4:5: tool 'forecast' is provided by 2 installed plugins (acme-a 1.0.0, "
        "acme-b 2.0.0): write 'acme-a/forecast' or 'acme-b/forecast' under tools: to choose one"]
    assert registry.function_names == frozenset({"other"})


def test_a_distribution_qualified_name_picks_one_of_two_providers(plugins: PluginDir,
                                                                  agent: Agent) -> None:
    plugins.add("acme-b", "2.0.0", {"forecast": "acme_b:forecast"},
                {"acme_b": FORECAST.replace('"sunny"', '"from b"')})
    plugins.add("acme-a", "1.0.0", {"forecast": "acme_a:forecast"}, {"acme_a": FORECAST})
    spec = agent("""
        - acme-b/forecast
        - {name: Acme_A/forecast, as: forecast_a}
        """)
    registry = ToolRegistry.for_spec(spec)
    assert problems(registry) == []
    assert registry.function_names == frozenset({"forecast", "forecast_a"})  # what the model sees
    assert call(registry, "forecast", {"city": "Oslo"})[1]["sky"] == "from b"
    assert call(registry, "forecast_a", {"city": "Oslo"})[1]["sky"] == "sunny"


def test_a_qualified_name_of_the_wrong_distribution_says_who_provides_it(
        plugins: PluginDir, agent: Agent) -> None:
    plugins.add("acme-a", "1.0.0", {"forecast": "acme_a:forecast"}, {"acme_a": FORECAST})
    spec = agent("- acme-z/forecast\n")
    assert problems(ToolRegistry.for_spec(spec)) == [
        f"{spec.path}:4:5: the plugin 'acme-z' provides no tool 'forecast' (it is provided by "
        "'acme-a/forecast')"]


def test_a_plugin_named_like_a_built_in_is_pointed_out_where_the_built_in_is_used(
        plugins: PluginDir, agent: Agent) -> None:
    plugins.add("acme-search", "1.0", {"web_search": "acme_search:forecast"},
                {"acme_search": FORECAST})
    spec = agent("- web_search\n")
    registry = ToolRegistry.for_spec(spec)
    assert problems(registry) == []
    assert [str(w) for w in registry.warnings] == [
        f"{spec.path}:4:5: 'web_search' here is Grok's built-in tool, not the tool of that name "
        "from acme-search 1.0 (to use the plugin's, write '- {name: acme-search/web_search, as: "
        "acme_search_web_search}')"]
    chosen = agent("""
        - web_search
        - {name: acme-search/web_search, as: my_search}
        """)
    registry = ToolRegistry.for_spec(chosen)
    assert (problems(registry), registry.warnings) == ([], [])
    assert registry.function_names == frozenset({"my_search"})


def test_undescribed_and_untyped_tools_are_warnings_not_problems(plugins: PluginDir,
                                                                 agent: Agent) -> None:
    plugins.add("acme-bare", "0.1", {"bare": "acme_bare:bare"},
                {"acme_bare": "def bare(city, days: int = 1):\n    return city\n"})
    spec = agent("- bare\n")
    registry = ToolRegistry.for_spec(spec)
    assert problems(registry) == [] and registry.function_names == frozenset({"bare"})
    assert [str(w) for w in registry.warnings] == [
        f"{spec.path}:4:5: tool 'bare' has no description, so the model has to guess when to "
        "use it (give the function a docstring, or write description: for it in the agent file)",
        f"{spec.path}:4:5: tool 'bare': parameter 'city' has no type hint, so the model is not "
        "told what to send (annotate it in the plugin, e.g. city: str)"]
    described = agent("- {name: bare, description: Echo a city.}\n")
    assert [str(w) for w in ToolRegistry.for_spec(described).warnings] == [
        f"{spec.path}:4:5: tool 'bare': parameter 'city' has no type hint, so the model is not "
        "told what to send (annotate it in the plugin, e.g. city: str)"]


def test_a_name_nobody_provides_suggests_installed_names(agent: Agent) -> None:
    spec = agent("""
        - web_search
        - lookup_ordr
        - zzz_nothing_like_it
        """)
    assert problems(ToolRegistry.for_spec(spec)) == [
        f"{spec.path}:5:5: no installed plugin provides 'lookup_ordr' "
        "(did you mean 'lookup_order'?)",
        f"{spec.path}:6:5: no installed plugin provides 'zzz_nothing_like_it' "
        "(run `agentrun tools` to list installed tools)",
    ]


def test_built_ins_run_on_the_server_and_are_not_plugin_tools(agent: Agent) -> None:
    spec = agent("""
        - web_search
        - {name: x_search, allowed_x_handles: [xai]}
        """)
    registry = ToolRegistry.for_spec(spec)
    assert (problems(registry), registry.function_schemas()) == ([], [])


def test_the_config_block_is_validated_at_each_keys_line(plugins: PluginDir, agent: Agent,
                                                         tmp_path: Path) -> None:
    plugins.add("acme-weather", "1.2.0", {"forecast": "acme_weather:forecast"},
                {"acme_weather": FORECAST})
    spec = agent("""
        - current_time
        - name: create_ticket
          config:
            database: [not, a, path]
        - name: forecast
          config: {units: metric}
        """)
    assert problems(ToolRegistry.for_spec(spec)) == [
        f"{spec.path}:7:7: tool 'create_ticket': config database: Input is not a "
        "valid path",
        f"{spec.path}:8:5: tool 'forecast': takes no config (it has no ToolContext parameter); "
        "remove its config: block",
    ]


def test_a_misspelt_config_key_is_named_with_a_suggestion(agent: Agent) -> None:
    spec = agent("""
        - name: lookup_order
          config: {databse: orders.db}
        """)
    assert problems(ToolRegistry.for_spec(spec)) == [
        f"{spec.path}:5:14: tool 'lookup_order': unknown config key 'databse' "
        "(did you mean 'database'? allowed: database)",
    ]


@dataclass
class _Ref:
    tool: str
    name: str = ""
    description: str | None = None
    timeout: float | None = None
    config: dict[str, Any] = field(default_factory=dict)
    is_builtin: bool = False


@dataclass
class _Spec:
    """A stand-in for what load_spec already refuses (duplicate or reserved names)."""

    tools: list[_Ref]
    path: Path | None = None

    def location(self, path: tuple[Any, ...]) -> tuple[int, int] | None:
        return (10 + path[1], 3)


def test_names_the_model_cannot_use_are_problems_even_without_spec_checks() -> None:
    spec = _Spec([
        _Ref("web_search", "web_search", is_builtin=True),
        _Ref("current_time", "browse_page"),
        _Ref("current_time", "now"),
        _Ref("add_to_date", "now"),
    ])
    assert problems(ToolRegistry.for_spec(spec)) == [
        "<agent>:11:3: tool name 'browse_page' is reserved by the built-in 'web_search' "
        "(rename it with `as:`; the server fails the first response otherwise)",
        "<agent>:13:3: two tools are named 'now' for the model (rename one with `as:`)",
    ]
