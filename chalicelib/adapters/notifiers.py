"""Notifiers (services.notifications.Notifier): SES email and SNS SMS on AWS, record-only locally.

Officers, leaders and desks read their notifications in the app (the "internal" channel): no notifier sends
those, they are recorded. boto3 loads on the first send, not at cold start; every call is bounded like the
DynamoDB ones, so a slow provider fails the delivery (retried with the event) instead of hanging the consumer.

A permanent refusal (a number that is not a mobile number, SES `MessageRejected`, an unverified sender, SNS
`InvalidParameter`) raises `Undeliverable`: recorded as such, never retried. Throttling, timeouts and 5xx
answers raise as they come, so the delivery is retried.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from ..services.ports import Undeliverable

_RECORDED, _SENT = "recorded", "sent"
# SNS bills an SMS per 70-character segment of Vietnamese text; a notification fits in a few.
_SMS_MAX_CHARS = 600
_LOCAL_MOBILE = re.compile(r"^0([35789][0-9]{8})$")
_E164_MOBILE = re.compile(r"^\+84[35789][0-9]{8}$")
# Error codes that mean "never, as addressed" (SES v2 and SNS): retrying them would only repeat the refusal.
PERMANENT_ERRORS = frozenset({
    "MessageRejected", "MailFromDomainNotVerifiedException", "MailFromDomainNotVerified", "BadRequestException",
    "NotFoundException", "AccountSuspendedException", "SendingPausedException",
    "InvalidParameter", "InvalidParameterException", "InvalidParameterValue", "InvalidParameterValueException",
    "OptedOut", "EndpointDisabled", "EndpointDisabledException", "ValidationError", "ValidationException",
})


class LocalNotifier:
    """`make run` and tests: nothing leaves the machine; the record in the store is what a user sees."""

    def send(self, n: dict[str, Any]) -> str:
        if n.get("channel") == "sms":
            e164(str(n.get("recipient", "")))  # a landline is undeliverable here too, as it would be on AWS
        return _RECORDED


def encoded_sender(sender: str) -> str:
    """SES takes a display name with accents ("Một cửa Thanh Hóa <no-reply@...>") only in RFC 2047 form."""
    from email.utils import formataddr, parseaddr

    name, address = parseaddr(sender)
    return formataddr((name, address), charset="utf-8") if name else address


class AwsNotifier:
    """Email through SES (v2 API) from a verified sender, SMS through SNS when switched on."""

    def __init__(self, sender: str, sms_enabled: bool, connect_timeout: float = 1.0, read_timeout: float = 3.0,
                 max_attempts: int = 2) -> None:
        self._sender = encoded_sender(sender)
        self._sms_enabled = sms_enabled
        self._timeouts = (connect_timeout, read_timeout, max_attempts)

    def send(self, n: dict[str, Any]) -> str:
        from botocore.exceptions import ClientError

        try:
            return self._send(n)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in PERMANENT_ERRORS:
                raise Undeliverable(f"{code}: {exc.response.get('Error', {}).get('Message', '')}") from exc
            raise

    def _send(self, n: dict[str, Any]) -> str:
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
    """A Vietnamese mobile number as SNS wants it: 0912345678 -> +84912345678, 84912345678 and +84912345678 ->
    +84912345678. Anything else (a landline such as 02438123456, a foreign or malformed number) raises
    Undeliverable: SMS cannot reach it, however often it is tried."""
    digits = phone.strip().replace(" ", "").replace(".", "").replace("-", "")
    local = _LOCAL_MOBILE.match(digits)
    if local:
        digits = f"+84{local.group(1)}"
    elif digits.startswith("84"):
        digits = f"+{digits}"
    if not _E164_MOBILE.match(digits):
        raise Undeliverable(f"{phone!r} is not a Vietnamese mobile number SMS can reach")
    return digits
