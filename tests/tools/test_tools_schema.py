"""Signature + docstring → the JSON Schema the model sees (flat, inlined, no titles)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, Optional

import pytest
from agentrun.errors import ToolLoadError
from agentrun.tools import Tool, ToolContext
from pydantic import BaseModel, Field


def parameters(function: Any) -> dict[str, Any]:
    return Tool.from_function(function).function_schema()["parameters"]


def properties(function: Any) -> dict[str, Any]:
    return parameters(function)["properties"]


class Size(Enum):
    SMALL = "small"
    LARGE = "large"


class Address(BaseModel):
    """A postal address."""

    street: str
    city: str = "Berlin"
    title: str | None = None  # a property named "title" must survive title stripping


class Config(BaseModel):
    queue: str


@dataclass
class Slot:
    day: str
    hour: int = 9


class Node(BaseModel):
    value: int
    children: list[Node] = []


def test_the_tool_shape_is_the_flat_grok_function_shape() -> None:
    def greet(name: str) -> str:
        """Say hello to someone.

        More text that is not part of the summary.
        """
        return f"hello {name}"

    assert Tool.from_function(greet).function_schema() == {
        "type": "function",
        "name": "greet",
        "description": "Say hello to someone.",
        "parameters": {"type": "object", "properties": {"name": {"type": "string"}},
                       "required": ["name"]},
    }


def test_scalars_and_defaults() -> None:
    def f(s: str, i: int, x: float, b: bool, d: int = 3, flag: bool = False) -> None:
        """F."""

    assert parameters(f) == {
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "i": {"type": "integer"},
            "x": {"type": "number"},
            "b": {"type": "boolean"},
            "d": {"default": 3, "type": "integer"},
            "flag": {"default": False, "type": "boolean"},
        },
        "required": ["s", "i", "x", "b"],
    }


def test_literal_and_enum_become_inline_enums() -> None:
    def f(mode: Literal["fast", "slow"], size: Size = Size.SMALL) -> None:
        """F."""

    schema = parameters(f)
    assert schema["properties"] == {
        "mode": {"enum": ["fast", "slow"], "type": "string"},
        "size": {"enum": ["small", "large"], "type": "string", "default": "small"},
    }
    assert "$defs" not in schema


def test_containers() -> None:
    def f(tags: list[str], scores: dict[str, float], matrix: list[list[int]] | None = None
          ) -> None:
        """F."""

    assert properties(f) == {
        "tags": {"items": {"type": "string"}, "type": "array"},
        "scores": {"additionalProperties": {"type": "number"}, "type": "object"},
        "matrix": {"items": {"items": {"type": "integer"}, "type": "array"}, "type": "array"},
    }


def test_optional_with_default_none_is_simply_not_required() -> None:
    def f(a: str | None = None, b: Optional[int] = None, c: str | None = "x",  # noqa: UP045
          d: str | None = ...) -> None:  # type: ignore[assignment]
        """F."""

    schema = parameters(f)
    assert schema["properties"]["a"] == {"type": "string"}
    assert schema["properties"]["b"] == {"type": "integer"}
    # Only `= None` means "leave it out"; other optionals keep null as a choice.
    assert schema["properties"]["c"] == {"anyOf": [{"type": "string"}, {"type": "null"}],
                                         "default": "x"}
    assert schema["properties"]["d"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert schema["required"] == ["d"]


def test_pydantic_models_are_inlined_without_titles() -> None:
    def f(address: Address, ship_to: Address | None = None) -> None:
        """F.

        Args:
            address: Where the invoice goes.
        """

    props = properties(f)
    address = {
        "properties": {"street": {"type": "string"},
                       "city": {"default": "Berlin", "type": "string"},
                       "title": {"type": "string"}},
        "required": ["street"],
        "type": "object",
    }
    assert props["address"] == {**address, "description": "Where the invoice goes."}
    assert props["ship_to"] == {**address, "description": "A postal address."}
    assert "title" not in json.dumps(props).replace('"title": {"type"', "")


def test_a_recursive_model_keeps_a_minimal_defs_for_its_cycle() -> None:
    def f(tree: Node) -> None:
        """F."""

    schema = parameters(f)
    assert schema["properties"]["tree"]["properties"]["children"]["items"] == {
        "$ref": "#/$defs/Node"}
    assert list(schema["$defs"]) == ["Node"]
    assert schema["$defs"]["Node"]["required"] == ["value"]


def test_annotated_field_descriptions_and_constraints_win_over_the_docstring() -> None:
    def f(qty: Annotated[int, Field(ge=1, le=10, description="How many.")],
          code: Annotated[str, Field(pattern=r"^[A-Z]{3}$", max_length=3)] = "EUR",
          note: str = Field("", max_length=20, description="A note.")) -> None:
        """F.

        Args:
            qty: ignored because the Field says it.
            code: ISO currency code.
        """

    assert properties(f) == {
        "qty": {"description": "How many.", "maximum": 10, "minimum": 1, "type": "integer"},
        "code": {"default": "EUR", "description": "ISO currency code.", "maxLength": 3,
                 "pattern": "^[A-Z]{3}$", "type": "string"},
        "note": {"default": "", "description": "A note.", "maxLength": 20, "type": "string"},
    }


def test_numpy_docstrings_describe_parameters_too() -> None:
    def f(city: str, days: int = 1) -> None:
        """Forecast for a city.

        Parameters
        ----------
        city : str
            City name, e.g. "Paris".
        days : int, optional
            How many days ahead.

        Returns
        -------
        dict
        """

    assert Tool.from_function(f).description == "Forecast for a city."
    assert properties(f) == {
        "city": {"description": 'City name, e.g. "Paris".', "type": "string"},
        "days": {"default": 1, "description": "How many days ahead.", "type": "integer"},
    }


def test_tool_context_is_injected_never_shown_and_declares_the_config_model() -> None:
    def f(order_id: str, ctx: ToolContext[Config]) -> None:
        """F."""

    tool = Tool.from_function(f, config={"queue": "billing"})
    assert tool.info.parameters["properties"] == {"order_id": {"type": "string"}}
    assert tool.info.context_param == "ctx"
    assert tool.config == Config(queue="billing")


def test_unannotated_varargs_and_reserved_names() -> None:
    def f(anything, json: str = "x", model_name: str = "m", *rest: int, **extra: int) -> str:
        """F."""
        return f"{anything}|{json}|{model_name}"

    tool = Tool.from_function(f)
    assert tool.info.parameters["properties"] == {
        "anything": {}, "json": {"default": "x", "type": "string"},
        "model_name": {"default": "m", "type": "string"}}
    result = asyncio.run(tool.run('{"anything": [1], "json": "j", "model_name": "n"}'))
    assert result.output == "[1]|j|n"


def test_dataclass_parameters() -> None:
    def book(slot: Slot) -> None:
        """Book."""

    assert properties(book)["slot"] == {
        "properties": {"day": {"type": "string"}, "hour": {"default": 9, "type": "integer"}},
        "required": ["day"], "type": "object"}


def test_a_parameter_without_json_schema_is_a_clear_load_error() -> None:
    def f(ok: int, callback: Any = None, when: type = int) -> None:
        """F."""

    with pytest.raises(ToolLoadError, match=r"^parameter 'when' has no JSON Schema"):
        Tool.from_function(f)


def test_unresolvable_string_annotations_are_a_clear_load_error() -> None:
    def f(x: Missing) -> None:  # type: ignore[name-defined]  # noqa: F821
        """F."""

    with pytest.raises(ToolLoadError, match=r"^cannot read its signature: name 'Missing' is "
                                            r"not defined"):
        Tool.from_function(f)


def test_overrides_replace_name_description_and_timeout() -> None:
    def f() -> None:
        """Original."""

    tool = Tool.from_function(f, name="renamed", description="New words.", timeout=2.5)
    assert (tool.name, tool.description, tool.timeout) == ("renamed", "New words.", 2.5)
    assert tool.function_schema()["parameters"] == {"type": "object", "properties": {},
                                                    "required": []}


def test_rest_docstrings_describe_parameters_too() -> None:
    def f(city: str, days: int = 1) -> None:
        """Forecast for a city.

        :param city: City name, e.g. "Paris".
        :param days: How many days ahead.
        :return: the forecast.
        """

    assert Tool.from_function(f).description == "Forecast for a city."
    assert properties(f) == {
        "city": {"description": 'City name, e.g. "Paris".', "type": "string"},
        "days": {"default": 1, "description": "How many days ahead.", "type": "integer"},
    }
