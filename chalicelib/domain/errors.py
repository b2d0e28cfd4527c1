"""Errors the domain and the use cases raise; entrypoints translate them to HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


@dataclass
class DomainError(Exception):
    message: str
    details: list[FieldProblem] = field(default_factory=list)
    code: str = "error"

    def __str__(self) -> str:
        return self.message


class InvalidInput(DomainError):
    """The request is well-formed JSON but its content breaks a rule (HTTP 400)."""

    def __init__(self, message: str, details: list[FieldProblem] | None = None) -> None:
        super().__init__(message, details or [], "invalid_input")


class Unavailable(DomainError):
    """What the request needs is not available in this deployment, or not now (HTTP 503)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], "unavailable")


class NotFound(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, [], "not_found")


class Forbidden(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, [], "forbidden")


class ActionNotAllowed(DomainError):
    """The action exists but the dossier's status or state does not permit it (HTTP 422)."""

    def __init__(self, message: str, allowed: list[str], field_name: str = "action") -> None:
        super().__init__(
            message,
            [FieldProblem(field_name, message)],
            "action_not_allowed",
        )
        self.allowed = allowed


class StaleVersion(DomainError):
    """Someone else changed the dossier first (HTTP 409)."""

    def __init__(self, message: str, current_version: int | None = None) -> None:
        super().__init__(message, [FieldProblem("version", message)], "version_conflict")
        self.current_version = current_version


class SequenceExhausted(DomainError):
    """A unit drew every dossier number the code format holds for one day (HTTP 409): no code is made that the
    routes would refuse."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [FieldProblem("code", message)], "sequence_exhausted")
