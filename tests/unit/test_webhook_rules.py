"""Outbound webhooks, the pure rules: target URLs (SSRF), event types, matching, backoff, and the signature
against the Standard Webhooks test vector."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import webhooks as rules
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.events import EVENT_TYPES, DomainEvent
from chalicelib.services.webhook_delivery import sign
from chalicelib.services.webhooks import active_secrets, delivery_id, new_secret

# The Standard Webhooks specification's published vector (also in every reference library's tests).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_reproduces_the_standard_webhooks_test_vector():
    at = datetime.fromtimestamp(VECTOR_TIMESTAMP, UTC)
    headers = sign(VECTOR_ID, at, VECTOR_BODY, [VECTOR_SECRET])
    assert headers["webhook-signature"] == VECTOR_SIGNATURE
    assert headers["webhook-id"] == VECTOR_ID and headers["webhook-timestamp"] == str(VECTOR_TIMESTAMP)


def test_signature_does_not_depend_on_the_zone_of_the_instant():
    """The package reads any instant as UTC: a +07:00 instant must be converted first, not relabelled."""
    local = datetime.fromtimestamp(VECTOR_TIMESTAMP, UTC).astimezone(rules_zone())
    assert sign(VECTOR_ID, local, VECTOR_BODY, [VECTOR_SECRET])["webhook-signature"] == VECTOR_SIGNATURE


def rules_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Ho_Chi_Minh")


def plain_hmac_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What docs/webhooks.md shows a receiver without the package doing."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s.split(",", 1)[1]) for s in headers["webhook-signature"].split())


def test_during_rotation_both_signatures_are_sent_and_each_secret_verifies_alone():
    from standardwebhooks.webhooks import Webhook

    old, new = new_secret(), new_secret()
    now = datetime.now(UTC)
    body = json.dumps({"id": "X/1", "type": "dossier.received"}, separators=(",", ":"))
    headers = sign("msg_" + "a" * 32, now, body, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers) == json.loads(body)
        assert plain_hmac_verify(secret, headers, body.encode())
    assert not plain_hmac_verify(new_secret(), headers, body.encode())


def test_plain_hmac_verification_agrees_with_the_vector():
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TIMESTAMP),
               "webhook-signature": VECTOR_SIGNATURE}
    assert plain_hmac_verify(VECTOR_SECRET, headers, VECTOR_BODY.encode())


def test_secrets_are_standard_webhooks_keys_of_32_random_bytes():
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for s in secrets:
        assert s.startswith("whsec_") and len(base64.b64decode(s[6:])) == 32


def test_expired_secrets_stop_signing_and_the_newest_signs_first():
    now = datetime(2026, 3, 16, tzinfo=UTC)
    secrets = [{"secret": "a", "created_at": "2026-03-01T00:00:00Z", "expires_at": "2026-03-15T00:00:00Z"},
               {"secret": "b", "created_at": "2026-03-10T00:00:00Z", "expires_at": "2026-03-17T00:00:00Z"},
               {"secret": "c", "created_at": "2026-03-15T00:00:00Z", "expires_at": None}]
    assert active_secrets(secrets, now) == ["c", "b"]
    assert active_secrets(secrets, now + timedelta(days=2)) == ["c"]


@pytest.mark.parametrize("url", [
    "https://hooks.example.vn/motcua", "https://hooks.example.vn:8443/a?b=c", "https://8.8.8.8/x",
    "https://[2001:4860:4860::8888]/x", "HTTPS://Hooks.Example.VN/x"])
def test_public_https_targets_are_accepted_in_aws(url):
    assert rules.check_target(url, local=False) == url


@pytest.mark.parametrize(("url", "reason"), [
    ("http://hooks.example.vn/x", "https"),
    ("ftp://hooks.example.vn/x", "https"),
    ("file:///etc/passwd", "https"),
    ("gopher://127.0.0.1:6379/_x", "https"),
    ("https://user:pw@hooks.example.vn/x", "user"),
    ("https://hooks.example.vn@127.0.0.1/x", "user"),
    ("https://hooks.example.vn/x#frag", "fragment"),
    ("https://127.0.0.1/x", "public"),
    ("https://10.0.0.5/x", "public"),
    ("https://172.16.3.4/x", "public"),
    ("https://192.168.1.1/x", "public"),
    ("https://169.254.169.254/latest/meta-data", "public"),  # the instance metadata service
    ("https://100.64.0.1/x", "public"),  # carrier-grade NAT
    ("https://0.0.0.0/x", "public"),
    ("https://[::1]/x", "public"),
    ("https://[fe80::1]/x", "public"),
    ("https://[fd00::1]/x", "public"),
    ("https://[::ffff:127.0.0.1]/x", "public"),  # IPv4-mapped loopback
    ("https://[::ffff:a9fe:a9fe]/x", "public"),  # IPv4-mapped metadata address
    ("https://[64:ff9b::a9fe:a9fe]/x", "public"),  # NAT64 (RFC 6052) to the metadata address
    ("https://[64:ff9b:1::a00:5]/x", "public"),  # local-use NAT64 (RFC 8215) to 10.0.0.5
    ("https://[::a9fe:a9fe]/x", "public"),  # IPv4-compatible form of the metadata address
    ("https://224.0.0.1/x", "public"),
    ("https://localhost/x", "public host"),
    ("https://metadata.google.internal/x", "public host"),
    ("https://printer.local/x", "public host"),
    ("https://intranet/x", "public host"),
    ("https://localhost./x", "public host"),
    ("https://printer.local./x", "public host"),
    ("https://2130706433/x", "public host"),  # 127.0.0.1 as one number
    ("https://0x7f.1/x", "notation"),
    ("https://127.1/x", "notation"),
    ("https:///x", "host"),
    ("https://hooks.example.vn:0/x", "port"),
    ("https://hooks.example.vn:99999/x", "URL"),
    ("https://hóa.vn/x", "ASCII"),
    ("https://hooks.example.vn/\u202ex", "ASCII"),
    ("https://hooks.example.vn/a b", "spaces"),
    ("https://under_score.example.vn/x", "valid host"),
    ("", "https"),
    ("https://" + "a" * 2050 + ".vn/", "2048"),
])
def test_targets_an_attacker_would_try_are_refused_naming_url(url, reason):
    with pytest.raises(InvalidInput) as caught:
        rules.check_target(url, local=False)
    [problem] = caught.value.details
    assert problem.field == "url" and reason.lower() in problem.reason.lower(), problem.reason


def test_non_string_targets_are_refused():
    for value in (None, 42, ["https://x.vn"], {"url": "https://x.vn"}):
        with pytest.raises(InvalidInput):
            rules.check_target(value, local=False)


def test_local_stack_allows_http_to_loopback_only():
    assert rules.check_target("http://127.0.0.1:8123/hook", local=True)
    assert rules.check_target("http://localhost:8123/hook", local=True)
    assert rules.check_target("http://[::1]:8123/hook", local=True)
    for url in ("http://hooks.example.vn/x", "http://10.0.0.5/x", "http://169.254.169.254/x"):
        with pytest.raises(InvalidInput):
            rules.check_target(url, local=True)
    with pytest.raises(InvalidInput):
        rules.check_target("http://127.0.0.1:8123/hook", local=False)


def test_event_types_known_or_star():
    assert rules.check_event_types(None) == ("*",)
    assert rules.check_event_types([]) == ("*",)
    assert rules.check_event_types(["*", "dossier.closed"]) == ("*",)
    assert rules.check_event_types(["dossier.closed", "dossier.received", "dossier.closed"]) == (
        "dossier.closed", "dossier.received")
    with pytest.raises(InvalidInput) as caught:
        rules.check_event_types(["dossier.exploded"])
    assert caught.value.details[0].field == "event_types"
    with pytest.raises(InvalidInput):
        rules.check_event_types("dossier.closed")


def test_the_request_schema_lists_exactly_the_known_event_types():
    from chalicelib.api import schemas

    enum = schemas.load("webhook-create")["properties"]["event_types"]["items"]["enum"]
    assert enum == ["*", *EVENT_TYPES]


def event(type_: str = "dossier.received", units: dict[str, str] | None = None) -> DomainEvent:
    snapshot = {"code": "X-260316-0001", **(units or {"receiving_unit": "A", "competent_unit": "B",
                                                      "handling_unit": "B"})}
    return DomainEvent(type_, "X-260316-0001", 3, 4, datetime(2026, 3, 16, 2, tzinfo=UTC), {"dossier": snapshot})


def test_matching_by_type_and_unit_subtree():
    parents = {"B": "P", "A": "Q", "P": None, "Q": None}

    def is_within(unit: str, ancestor: str) -> bool:
        while unit is not None:
            if unit == ancestor:
                return True
            unit = parents.get(unit)  # type: ignore[assignment]
        return False

    e = event()
    assert rules.wants(["*"], None, e, is_within)
    assert rules.wants(["dossier.received"], "P", e, is_within)  # B is below P
    assert rules.wants(["*"], "A", e, is_within)  # the receiving unit counts too
    assert not rules.wants(["dossier.closed"], None, e, is_within)
    assert not rules.wants(["*"], "Z", e, is_within)


def test_payload_carries_what_orders_the_events_of_a_dossier():
    body = rules.payload(event())
    assert body["id"] == "X-260316-0001/3" and body["code"] == "X-260316-0001"
    assert (body["seq"], body["version"]) == (3, 4)
    assert body["occurred_at"] == body["timestamp"] == "2026-03-16T02:00:00Z"
    assert body["type"] == "dossier.received" and body["data"]["dossier"]["competent_unit"] == "B"


def test_delivery_ids_are_deterministic_per_subscription_and_event():
    assert delivery_id("wh_1", "X/1") == delivery_id("wh_1", "X/1")
    assert len({delivery_id("wh_1", "X/1"), delivery_id("wh_2", "X/1"), delivery_id("wh_1", "X/2")}) == 3
    assert delivery_id("wh_1", "X/1").startswith("msg_") and len(delivery_id("wh_1", "X/1")) == 36


def test_outcomes():
    assert rules.judge(200, None).kind == "delivered" and rules.judge(204, None).kind == "delivered"
    assert rules.judge(410, None).kind == "gone"
    for status in (301, 302, 400, 404, 429, 500, 503):
        assert rules.judge(status, None).kind == "retry"
    assert rules.judge(None, "timeout").kind == "retry"


def test_backoff_doubles_from_30_s_to_a_6_h_cap():
    assert [rules.backoff_cap(n) for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert rules.backoff_cap(20) == rules.backoff_cap(2000) == 6 * 3600


def test_full_jitter_floored_and_the_last_try_at_the_end_of_3_days():
    created = datetime(2026, 3, 16, tzinfo=UTC)
    assert rules.next_attempt(created, created, 1, lambda: 0.0) == created + timedelta(seconds=5)
    assert rules.next_attempt(created, created, 3, lambda: 0.5) == created + timedelta(seconds=60)
    late = created + timedelta(days=3) - timedelta(minutes=1)
    assert rules.next_attempt(created, late, 30, lambda: 0.99) == created + timedelta(days=3)
    assert rules.next_attempt(created, created + timedelta(days=3), 31, lambda: 0.5) is None


def test_a_receiver_that_never_answers_is_tried_for_3_days_then_given_up():
    created = now = datetime(2026, 3, 16, tzinfo=UTC)
    attempts = 0
    while now is not None:
        attempts += 1
        last = now
        now = rules.next_attempt(created, now, attempts, lambda: 0.5)
    assert last == created + timedelta(days=3)
    assert 20 < attempts < 40  # mean waits: 15 s, 30 s ... 3 h


# Accepted before the IANA tables (Python's is_global judged them public); each is special-purpose.
@pytest.mark.parametrize("host", [
    "192.0.0.192", "192.0.0.8", "192.0.0.9", "192.0.0.10", "192.0.0.255", "[::ffff:0:a9fe:a9fe]", "[fec0::1]",
    "[fec0:1234::5]", "[5f00::1]", "[5f00:ffff::1]", "[64:ff9b::808:808]", "[2002:808:808::1]", "[2001::1]",
    "[2001:db8::1]", "[3fff::1]", "[100::1]", "[4000::1]", "[::]", "[ff02::1]", "192.88.99.2", "198.19.255.255",
])
def test_every_special_purpose_address_is_refused(host):
    with pytest.raises(InvalidInput) as caught:
        rules.check_target(f"https://{host}/hook", local=False)
    assert "not a public address" in caught.value.details[0].reason


def test_each_registry_block_is_refused_at_both_ends_and_its_neighbours_are_not_confused():
    import ipaddress

    from chalicelib.domain import special_addresses as registry

    for block, name, rfc in registry.IPV4_SPECIAL + registry.IPV6_SPECIAL:
        net = ipaddress.ip_network(block)
        for address in (net.network_address, net.broadcast_address):
            assert registry.special_purpose(address) is not None, (block, name, rfc)
            assert not rules.is_public_address(address), address
    assert registry.special_purpose(ipaddress.ip_address("192.0.0.192")) == "IETF Protocol Assignments (RFC 6890)"
    for public in ("8.8.8.8", "1.1.1.1", "192.0.1.1", "192.0.3.1", "100.128.0.1", "198.20.0.1", "223.255.255.254",
                   "2001:4860:4860::8888", "2001:200::1", "2400:cb00::1", "2a00:1450:4001::1", "3ffe::1"):
        assert rules.is_public_address(ipaddress.ip_address(public)), public
