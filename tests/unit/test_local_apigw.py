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


def cors_api() -> LocalHttpApi:
    calls: list[str] = []
    config = template.Cors(
        origins=("https://shop.example.com",), methods=("GET", "POST"), headers=("content-type",), max_age=600
    )

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        calls.append(function)
        return {"statusCode": 200, "body": "{}", "headers": {"content-type": "application/json"}}

    return LocalHttpApi(template.routes(), [], invoke, config)


def test_preflight_is_answered_without_a_function() -> None:
    api = cors_api()
    headers = {
        "Origin": "https://shop.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type",
    }
    answer = api.dispatch(request("OPTIONS", "/account/v1", headers=headers))
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert answer.headers["Access-Control-Max-Age"] == "600"


def test_preflight_from_another_origin_or_for_another_header_gets_no_cors_headers() -> None:
    api = cors_api()
    for origin, method, asked in [
        ("https://evil.example", "POST", "content-type"),
        ("https://shop.example.com", "DELETE", "content-type"),
        ("https://shop.example.com", "POST", "x-secret"),
    ]:
        headers = {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": asked}
        answer = api.dispatch(request("OPTIONS", "/account/v1", headers=headers))
        assert "Access-Control-Allow-Origin" not in answer.headers


def test_answers_to_an_allowed_origin_carry_the_header() -> None:
    api = cors_api()
    allowed = api.dispatch(request("POST", "/account/v1", headers={"Origin": "https://shop.example.com"}, json={}))
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    other = api.dispatch(request("POST", "/account/v1", headers={"Origin": "https://evil.example"}, json={}))
    assert "Access-Control-Allow-Origin" not in other.headers


def test_the_template_declares_cors_for_the_browser_app() -> None:
    config = template.cors()
    assert config is not None
    assert {"POST", "GET", "PATCH", "DELETE"} <= set(config.methods)
    assert {"content-type", "authorization", "idempotency-key", "x-api-key"} <= set(config.headers)
