"""Validating a dossier's form against its procedure's JSON Schema (draft 2020-12)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ..domain.errors import FieldProblem, InvalidInput


def validate_form(schema: Mapping[str, Any], form: Any) -> None:
    problems = schema_problems(schema, form, prefix="form")
    if problems:
        raise InvalidInput("the form does not match the procedure's schema", problems)


def schema_problems(
    schema: Mapping[str, Any], instance: Any, prefix: str = "", root: str = "body"
) -> list[FieldProblem]:
    validator = _validator_class()(schema, format_checker=_format_checker())
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
        problems.append(FieldProblem(_join(path, root), _reason(error)))
    return problems


@lru_cache(maxsize=1)
def _validator_class() -> Any:
    """Draft 2020-12 with `pattern` read as ECMA-262 reads it (what JSON Schema specifies): Python's `$` also
    matches before a final line feed, so "^[0-9]+$" took `limit=5%0A`; here `$` is the end of the text only."""
    from jsonschema import Draft202012Validator, validators  # lazily: not every request validates
    from jsonschema.exceptions import ValidationError

    def pattern(validator: Any, value: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not _ecma(value).search(instance):
            yield ValidationError(f"{instance!r} does not match {value!r}")

    return validators.extend(Draft202012Validator, {"pattern": pattern})


@lru_cache(maxsize=512)
def _ecma(pattern: str) -> re.Pattern[str]:
    """`pattern` with each unescaped `$` outside a character class made `\\Z` (the end of the text alone)."""
    out, escaped, in_class = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append(r"\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


def check_form_schema(schema: Mapping[str, Any]) -> None:
    """A procedure's form schema must itself be valid draft 2020-12 before it is published."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.absolute_path)
        raise InvalidInput("the form schema is not a valid JSON Schema (draft 2020-12)",
                           [FieldProblem(f"form_schema{where}", exc.message)]) from exc


@lru_cache(maxsize=1)
def _format_checker() -> Any:
    """jsonschema's format checks (date-time, date... from the format-nongpl extra), with email checked by
    email-validator: jsonschema's own email check only looks for an "@", so it accepts "x@"."""
    from email_validator import EmailNotValidError, validate_email
    from jsonschema import FormatChecker

    checker = FormatChecker()

    def is_email(instance: object) -> bool:
        if isinstance(instance, str):
            validate_email(instance, check_deliverability=False)
        return True

    for name in ("email", "idn-email"):
        checker.checks(name, raises=EmailNotValidError)(is_email)
    return checker


def _reason(error: Any) -> str:
    """jsonschema's message, except for a pattern: a regular expression tells a user nothing, the schema's
    description of the field says what is expected."""
    if error.validator == "pattern" and isinstance(error.schema, dict) and error.schema.get("description"):
        return f"does not have the expected form: {error.schema['description']}"
    return str(error.message)


def _join(path: list[str], root: str) -> str:
    return ".".join(path).replace(".[", "[") or root


MAX_JSON_DEPTH = 32


def check_json(value: Any, root: str = "body", max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse what no schema can express: nesting deeper than `max_depth` and strings (keys included) that
    cannot be encoded as UTF-8, such as escaped lone surrogates ("\\ud800"), which DynamoDB would store and
    nothing could read back. Walks with an explicit stack: no recursion, whatever the input."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]  # (node, its path below the root, its depth)
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, str):
            check_text(node, path or root)
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > max_depth:
            raise InvalidInput("the JSON is nested too deeply",
                               [FieldProblem(path or root, f"nested deeper than {max_depth} levels")])
        if isinstance(node, dict):
            for key, item in node.items():
                check_text(key, path or root)
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        else:
            stack.extend((item, f"{path}[{i}]" if path else f"{root}[{i}]", depth + 1) for i, item in enumerate(node))


# Characters no form, name or note needs and that print deceptively on a receipt or a letter: C0 and C1 control
# characters (tab, line feed and carriage return excepted), DEL, the bidirectional overrides and isolates that
# reorder what follows them, and the byte-order mark.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")


def check_text(value: str, field: str) -> str:
    """A string that UTF-8 can hold (escaped lone surrogates cannot) and that prints as what it says."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput("the text cannot be encoded as UTF-8",
                           [FieldProblem(field, "contains an unpaired surrogate (\\ud800-\\udfff)")]) from exc
    bad = _UNPRINTABLE.search(value)
    if bad:
        raise InvalidInput("the text contains a control character",
                           [FieldProblem(field, f"contains U+{ord(bad.group()):04X}, a control or direction mark")])
    return value
