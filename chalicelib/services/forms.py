"""Validating a dossier's form against its procedure's JSON Schema (draft 2020-12)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.errors import FieldProblem, InvalidInput


def validate_form(schema: Mapping[str, Any], form: Any) -> None:
    problems = schema_problems(schema, form, prefix="form")
    if problems:
        raise InvalidInput("the form does not match the procedure's schema", problems)


def schema_problems(
    schema: Mapping[str, Any], instance: Any, prefix: str = "", root: str = "body"
) -> list[FieldProblem]:
    from jsonschema import Draft202012Validator  # lazily: not every request validates

    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems: list[FieldProblem] = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = [prefix] if prefix else []
        path += [str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, dict):
            # One error per missing property: name each one as its own field.
            for missing in (k for k in error.validator_value if k not in error.instance):
                problem = FieldProblem(_join([*path, missing], root), "is required")
                if problem not in problems:
                    problems.append(problem)
            continue
        problems.append(FieldProblem(_join(path, root), error.message))
    return problems


def _join(path: list[str], root: str) -> str:
    return ".".join(path).replace(".[", "[") or root
