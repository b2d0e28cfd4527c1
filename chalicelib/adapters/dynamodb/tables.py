"""Create the tables (local stack and tests); production tables come from infra/tables.yaml."""

from __future__ import annotations

from .models import ALL_MODELS


def create_tables() -> list[str]:
    created = []
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
    _enable_idempotency_ttl()
    return created


def _enable_idempotency_ttl() -> None:
    from .models import IdempotencyModel

    client = IdempotencyModel._get_connection().connection.client
    try:
        client.update_time_to_live(
            TableName=IdempotencyModel.Meta.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
        )
    except client.exceptions.ClientError as exc:  # already enabled
        if "already enabled" not in str(exc).lower():
            raise


def delete_tables() -> None:
    for model in ALL_MODELS:
        if model.exists():
            model.delete_table()
