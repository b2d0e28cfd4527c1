"""The Python examples of docs/webhooks.md work: run as written, they accept what motcua signs and refuse the rest."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.services.webhook_delivery import sign
from chalicelib.services.webhooks import new_secret

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 2
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 (our own documentation)
    return namespace


def test_both_examples_accept_a_delivery_signed_with_either_secret_of_a_rotation(examples):
    old, new = new_secret(), new_secret()
    body = json.dumps({"id": "X/1", "type": "dossier.received", "seq": 1}, ensure_ascii=False,
                      separators=(",", ":"))
    headers = sign("msg_" + "0" * 32, datetime.now(UTC), body, [new, old])
    for secret in (old, new):
        assert examples["verify_with_package"](secret, headers, body.encode())["seq"] == 1
        assert examples["verify_plain"](secret, headers, body.encode())["seq"] == 1
    with pytest.raises(ValueError, match="no signature"):
        examples["verify_plain"](new_secret(), headers, body.encode())
    with pytest.raises(ValueError, match="no signature"):
        examples["verify_plain"](new, headers, body.replace("1", "2").encode())


def test_the_plain_example_refuses_an_old_delivery_and_matches_the_test_vector(examples):
    headers = {"Webhook-Id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "Webhook-Timestamp": "1614265330",
               "Webhook-Signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
    body = b'{"test": 2432232314}'
    with pytest.raises(ValueError, match="tolerance"):
        examples["verify_plain"]("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers, body)
    assert examples["verify_plain"]("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers, body,
                                    tolerance=10**10) == {"test": 2432232314}
