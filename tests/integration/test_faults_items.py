"""The item size the repository measures is DynamoDB's own: what it refuses, DynamoDB would have refused."""

import pytest
from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamodb.dossiers import MAX_ITEM_BYTES, item_size
from chalicelib.adapters.dynamodb.models import HistoryModel


def _item(target: int) -> HistoryModel:
    """A history item of about `target` bytes, mostly Vietnamese and emoji text stored as UTF-8."""
    item = HistoryModel("TEST.SIZE-260316-0001", 1, entry={"note": ""})
    text = ("Nguyễn Văn An 😀 " * 30_000)
    low, high = 0, len(text)
    while low < high:  # the longest prefix that keeps the item within `target`
        middle = (low + high + 1) // 2
        item.entry = {"note": text[:middle]}
        if item_size(item) <= target:
            low = middle
        else:
            high = middle - 1
    item.entry = {"note": text[:low]}
    return item


def test_an_item_just_under_the_measured_limit_is_stored():
    item = _item(MAX_ITEM_BYTES - 50)
    item.save()
    assert HistoryModel.get(item.code, item.seq).entry == item.entry
    item.delete()


def test_an_item_just_over_the_measured_limit_is_refused_by_dynamodb_too():
    item = _item(MAX_ITEM_BYTES + 50)
    assert item_size(item) > MAX_ITEM_BYTES
    with pytest.raises(PutError, match="(?i)size"):
        item.save()
