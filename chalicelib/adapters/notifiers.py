"""Notifiers (services.notifications.Notifier): SES email and SNS SMS on AWS, record-only locally.

Officers, leaders and desks read their notifications in the app (the "internal" channel): no notifier sends
those, they are recorded. boto3 loads on the first send, not at cold start; every call is bounded like the
DynamoDB ones, so a slow provider fails the delivery (retried with the event) instead of hanging the consumer.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

_RECORDED, _SENT = "recorded", "sent"
# SNS bills an SMS per 70-character segment of Vietnamese text; a notification fits in a few.
_SMS_MAX_CHARS = 600
_LOCAL_MOBILE = re.compile(r"^0([35789][0-9]{8})$")


class LocalNotifier:
    """`make run` and tests: nothing leaves the machine; the record in the store is what a user sees."""

    def send(self, n: dict[str, Any]) -> str:
        return _RECORDED


class AwsNotifier:
    """Email through SES (v2 API) from a verified sender, SMS through SNS when switched on."""

    def __init__(self, sender: str, sms_enabled: bool, connect_timeout: float = 1.0, read_timeout: float = 3.0,
                 max_attempts: int = 2) -> None:
        self._sender = sender
        self._sms_enabled = sms_enabled
        self._timeouts = (connect_timeout, read_timeout, max_attempts)

    def send(self, n: dict[str, Any]) -> str:
        channel = n.get("channel")
        if channel == "email":
            self._ses.send_email(
                FromEmailAddress=self._sender,
                Destination={"ToAddresses": [str(n["recipient"])]},
                Content={"Simple": {"Subject": {"Data": str(n["subject"]), "Charset": "UTF-8"},
                                    "Body": {"Text": {"Data": str(n["body"]), "Charset": "UTF-8"}}}},
            )
            return _SENT
        if channel == "sms" and self._sms_enabled:
            self._sns.publish(
                PhoneNumber=e164(str(n["recipient"])),
                Message=str(n["body"])[:_SMS_MAX_CHARS],
                MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
            )
            return _SENT
        return _RECORDED

    @cached_property
    def _ses(self) -> Any:
        return self._client("sesv2")

    @cached_property
    def _sns(self) -> Any:
        return self._client("sns")

    def _client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        connect, read, attempts = self._timeouts
        return boto3.client(service, config=Config(connect_timeout=connect, read_timeout=read,
                                                   retries={"max_attempts": attempts, "mode": "standard"}))


def e164(phone: str) -> str:
    """A Vietnamese mobile number as SNS wants it: 0912345678 -> +84912345678; +84... unchanged."""
    digits = phone.strip().replace(" ", "")
    if digits.startswith("+"):
        return digits
    local = _LOCAL_MOBILE.match(digits)
    if local:
        return f"+84{local.group(1)}"
    if digits.startswith("84"):
        return f"+{digits}"
    raise ValueError(f"{phone!r} is not a Vietnamese mobile number SMS can reach")
