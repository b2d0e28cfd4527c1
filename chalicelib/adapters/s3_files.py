"""Scans and results in S3 (services/ports.FileStorage): presigned URLs, inspection, promotion.

The client is created on first use (boto3's S3 client costs ~75 ms at cold start), with bounded waits: an S3
that does not answer costs (1 + retries) x timeout, then the API answers 503. `AWS_ENDPOINT_URL_S3` points it
at the local server (scripts/s3_local.py). Flexible checksums are computed only when an operation requires
them: the presigned PUT carries the client's own SHA-256 instead, and the local server knows no other.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from ..domain.documents import SNIFF_BYTES

CHUNK = 1024 * 1024


class S3FileStorage:
    def __init__(self, bucket: str, connect_timeout: float, read_timeout: float, max_retries: int) -> None:
        self.bucket = bucket
        self._limits = (connect_timeout, read_timeout, max_retries)
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    connect, read, retries = self._limits
                    self._client = boto3.client("s3", config=Config(
                        signature_version="s3v4", s3={"addressing_style": "path"},
                        connect_timeout=connect, read_timeout=read,
                        retries={"max_attempts": retries, "mode": "standard"},
                        request_checksum_calculation="when_required",
                        response_checksum_validation="when_required"))
        return self._client

    def presign_put(self, key: str, media_type: str, size: int, sha256_b64: str, seconds: int
                    ) -> tuple[str, dict[str, str]]:
        # Signed headers: S3 refuses a PUT whose type, length or checksum differ from these (and checks the
        # body against the checksum); the key is in the signed path.
        url = self.client().generate_presigned_url("put_object", Params={
            "Bucket": self.bucket, "Key": key, "ContentType": media_type, "ContentLength": size,
            "ChecksumSHA256": sha256_b64}, ExpiresIn=seconds, HttpMethod="PUT")
        headers = {"Content-Type": media_type, "Content-Length": str(size), "x-amz-checksum-sha256": sha256_b64}
        return url, headers

    def presign_get(self, key: str, seconds: int, filename: str, media_type: str) -> str:
        from urllib.parse import quote

        disposition = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
        url: str = self.client().generate_presigned_url("get_object", Params={
            "Bucket": self.bucket, "Key": key, "ResponseContentDisposition": disposition,
            "ResponseContentType": media_type}, ExpiresIn=seconds, HttpMethod="GET")
        return url

    def inspect(self, key: str, max_bytes: int) -> tuple[int | None, str | None, bytes]:
        client = self.client()
        try:
            answer = client.get_object(Bucket=self.bucket, Key=key)
        except client.exceptions.NoSuchKey:
            return None, None, b""
        size = int(answer["ContentLength"])
        body = answer["Body"]
        try:
            if size > max_bytes:  # never read more than a file may hold: its size alone refuses it
                return size, None, body.read(SNIFF_BYTES)
            digest = hashlib.sha256()
            head = b""
            for chunk in body.iter_chunks(CHUNK):
                if len(head) < SNIFF_BYTES:
                    head += chunk[:SNIFF_BYTES - len(head)]
                digest.update(chunk)
            return size, digest.hexdigest(), head
        finally:
            body.close()

    def copy(self, source_key: str, target_key: str) -> None:
        """Within the bucket, server-side: no byte passes through the function."""
        self.client().copy_object(Bucket=self.bucket, Key=target_key,
                                  CopySource={"Bucket": self.bucket, "Key": source_key})

    def delete(self, key: str) -> None:
        self.client().delete_object(Bucket=self.bucket, Key=key)

    def put(self, key: str, body: bytes, media_type: str) -> None:
        import base64
        import hashlib

        self.client().put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=media_type,
                                 ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode("ascii"))
