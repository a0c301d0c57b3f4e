"""The local API Gateway adapter builds payload v2 events and answers as API Gateway does."""

from __future__ import annotations

import base64
import json
from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from local import template
from local.apigw import LocalHttpApi, http_api_event, lambda_response


def request(method: str, path: str, **kwargs: Any) -> Request:
    return Request(EnvironBuilder(method=method, path=path, **kwargs).get_environ())


def test_event_has_the_payload_v2_shape() -> None:
    routes = template.routes()
    api = LocalHttpApi(routes, [], lambda fn, ev: None)
    req = request(
        "POST",
        "/credits/v1/orders/wc_order_abc/consume",
        query_string="a=1&a=2&b=",
        headers={"Cookie": "c1=v1; c2=v2", "X-Thing": "x"},
        json={"amount": 1},
    )
    found = api.match("POST", req.path)
    assert found is not None
    route, params = found
    event = http_api_event(req, route, params)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /credits/v1/orders/{order_key}/consume"
    assert event["pathParameters"] == {"order_key": "wc_order_abc"}
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["x-thing"] == "x"
    assert json.loads(event["body"]) == {"amount": 1}
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["stage"] == "$default"


def test_binary_bodies_are_base64_encoded() -> None:
    req = request("POST", "/account/v1", data=b"\xff\x00\x01", content_type="application/octet-stream")
    route = next(r for r in template.routes() if r.path == "/account/v1")
    event = http_api_event(req, route, {})
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00\x01"


def test_literal_segments_win_over_variables_and_unknown_routes_miss() -> None:
    api = LocalHttpApi(template.routes(), [], lambda fn, ev: None)
    found = api.match("GET", "/credits/v1/orders/k/transactions")
    assert found is not None
    assert found[0].path == "/credits/v1/orders/{order_key}/transactions"
    assert api.match("GET", "/credits/v1/orders/k/unknown") is None
    assert api.match("DELETE", "/credits/v1/orders/k") is None


def test_responses_follow_the_lambda_answer() -> None:
    response = lambda_response(
        {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": "{}", "cookies": ["a=b"]}
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers.getlist("Set-Cookie") == ["a=b"]
    encoded = lambda_response({"statusCode": 200, "body": base64.b64encode(b"\x00").decode(), "isBase64Encoded": True})
    assert encoded.get_data() == b"\x00"


def test_template_definitions_are_complete() -> None:
    functions = template.functions()
    assert set(functions) >= {
        "CreditsFunction",
        "BalanceFunction",
        "PromoFunction",
        "AccountFunction",
        "BalanceSyncFunction",
    }
    for fn in functions.values():
        assert fn.module_path.exists(), fn.module_path
    tables = template.tables()
    assert tables["IdempotencyTable"]["create"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert tables["IdempotencyTable"]["ttl"] == {"AttributeName": "expiration", "Enabled": True}
    assert {s.function for s in template.schedules()} >= {"BalanceSyncFunction", "CreditsSyncFunction"}
