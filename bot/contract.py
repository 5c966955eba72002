"""VTEX's published Orders API contract, as JSON Schema: what the bot may post and what VTEX may send.

The schemas in `bot/schemas/` come from VTEX's OpenAPI document (see SOURCES.md there). OpenAPI 3.0
writes "may be null" as `nullable: true`; JSON Schema writes it as a type list, so the document is
translated once at load.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_FILE = "vtex-orders-api.json"


@cache
def openapi_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = json.loads(resources.files("bot.schemas").joinpath(SCHEMA_FILE).read_text("utf-8"))
    return schemas


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: `nullable: true` admits null, everything else is kept."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(to_json_schema(openapi_schemas()[name]))


def problems(name: str, document: Any) -> list[str]:
    """Every way `document` breaks the named schema, as `path: message` lines (empty when it conforms)."""
    found = []
    for error in sorted(validator(name).iter_errors(document), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path) or "(body)"
        found.append(f"{where}: {error.message}")
    return found


def invoice_problems(body: Any) -> list[str]:
    return problems("invoice_notification_request", body)
