"""Create the tables (local stack and tests); production tables come from infra/tables.yaml."""

from __future__ import annotations

from pynamodb.models import Model

from .models import ALL_MODELS, TTL_ATTRIBUTES


def create_tables() -> list[str]:
    created = []
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
    for model, attribute in TTL_ATTRIBUTES.items():
        _enable_ttl(model, attribute)
    return created


def _enable_ttl(model: type[Model], attribute: str) -> None:
    client = model._get_connection().connection.client
    try:
        client.update_time_to_live(
            TableName=model.Meta.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
        )
    except client.exceptions.ClientError as exc:  # already enabled
        if "already enabled" not in str(exc).lower():
            raise


def delete_tables() -> None:
    for model in ALL_MODELS:
        if model.exists():
            model.delete_table()
