"""One way to declare a route: parsing, validation, auth, CORS and errors handled in one place.

Every declared operation is recorded so that the OpenAPI document lists exactly the routes that
exist, with the request schemas the handlers validate with.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from ..config import settings
from ..domain.dossier import Actor
from ..domain.errors import DomainError, FieldProblem, InvalidInput
from ..observability import bind_request, logger
from ..services.forms import MAX_JSON_DEPTH, check_json, check_text, schema_problems
from . import schemas

MAX_PATH_PARAM = 128  # every path parameter; each route's own check (params.py) is stricter
MAX_QUERY_VALUE = 2048  # the longest query value we issue is a list cursor
MAX_HEADER_VALUE = 8192  # bearer tokens with many groups stay well below

STATUS_BY_CODE = {
    "invalid_input": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "version_conflict": 409,
    "sequence_exhausted": 409,
    "in_progress": 409,
    "already_rated": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "not_acceptable": 406,
    "unavailable": 503,
    "action_not_allowed": 422,
    "idempotency_key_reused": 422,
}


class HttpError(DomainError):
    """An error that only exists at the HTTP edge (auth, media type, size)."""

    def __init__(self, code: str, message: str, details: list[FieldProblem] | None = None):
        super().__init__(message, details or [], code)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    body: str | None = None  # schema name under schemas/api
    query: str | None = None
    auth: bool = False
    success: int = 200
    response: str | None = None
    errors: tuple[int, ...] = ()
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: tuple[str, ...] = ()  # media types the success answer may also come in (FileBody), besides JSON
    # An integrator's route: on AWS, API Gateway asks for an API key of the integrators' usage plan (x-api-key)
    # before the function runs (docs/deploy.md, "Integrators' API keys"); `chalice local` checks none.
    api_key: bool = False


@dataclass(frozen=True)
class FileBody:
    """What a handler returns to answer with a file instead of JSON: the same request id, CORS and error
    handling apply; `filename` is offered in Content-Disposition (ASCII, plus RFC 5987 `filename*`)."""

    content: bytes | str
    media_type: str  # e.g. "text/csv; charset=utf-8"
    filename: str


OPERATIONS: list[Operation] = []
_PREFLIGHT_PATHS: set[str] = set()


class Call:
    """What a handler gets: the validated body and query, and the verified caller."""

    def __init__(self, request: Request, operation: Operation, lambda_context: Any):
        self.request = request
        self.operation = operation
        self.lambda_context = lambda_context

    def header(self, name: str) -> str | None:
        value = _header(self.request, name)
        if value is not None:
            if len(value) > MAX_HEADER_VALUE:
                raise InvalidInput("header too long", [FieldProblem(name, f"at most {MAX_HEADER_VALUE} characters")])
            check_text(value, name)
        return value

    def body(self) -> dict[str, Any]:
        raw = self.request.raw_body or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        if len(raw) > settings().max_body_bytes:
            raise HttpError("payload_too_large", f"the body is larger than {settings().max_body_bytes} bytes",
                            [FieldProblem("body", "too large")])
        content_type = (self.header("content-type") or "application/json").lower()
        media_type = content_type.split(";", 1)[0].strip()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise HttpError("unsupported_media_type", "send the body as application/json",
                            [FieldProblem("content-type", f"{content_type} is not application/json")])
        try:
            data = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError) as exc:
            # The parser's own words for a syntax error; a generic reason for anything else (number limits...).
            reason = str(exc) if isinstance(exc, json.JSONDecodeError) else "not a JSON document this API accepts"
            raise InvalidInput("the body is not valid JSON", [FieldProblem("body", reason)]) from exc
        except RecursionError as exc:  # deeper than the parser's own limit; check_json bounds the rest
            raise InvalidInput("the JSON is nested too deeply",
                               [FieldProblem("body", f"nested deeper than {MAX_JSON_DEPTH} levels")]) from exc
        check_json(data)
        if not isinstance(data, dict):
            raise InvalidInput("the body must be a JSON object", [FieldProblem("body", "expected an object")])
        assert self.operation.body is not None
        problems = schema_problems(schemas.load(self.operation.body), data)
        if problems:
            raise InvalidInput("the body does not match the schema", problems)
        return data

    def query(self) -> dict[str, str]:
        params = dict(self.request.query_params or {})
        for name, value in params.items():
            check_text(name, "query")
            check_text(value, name)
            if len(value) > MAX_QUERY_VALUE:
                raise InvalidInput("query parameter too long",
                                   [FieldProblem(name, f"at most {MAX_QUERY_VALUE} characters")])
        if self.operation.query:
            problems = schema_problems(schemas.load(self.operation.query), params, root="query")
            if problems:
                raise InvalidInput("invalid query parameters", problems)
        return params

    def actor(self) -> Actor:
        from ..adapters.tokens import InvalidToken
        from ..bootstrap import deps

        header = self.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HttpError("unauthorized", "a bearer token is required",
                            [FieldProblem("authorization", "missing Bearer token")])
        try:
            actor = deps().verifier().verify(token.strip())
        except InvalidToken as exc:
            raise HttpError("unauthorized", "the token is not valid",
                            [FieldProblem("authorization", str(exc))]) from exc
        return deps().catalogue.officer(actor, deps().now())  # its unit and roles against the catalogue


def route(bp: Blueprint, method: str, path: str, **meta: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(handler: Callable[..., Any]) -> Callable[..., Any]:
        operation = Operation(method, path, handler.__name__, **meta)
        OPERATIONS.append(operation)

        @functools.wraps(handler)
        def view(**path_args: str) -> Response:
            request = bp.current_request
            rid = bind_request((request.context or {}).get("requestId") if request else None, bp.lambda_context)
            try:
                _check_path(path_args)
                result = handler(Call(request, operation, bp.lambda_context), **path_args)
                if isinstance(result, FileBody):
                    return file_response(result, request, rid, operation.success)
                status, body = result if isinstance(result, tuple) else (operation.success, result)
                return json_response(status, body, request, rid)
            except DomainError as exc:
                return error_response(exc, request, rid)
            except Exception as exc:
                if _unavailable(exc):  # the database did not answer in time: say so, and when to retry
                    logger().warning("dependency unavailable", extra={"method": method, "route": path,
                                                                      "error": repr(exc)})
                    return error_response(HttpError("unavailable", "the service is temporarily unavailable; "
                                                    "retry shortly"), request, rid)
                # a real server failure: log it, answer 500 in the same envelope
                logger().exception("unhandled error", extra={"method": method, "route": path})
                return json_response(500, {"error": {"code": "internal", "message": "internal server error",
                                                     "details": [], "request_id": rid}}, request, rid)

        bp.route(path, methods=[method], content_types=["*/*"], api_key_required=operation.api_key)(view)
        if path not in _PREFLIGHT_PATHS:
            _PREFLIGHT_PATHS.add(path)
            bp.route(path, methods=["OPTIONS"], content_types=["*/*"], name=f"preflight_{handler.__name__}")(
                _preflight(bp))
        return handler

    return decorator


def _check_path(path_args: dict[str, str]) -> None:
    """Bound every path parameter before any route reads it (a key longer than DynamoDB allows is a 500)."""
    for name, value in path_args.items():
        check_text(value, name)
        if len(value) > MAX_PATH_PARAM:
            raise InvalidInput(f"invalid {name}", [FieldProblem(name, f"at most {MAX_PATH_PARAM} characters")])


_THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
              "InternalServerError", "ServiceUnavailable"}


def _unavailable(exc: BaseException) -> bool:
    """A timeout, a refused connection or throttling anywhere in the cause chain: retrying later will work."""
    import botocore.exceptions as bce  # on the error path only: cold start never pays for it

    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, (bce.ConnectionError, bce.HTTPClientError, bce.ConnectTimeoutError,
                             bce.ReadTimeoutError)):
            return True
        if isinstance(seen, bce.ClientError) and seen.response.get("Error", {}).get("Code") in _THROTTLED:
            return True
        if getattr(seen, "cause_response_code", None) in _THROTTLED:  # PynamoDB's wrapped ClientError
            return True
        seen = seen.__cause__ or seen.__context__ or getattr(seen, "cause", None)
    return False


def _preflight(bp: Blueprint) -> Callable[..., Response]:
    def preflight(**_: str) -> Response:
        request = bp.current_request
        rid = bind_request((request.context or {}).get("requestId") if request else None, bp.lambda_context)
        # Vary on every answer: a shared cache must not hand one origin's preflight to another.
        headers = {"Vary": "Origin", **_cors_headers(request, preflight=True), "X-Request-Id": rid}
        return Response(body="", status_code=204, headers=headers)

    return preflight


def _cors_headers(request: Request | None, preflight: bool = False) -> dict[str, str | list[str]]:
    origin = _header(request, "origin")
    if not origin or origin not in settings().cors_origins:
        return {}
    headers: dict[str, str | list[str]] = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if preflight:
        headers.update({
            "Access-Control-Allow-Methods": "GET,POST,PATCH,DELETE,OPTIONS",
            "Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key",
            "Access-Control-Max-Age": "600",
        })
    else:
        headers["Access-Control-Expose-Headers"] = "X-Request-Id,Retry-After,Content-Disposition"
    return headers


def _header(request: Request | None, name: str) -> str | None:
    """Headers are case-insensitive; Chalice's mapping lowercases them."""
    if request is None or not request.headers:
        return None
    value = request.headers.get(name.lower())
    return str(value) if value is not None else None


def json_response(status: int, body: Any, request: Request | None, request_id: str | None = None) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json; charset=utf-8", **_cors_headers(request)}
    if request_id:
        headers["X-Request-Id"] = request_id
    if status == 503:
        headers["Retry-After"] = str(settings().retry_after_seconds)
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status, headers=headers)


def file_response(file: FileBody, request: Request | None, request_id: str, status: int = 200) -> Response:
    from .files import content_disposition

    headers: dict[str, str | list[str]] = {
        "Content-Type": file.media_type, "Content-Disposition": content_disposition(file.filename),
        # Reports and tracking books hold personal data: no shared cache keeps them, no browser sniffs them.
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **_cors_headers(request),
        "X-Request-Id": request_id}
    return Response(body=file.content, status_code=status, headers=headers)


def error_response(exc: DomainError, request: Request | None, request_id: str | None = None) -> Response:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message, "details": [d.as_dict() for d in exc.details]}
    if request_id:
        body["request_id"] = request_id
    allowed = getattr(exc, "allowed", None)
    if allowed is not None:
        body["allowed_actions"] = allowed
    current = getattr(exc, "current_version", None)
    if current is not None:
        body["current_version"] = current
    return json_response(STATUS_BY_CODE.get(exc.code, 400), {"error": body}, request, request_id)
