"""The account API's edge (Reactive Account's action API): the action a request names, the failure shape,
and per action the presenter that turns what the service found into the answer (``account_shape``) with the
model that documents it (``account_models``).

``present(name, found)`` is the one way from an action's result to its answer: every action in the service's
registry has exactly one presenter here (a unit test holds them to each other).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from woo_backend.api import account_models as models
from woo_backend.api.account_shape import (
    shape_customer,
    shape_delivery,
    shape_exchange_product,
    shape_order,
    shape_subscription,
)
from woo_backend.api.resolver import status_of
from woo_backend.domain.account.errors import MissingAction
from woo_backend.domain.account.params import Params
from woo_backend.domain.account.results import Page
from woo_backend.errors import DomainError
from woo_backend.services.account.registry import Action

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

Json = dict[str, Any]


def no_result() -> Json:
    """Reactive Account's answer when there is nothing to show (an empty page, no product to swap in)."""
    return {"result": False}


def account_error(exc: DomainError) -> tuple[int, Json]:
    """Reactive Account's failure shape."""
    return status_of(exc), {"result": False, "error": exc.message, "code": exc.code}


def action_name(fields: Mapping[str, Any]) -> str:
    name = fields.get("action")
    if not isinstance(name, str) or not name.strip():
        raise MissingAction("action is required; see the describe action")
    return name.strip()


# ------------------------------------------------------------------ describe
def describe_params(params: type[Params]) -> list[Json]:
    """Each parameter's name, whether it is required, its JSON schema type and constraints."""
    schema = params.model_json_schema(by_alias=True)  # the names requests use (``from``, not ``sender``)
    required = set(schema.get("required", []))
    described = []
    for name, spec in schema.get("properties", {}).items():
        entry = {"name": name, "required": name in required}
        entry.update({k: v for k, v in spec.items() if k not in ("title",)})
        described.append(entry)
    return described


def describe_actions(actions: Sequence[Action]) -> Json:
    return {
        "actions": [
            {"action": a.name, "description": a.description, "writes": a.writes, "params": describe_params(a.params)}
            for a in actions
        ]
    }


# ------------------------------------------------------------------ presenters
def _page_or_one(key: str, shape: Callable[[Any], Json]) -> Callable[[Any], Json]:
    """A list action's answer: one object (``single``), or a page under ``key`` (nothing found: no result)."""

    def present(found: Any) -> Json:
        if not isinstance(found, Page):
            return shape(found)
        if not found.items:
            return no_result()
        return {
            key: [shape(i) for i in found.items],
            "total": found.total,
            "offset": found.offset,
            "pagesize": found.pagesize,
        }

    return present


def _list_or_no_result(shape: Callable[[Any], Any]) -> Callable[[Sequence[Any]], Any]:
    return lambda found: [shape(i) for i in found] or no_result()


@dataclass(frozen=True)
class Presenter:
    """How one action's result becomes its answer, and the model (or union of models) the answer fits."""

    shape: Callable[[Any], Any]
    model: Any


PRESENTERS: dict[str, Presenter] = {
    "get_orders": Presenter(_page_or_one("orders", shape_order), models.Order | models.OrdersPage | models.NoResult),
    "get_subscriptions": Presenter(
        _page_or_one("subscriptions", shape_subscription),
        models.Subscription | models.SubscriptionsPage | models.NoResult,
    ),
    "get_user_info": Presenter(shape_customer, models.Customer),
    "get_exchange_products": Presenter(
        _list_or_no_result(shape_exchange_product), list[models.ExchangeProduct] | models.NoResult
    ),
    "get_exchange_intervals": Presenter(_list_or_no_result(str), list[str] | models.NoResult),
    "get_subscription_delivery": Presenter(
        lambda found: shape_delivery(found) or no_result(), list[models.DeliveryMethod] | models.NoResult
    ),
    "set_user_info": Presenter(shape_customer, models.Customer),
    "set_subscription_status": Presenter(shape_subscription, models.Subscription),
    "set_next_delivery_date": Presenter(shape_subscription, models.Subscription),
    "set_new_interval": Presenter(shape_subscription, models.Subscription),
    "set_order_info": Presenter(shape_order, models.Order),
    "set_subscription_info": Presenter(shape_subscription, models.Subscription),
    "set_subscription_delivery": Presenter(shape_subscription, models.Subscription),
    "send_mail": Presenter(lambda _message_id: {"result": True}, models.Done),
    "describe": Presenter(describe_actions, models.Described),
}


def present(name: str, found: Any) -> Any:
    """The answer to action ``name`` from what the service found."""
    return PRESENTERS[name].shape(found)


# ------------------------------------------------------------------ OpenAPI
ANSWER: Any = functools.reduce(operator.or_, (p.model for p in PRESENTERS.values()))
FAILURES = {
    400: "Missing or unknown action, or invalid parameters",
    401: "Missing, bad or expired credentials (checked before anything else)",
    403: "The object belongs to another customer",
    404: "No such order, subscription or customer",
    409: "The subscription cannot change that way (or WooCommerce refused it)",
    429: "Too many mails this hour",
    502: "WooCommerce answered but did not apply the change, or refused the request",
    503: "WooCommerce or SES unavailable",
}
ACCOUNT_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The action's answer: one of these shapes (each action's is in its description)",
        "content": {"application/json": {"model": ANSWER}},
    },
    **{
        status: {"description": description, "content": {"application/json": {"model": models.Failure}}}
        for status, description in FAILURES.items()
    },
}
