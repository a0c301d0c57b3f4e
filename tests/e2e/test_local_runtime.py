"""The local runtime itself: health, routes from the template, unknown routes, schedules, simulators."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from local import template
from tests.e2e import web
from tests.e2e.conftest import LocalStack, start_stack

pytestmark = pytest.mark.e2e


def test_health_answers_once_up(stack: LocalStack) -> None:
    response = web.get(f"{stack.api}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_route_is_api_gateway_404(stack: LocalStack) -> None:
    response = web.get(f"{stack.api}/no/such/route")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_every_template_route_reaches_its_function(stack: LocalStack) -> None:
    # A route that reached a function answers in the function's shape (JSON, or the console's page), never
    # API Gateway's 404.
    for route in template.routes():
        path = route.path.replace("{", "x").replace("}", "")
        response = web.request(
            route.method, f"{stack.api}{path}", content=b"{}", headers={"Content-Type": "application/json"}
        )
        if not response.headers["content-type"].startswith("application/json"):
            assert response.headers["content-type"].startswith("text/html"), route.route_key
            continue
        assert response.json() != {"message": "Not Found"}, route.route_key
        assert response.status_code < 500, (route.route_key, response.text)


def test_every_schedule_runs_on_demand(stack: LocalStack) -> None:
    for schedule in template.schedules():
        result = stack.run_schedule(schedule.function)
        assert result["schedule"] == schedule.function


def test_unknown_schedule_is_404(stack: LocalStack) -> None:
    assert web.post(f"{stack.api}/_local/schedules/Nope").status_code == 404


def test_simulators_require_credentials(stack: LocalStack) -> None:
    assert web.get(f"{stack.woocommerce}/wp-json/wc/v3/orders").status_code == 401
    assert web.get(f"{stack.topomer}/api/interval-prix").status_code == 401


def test_interrupt_stops_everything_it_started(tmp_path: Path) -> None:
    with start_stack(tmp_path) as own:
        urls = [f"{own.api}/health", f"{own.woocommerce}/_sim/state", f"{own.topomer}/_sim/state"]
        assert all(web.get(url).status_code == 200 for url in urls)
        os.kill(own.pid, signal.SIGINT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "Stopped." not in own.log.read_text():
            time.sleep(0.1)
        assert "Stopped." in own.log.read_text()
        for url in [*urls, own.dynamodb]:  # the embedded DynamoDB runs in a process of its own
            with pytest.raises(httpx.ConnectError):
                web.get(url, timeout=2)


def test_the_embedded_dynamodb_ends_with_a_killed_runtime(tmp_path: Path) -> None:
    """moto serves from a process of its own (so the runtime's process does not carry it): it ends when the
    runtime does, even killed with no chance to stop it (its stdin closes)."""
    with start_stack(tmp_path) as own:
        assert web.post(own.dynamodb, headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"}, json={}).is_success
        os.kill(own.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                web.get(own.dynamodb, timeout=1)
            except httpx.ConnectError:
                break
            except httpx.TransportError:
                pass  # caught as it ended: its answer cut short
            time.sleep(0.1)
        with pytest.raises(httpx.ConnectError):
            web.get(own.dynamodb, timeout=1)
