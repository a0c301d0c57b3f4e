"""A subscription, its products and a moment shared by the account domain tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
SUB: dict[str, Any] = {
    "id": 501,
    "customer_id": 1,
    "status": "active",
    "billing_period": "week",
    "billing_interval": "4",
    "next_payment_date_gmt": "2026-11-30T09:15:00",
    "line_items": [{"product_id": 13}],
    "shipping_lines": [{"id": 5010, "method_id": "flat_rate"}],
}
PRODUCTS = [
    {"id": 13, "type": "subscription", "meta_data": []},
    {"id": 14, "type": "subscription", "meta_data": []},
    {"id": 12, "type": "simple", "meta_data": []},
    {"id": 15, "type": "subscription", "status": "draft", "meta_data": []},
]
