"""The account service: dispatch of a request to its action, and reading the customer's own objects from
WooCommerce.

Every object a request names is read from WooCommerce and checked against the customer before anything is
answered or changed. Reads fetch a page in one request (``per_page`` = page size), never page by page.
Actions return WooCommerce's JSON and domain results; the edge shapes them into answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from woo_backend.clock import Clock, utcnow
from woo_backend.domain.account.customer import owned
from woo_backend.domain.account.errors import UNKNOWN_OBJECT, UnknownAction
from woo_backend.domain.account.params import ListParams, NoParams
from woo_backend.domain.account.results import Page
from woo_backend.domain.account.shipping import ShippingZone
from woo_backend.errors import UpstreamNotFound, ValidationFailed, describe_validation_errors
from woo_backend.observability import logger, metrics

# Importing the action modules registers their actions (reads first, then writes, then describe below).
from woo_backend.services.account import reads, writes  # noqa: F401
from woo_backend.services.account.ports import AccountShop, Json, Mailer, MailQuota
from woo_backend.services.account.registry import ACTIONS, Action, action


class AccountService:
    def __init__(
        self,
        shop: AccountShop,
        mailer: Mailer,
        quota: MailQuota,
        mail_limit_per_hour: int,
        clock: Clock = utcnow,
    ) -> None:
        self.shop = shop
        self.mailer = mailer
        self.quota = quota
        self.mail_limit_per_hour = mail_limit_per_hour
        self.clock = clock
        self.zones: tuple[list[ShippingZone], float] | None = None  # with its expiry (``reads.shipping_zones``)

    # -------------------------------------------------------------- dispatch
    def dispatch(self, uid: int, name: str, fields: Mapping[str, Any]) -> Any:
        """Run action ``name`` for customer ``uid`` with the request's ``fields``; what the action found (the
        edge's presenter for ``name`` shapes it)."""
        found = ACTIONS.get(name)
        if found is None:
            raise UnknownAction(f"unknown action {name[:40]!r}; see the describe action")
        try:
            params = found.params.model_validate(dict(fields))
        except ValidationError as exc:
            raise ValidationFailed(describe_validation_errors(exc.errors())) from None
        logger.append_keys(action=name)
        answer = found.run(self, uid, params)
        if found.writes:
            metrics.add_metric(name=f"Account_{name}", unit="Count", value=1)
        return answer

    # -------------------------------------------------------------- reading WooCommerce, owned objects only
    def read(self, path: str, kind: str) -> Json:
        """The object at ``path``; a 404 names the ``kind`` of object that is not there."""
        try:
            return self.shop.get_object(path)
        except UpstreamNotFound:
            raise UNKNOWN_OBJECT[kind](f"no {kind} {path.rsplit('/', 1)[-1]}") from None

    def subscription(self, uid: int, subscription_id: int) -> Json:
        return dict(owned(self.read(f"/subscriptions/{subscription_id}", "subscription"), uid, "subscription"))

    def order(self, uid: int, order_id: int) -> Json:
        return dict(owned(self.read(f"/orders/{order_id}", "order"), uid, "order"))

    def page(self, path: str, uid: int, params: ListParams) -> Page[Json]:
        """The page of the customer's objects at ``path`` that ``params`` asks for."""
        query = {
            "customer": uid,
            "offset": params.offset,
            "per_page": params.pagesize,
            "orderby": params.orderby,
            "order": params.order,
        }
        items, total, _ = self.shop.list_page(path, query)
        mine = tuple(i for i in items if int(i.get("customer_id") or 0) == uid)
        return Page(items=mine, total=total, offset=params.offset, pagesize=params.pagesize)

    def subscriptions_of(self, uid: int) -> list[Json]:
        """The customer's subscriptions in one request, to attach to the orders that started or renewed them."""
        items, _, _ = self.shop.list_page("/subscriptions", {"customer": uid, "per_page": 100})
        return [s for s in items if int(s.get("customer_id") or 0) == uid]


@action("describe", NoParams, "Every action with its parameters.")
def describe(service: AccountService, uid: int, params: NoParams) -> tuple[Action, ...]:
    return tuple(ACTIONS.values())
