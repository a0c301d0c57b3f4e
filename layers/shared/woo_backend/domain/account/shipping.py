"""Delivery: the shipping zone a subscription's address falls in (as WooCommerce matches it), the priced method
instances of that zone, and the shipping-line change that puts the subscription on one of them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from woo_backend.domain.account.errors import BadMethod, ChangeNotApplied
from woo_backend.domain.account.subscriptions import require_changeable
from woo_backend.domain.money import CENT

# WooCommerce: i18n/continents.php (the continent codes a zone location of type "continent" holds).
CONTINENTS: dict[str, str] = {
    country: continent
    for continent, countries in {
        "AF": "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW "
        "MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW",
        "AN": "AQ BV GS HM TF",
        "AS": "AE AF AM AZ BD BH BN BT CC CN CX CY GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO "
        "MV MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TW UZ VN YE",
        "EU": "AD AL AT AX BA BE BG BY CH CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD "
        "ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM XK TR UA VA",
        "NA": "AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI PA PM PR SV "
        "SX TC TT US VC VG VI",
        "OC": "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS",
        "SA": "AR BO BR CL CO EC FK GF GY PE PY SR UY VE",
    }.items()
    for country in countries.split()
}
PLAIN_COST = re.compile(r"^\d+(\.\d+)?$")


class ShippingZone(BaseModel):
    """One zone as ``GET /shipping/zones``, ``.../{id}/locations`` and ``.../{id}/methods`` give it."""

    model_config = ConfigDict(frozen=True)

    id: int
    order: int = 0
    locations: tuple[dict[str, Any], ...] = ()
    methods: tuple[dict[str, Any], ...] = ()


class DeliveryOption(BaseModel):
    """A priced method instance of a zone: ``rate_id`` is WooCommerce's own rate id, ``<method_id>:<instance_id>``."""

    model_config = ConfigDict(frozen=True)

    rate_id: str
    method_id: str
    instance_id: int
    title: str
    price: Decimal


def shipping_destination(subscription: Mapping[str, Any]) -> tuple[str, str, str]:
    """Country, state and postcode the subscription ships to (its shipping address; the billing one when the
    shipping address has no country, as the shop's checkout does when shipping to the billing address)."""
    address = subscription.get("shipping") or {}
    if not str(address.get("country") or "").strip():
        address = subscription.get("billing") or {}
    return (
        str(address.get("country") or "").strip().upper(),
        str(address.get("state") or "").strip().upper(),
        str(address.get("postcode") or ""),
    )


def normalize_postcode(postcode: str) -> str:
    """WooCommerce: includes/wc-formatting-functions.php, wc_normalize_postcode(): no spaces or dashes, upper case."""
    return re.sub(r"[\s\-]", "", postcode.strip().upper())


def postcode_matches(postcode: str, rule: str) -> bool:
    """WooCommerce: includes/wc-core-functions.php, wc_postcode_location_matcher() / wc_get_wildcard_postcodes():
    an exact code, a ``prefix*`` wildcard, or a numeric ``min...max`` range. (Country-specific formatting of
    wc_format_postcode() and ranges of letters are not modelled: the codes compare normalized.)"""
    code = normalize_postcode(postcode)
    if "..." in rule:
        low, _, high = (part.strip() for part in rule.partition("..."))
        if code.isdigit() and low.isdigit() and high.isdigit():
            return int(low) <= int(code) <= int(high)
        return False
    wanted = re.sub(r"\s", "", rule.strip().upper())
    candidates = {code, f"{code}*"} | {f"{code[:i]}*" for i in range(len(code))}
    return wanted in candidates


def matching_zone(zones: Sequence[ShippingZone], country: str, state: str, postcode: str) -> ShippingZone | None:
    """WooCommerce: includes/data-stores/class-wc-shipping-zone-data-store.php, get_zone_id_from_package() (what
    WC_Shipping_Zones::get_zone_matching_package() runs): a zone matches when one of its region locations
    (country, ``COUNTRY:STATE``, continent) does, or it has none; a zone with postcode rules must also match one.
    The lowest ``order`` wins, then the lowest id; nothing matched: zone 0, "the rest of the world"."""
    continent = CONTINENTS.get(country, "")
    candidates = []
    for zone in zones:
        if zone.id == 0:
            continue
        regions = [loc for loc in zone.locations if loc.get("type") != "postcode"]
        postcodes = [loc for loc in zone.locations if loc.get("type") == "postcode"]
        region_ok = not regions or any(
            (loc.get("type") == "country" and loc.get("code") == country)
            or (loc.get("type") == "state" and loc.get("code") == f"{country}:{state}")
            or (loc.get("type") == "continent" and loc.get("code") == continent)
            for loc in regions
        )
        postcode_ok = not postcodes or any(postcode_matches(postcode, str(loc.get("code", ""))) for loc in postcodes)
        if region_ok and postcode_ok:
            candidates.append(zone)
    if candidates:
        return min(candidates, key=lambda z: (z.order, z.id))
    return next((z for z in zones if z.id == 0), None)


def _setting(method: Mapping[str, Any], key: str) -> str:
    value = (method.get("settings") or {}).get(key) or {}
    return str(value.get("value") if isinstance(value, Mapping) else value or "").strip()


def _has_class_costs(method: Mapping[str, Any]) -> bool:
    """A flat rate with a shipping class cost set (WC_Shipping_Flat_Rate::calculate_shipping() adds it)."""
    keys = (method.get("settings") or {}).keys()
    return any((k.startswith("class_cost_") or k == "no_class_cost") and _setting(method, k) for k in keys)


def items_amount(subscription: Mapping[str, Any], *, before_discounts: bool) -> Decimal:
    key = "subtotal" if before_discounts else "total"
    amount = Decimal("0")
    for item in subscription.get("line_items", []):
        try:
            amount += Decimal(str(item.get(key) if item.get(key) not in (None, "") else item.get("total") or "0"))
        except ArithmeticError:
            continue
    return amount.quantize(CENT)


def delivery_options(zone: ShippingZone, subscription: Mapping[str, Any]) -> list[DeliveryOption]:
    """The zone's enabled method instances with the price this subscription would pay, in the zone's order.

    - ``local_pickup``: ``settings.cost`` when it is a plain amount (empty: free), as ``calculate_shipping()``
      always adds its rate (``includes/shipping/local-pickup/class-wc-shipping-local-pickup.php``).
    - ``flat_rate``: ``settings.cost`` when it is a plain amount. ``WC_Shipping_Flat_Rate::calculate_shipping()``
      adds no rate at all when the cost and every class cost are empty, so neither do we; a cost formula
      (``[qty]``, ``[fee]``...) or a shipping class cost (``class_cost_<id>``, ``no_class_cost``) is left out:
      it depends on a cart (quantities, the products' shipping classes) this service does not rebuild.
    - ``free_shipping`` (``WC_Shipping_Free_Shipping::is_available()``): no requirement, or ``min_amount`` /
      ``either`` met by the subscription's items (after discounts, before them when ``ignore_discounts`` is
      ``yes``; excluding tax); ``coupon`` / ``both`` need a coupon a renewal cannot carry: left out.
    - Other method types (plugins) price themselves at checkout only: left out.
    """
    options = []
    ordered = sorted(zone.methods, key=lambda m: (int(m.get("order") or 0), int(m.get("instance_id") or 0)))
    for method in ordered:
        if method.get("enabled") is not True:
            continue
        kind, instance = str(method.get("method_id", "")), int(method.get("instance_id") or 0)
        title = str(method.get("title") or _setting(method, "title") or method.get("method_title") or kind)
        if kind == "flat_rate" and (not _setting(method, "cost") or _has_class_costs(method)):
            continue
        if kind in ("flat_rate", "local_pickup"):
            cost = _setting(method, "cost") or "0"
            if not PLAIN_COST.match(cost):
                continue
            price = Decimal(cost)
        elif kind == "free_shipping":
            requires = _setting(method, "requires")
            if requires in ("min_amount", "either"):
                minimum = _setting(method, "min_amount") or "0"
                if not PLAIN_COST.match(minimum):
                    continue
                before = _setting(method, "ignore_discounts") == "yes"
                if items_amount(subscription, before_discounts=before) < Decimal(minimum):
                    continue
            elif requires:
                continue
            price = Decimal("0")
        else:
            continue
        options.append(
            DeliveryOption(rate_id=f"{kind}:{instance}", method_id=kind, instance_id=instance, title=title, price=price)
        )
    return options


def choose_option(options: Sequence[DeliveryOption], method_id: str) -> DeliveryOption:
    """``method_id`` is a rate id (``flat_rate:3``); a bare type (``flat_rate``) is accepted when the zone offers
    exactly one instance of it."""
    found = [o for o in options if o.rate_id == method_id]
    if not found and ":" not in method_id:
        found = [o for o in options if o.method_id == method_id]
        if len(found) > 1:
            raise BadMethod(f"{method_id} has several rates here; give one of {', '.join(o.rate_id for o in found)}")
    if not found:
        raise BadMethod(f"no delivery method {method_id} for this address")
    return found[0]


def delivery_change(subscription: Mapping[str, Any], option: DeliveryOption) -> dict[str, Any]:
    """The ``shipping_lines`` update that puts the subscription on ``option`` at its price.

    WooCommerce's REST controller (``set_item()`` / ``prepare_shipping_lines()``) sets a line's ``method_id``,
    ``instance_id``, ``method_title`` and ``total`` as given, on the line whose ``id`` is sent (a line without
    ``id`` is added, not swapped), and removes a line sent with a null ``method_id``; ``save_object()`` then
    recalculates the totals. Renewals copy these lines, so this price is what each delivery costs.
    """
    require_changeable(subscription)
    line: dict[str, Any] = {
        "method_id": option.method_id,
        "instance_id": str(option.instance_id),
        "method_title": option.title,
        "total": f"{option.price:.2f}",
    }
    current = [sl for sl in subscription.get("shipping_lines") or [] if sl.get("id")]
    if current:
        line["id"] = current[0]["id"]
    return {"shipping_lines": [line, *({"id": extra["id"], "method_id": None} for extra in current[1:])]}


def confirm_delivery(answer: Mapping[str, Any], change: Mapping[str, Any]) -> None:
    """The answer's only shipping line is the one ``delivery_change()`` sent: its method, instance and price."""
    sent = change["shipping_lines"][0]
    lines = list(answer.get("shipping_lines") or [])
    ok = (
        len(lines) == 1
        and lines[0].get("method_id") == sent["method_id"]
        and str(lines[0].get("instance_id")) == sent["instance_id"]
        and _same_amount(lines[0].get("total"), Decimal(sent["total"]))
    )
    if not ok:
        raise ChangeNotApplied("WooCommerce did not set the subscription's shipping line to the chosen method")


def _same_amount(value: Any, amount: Decimal) -> bool:
    try:
        return Decimal(str(value)) == amount
    except ArithmeticError:
        return False
