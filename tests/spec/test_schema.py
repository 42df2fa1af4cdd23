"""The committed JSON Schema and YAML reference are generated from the models and stay in sync."""

from __future__ import annotations

import json
from pathlib import Path

import agentrun.spec
import pydantic
import pytest
from agentrun.spec import AgentSpec, _models, json_schema, markdown_reference

ROOT = Path(__file__).resolve().parents[2]
MODELS = [getattr(_models, name) for name in _models.__all__]


def test_committed_schema_is_the_generated_one() -> None:
    committed = (ROOT / "agentrun.schema.json").read_text(encoding="utf-8")
    assert committed == json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", (
        "run: agentrun schema > agentrun.schema.json")


def test_committed_reference_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "agent-file.md").read_text(encoding="utf-8")
    assert committed == markdown_reference(), "run: agentrun schema --markdown > docs/agent-file.md"


def test_schema_header_and_top_level() -> None:
    schema = json_schema()
    assert list(schema)[:2] == ["$schema", "title"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["name"]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {f.alias or n for n, f in AgentSpec.model_fields.items()}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_has_a_description_and_an_example(model: type[pydantic.BaseModel]) -> None:
    assert model.model_config.get("extra") == "forbid"
    for name, info in model.model_fields.items():
        assert info.description, f"{model.__name__}.{name} has no description"
        assert info.examples, f"{model.__name__}.{name} has no examples"


def test_every_example_value_validates() -> None:
    # The examples shown in the docs must themselves be accepted by the loader.
    for example in AgentSpec.model_fields["voice"].examples or []:
        assert AgentSpec.model_validate({"name": "T", "instructions": "x", "voice": example})
    for key in ("turn_detection", "audio", "tools", "variables", "timezone"):
        for example in AgentSpec.model_fields[key].examples or []:
            AgentSpec.model_validate({"name": "T", "instructions": "x", key: example})


def test_the_schema_accepts_the_shorthands() -> None:
    defs = json_schema()["$defs"]
    bare_name = {"type": "string", "examples": ["lookup_order", "web_search"]}
    assert bare_name in defs["ToolRef"]["anyOf"]
    assert {"type": ["string", "number", "boolean", "null"]} in defs["Variable"]["anyOf"]
    voice = json_schema()["properties"]["voice"]
    assert {"enum": ["Ara", "Rex", "Sal", "Eve", "Leo"]} in voice["oneOf"][0]["anyOf"]
    assert {"$ref": "#/$defs/CustomVoice"} in voice["oneOf"]


def test_public_names() -> None:
    assert sorted(agentrun.spec.__all__) == sorted([
        "AgentSpec", "Audio", "AudioInput", "AudioOutput", "BUILTIN_TOOLS", "CustomVoice",
        "HttpCall", "HttpResponse", "ManualTurns", "McpServer", "RESERVED_FUNCTION_NAMES", "Raw",
        "ServerVad", "SpecReport", "ToolArgument", "ToolRef", "Transcription", "VOICES",
        "Variable", "inspect_spec", "json_schema", "load_spec", "markdown_reference", "redact",
        "redact_data", "render_greeting", "render_instructions", "render_tool_template",
        "secret_values", "trial_render", "variable_values"])
    for name in agentrun.spec.__all__:
        assert getattr(agentrun.spec, name) is not None
