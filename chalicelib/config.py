"""Settings from the environment, read and validated once per Lambda container.

`settings()` raises `SettingsError` naming the variable when a value is unusable; app.py calls it at import,
so a misconfigured container fails at start with one clear line in the log instead of a 500 later.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TypedDict, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AUTH_MODES = ("local", "jwks")
# scheme://host[:port], no path: what browsers send in the Origin header.
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_MIN_SECRET_LENGTH = 32
NOTIFIERS = ("local", "aws")
# EventBridge bus names (or a bus ARN) and Step Functions state machine ARNs, as AWS spells them.
_BUS = re.compile(r"^(arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/)?[A-Za-z0-9._/-]{1,256}$")
_STATE_MACHINE = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$")
# An SQS queue URL as CloudFormation's Ref of a queue gives it (the webhook delivery queue).
_QUEUE_URL = re.compile(r"^https://sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[0-9]{12}/[A-Za-z0-9_-]{1,80}$")
_ADDRESS = r"[^<>@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
_EMAIL = re.compile(rf"^({_ADDRESS}|[^<>@]+ <{_ADDRESS}>)$")  # motcua@x.gov.vn or 'Name <motcua@x.gov.vn>'
_MAX_CLOCK_SPEED = 100_000.0

T = TypeVar("T", int, float)


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the environment variable."""


# The rating bands' default (domain/quality_index.py DEFAULT_BANDS): a real provincial map's legend (Thanh Hóa).
_BANDS: tuple[tuple[str, float, str], ...] = (("excellent", 90.0, "Xuất sắc"), ("good", 80.0, "Tốt"),
                                              ("fair", 70.0, "Khá"), ("average", 50.0, "Trung bình"),
                                              ("weak", 0.0, "Yếu"))
# Decision 766's computable indicators and their default points (domain/quality_index.py DEFAULT_POINTS, the
# sample allocation of a real provincial system; docs/statistics.md).
_QUALITY_POINTS: tuple[tuple[str, float], ...] = (
    ("on_time", 20.0), ("online", 6.0), ("online_procedures", 2.0), ("online_used", 4.0), ("sync", 6.0),
    ("paid_online", 6.0), ("payment_procedures", 2.0), ("satisfaction", 6.0),

    # Digitisation (domain/quality_index.py DIGITISATION_POINTS).
    ("digitised", 4.0), ("e_result", 6.0), ("reuse", 2.0))


@dataclass(frozen=True)
class Settings:
    table_prefix: str
    auth_mode: str  # "local" (a key file) or "jwks" (a JWKS URL: Cognito or any OIDC issuer)
    local_jwks_path: str
    jwks_url: str
    jwt_issuer: str
    jwt_audience: str  # the app client id: `aud` of ID tokens, `client_id` of Cognito access tokens
    unit_claim: str
    roles_claim: str
    cors_origins: tuple[str, ...]
    max_body_bytes: int
    idempotency_ttl_seconds: int
    cursor_secret: bytes
    db_connect_timeout: float
    db_read_timeout: float
    db_max_retries: int
    retry_after_seconds: int
    # Deadlines (issue 6): the due-soon warning and the online intake deadline, in working hours.
    # 16 (2 working days): a warned leader still has a working day to apologise in time (the apology is due
    # at least 1 working day before the due time, Decree 61/2018 Art 19); see domain.deadlines.WatchSettings.
    due_soon_hours: float = 16.0
    intake_deadline_hours: float = 8.0
    event_bus: str = ""  # "": the local in-process bus; else the EventBridge bus the relay publishes to
    timer_state_machine_arn: str = ""  # "": no Step Functions timers (locally the sweep wakes dossiers)
    notifier: str = "local"  # "local": notifications are only recorded; "aws": SES email and SNS SMS
    email_sender: str = ""  # SES verified sender, required with notifier "aws"
    sms_enabled: bool = False
    clock: MovedClock | None = None  # local mode only: the clock starts elsewhere and/or runs faster
    # The ranking of units (services/quality.py, docs/statistics.md): the fewest dossiers a unit is ranked on,
    # the floors of the bands excellent, good, fair, average (scores on 100), each indicator's points, and the
    # unit levels whose ranking anyone may read without a token.
    ranking_min_dossiers: int = 10
    # (key, floor, label), highest floor first, the last at 0: any number of bands (domain/quality_index.py Band).
    ranking_bands: tuple[tuple[str, float, str], ...] = _BANDS
    quality_points: tuple[tuple[str, float], ...] = _QUALITY_POINTS
    ranking_public_levels: tuple[str, ...] = ("province", "department", "commune")
    ranking_cache_seconds: float = 300.0  # how long a container keeps a published ranking; 0: never (local stack)
    # Inbound message sources (docs/inbound.md): "" none, a JSON file's path, or "ssm:<SecureString parameter>".
    inbound_sources: str = ""
    webhooks_local: bool = False  # the local stack: webhook targets may be http on loopback
    webhook_queue_url: str = ""  # "": the webhook sweep alone sends deliveries; else the SQS delivery queue
    # The outbox table's stream, which the `outbox_stream` function reads (docs/events.md). Route 1 names it (the
    # tables stack's output); route 2's package replaces the placeholder with the table's own stream.
    outbox_stream_arn: str = ""
    portal: PortalSettings = field(default_factory=lambda: PortalSettings())  # the national portal sync
    cursor_secret_parameter: str = ""  # "ssm:/...": the cursor secret is that SecureString (adapters/secrets.py)
    # The QR code on the receipt (form 01) leads here: a URL with "{code}"; "": the API's own public lookup.
    public_lookup_url: str = ""
    files: FileSettings = field(default_factory=lambda: FileSettings())  # scans and results (docs/documents.md)

    def table(self, name: str) -> str:
        return f"{self.table_prefix}-{name}"


@dataclass(frozen=True)
class FileSettings:
    """Scanned components and results in S3 (docs/documents.md): the bucket, the limits, how long URLs live."""

    bucket: str = ""  # "": no file storage in this deployment (the file routes answer 503)
    max_bytes: int = 10 * 1024 * 1024
    media_types: tuple[str, ...] = ("application/pdf", "image/jpeg", "image/png")
    quota_files: int = 50  # files per dossier, pending uploads included
    quota_bytes: int = 200 * 1024 * 1024
    upload_seconds: int = 300  # a presigned PUT's life
    download_seconds: int = 300  # a presigned GET's life
    pending_hours: int = 24  # an upload never finalised is forgotten (DynamoDB TTL; the bucket's lifecycle)
    connect_timeout: float = 1.0
    read_timeout: float = 5.0
    max_retries: int = 1


@dataclass(frozen=True)
class MovedClock:
    """A clock that showed `start` at the real instant `anchor` and runs `speed` times faster than real time.

    `make run` uses it so that a dossier goes due-soon and overdue within minutes. Every process of the local
    stack (the API and the job runner) is given the same anchor, so they read the same time."""

    start: datetime
    speed: float
    anchor: float  # epoch seconds

    def __call__(self) -> datetime:
        elapsed = (time.time() - self.anchor) * self.speed
        return (self.start + timedelta(seconds=elapsed)).astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class PortalSettings:
    """Where and how the national portal sync pushes (docs/portal-sync.md). Every wait is bounded."""

    base_url: str = ""  # "": nothing is pushed (changes are recorded and wait, visible as pending)
    token: str = ""  # sent as a bearer token
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    concurrency: int = 8  # dossiers pushed at once (each dossier one change at a time)
    failing_after: int = 5  # failed tries of one change before its dossier shows as failing
    backoff_base: float = 5.0  # seconds before the 1st retry, doubled each time ...
    backoff_cap: float = 900.0  # ... up to this
    gap_seconds: float = 60.0  # how long a missing change is awaited from its queue before the outbox is read
    history_per_run: int = 50  # imported dossiers a run pushes at most, after the live ones (docs/import.md)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load(os.environ)


def load(env: Mapping[str, str]) -> Settings:
    """Read and check every setting; the first unusable one raises SettingsError."""
    auth_mode = env.get("MOTCUA_AUTH_MODE", "local")
    if auth_mode not in AUTH_MODES:
        raise SettingsError(f"MOTCUA_AUTH_MODE={auth_mode!r}: expected one of {', '.join(AUTH_MODES)}")
    jwks_url = env.get("MOTCUA_JWKS_URL", "")
    if auth_mode == "jwks":
        if not jwks_url.startswith("https://"):
            raise SettingsError("MOTCUA_JWKS_URL: MOTCUA_AUTH_MODE=jwks needs the https:// URL of the issuer's JWKS")
        if not env.get("MOTCUA_JWT_ISSUER", "").startswith("https://"):
            raise SettingsError("MOTCUA_JWT_ISSUER: MOTCUA_AUTH_MODE=jwks needs the issuer (iss), an https:// URL")
        if not env.get("MOTCUA_JWT_AUDIENCE", "").strip():
            raise SettingsError("MOTCUA_JWT_AUDIENCE: MOTCUA_AUTH_MODE=jwks needs the app client id that tokens "
                                "must name (aud of ID tokens, client_id of access tokens)")
    prefix = env.get("MOTCUA_TABLE_PREFIX", "motcua-local")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,200}", prefix):
        raise SettingsError(f"MOTCUA_TABLE_PREFIX={prefix!r}: letters, digits, '_', '-', '.' only")
    return Settings(
        table_prefix=prefix,
        auth_mode=auth_mode,
        local_jwks_path=env.get("MOTCUA_LOCAL_JWKS", str(PROJECT_ROOT / ".local" / "keys" / "jwks.json")),
        jwks_url=jwks_url,
        jwt_issuer=env.get("MOTCUA_JWT_ISSUER", "motcua-local"),
        jwt_audience=env.get("MOTCUA_JWT_AUDIENCE", "motcua"),
        unit_claim=env.get("MOTCUA_UNIT_CLAIM", "unit"),
        roles_claim=env.get("MOTCUA_ROLES_CLAIM", "roles"),
        cors_origins=_origins(env.get("MOTCUA_CORS_ORIGINS", "http://localhost:3000")),
        max_body_bytes=_number(env, "MOTCUA_MAX_BODY_BYTES", int, 256 * 1024, 1024, 6 * 1024 * 1024),
        idempotency_ttl_seconds=_number(env, "MOTCUA_IDEMPOTENCY_TTL", int, 24 * 3600, 60, 30 * 24 * 3600),
        cursor_secret=_cursor_secret(env, auth_mode),
        cursor_secret_parameter=env.get("MOTCUA_CURSOR_SECRET", "") if env.get(
            "MOTCUA_CURSOR_SECRET", "").startswith("ssm:") else "",
        # Bounded waits on DynamoDB: attempts x read timeout stays well under 10 s, so a request answers 503
        # while the database is unreachable instead of hanging until API Gateway gives up.
        db_connect_timeout=_number(env, "MOTCUA_DB_CONNECT_TIMEOUT", float, 1.0, 0.1, 10.0),
        db_read_timeout=_number(env, "MOTCUA_DB_READ_TIMEOUT", float, 2.0, 0.1, 10.0),
        db_max_retries=_number(env, "MOTCUA_DB_MAX_RETRIES", int, 1, 0, 5),
        retry_after_seconds=_number(env, "MOTCUA_RETRY_AFTER", int, 5, 1, 3600),
        due_soon_hours=_number(env, "MOTCUA_DUE_SOON_HOURS", float, 16.0, 0.0, 8760.0),
        intake_deadline_hours=_number(env, "MOTCUA_INTAKE_DEADLINE_HOURS", float, 8.0, 0.0, 8760.0),
        event_bus=_matching(env, "MOTCUA_EVENT_BUS", _BUS, "an EventBridge bus name or ARN"),
        timer_state_machine_arn=_matching(env, "MOTCUA_TIMER_STATE_MACHINE_ARN", _STATE_MACHINE,
                                          "arn:aws:states:<region>:<account>:stateMachine:<name>"),
        **_notifier(env),  # notifier, email_sender, sms_enabled
        clock=_moved_clock(env, auth_mode),
        ranking_min_dossiers=_number(env, "MOTCUA_RANKING_MIN_DOSSIERS", int, 10, 1, 1_000_000),
        ranking_bands=_bands(env.get("MOTCUA_RANKING_BANDS", "")),
        quality_points=_points(env.get("MOTCUA_QUALITY_POINTS", "")),
        ranking_public_levels=_levels(env.get("MOTCUA_RANKING_PUBLIC_LEVELS")),
        ranking_cache_seconds=_number(env, "MOTCUA_RANKING_CACHE_SECONDS", float,
                                      0.0 if auth_mode == "local" else 300.0, 0.0, 86400.0),
        inbound_sources=_inbound_sources(env),
        webhooks_local=auth_mode == "local" and not env.get("AWS_LAMBDA_FUNCTION_NAME"),
        webhook_queue_url=_matching(env, "MOTCUA_WEBHOOK_QUEUE_URL", _QUEUE_URL,
                                    "https://sqs.<region>.amazonaws.com/<account>/<queue name>"),
        portal=_portal(env, auth_mode),
        outbox_stream_arn=_matching(env, "MOTCUA_OUTBOX_STREAM_ARN", _STREAM_ARN,
                                    "arn:aws:dynamodb:<region>:<account>:table/<prefix>-outbox/stream/<label>"),
        public_lookup_url=_lookup_url(env),
        files=_files(env),
    )


_FILE_TYPES = ("application/pdf", "image/jpeg", "image/png")  # the types domain/documents.py can sniff


def _files(env: Mapping[str, str]) -> FileSettings:
    bucket = env.get("MOTCUA_FILES_BUCKET", "").strip()
    if bucket and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise SettingsError(f"MOTCUA_FILES_BUCKET={bucket!r}: not an S3 bucket name")
    raw = env.get("MOTCUA_FILE_TYPES", "").strip()
    types = tuple(t.strip() for t in raw.split(",") if t.strip()) if raw else _FILE_TYPES
    unknown = [t for t in types if t not in _FILE_TYPES]
    if unknown or not types:
        raise SettingsError(f"MOTCUA_FILE_TYPES={raw!r}: a comma-separated subset of {', '.join(_FILE_TYPES)}")
    return FileSettings(
        bucket=bucket,
        max_bytes=_number(env, "MOTCUA_FILE_MAX_BYTES", int, 10 * 1024 * 1024, 1024, 5 * 1024 ** 3),
        media_types=types,
        quota_files=_number(env, "MOTCUA_FILE_QUOTA_FILES", int, 50, 1, 1000),
        quota_bytes=_number(env, "MOTCUA_FILE_QUOTA_BYTES", int, 200 * 1024 * 1024, 1024, 50 * 1024 ** 3),
        upload_seconds=_number(env, "MOTCUA_FILE_UPLOAD_SECONDS", int, 300, 10, 3600),
        download_seconds=_number(env, "MOTCUA_FILE_DOWNLOAD_SECONDS", int, 300, 10, 3600),
        pending_hours=_number(env, "MOTCUA_FILE_PENDING_HOURS", int, 24, 1, 24 * 7),
        connect_timeout=_number(env, "MOTCUA_S3_CONNECT_TIMEOUT", float, 1.0, 0.1, 10.0),
        read_timeout=_number(env, "MOTCUA_S3_READ_TIMEOUT", float, 5.0, 0.1, 30.0),
        max_retries=_number(env, "MOTCUA_S3_MAX_RETRIES", int, 1, 0, 5),
    )


_STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9._-]{3,255}"
                         r"/stream/[0-9A-Za-z:._-]{1,64}$")


def _lookup_url(env: Mapping[str, str]) -> str:
    url = env.get("MOTCUA_PUBLIC_LOOKUP_URL", "").strip()
    if url and (not re.match(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/", url) or url.count("{code}") != 1):
        raise SettingsError(f"MOTCUA_PUBLIC_LOOKUP_URL={url!r}: expected a URL with one {{code}}, like "
                            "https://dichvucong.thanhhoa.gov.vn/tra-cuu?ma={code}")
    return url


_PORTAL_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")


def _portal(env: Mapping[str, str], auth_mode: str) -> PortalSettings:
    """MOTCUA_PORTAL_URL (https; http only to loopback in the local stack), MOTCUA_PORTAL_TOKEN and the limits."""
    url = env.get("MOTCUA_PORTAL_URL", "").strip().rstrip("/")
    if url:
        if not _PORTAL_URL.match(url):
            raise SettingsError(f"MOTCUA_PORTAL_URL={url!r}: expected a URL like https://dichvucong.gov.vn/api")
        loopback = re.match(r"^http://(127\.0\.0\.1|localhost)(:[0-9]+)?(/|$)", url)
        local = auth_mode == "local" and not env.get("AWS_LAMBDA_FUNCTION_NAME")
        if not url.startswith("https://") and not (loopback and local):
            raise SettingsError(f"MOTCUA_PORTAL_URL={url!r}: https:// only (http://127.0.0.1 in the local stack)")
    return PortalSettings(
        base_url=url,
        token=_ssm_locator("MOTCUA_PORTAL_TOKEN", env.get("MOTCUA_PORTAL_TOKEN", "").strip()),
        connect_timeout=_number(env, "MOTCUA_PORTAL_CONNECT_TIMEOUT", float, 2.0, 0.1, 10.0),
        read_timeout=_number(env, "MOTCUA_PORTAL_READ_TIMEOUT", float, 5.0, 0.1, 30.0),
        concurrency=_number(env, "MOTCUA_PORTAL_CONCURRENCY", int, 8, 1, 64),
        failing_after=_number(env, "MOTCUA_PORTAL_FAILING_AFTER", int, 5, 1, 100),
        backoff_base=_number(env, "MOTCUA_PORTAL_BACKOFF_BASE", float, 5.0, 0.0, 3600.0),
        backoff_cap=_number(env, "MOTCUA_PORTAL_BACKOFF_CAP", float, 900.0, 0.0, 86400.0),
        gap_seconds=_number(env, "MOTCUA_PORTAL_GAP_SECONDS", float, 60.0, 0.0, 86400.0),
        history_per_run=_number(env, "MOTCUA_PORTAL_HISTORY_PER_RUN", int, 50, 0, 10000),
    )


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip() for o in raw.split(",") if o.strip())
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise SettingsError(f"MOTCUA_CORS_ORIGINS: {origin!r} is not an origin like https://motcua.example.gov.vn")
    return origins


def _number(env: Mapping[str, str], name: str, kind: Callable[[str], T], default: T, low: T, high: T) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw.strip())
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r}: expected a number") from exc
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw!r}: expected {low} to {high}")
    return value


def _cursor_secret(env: Mapping[str, str], auth_mode: str) -> bytes:
    """The key list cursors are signed with. Every Lambda container must share it, so outside the local
    stack it is required; locally a per-process random key is enough (cursors live for one listing)."""
    secret = env.get("MOTCUA_CURSOR_SECRET", "")
    if secret.startswith("ssm:"):  # read when a cursor is first signed (adapters/secrets.py)
        _ssm_locator("MOTCUA_CURSOR_SECRET", secret)
        return b""
    if secret:
        if len(secret) < _MIN_SECRET_LENGTH:
            raise SettingsError(f"MOTCUA_CURSOR_SECRET: at least {_MIN_SECRET_LENGTH} characters")
        return secret.encode("utf-8")
    if auth_mode != "local" or env.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise SettingsError("MOTCUA_CURSOR_SECRET: required outside the local stack (at least "
                            f"{_MIN_SECRET_LENGTH} random characters, the same for every container of a stage)")
    return os.urandom(32)


def _matching(env: Mapping[str, str], name: str, pattern: re.Pattern[str], expected: str) -> str:
    value = env.get(name, "").strip()
    if value and not pattern.match(value):
        raise SettingsError(f"{name}={value!r}: expected {expected}")
    return value


class _NotifierSettings(TypedDict):
    notifier: str
    email_sender: str
    sms_enabled: bool


def _notifier(env: Mapping[str, str]) -> _NotifierSettings:
    kind = env.get("MOTCUA_NOTIFIER", "local").strip() or "local"
    if kind not in NOTIFIERS:
        raise SettingsError(f"MOTCUA_NOTIFIER={kind!r}: expected one of {', '.join(NOTIFIERS)}")
    sender = env.get("MOTCUA_EMAIL_SENDER", "").strip()
    if sender and not _EMAIL.match(sender):
        raise SettingsError(f"MOTCUA_EMAIL_SENDER={sender!r}: expected an address SES verified, e.g. "
                            "motcua@thanhhoa.gov.vn or 'Một cửa Thanh Hóa <motcua@thanhhoa.gov.vn>'")
    if kind == "aws" and not sender:
        raise SettingsError("MOTCUA_EMAIL_SENDER: MOTCUA_NOTIFIER=aws sends email through SES from this address")
    sms = env.get("MOTCUA_SMS", "off").strip().lower() or "off"
    if sms not in ("on", "off"):
        raise SettingsError(f"MOTCUA_SMS={sms!r}: expected on or off")
    return {"notifier": kind, "email_sender": sender, "sms_enabled": sms == "on"}


def _moved_clock(env: Mapping[str, str], auth_mode: str) -> MovedClock | None:
    """MOTCUA_CLOCK_START (an ISO instant with its offset) and MOTCUA_CLOCK_SPEED (a factor): the local stack
    only. A deployed stage must never judge deadlines on any other time than the real one."""
    raw_start = env.get("MOTCUA_CLOCK_START", "").strip()
    raw_speed = env.get("MOTCUA_CLOCK_SPEED", "").strip()
    if not raw_start and not raw_speed:
        return None
    for name, raw in (("MOTCUA_CLOCK_START", raw_start), ("MOTCUA_CLOCK_SPEED", raw_speed)):
        if raw and (auth_mode != "local" or env.get("AWS_LAMBDA_FUNCTION_NAME")):
            raise SettingsError(f"{name}: a moved clock is for the local stack (make run) only; unset it in a "
                                "deployed stage")
    start = datetime.now(UTC)
    if raw_start:
        try:
            start = datetime.fromisoformat(raw_start.replace("Z", "+00:00"))
        except ValueError as exc:
            raise SettingsError(f"MOTCUA_CLOCK_START={raw_start!r}: expected an instant like "
                                "2026-03-16T08:00:00+07:00") from exc
        if start.tzinfo is None:
            raise SettingsError(f"MOTCUA_CLOCK_START={raw_start!r}: give its offset, e.g. +07:00")
        if not 2000 <= start.year <= 2100:
            raise SettingsError(f"MOTCUA_CLOCK_START={raw_start!r}: expected a year from 2000 to 2100")
    speed = _number(env, "MOTCUA_CLOCK_SPEED", float, 1.0, 0.001, _MAX_CLOCK_SPEED)
    anchor = _number(env, "MOTCUA_CLOCK_ANCHOR", float, time.time(), 0.0, 4102444800.0)
    return MovedClock(start.astimezone(UTC), speed, anchor)


_BAND_KEY = re.compile(r"^[a-z_]{1,30}$")


def _bands(raw: str) -> tuple[tuple[str, float, str], ...]:
    """MOTCUA_RANKING_BANDS: any number of bands, `key=floor:label` separated by `;`, highest floor first and the
    last at 0, e.g. `pass=50:Đạt;fail=0:Chưa đạt`; or four numbers, the floors of the default bands excellent,
    good, fair and average (weak below), e.g. 90,80,70,50. Default: a real provincial map's legend (Thanh Hóa),
    not confirmed as official (docs/statistics.md)."""
    if not raw.strip():
        return _BANDS
    if "=" not in raw:
        return _default_bands_at(raw)
    bands: list[tuple[str, float, str]] = []
    for part in raw.split(";"):
        key, _, rest = part.partition("=")
        floor, _, label = rest.partition(":")
        key, label = key.strip(), label.strip()
        try:
            value = float(floor)
        except ValueError as exc:
            raise SettingsError(f"MOTCUA_RANKING_BANDS={raw!r}: {part.strip()!r} is not key=floor:label, like "
                                "good=80:Tốt") from exc
        if not _BAND_KEY.match(key) or not label or len(label) > 60 or not 0 <= value <= 100:
            raise SettingsError(f"MOTCUA_RANKING_BANDS={raw!r}: {part.strip()!r}: a key of lowercase letters, a "
                                "floor from 0 to 100 and a label, like good=80:Tốt")
        bands.append((key, value, label))
    return _checked_bands(raw, tuple(bands))


def _default_bands_at(raw: str) -> tuple[tuple[str, float, str], ...]:
    try:
        floors = tuple(float(part) for part in raw.split(","))
    except ValueError as exc:
        raise SettingsError(f"MOTCUA_RANKING_BANDS={raw!r}: expected four numbers like 90,80,70,50, or "
                            "key=floor:label;... like pass=50:Đạt;fail=0:Chưa đạt") from exc
    if len(floors) != 4:
        raise SettingsError(f"MOTCUA_RANKING_BANDS={raw!r}: four numbers are the floors of excellent, good, fair "
                            "and average; any other set of bands is key=floor:label;...")
    return _checked_bands(raw, tuple((key, floor, label) for (key, _, label), floor
                                     in zip(_BANDS, (*floors, 0.0), strict=True)))


def _checked_bands(raw: str, bands: tuple[tuple[str, float, str], ...]) -> tuple[tuple[str, float, str], ...]:
    floors = [floor for _, floor, _ in bands]
    if not all(0 <= f <= 100 for f in floors) or any(a <= b for a, b in zip(floors, floors[1:], strict=False)):
        raise SettingsError(f"MOTCUA_RANKING_BANDS={raw!r}: floors from 100 down to 0, strictly decreasing")
    if floors[-1] != 0:
        raise SettingsError(f"MOTCUA_RANKING_BANDS={raw!r}: the last band's floor is 0, so every score has a band")
    if len({key for key, _, _ in bands}) != len(bands):
        raise SettingsError(f"MOTCUA_RANKING_BANDS={raw!r}: a key is given twice")
    return bands


def _points(raw: str) -> tuple[tuple[str, float], ...]:
    """MOTCUA_QUALITY_POINTS: each computed Decision 766 indicator's points, e.g. on_time=20,online=6 (the others
    keep their defaults: domain/quality_index.py DEFAULT_POINTS)."""
    if not raw.strip():
        return _QUALITY_POINTS
    out: dict[str, float] = {}
    given: set[str] = set()
    names = tuple(n for n, _ in _QUALITY_POINTS)
    for part in raw.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in names or name in given:
            raise SettingsError(f"MOTCUA_QUALITY_POINTS={raw!r}: {name!r} is not an indicator ({', '.join(names)}) "
                                "or is given twice")
        given.add(name)
        try:
            out[name] = float(value)
        except ValueError as exc:
            raise SettingsError(f"MOTCUA_QUALITY_POINTS={raw!r}: {name} needs a number, like {name}=20") from exc
        if not 0 <= out[name] <= 100:
            raise SettingsError(f"MOTCUA_QUALITY_POINTS={raw!r}: {name} points from 0 to 100")
    if not any(out.values()):
        raise SettingsError(f"MOTCUA_QUALITY_POINTS={raw!r}: at least one indicator needs points")
    return tuple(sorted({**dict(_QUALITY_POINTS), **out}.items()))


def _levels(raw: str | None) -> tuple[str, ...]:
    """MOTCUA_RANKING_PUBLIC_LEVELS: unit levels (as the catalogue names them) whose ranking needs no token;
    empty: every ranking needs one."""
    if raw is None:
        return ("province", "department", "commune")
    levels = tuple(part.strip() for part in raw.split(",") if part.strip())
    for level in levels:
        if not re.fullmatch(r"[a-z_]{1,32}", level):
            raise SettingsError(f"MOTCUA_RANKING_PUBLIC_LEVELS: {level!r} is not a unit level like commune")
    return levels
_SSM_PARAMETER = re.compile(r"^ssm:(/[A-Za-z0-9_.-]+)+$")


def _ssm_locator(name: str, value: str) -> str:
    """A secret setting as it is: the secret itself, or `ssm:/<SecureString parameter>` (checked here)."""
    if value.startswith("ssm:") and not _SSM_PARAMETER.match(value):
        example = name.removeprefix("MOTCUA_").lower().replace("_", "-")
        raise SettingsError(f"{name}={value!r}: expected ssm:/<parameter path>, e.g. ssm:/motcua-prod/{example}")
    return value


def _inbound_sources(env: Mapping[str, str]) -> str:
    """MOTCUA_INBOUND_SOURCES: a JSON file (checked here, at start) or an SSM SecureString parameter (its name
    checked here; its content when the first message arrives, as reading it needs the network)."""
    raw = env.get("MOTCUA_INBOUND_SOURCES", "").strip()
    if not raw or raw.startswith("ssm:"):
        if raw and not _SSM_PARAMETER.match(raw):
            raise SettingsError(f"MOTCUA_INBOUND_SOURCES={raw!r}: expected ssm:/<parameter path>, e.g. "
                                "ssm:/motcua/prod/inbound-sources")
        return raw
    from .domain.inbound import SourceConfigError, parse_sources

    try:
        parse_sources(json.loads(Path(raw).read_text(encoding="utf-8")))
    except OSError as exc:
        raise SettingsError(f"MOTCUA_INBOUND_SOURCES={raw!r}: cannot read the file ({exc.strerror})") from exc
    except (ValueError, RecursionError) as exc:  # SourceConfigError is a ValueError: it names the entry
        reason = str(exc) if isinstance(exc, SourceConfigError) else "not a JSON document"
        raise SettingsError(f"MOTCUA_INBOUND_SOURCES={raw!r}: {reason}") from exc
    return raw


def schemas_dir() -> Path:
    """The JSON Schemas. They live in chalicelib/ so that `chalice package` ships them with the code;
    the top-level `schemas` is a link to this folder."""
    return Path(__file__).resolve().parent / "schemas"
