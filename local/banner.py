"""The start-up banner of ``make run``: the routes by function, and what a newcomer needs to call them at once
(the admin key, the seeded Topomer tokens with their balances, the seeded orders, the account credentials
command, the docs), then where each part listens."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from typing import TYPE_CHECKING

from local import template
from local.simulators import topomer as topomer_sim

if TYPE_CHECKING:
    from local.run import LocalSystem


def _routes(base: str) -> list[str]:
    by_function: dict[str, list[template.Route]] = defaultdict(list)
    for route in template.routes():
        by_function[route.function].append(route)
    schedules = {s.function: s for s in template.schedules()}
    lines = ["Routes, by function:"]
    for function in template.functions():
        schedule = schedules.get(function)
        if schedule is not None:
            lines.append(f"  {function}: {schedule.expression}; now: curl -XPOST {base}/_local/schedules/{function}")
        elif by_function[function]:
            lines.append(f"  {function}:")
        for route in sorted(by_function[function], key=lambda r: (r.path, r.method)):
            lines.append(f"    {route.method:6} {route.path}")
    lines += [
        "  this runtime:",
        "    GET    /health",
        "    GET    /openapi.json         the API's OpenAPI document",
        "    GET    /docs                 Swagger UI over it",
        "    GET    /_local/containers    each function's running containers (started when first called)",
    ]
    return lines


def _topomer(system: LocalSystem, base: str) -> list[str]:
    sim = system.topomer
    if sim is None:
        return [f"Topomer: {os.environ['TOPOMER_URL']} (not simulated: no seeded tokens)"]
    url = os.environ["TOPOMER_URL"]
    currency = os.environ.get("BALANCE_CURRENCY", "EUR")
    payment = json.dumps({"token": topomer_sim.SEED_TOKEN, "order_id": 49, "amount": "50.00"})
    lines = ['Topomer tokens (X-Topomer-Token, or "token" in a payment), seeded:']
    for user in sim.users.values():
        lines.append(f"  {user['token']:28} {user['email']:20} balance {user['solde']} {currency}")
    lines += [
        "  A token pays once: its capture expires it (as Topomer does), then it answers 410 token_expired.",
        f'  A fresh one with a balance: curl -s -XPOST {url}/_sim/tokens -d \'{{"balance": "100.00"}}\'',
        f"  Or start over: curl -s -XPOST {url}/_sim/reset  (control routes /_sim/*: README, The local runtime)",
        f"  Pay order #49: curl -s -XPOST {base}/balance/v1/payments -H 'Idempotency-Key: try-1' "
        f"-H 'Content-Type: application/json' -d '{payment}'",
        f"  Shopper {topomer_sim.SEED_SHOPPER_ID} (X-Shopper-Token {topomer_sim.SEED_SHOPPER_TOKEN}): "
        f"{base}/balance/v1/shoppers/{topomer_sim.SEED_SHOPPER_ID}/balance",
    ]
    return lines


def _orders(system: LocalSystem, base: str) -> list[str]:
    shop = system.shop_sim
    if shop is None:
        return [f"WooCommerce: {os.environ['WOOCOMMERCE_URL']} (not simulated: no seeded orders)"]
    lines = ["Seeded orders (order key, id, status, payment, total):"]
    for order in shop.orders.values():
        lines.append(
            f"  {order['order_key']:26} #{order['id']:<4} {order['status']:11} {order['payment_method']:8} "
            f"{order['total']} {order.get('currency', 'EUR')}"
        )
    synced = "synced at start-up" if system.first_sync else "not synced yet (LOCAL_SCHEDULES=off)"
    lines.append(f"  Credits ({synced}): curl -s {base}/credits/v1/orders/wc_order_seedCompleted")
    return lines


def banner(system: LocalSystem, seconds: float) -> str:
    base = f"http://127.0.0.1:{system.port}"
    lines = [f"woo-backend local runtime on {base}", ""]
    lines += _routes(base)
    lines += ["", "Try it:"]
    lines.append(f"  The API's documents: {base}/openapi.json (OpenAPI), {base}/docs (Swagger UI)")
    lines.append(f"  Admin console: {base}/admin  key (Authorization: Bearer ...): {os.environ['ADMIN_API_KEY']}")
    lines.append("  Account API credentials for a user: make credentials UID=1")
    lines += ["", *_topomer(system, base), "", *_orders(system, base), "", "Where things are:"]
    lines.append(
        f"  Topomer simulator: {os.environ['TOPOMER_URL']}   WooCommerce simulator: {os.environ['WOOCOMMERCE_URL']}"
    )
    lines += [f"  {key}: {value}" for key, value in system.config.items()]
    if system.first_sync:
        lines.append("  First sync: " + ", ".join(f"{name} {how}" for name, how in system.first_sync.items()))
    lines.append(f"  Function logs: {'JSON lines (LOCAL_JSON_LOGS=1)' if system.settings.json_logs else 'pretty'}")
    lines += ["", f"Ready in {seconds:.1f} s. Ctrl-C stops everything."]
    return "\n".join(lines)
