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
    for model in ALL_MODELS:
        _enable_stream(model)
    return created


def _enable_stream(model: type[Model]) -> None:
    """A table kept from before its model had a stream (the local stack's data in .local/) gets it now."""
    view = getattr(model.Meta, "stream_view_type", None)
    if not view:
        return
    client = model._get_connection().connection.client
    table = client.describe_table(TableName=model.Meta.table_name)["Table"]
    if table.get("StreamSpecification", {}).get("StreamEnabled"):
        return
    client.update_table(TableName=model.Meta.table_name,
                        StreamSpecification={"StreamEnabled": True, "StreamViewType": view})


def stream_arn(model: type[Model]) -> str:
    """The table's current stream (DynamoDB Local and AWS alike)."""
    client = model._get_connection().connection.client
    arn: str = client.describe_table(TableName=model.Meta.table_name)["Table"]["LatestStreamArn"]
    return arn


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
