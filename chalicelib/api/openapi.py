"""The OpenAPI 3.1 document, built from the declared routes and the schema files they validate with."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from . import schemas
from .routing import OPERATIONS, Operation

_STATUS_FIELDS = {"status": {"type": "string"}, "national_code": {"type": "integer", "minimum": 1, "maximum": 10},
                  "label": {"type": "string"}}

# Response bodies: the fields clients rely on (the rest is documented by example in README.md).
RESPONSES: dict[str, dict[str, Any]] = {
    "Dossier": {"type": "object", "required": ["code", "version", "status", "national_code", "label", "steps"],
                "properties": {"code": {"type": "string"}, "version": {"type": "integer"}, **_STATUS_FIELDS,
                               "due_at": {"type": ["string", "null"]},
                               "appointment_at": {"type": ["string", "null"]},
                               "allowed_actions": {"type": "array", "items": {"type": "string"}},
                               "steps": {"type": "array"}, "receipt": {"type": "object"}}},
    "PublicDossier": {"type": "object", "required": ["code", "status", "national_code", "label", "steps"],
                      "not": {"anyOf": [{"required": ["applicant"]}, {"required": ["form"]}]},
                      "properties": {"code": {"type": "string"}, **_STATUS_FIELDS, "steps": {"type": "array"}}},
    "DossierPage": {"type": "object", "required": ["items", "next_cursor"],
                    "properties": {"items": {"type": "array"}, "next_cursor": {"type": ["string", "null"]}}},
    "History": {"type": "object", "required": ["code", "entries"],
                "properties": {"entries": {"type": "array", "items": {"type": "object", "required": [
                    "seq", "action", "to_status", "at", "officer", "step_due_at", "step_met"]}}}},
    "UnitList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array"}}},
    "ProcedureList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array"}}},
    "Procedure": {"type": "object", "required": ["code", "version", "name", "limit", "steps", "form_schema"]},
    "DuePreview": {"type": "object", "required": ["received_at", "clock_start", "due_at", "limit"]},
    "CalendarYear": {"type": "object", "required": ["year", "non_working_days", "make_up_working_days"]},
    "Health": {"type": "object", "required": ["status"]},
}

_ERROR_TEXT = {400: "Invalid input", 401: "Missing or invalid token", 403: "Outside the caller's scope",
               404: "Not found", 409: "Version conflict or request in progress", 413: "Body too large",
               415: "Body is not JSON", 422: "Action not allowed in this state"}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    components: dict[str, Any] = {"Error": _strip(schemas.load("error")), **RESPONSES}
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        if op.body:
            components[schemas.component_name(op.body)] = _strip(schemas.load(op.body))
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "motcua API", "version": "1.0.0",
                 "description": "One-stop shop (một cửa điện tử) backend: catalogue, calendar, dossiers."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": schema} for name, schema in op.path_params.items()
    ]
    if op.query:
        query_schema = schemas.load(op.query)
        required = set(query_schema.get("required", []))
        for name, schema in query_schema["properties"].items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": schema,
                           **({"description": schema["description"]} if "description" in schema else {})})
    if op.operation_id == "receive":
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "minLength": 1, "maxLength": 200}})
    if params:
        out["parameters"] = params
    if op.body:
        out["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{schemas.component_name(op.body)}"}}}}
    success_schema = {"$ref": f"#/components/schemas/{op.response}"} if op.response else {"type": "object"}
    responses: dict[str, Any] = {str(op.success): {"description": "OK",
                                                   "content": {"application/json": {"schema": success_schema}}}}
    if op.response == "Dossier":
        # A dossier's code leads to everything that takes one (clients and stateful API tests follow these).
        responses[str(op.success)]["links"] = {
            target: {"operationId": target, "parameters": {"code": "$response.body#/code"}}
            for target in ("get_dossier", "get_history", "act", "lookup")
        }
    codes = set(op.errors) | ({401} if op.auth else set()) | ({400} if op.query or op.body else set())
    for code in sorted(codes):
        responses[str(code)] = {"description": _ERROR_TEXT[code], "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}}
    out["responses"] = responses
    if op.auth:
        out["security"] = [{"bearer": []}]
    return out


def _strip(schema: dict[str, Any]) -> dict[str, Any]:
    """Component schemas are embedded: drop the file-level dialect marker (3.1 uses 2020-12 anyway)."""
    return {k: v for k, v in schema.items() if k != "$schema"}
