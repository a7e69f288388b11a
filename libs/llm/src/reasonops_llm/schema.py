"""JSON schemas sent to providers, derived from the agent's pydantic output model."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import InvalidOutput

T = TypeVar("T", bound=BaseModel)

# Keywords Gemini's OpenAPI-subset ``responseSchema`` accepts.
_GEMINI_KEYS = {"type", "format", "description", "nullable", "enum", "properties", "required",
                "items", "minItems", "maxItems", "minimum", "maximum", "propertyOrdering"}


def output_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with ``$ref`` inlined and no extra properties allowed."""
    return copy.deepcopy(_output_schema(model))


@functools.cache
def _output_schema(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema()
    defs = raw.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            out = {k: resolve(v) for k, v in node.items() if k != "title"}
            if out.get("type") == "object" and "properties" in out:
                out["additionalProperties"] = False
            return out
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(raw)
    return resolved


def gemini_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Gemini's dialect: upper-case types, ``nullable`` instead of ``anyOf`` with null."""

    def convert(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            merged = convert(options[0]) if options else {"type": "STRING"}
            if len(options) < len(node["anyOf"]):
                merged["nullable"] = True
            if "description" in node:
                merged["description"] = node["description"]
            return merged
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key not in _GEMINI_KEYS:
                continue
            if key == "type":
                out[key] = str(value).upper()
            elif key == "properties":
                out[key] = {k: convert(v) for k, v in value.items()}
            elif key == "items":
                out[key] = convert(value)
            else:
                out[key] = value
        if "const" in node:
            out.update(type="STRING", enum=[node["const"]])
        return out

    converted: dict[str, Any] = convert(schema)
    return converted


def parse_output(model: type[T], text: str) -> T:
    """Validate a provider's reply; ``InvalidOutput`` says exactly what is wrong."""
    stripped = _unfence(text)
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"reply is not valid JSON: {exc.msg} at line {exc.lineno} "
                            f"column {exc.colno}", raw=text) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
                             for e in exc.errors()[:8])
        raise InvalidOutput(f"reply does not match the schema: {problems}", raw=text) from None


def _unfence(text: str) -> str:
    """Models sometimes wrap JSON in a Markdown fence despite being told not to."""
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    return body.strip()
