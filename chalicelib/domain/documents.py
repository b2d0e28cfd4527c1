"""Files of a dossier: the components the desk digitised (scanned) and the result (Decree 107/2021 amending
Decree 61/2018 Art 14 and 16; Circular 01/2023/TT-VPCP on digitising dossiers and results).

The domain records what a file is (which component or the result, its type, size, SHA-256, pages, who, when);
adapters move the bytes. A file is accepted only when the stored bytes are the declared ones: same size, same
SHA-256, and a type sniffed from the first bytes equal to the declared one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from .errors import FieldProblem

KINDS = ("component", "result")  # a component of the procedure's document list, or the result issued
# The first bytes of each accepted type: what the object must start with, whatever it was declared as.
MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
SNIFF_BYTES = 16
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FileLimits:
    max_bytes: int
    media_types: tuple[str, ...]
    quota_files: int
    quota_bytes: int


def sniff(head: bytes) -> str | None:
    """The media type the first bytes show, or None for none we accept."""
    for media_type, signatures in MAGIC.items():
        if any(head.startswith(s) for s in signatures):
            return media_type
    return None


def check_declared(declared: dict[str, Any], limits: FileLimits, files_held: int, bytes_held: int
                   ) -> list[FieldProblem]:
    """What is wrong with an upload before any URL is given: type, size and the dossier's quota."""
    problems = []
    if declared["media_type"] not in limits.media_types:
        problems.append(FieldProblem("media_type", f"{declared['media_type']} is not accepted; accepted: "
                                                   f"{', '.join(limits.media_types)}"))
    size = int(declared["size"])
    if size > limits.max_bytes:
        problems.append(FieldProblem("size", f"{size} bytes is over the limit of {limits.max_bytes} bytes"))
    if files_held + 1 > limits.quota_files:
        problems.append(FieldProblem("size", f"the dossier already holds {files_held} files, the most allowed is "
                                             f"{limits.quota_files}"))
    elif bytes_held + size > limits.quota_bytes:
        problems.append(FieldProblem("size", f"the dossier's files would total {bytes_held + size} bytes, over its "
                                             f"quota of {limits.quota_bytes} bytes"))
    return problems


def check_stored(declared: dict[str, Any], size: int | None, sha256: str | None, head: bytes) -> list[FieldProblem]:
    """What differs between the declared file and the bytes stored (None: the object is not there)."""
    if size is None:
        return [FieldProblem("file", "nothing was uploaded to the URL given (or it expired)")]
    problems = []
    if size != int(declared["size"]):
        problems.append(FieldProblem("size", f"declared {declared['size']} bytes, {size} were uploaded"))
    if sha256 != declared["sha256"]:
        problems.append(FieldProblem("sha256", "the uploaded bytes do not have the declared SHA-256"))
    found = sniff(head)
    if found != declared["media_type"]:
        problems.append(FieldProblem("media_type", f"declared {declared['media_type']}, the bytes are "
                                                   f"{found or 'of no accepted type'}"))
    return problems


def secret_hash(secret: str) -> str:
    """What is stored of the receipt secret: its SHA-256 (the secret is random, 128 bits: no salt needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    """Compared in constant time, so the answer's timing says nothing of how much of the secret was right."""
    if not stored_hash:
        return False
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def applicant_may_see(kind: str, dossier_returned: bool) -> bool:
    """The applicant sees the components they handed in at once, and the result once it was returned."""
    return kind == "component" or dossier_returned


def applicant_key(id_number: str | None) -> str | None:
    """The applicant's reuse index key: a hash of the ID number, so the number itself is not a table key."""
    if not id_number or not str(id_number).strip():
        return None
    return "applicant#" + hashlib.sha256(str(id_number).strip().encode("utf-8")).hexdigest()


def reusable(documents: tuple[Any, ...] | list[Any], component: str) -> bool:
    """Whether the procedure lets this component be reused from the applicant's earlier dossiers: the catalogue's
    `reusable: true` on the document (Decree 107/2021 Art 1(6): results and documents already digitised are
    not asked for again)."""
    return any(d.get("name") == component and d.get("reusable") is True for d in documents)
