"""The API's JSON Schemas, read from schemas/api/: the handlers and the OpenAPI document use the same files."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ..config import schemas_dir


@lru_cache(maxsize=32)
def load(name: str) -> dict[str, Any]:
    return json.loads((schemas_dir() / "api" / f"{name}.json").read_text(encoding="utf-8"))


def component_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))
