"""Answers as files: which format a request asks for, and how the file is named.

Precedence: the `format` query parameter (json, csv, xlsx) when given; else the Accept header's first media type
(text/csv or the XLSX type); else JSON. API Gateway returns a body as binary only when the request's Accept names
a binary media type registered on the app (app.py), and it honours only the first type listed, so an XLSX answer
is given only to a request whose Accept starts with the XLSX type: anything else is a 406 naming `accept`,
in the JSON error envelope, rather than a base64 text the client cannot open.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from ..domain.errors import FieldProblem, InvalidInput
from .routing import Call, HttpError

JSON = "application/json"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
FORMATS = {"json": JSON, "csv": CSV, "xlsx": XLSX, "pdf": PDF}
BINARY = (XLSX, PDF)  # registered as app.api.binary_types in app.py
MAX_FILENAME = 120


def requested_format(call: Call, formats: tuple[str, ...] = ("json", "csv", "xlsx"), default: str = "json") -> str:
    """The format the request asks for, one of `formats`: `format` wins over Accept; `default` (JSON) else."""
    chosen = call.query().get("format")
    listed = accepted(call.header("accept") or "")
    # API Gateway judges only the first type listed; a type with q=0 is one the client refuses (RFC 9110 12.4.2).
    first = listed[0][0] if listed and listed[0][1] > 0 else ""
    if chosen is None:
        preferred = next((media for media, q in listed if q > 0), "")
        chosen = next((name for name, media in FORMATS.items() if media == preferred and name in formats), default)
    if chosen not in formats:  # the query schemas list the same names: this guards a route that forgets to
        raise InvalidInput("invalid format", [FieldProblem("format", f"one of {', '.join(formats)}")])
    if FORMATS[chosen] in BINARY and first != FORMATS[chosen]:
        raise HttpError("not_acceptable", f"a {chosen} file is binary: send 'Accept: {FORMATS[chosen]}' (first, "
                        "alone) so that the gateway returns it as a file",
                        [FieldProblem("accept", f"must start with {FORMATS[chosen]}")])
    return chosen


def accepted(accept: str) -> list[tuple[str, float]]:
    """The Accept header's media types in the order listed, each with its weight (1 unless `q` says otherwise;
    an unreadable weight counts as 0: that type is not taken as asked for)."""
    out: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
                weight = weight if 0.0 <= weight <= 1.0 else 0.0
        if media:
            out.append((media.lower(), weight))
    return out


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback (Vietnamese letters without their marks, anything else `-`) and the
    exact name in RFC 5987 `filename*`: browsers that read it save the Vietnamese name."""
    exact = filename[:MAX_FILENAME]
    return f'attachment; filename="{ascii_name(exact)}"; filename*=UTF-8\'\'{quote(exact, safe="")}'


def ascii_name(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9._-]+", "-", plain).strip("-.") or "file"
