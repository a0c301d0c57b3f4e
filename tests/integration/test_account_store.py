"""The mail quota against moto's DynamoDB: a conditional counter per customer and hour, with a TTL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from woo_backend.store.account import MailQuotaStore

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)


@pytest.fixture
def quota(aws: Any) -> MailQuotaStore:
    return MailQuotaStore("AccountTable", aws)


def test_the_limit_holds_per_customer_and_hour(quota: MailQuotaStore) -> None:
    assert [quota.take(1, NOW, 3) for _ in range(4)] == [True, True, True, False]
    assert quota.take(2, NOW, 3) is True  # another customer
    assert quota.take(1, NOW + timedelta(hours=1), 3) is True  # the next hour


def test_a_mail_not_sent_is_given_back(quota: MailQuotaStore) -> None:
    assert quota.take(1, NOW, 1) is True
    quota.give_back(1, NOW)
    assert quota.take(1, NOW, 1) is True
    quota.give_back(1, NOW)
    quota.give_back(1, NOW)  # never below zero
    assert [quota.take(1, NOW, 1), quota.take(1, NOW, 1)] == [True, False]


def test_counters_expire_by_ttl(quota: MailQuotaStore, aws: Any) -> None:
    quota.take(1, NOW, 3)
    item = aws.get_item(TableName="AccountTable", Key={"pk": {"S": "MAIL#1"}, "sk": {"S": "2026112315"}})["Item"]
    assert int(item["expires_at"]["N"]) == int(datetime(2026, 11, 23, 17, tzinfo=UTC).timestamp())
    assert item["sent"]["N"] == "1"
