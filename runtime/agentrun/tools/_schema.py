"""A plain Python function → what the model sees and what validates its arguments.

``describe_function`` reads the signature (with string annotations resolved) and the docstring,
builds a pydantic model of the parameters (so arguments are validated exactly as declared) and
shapes that model's JSON Schema for the realtime API: a flat object schema, ``$ref`` inlined,
no pydantic ``title`` noise (grok-realtime.md §4.1). A ``ToolContext`` parameter is recorded for
injection and left out of the schema. Imports only ``_context`` and ``_docstring`` of ours.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model
from pydantic.fields import FieldInfo

from agentrun.tools._context import ToolContext
from agentrun.tools._docstring import parse_docstring

__all__ = ["FunctionInfo", "describe_function", "shape_schema"]

# Keywords whose value is a mapping of name → schema, a schema, or a list of schemas. Every
# other keyword's value is data (``default``, ``enum``, ``const``…) and is never rewritten.
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
# Models often send 1234 for an order "1234": accept numbers for str parameters.
_MODEL_CONFIG = ConfigDict(extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """What agentrun learned from one tool function.

    Attributes:
        description: the docstring summary (the tool's description for the model).
        arguments_model: pydantic model validating the model's arguments.
        parameters: the flat JSON Schema of the arguments (the ``parameters`` of the tool).
        context_param: the name of the ``ToolContext`` parameter, or None.
        config_adapter: validates the YAML ``config:`` block (from ``ToolContext[Model]``), or None.
        fields: (field name in ``arguments_model``, parameter name, positional-only) triples.
        is_async: True for ``async def`` tools (awaited), False for plain ones (run in a thread).
        config_type: the type in ``ToolContext[Model]`` (lists the allowed config keys), or None.
        untyped: parameters without a type hint: the model is told nothing about what to send.
    """

    description: str
    arguments_model: type[BaseModel]
    parameters: dict[str, Any]
    context_param: str | None
    config_adapter: TypeAdapter[Any] | None
    fields: tuple[tuple[str, str, bool], ...]
    is_async: bool
    config_type: Any = None
    untyped: tuple[str, ...] = ()


def describe_function(function: Callable[..., Any], *, name: str) -> FunctionInfo:
    """Read a tool function's signature and docstring.

    Args:
        function: the tool (a function, or any callable with a signature).
        name: the tool's name, used for the arguments model and in messages.

    Returns:
        The description, the arguments model and schema, and how to call the function.

    Raises:
        TypeError: the signature cannot be read or a parameter has no JSON Schema; the message
            names the parameter.
    """
    try:
        signature = inspect.signature(function, eval_str=True)
    except (NameError, TypeError, ValueError, SyntaxError) as exc:
        raise TypeError(f"cannot read its signature: {exc}") from exc
    doc = parse_docstring(inspect.getdoc(function))
    definitions: dict[str, Any] = {}
    fields: list[tuple[str, str, bool]] = []
    context_param: str | None = None
    config_adapter: TypeAdapter[Any] | None = None
    context_annotation: Any = None
    untyped: list[str] = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue  # *args/**kwargs have no name the model could fill in
        if param.annotation is param.empty:
            untyped.append(param.name)
        annotation = Any if param.annotation is param.empty else param.annotation
        if annotation is ToolContext or get_origin(annotation) is ToolContext:
            context_param = param.name
            context_annotation = annotation
            config_adapter = _config_adapter(annotation)
            continue
        field_name = _safe_field_name(param.name)
        default = ... if param.default is param.empty else param.default
        extra: dict[str, Any] = {}
        if param.name in doc.params and not _has_description(annotation, default):
            extra["description"] = doc.params[param.name]
        if field_name != param.name:
            extra["alias"] = param.name
        if extra:
            annotation = Annotated[annotation, Field(**extra)]
        definitions[field_name] = (annotation, default)
        fields.append((field_name, param.name, param.kind is param.POSITIONAL_ONLY))
    try:
        model = create_model(f"{name}_arguments", __config__=_MODEL_CONFIG, **definitions)
        schema = model.model_json_schema()
    except Exception as exc:  # pydantic raises several kinds; all mean "unsupported type"
        raise TypeError(_unsupported(definitions, exc)) from exc
    return FunctionInfo(
        description=doc.summary,
        arguments_model=model,
        parameters=shape_schema(schema),
        context_param=context_param,
        config_adapter=config_adapter,
        fields=tuple(fields),
        is_async=_is_async(function),
        config_type=None if config_adapter is None else get_args(context_annotation)[0],
        untyped=tuple(untyped),
    )


def shape_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Shape a pydantic JSON Schema for a realtime model.

    Inlines every ``$ref`` (a recursive model keeps a minimal ``$defs`` for its cycle), drops
    ``title``, and turns an optional ``X | None = None`` property into plain ``X`` (omitting it
    means None). The top level always has ``type``, ``properties`` and ``required`` first.

    Args:
        schema: a JSON Schema as pydantic produces it (not modified).

    Returns:
        A new schema.
    """
    schema = copy.deepcopy(schema)
    defs: dict[str, Any] = schema.pop("$defs", {})
    kept: dict[str, Any] = {}
    root = _walk(schema, defs, kept, ())
    pending = list(kept)
    while pending:  # recursive definitions, themselves inlined except for their cycle
        ref = pending.pop()
        if kept[ref] is None:
            kept[ref] = _walk(defs[ref], defs, kept, (ref,))
            pending.extend(name for name, value in kept.items() if value is None)
    shaped: dict[str, Any] = {
        "type": "object",
        "properties": root.pop("properties", {}),
        "required": root.pop("required", []),
    }
    root.pop("type", None)
    shaped.update(root)
    if kept:
        shaped["$defs"] = kept
    return shaped


def _walk(node: Any, defs: dict[str, Any], kept: dict[str, Any], stack: tuple[str, ...]) -> Any:
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = ref.removeprefix("#/$defs/")
        if target in stack:  # a cycle cannot be inlined; keep the reference and its definition
            kept.setdefault(target, None)
            return node
        inlined = _walk(defs[target], defs, kept, (*stack, target))
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return {**inlined, **_walk(siblings, defs, kept, stack)}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title":
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: _walk(v, defs, kept, stack) for k, v in value.items()}
        elif key in _SCHEMA_ONE:
            out[key] = _walk(value, defs, kept, stack)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_walk(v, defs, kept, stack) for v in value]
        else:
            out[key] = value
    if isinstance(out.get("properties"), dict):
        required = set(out.get("required", ()))
        out["properties"] = {
            k: v if k in required else _drop_null_option(v) for k, v in out["properties"].items()
        }
    return out


def _drop_null_option(prop: Any) -> Any:
    """``{"anyOf": [X, {"type": "null"}], "default": null}`` → ``X`` for an optional property."""
    if not isinstance(prop, dict) or "default" not in prop or prop["default"] is not None:
        return prop
    options = prop.get("anyOf")
    if not isinstance(options, list) or {"type": "null"} not in options:
        return prop
    rest = [o for o in options if o != {"type": "null"}]
    siblings = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
    if len(rest) == 1 and isinstance(rest[0], dict):
        return {**rest[0], **siblings}
    return {"anyOf": rest, **siblings}


def _config_adapter(annotation: Any) -> TypeAdapter[Any] | None:
    args = get_args(annotation)
    if not args or args[0] is Any or args[0] is dict or get_origin(args[0]) is dict:
        return None
    return TypeAdapter(args[0])


def _has_description(annotation: Any, default: Any) -> bool:
    if isinstance(default, FieldInfo) and default.description:
        return True
    if get_origin(annotation) is Annotated:
        return any(isinstance(m, FieldInfo) and m.description for m in annotation.__metadata__)
    return False


def _safe_field_name(name: str) -> str:
    """Pydantic reserves ``model_*``, private ``_x`` and BaseModel attribute names; alias them."""
    if name.startswith(("_", "model_")) or hasattr(BaseModel, name):
        return f"param_{name.lstrip('_')}_"
    return name


def _unsupported(definitions: dict[str, Any], exc: Exception) -> str:
    for field_name, (annotation, _default) in definitions.items():
        try:
            TypeAdapter(annotation).json_schema()
        except Exception as inner:  # the first parameter pydantic cannot describe
            first = str(inner).splitlines()[0] if str(inner) else type(inner).__name__
            return f"parameter '{field_name}' has no JSON Schema: {first}"
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"its parameters have no JSON Schema: {first_line}"


def _is_async(function: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(function):
        return True
    call = getattr(function, "__call__", None)  # noqa: B004  (callable objects with async __call__)
    return inspect.iscoroutinefunction(call)
