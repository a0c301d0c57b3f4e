"""The account service: dispatch of a request to its action, and reading the customer's own objects from
WooCommerce.

Every object a request names is read from WooCommerce and checked against the customer before anything is
answered or changed. Reads fetch a page in one request (``per_page`` = page size), never page by page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from woo_backend.domain.account.customer import owned
from woo_backend.domain.account.errors import UNKNOWN_OBJECT, UnknownAction
from woo_backend.domain.account.mail import MerchantMail
from woo_backend.domain.account.params import ListParams, NoParams, Params
from woo_backend.domain.account.shipping import ShippingZone
from woo_backend.errors import UpstreamNotFound, ValidationFailed, describe_validation_errors
from woo_backend.observability import logger, metrics

# Importing the action modules registers their actions (reads first, then writes, then describe below).
from woo_backend.services.account import reads, writes  # noqa: F401
from woo_backend.services.account.registry import ACTIONS, EMPTY, Json, action


class AccountShop(Protocol):
    """What the account API needs of WooCommerce (``wc/v3``)."""

    def list_page(self, path: str, params: Mapping[str, Any] | None = None) -> tuple[list[Json], int, int]: ...

    def get_object(self, path: str, params: Mapping[str, Any] | None = None) -> Json: ...

    def write_object(
        self, method: str, path: str, data: Mapping[str, Any], *, repeatable: bool | None = None
    ) -> Json: ...


class Mailer(Protocol):
    def send(self, mail: MerchantMail) -> str: ...


class MailQuota(Protocol):
    def take(self, uid: int, window: datetime, limit: int) -> bool: ...

    def give_back(self, uid: int, window: datetime) -> None: ...


class AccountService:
    def __init__(
        self,
        shop: AccountShop,
        mailer: Mailer,
        quota: MailQuota,
        mail_limit_per_hour: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.shop = shop
        self.mailer = mailer
        self.quota = quota
        self.mail_limit_per_hour = mail_limit_per_hour
        self.clock = clock
        self._zones: tuple[list[ShippingZone], float] | None = None

    # -------------------------------------------------------------- dispatch
    def dispatch(self, uid: int, name: str, fields: Mapping[str, Any]) -> Any:
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
    def _get(self, path: str, kind: str) -> Json:
        try:
            return self.shop.get_object(path)
        except UpstreamNotFound:
            raise UNKNOWN_OBJECT[kind](f"no {kind} {path.rsplit('/', 1)[-1]}") from None

    def subscription(self, uid: int, subscription_id: int) -> Json:
        return dict(owned(self._get(f"/subscriptions/{subscription_id}", "subscription"), uid, "subscription"))

    def order(self, uid: int, order_id: int) -> Json:
        return dict(owned(self._get(f"/orders/{order_id}", "order"), uid, "order"))

    def _list(self, path: str, uid: int, params: ListParams) -> tuple[list[Json], int]:
        query = {
            "customer": uid,
            "offset": params.offset,
            "per_page": params.pagesize,
            "orderby": params.orderby,
            "order": params.order,
        }
        items, total, _ = self.shop.list_page(path, query)
        return [i for i in items if int(i.get("customer_id") or 0) == uid], total

    def _subscriptions_of(self, uid: int) -> list[Json]:
        """The customer's subscriptions in one request, to attach to the orders that started or renewed them."""
        items, _, _ = self.shop.list_page("/subscriptions", {"customer": uid, "per_page": 100})
        return [s for s in items if int(s.get("customer_id") or 0) == uid]

    def _page(self, key: str, items: list[Json], total: int, params: ListParams) -> Json:
        if not items:
            return EMPTY
        return {key: items, "total": total, "offset": params.offset, "pagesize": params.pagesize}


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


@action("describe", NoParams, "Every action with its parameters.")
def describe(service: AccountService, uid: int, params: NoParams) -> Json:
    return {
        "actions": [
            {"action": a.name, "description": a.description, "writes": a.writes, "params": describe_params(a.params)}
            for a in ACTIONS.values()
        ]
    }
