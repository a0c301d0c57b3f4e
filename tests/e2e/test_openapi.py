"""The local runtime serves the whole API's OpenAPI document at /openapi.json and a Swagger UI page at /docs,
whose assets come from the Powertools package (no CDN: the machines here have no internet)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.e2e.conftest import ROOT

ERROR_MODELS = {"ErrorAnswer", "DotixError", "Failure"}


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def _refs(node: Any) -> set[str]:
    text = json.dumps(node)
    return {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}


def test_the_runtime_serves_the_committed_document(api: httpx.Client) -> None:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == json.loads((ROOT / "docs" / "openapi.json").read_text())


def test_one_document_for_every_route_of_the_template(api: httpx.Client) -> None:
    from local import template

    doc = api.get("/openapi.json").json()
    served = {(route.method.lower(), route.path) for route in template.routes()}
    assert {(method, path) for method, path, _ in _operations(doc)} == served


def test_every_answer_is_documented_with_its_shape(api: httpx.Client) -> None:
    doc = api.get("/openapi.json").json()
    for method, path, op in _operations(doc):
        responses = op["responses"]
        assert "HTTPValidationError" not in json.dumps(responses), (method, path)  # validation is our 400
        assert any(code.startswith("2") for code in responses), (method, path)
        for code, response in responses.items():
            content = response.get("content", {})
            if code.startswith("2") and content and "application/json" not in content:  # the console's files
                assert all(media.startswith(("text/", "image/")) for media in content), (method, path, code)
                continue
            schema = content.get("application/json", {}).get("schema")
            assert schema, (method, path, code)
            assert schema != {"type": "string"}, (method, path, code)
            if code.startswith(("4", "5")):
                assert _refs(schema), (method, path, code)
                assert _refs(schema) <= ERROR_MODELS, (method, path, code)
        if op.get("requestBody"):
            assert {"400", "413", "415"} <= set(responses), (method, path)


def test_security_schemes_name_each_credential(api: httpx.Client) -> None:
    doc = api.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["adminBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["adminBearer"]["description"],
    }
    headers = {name: scheme["name"] for name, scheme in schemes.items() if scheme["type"] == "apiKey"}
    assert headers == {
        "apiKey": "X-Api-Key",
        "topomerToken": "X-Topomer-Token",
        "shopperToken": "X-Shopper-Token",
        "wcWebhookSignature": "X-WC-Webhook-Signature",
    }
    expected = {
        "/promo/v1/codes": "adminBearer",
        "/credits/v1/orders/{order_key}": "apiKey",
        "/dotix/v1/order/{order_key}": "apiKey",
        "/balance/v1/payments": "topomerToken",
        "/balance/v1/shoppers/{shopper_id}/balance": "shopperToken",
        "/credits/webhooks/order": "wcWebhookSignature",
        "/balance/webhooks/order": "wcWebhookSignature",
    }
    for path, scheme in expected.items():
        for op in doc["paths"][path].values():
            assert op["security"] == [{scheme: []}], path
    assert "signature" in doc["paths"]["/account/v1"]["post"]["description"]  # credentials in the body


def test_docs_page_uses_the_packaged_swagger_ui(api: httpx.Client) -> None:
    page = api.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/docs/swagger-ui-bundle.min.js" in page.text
    assert "/docs/swagger-ui.min.css" in page.text
    assert "https://" not in page.text.split("<script>")[0]  # nothing loaded from another host
    assert '"/promo/v1/intervals"' in page.text  # the document itself is in the page
    for asset, kind in (("swagger-ui-bundle.min.js", "javascript"), ("swagger-ui.min.css", "css")):
        response = api.get(f"/docs/{asset}")
        assert response.status_code == 200
        assert kind in response.headers["content-type"]
        assert len(response.content) > 10_000
    assert api.get("/docs", params={"format": "json"}).json() == api.get("/openapi.json").json()
