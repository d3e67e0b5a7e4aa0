"""The published JSON Schema of the audit document (``audit.schema.json``, draft 2020-12) and a
validator for it.

The ``jsonschema`` package is not a dependency, so this module checks the subset of draft 2020-12
that the schema uses (``SUPPORTED``) and refuses a schema that uses anything else, so the schema
cannot silently say more than is checked. On top of the schema, ``errors`` checks what JSON Schema
cannot say: histogram edges one longer than the counts and increasing, curve points sorted.

Numbers follow JSON, not Python: ``True`` is not an integer, ``1.0`` is, and NaN or infinity is no
number at all (the document writes a non-finite value as null).
"""

from __future__ import annotations

import functools
import json
import math
import re
from importlib import resources
from typing import Any

from defirisk.errors import DataError

SCHEMA_ID = "defirisk.audit/1"
SCHEMA_FILE = "audit.schema.json"

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description", "$comment"})
SUPPORTED = frozenset(
    {
        "$ref",
        "type",
        "const",
        "enum",
        "properties",
        "required",
        "additionalProperties",
        "propertyNames",
        "items",
        "minItems",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "pattern",
    }
    | _ANNOTATIONS
)
_MAX_ERRORS = 20


@functools.cache
def schema() -> dict[str, Any]:
    """The published schema, parsed (shared: do not mutate)."""
    text = resources.files("defirisk.report").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def validate(document: Any) -> None:
    """Raise ``DataError`` naming the first problems if ``document`` is not a valid audit document."""
    found = errors(document)
    if found:
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise DataError(f"invalid {SCHEMA_ID} document: {'; '.join(found[:3])}{more}")


def errors(document: Any) -> list[str]:
    """Every problem found (at most 20), each as ``<JSON pointer>: <what is wrong>``."""
    root = schema()
    found: list[str] = []
    _check(document, root, root, "", found)
    if not found:
        _check_consistency(document, found)
    return found[:_MAX_ERRORS]


_TYPES = frozenset({"null", "boolean", "string", "array", "object", "number", "integer"})


def _is_type(value: Any, name: str) -> bool:
    if name not in _TYPES:
        raise DataError(f"{SCHEMA_FILE}: unknown type {name!r}")
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return name == "number" or isinstance(value, int) or value.is_integer()


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise DataError(f"{SCHEMA_FILE}: only local $ref is supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _pointer(path: str, key: str | int) -> str:
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _same(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _check(value: Any, node: dict[str, Any], root: dict[str, Any], path: str, found: list[str]) -> None:
    if len(found) >= _MAX_ERRORS:
        return
    unknown = set(node) - SUPPORTED
    if unknown:
        raise DataError(f"{SCHEMA_FILE} uses unsupported keywords {sorted(unknown)} at {path or '/'}")
    where = path or "/"
    if "$ref" in node:
        _check(value, _resolve(root, node["$ref"]), root, path, found)
    if "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not any(_is_type(value, t) for t in types):
            found.append(f"{where}: expected {' or '.join(types)}, got {_describe(value)}")
            return
    if "const" in node and not _same(value, node["const"]):
        found.append(f"{where}: must be {node['const']!r}, got {_describe(value)}")
    if "enum" in node and not any(_same(value, option) for option in node["enum"]):
        found.append(f"{where}: must be one of {node['enum']}, got {_describe(value)}")
    if _is_type(value, "number"):
        _check_bounds(value, node, where, found)
    if isinstance(value, str) and "pattern" in node and not re.search(node["pattern"], value):
        found.append(f"{where}: {_describe(value)} does not match {node['pattern']}")
    if isinstance(value, list):
        if len(value) < node.get("minItems", 0):
            found.append(f"{where}: needs at least {node['minItems']} items, got {len(value)}")
        if "items" in node:
            for index, item in enumerate(value):
                _check(item, node["items"], root, _pointer(path, index), found)
    if isinstance(value, dict):
        _check_object(value, node, root, path, found)


def _check_bounds(value: float, node: dict[str, Any], where: str, found: list[str]) -> None:
    if "minimum" in node and value < node["minimum"]:
        found.append(f"{where}: {value!r} is below the minimum {node['minimum']}")
    if "maximum" in node and value > node["maximum"]:
        found.append(f"{where}: {value!r} is above the maximum {node['maximum']}")
    if "exclusiveMinimum" in node and value <= node["exclusiveMinimum"]:
        found.append(f"{where}: {value!r} must be above {node['exclusiveMinimum']}")
    if "exclusiveMaximum" in node and value >= node["exclusiveMaximum"]:
        found.append(f"{where}: {value!r} must be below {node['exclusiveMaximum']}")


def _check_object(
    value: dict[Any, Any], node: dict[str, Any], root: dict[str, Any], path: str, found: list[str]
) -> None:
    where = path or "/"
    for key in node.get("required", ()):
        if key not in value:
            found.append(f"{where}: missing required {key!r}")
    properties = node.get("properties", {})
    extra = node.get("additionalProperties", True)
    for key, item in value.items():
        if not isinstance(key, str):
            found.append(f"{where}: key {_describe(key)} is not a string")
            continue
        if "propertyNames" in node:
            _check(key, node["propertyNames"], root, _pointer(path, key), found)
        if key in properties:
            _check(item, properties[key], root, _pointer(path, key), found)
        elif extra is False:
            found.append(f"{where}: unexpected property {_describe(key)}")
        elif isinstance(extra, dict):
            _check(item, extra, root, _pointer(path, key), found)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value[:40] + ("…" if len(value) > 40 else ""))
    if isinstance(value, dict | list):
        return type(value).__name__
    return repr(value)


def _check_consistency(document: dict[str, Any], found: list[str]) -> None:
    """What the schema cannot say; runs on a document that passed the schema."""
    risk = document["risk_metrics"]
    if risk is not None and risk["distribution"] is not None:
        histogram = risk["distribution"]["histogram"]
        edges, counts = histogram["edges_usd"], histogram["counts"]
        if len(edges) != len(counts) + 1:
            found.append(
                f"/risk_metrics/distribution/histogram: {len(edges)} edges for {len(counts)} counts "
                "(need one more edge than counts)"
            )
        if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            found.append("/risk_metrics/distribution/histogram/edges_usd: edges must increase")
    for index, curve in enumerate(document["liquidation_curves"]):
        changes = [point["change"] for point in curve["points"]]
        if changes != sorted(changes):
            found.append(f"/liquidation_curves/{index}/points: not sorted by change")
