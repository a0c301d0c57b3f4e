"""Account function: the action API behind the React "my account" app (Reactive Account replacement).

``POST /account/v1`` with ``UID``, ``blog``, ``nonce``, ``signature``, ``action`` and the action's
parameters, as JSON or a form. Answers are the action's JSON; failures are
``{"result": false, "error": "<message>", "code": "<code>"}`` with a 4xx (or 5xx upstream) status.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from woo_backend.api import body_fields, create_resolver, http_entrypoint, json_response
from woo_backend.api.account import ACCOUNT_RESPONSES, account_error, action_name, present
from woo_backend.api.account_models import Failure
from woo_backend.api.openapi import ACCOUNT_CREDENTIALS, errors
from woo_backend.auth import authenticate_account
from woo_backend.bootstrap import account
from woo_backend.observability import logger

wiring = account.api()
service = wiring.service  # module level: the bench counts round trips on ``service.shop``

app = create_resolver(error_shapes=[("/account/", account_error)])
app.configure_openapi(title="woo-backend account", version="1.0.0")


@app.post(
    "/account/v1",
    summary="Run one account action",
    description=(
        "Body (JSON or form): UID, blog, nonce, signature, action, and the action's parameters. "
        "The action `describe` lists every action with its parameters. " + ACCOUNT_CREDENTIALS
    ),
    responses={
        **ACCOUNT_RESPONSES,
        **errors((413, "body_too_large"), (415, "unsupported_content_type"), model=Failure),
    },
)
def account_action() -> Response[str]:
    fields = body_fields(app)
    uid = authenticate_account(fields, wiring.settings.signing_secret)
    logger.append_keys(customer_id=uid)
    name = action_name(fields)
    return json_response(200, present(name, service.dispatch(uid, name, fields)))


lambda_handler = http_entrypoint(app)
