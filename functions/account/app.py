"""Account function: the action API behind the React "my account" app (Reactive Account replacement).

``POST /account/v1`` with ``UID``, ``blog``, ``nonce``, ``signature``, ``action`` and the action's
parameters, as JSON or a form. Answers are the action's JSON; failures are
``{"result": false, "error": "<message>", "code": "<code>"}`` with a 4xx (or 5xx upstream) status.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from woo_backend.api import body_fields, create_resolver, http_entrypoint, json_response, status_of
from woo_backend.auth import authenticate_account
from woo_backend.domain.account.errors import MissingAction
from woo_backend.errors import DomainError
from woo_backend.mail import SesMailer
from woo_backend.observability import logger
from woo_backend.services.account.service import AccountService
from woo_backend.settings import AccountSettings, WooCommerceSettings
from woo_backend.store.account import MailQuotaStore
from woo_backend.woocommerce import WooCommerceClient

settings = AccountSettings.from_env()
service = AccountService(
    WooCommerceClient(WooCommerceSettings.from_env()),
    SesMailer(settings.mail_sender, settings.merchant_email),
    MailQuotaStore(settings.table),
    settings.mail_rate_limit_per_hour,
)


def account_error(exc: DomainError) -> tuple[int, dict[str, Any]]:
    """Reactive Account's failure shape."""
    return status_of(exc), {"result": False, "error": exc.message, "code": exc.code}


app = create_resolver(error_shapes=[("/account/", account_error)])


@app.post(
    "/account/v1",
    summary="Run one account action",
    description=(
        "Body (JSON or form): UID, blog, nonce, signature, action, and the action's parameters. "
        "The action `describe` lists every action with its parameters."
    ),
)
def account_action() -> Response[str]:
    fields = body_fields(app)
    uid = authenticate_account(fields, settings.signing_secret)
    logger.append_keys(customer_id=uid)
    name = fields.get("action")
    if not isinstance(name, str) or not name.strip():
        raise MissingAction("action is required; see the describe action")
    return json_response(200, service.dispatch(uid, name.strip(), fields))


lambda_handler = http_entrypoint(app)
