"""moto for the AWS services that have no local engine (EventBridge, SQS): no endpoint variable may point
boto3 elsewhere, or moto stops intercepting (STACK-NOTES.md)."""

import os

import pytest

REGION = "ap-southeast-1"


@pytest.fixture
def aws(monkeypatch):
    from moto import mock_aws

    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield
