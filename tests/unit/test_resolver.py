"""The shared HTTP edge: guards refuse before Powertools validates the body, in the error shape of their path's
API, on the path Powertools routes on; paths outside a guard's prefix are not guarded."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from local.lambdas import LambdaContext
from woo_backend.api import create_resolver, http_entrypoint
from woo_backend.auth import InvalidApiKey
from woo_backend.errors import DomainError


class Amount(BaseModel):
    amount: int


def require_key(headers: Mapping[str, str]) -> None:
    if headers.get("x-api-key") != "k":
        raise InvalidApiKey("a valid X-Api-Key header is required")


def other_shape(exc: DomainError) -> tuple[int, dict[str, Any]]:
    return 200, {"_res": "err", "_msg": exc.code}


app = create_resolver(
    error_shapes=[("/other/", other_shape)], guards=[("/keyed/", require_key), ("/other/", require_key)]
)


@app.post("/keyed/take")
@app.post("/other/take")
@app.post("/open/take")
def take(request: Amount) -> dict[str, int]:
    return {"taken": request.amount}


handler = http_entrypoint(app)
CONTEXT: Any = LambdaContext(  # the local runtime's context, duck-typed as Powertools'
    "f", 128, "arn:aws:lambda:us-east-1:000000000000:function:f", "r", deadline=0.0
)


def call(path: str, body: str, key: str | None = None, stage: str = "$default") -> tuple[int, Any]:
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    event = {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **({"x-api-key": key} if key else {})},
        "requestContext": {"http": {"method": "POST", "path": raw_path}, "requestId": "r", "stage": stage},
        "body": body,
        "isBase64Encoded": False,
    }
    answer = handler(event, CONTEXT)
    return answer["statusCode"], json.loads(answer["body"])


REFUSED = {"error": {"code": "invalid_api_key", "message": "a valid X-Api-Key header is required"}}


def test_no_key_is_401_before_the_body_is_validated() -> None:
    assert call("/keyed/take", '{"amount": "lots"}') == (401, REFUSED)
    assert call("/keyed/take", "{not json") == (401, REFUSED)
    assert call("/keyed/take", '{"amount": "lots"}', key="k")[0] == 400
    assert call("/keyed/take", '{"amount": 3}', key="k") == (200, {"taken": 3})


def test_a_refusal_has_its_apis_error_shape() -> None:
    assert call("/other/take", "{}") == (200, {"_res": "err", "_msg": "invalid_api_key"})


def test_a_named_stage_is_guarded_on_the_routed_path() -> None:
    assert call("/keyed/take", '{"amount": 3}', stage="prod") == (401, REFUSED)
    assert call("/keyed/take", '{"amount": 3}', key="k", stage="prod") == (200, {"taken": 3})


def test_paths_outside_the_guarded_prefixes_are_open() -> None:
    assert call("/open/take", '{"amount": 3}') == (200, {"taken": 3})
