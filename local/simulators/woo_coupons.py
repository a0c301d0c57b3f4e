"""The WooCommerce simulator's coupons (``/wc/v3/coupons``), as WooCommerce's own code behaves.

What the service relies on, each modelled after the real source:
- a coupon's dates: written ``date_expires`` without an offset is read in the site's time zone, with ``Z`` or
  ``+HH:MM`` as that instant; ``date_expires_gmt`` is not writable (silently ignored); answers show each date
  twice, in the site's time zone and as GMT;
- ``GET /coupons?code=X`` finds only a *published* coupon (``wc_get_coupon_id_by_code()``), whatever
  ``status`` asks for; ``status`` (default: published and private) and ``search`` filter the list;
- a code is refused on create or update only when a *published* coupon has it: a draft's code does not
  block a new coupon, so two coupons with one code can exist.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from local.simulators.base import json_response
from local.simulators.woo_shop import WooShop, _rest_error, wp_now

# WordPress: wp-includes/post.php, create_initial_post_types(): the registered post statuses;
# trash and auto-draft are exclude_from_search (left out of status=any).
POST_STATUSES = frozenset({"publish", "future", "draft", "pending", "private", "trash", "auto-draft", "inherit"})
EXCLUDED_FROM_ANY = frozenset({"trash", "auto-draft"})
# WooCommerce: includes/abstracts/abstract-wc-data.php, set_date_prop(): the one ISO 8601 shape whose
# offset is honoured.
ISO_8601 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|((-|\+)\d{2}:\d{2}))$")
# WooCommerce: Version2/class-wc-rest-coupons-v2-controller.php, get_item_schema(): the properties without
# ``readonly``. Anything else in a request body is ignored. (date_expires_gmt is among them, but WC_Coupon has
# no setter for it.)
WRITABLE = frozenset(
    {
        "code",
        "amount",
        "status",
        "discount_type",
        "description",
        "date_expires",
        "date_expires_gmt",
        "individual_use",
        "product_ids",
        "excluded_product_ids",
        "usage_limit",
        "usage_limit_per_user",
        "limit_usage_to_x_items",
        "free_shipping",
        "product_categories",
        "excluded_product_categories",
        "exclude_sale_items",
        "minimum_amount",
        "maximum_amount",
        "email_restrictions",
        "meta_data",
    }
)


def format_coupon_code(value: Any) -> str:
    # WooCommerce: wc_format_coupon_code() runs the woocommerce_coupon_code filters, which
    # includes/wc-core-functions.php sets to html_entity_decode, wc_sanitize_coupon_code, wc_strtolower.
    return str(value).strip().lower()


def is_empty(value: Any) -> bool:
    """PHP's ``empty()``."""
    return value in (None, "", "0", 0, False) or value == []


def parse_wc_date(value: Any, site_timezone: ZoneInfo) -> datetime | None:
    """A written date as WooCommerce stores it (a UTC instant), or ``None`` for no date.

    WooCommerce: includes/abstracts/abstract-wc-data.php, set_date_prop().
    """
    if is_empty(value) or value == "0000-00-00 00:00:00":
        return None
    text = str(value).strip()
    if isinstance(value, (int, float)) or re.fullmatch(r"-?\d+(\.\d+)?", text):
        return datetime.fromtimestamp(int(float(text)), UTC)  # a timestamp is UTC in all cases
    match = ISO_8601.match(text)
    if match:
        # iso8601_timezone_to_offset() (WordPress): "Z" is 0; for "+HH:MM" it reads only the hours
        # ((int) ":MM" is 0), so a +05:30 offset counts as +05:00, as on a real shop.
        zone = match.group(7)
        offset = 0 if zone == "Z" else (1 if zone[0] == "+" else -1) * int(zone[1:3]) * 3600
        fields = [int(match.group(i)) for i in range(1, 7)]
        return datetime.fromtimestamp(calendar.timegm((*fields, 0, 0, 0)) - offset, UTC)
    # Any other string: wc_string_to_timestamp() (strtotime, UTC) then get_gmt_from_date(): the wall time
    # is read in the site's time zone, an offset in the string notwithstanding.
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = datetime(1970, 1, 1)  # strtotime() fails: false, read as the epoch's wall time
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.replace(tzinfo=site_timezone).astimezone(UTC)


def date_response(moment: datetime | None, site_timezone: ZoneInfo, *, utc: bool = True) -> str | None:
    # WooCommerce: includes/wc-rest-functions.php, wc_rest_prepare_date_response(): Y-m-d\TH:i:s, in GMT or
    # in the site's time zone (getOffsetTimestamp()), null for no date.
    if moment is None:
        return None
    shown = moment.astimezone(UTC if utc else site_timezone)
    return shown.strftime("%Y-%m-%dT%H:%M:%S")


def search_matches(coupon: dict[str, Any], search: str) -> bool:
    # WordPress: wp-includes/class-wp-query.php, parse_search() / parse_search_terms(): terms split on
    # spaces, quotes, commas and plus signs; a leading "-" excludes; every term matches post_title
    # (the code), post_excerpt (the description) or post_content, as LIKE '%term%'.
    terms = [t.strip('"') for t in re.findall(r'"[^"]*"?|[^\t ",+]+', search)]
    terms = [t for t in terms if t and not (len(t) == 1 and re.fullmatch(r"[a-z\-]", t, re.IGNORECASE))] or [search]
    haystacks = [str(coupon.get("code", "")).lower(), str(coupon.get("description", "")).lower()]
    for term in terms:
        exclude = term.startswith("-")
        needle = (term[1:] if exclude else term).lower()
        found = any(needle in haystack for haystack in haystacks)
        if found == exclude:
            return False
    return True


class WooCoupons(WooShop):
    def add_routes(self) -> None:
        super().add_routes()
        self.rest_routes(
            "coupons",
            "coupon_id",
            get_items=self.list_coupons,
            create_item=self.create_coupon,
            get_item=self.get_coupon,
            update_item=self.update_coupon,
        )

    def reset(self) -> None:
        super().reset()
        self.coupons: dict[int, dict[str, Any]] = {}

    def state(self) -> dict[str, Any]:
        return {**super().state(), "coupons": self.coupons}

    # ------------------------------------------------------------ lookups
    def coupon_id_by_code(self, code: str, exclude: int = 0) -> int:
        """The newest *published* coupon with ``code``, 0 if none.

        WooCommerce: includes/wc-coupon-functions.php, wc_get_coupon_id_by_code(), through
        includes/data-stores/class-wc-coupon-data-store-cpt.php, get_ids_by_code():
        ``post_status = 'publish' ORDER BY post_date DESC``. Drafts, pending and trashed coupons are invisible.
        """
        wanted = format_coupon_code(code)
        published = [
            c for c in self.coupons.values() if c["status"] == "publish" and c["code"] == wanted and c["id"] != exclude
        ]
        published.sort(key=lambda c: (c["date_created_gmt"], c["id"]), reverse=True)
        return int(published[0]["id"]) if published else 0

    @staticmethod
    def _with_status(items: list[dict[str, Any]], raw: str | None) -> list[dict[str, Any]]:
        # WooCommerce: Version3/class-wc-rest-coupons-controller.php, prepare_objects_query():
        # post_status = $request['status'], then WP_Query: unset means published (and private, for a user
        # who may read private posts, as an API key's shop manager may; newer versions send
        # ``$request['status'] ?: 'all'``, an unknown status, so every coupon: nothing here relies on the
        # default); "any" means every status but trash
        # and auto-draft; a list keeps the known statuses and, if none is known, does not filter at all.
        if not raw:
            return [c for c in items if c["status"] in ("publish", "private")]
        wanted = {s.strip() for s in raw.split(",")}
        if "any" in wanted:
            return [c for c in items if c["status"] not in EXCLUDED_FROM_ANY]
        known = wanted & POST_STATUSES
        return [c for c in items if c["status"] in known] if known else items

    def list_coupons(self, request: Request) -> Response:
        items = self._with_status(list(self.coupons.values()), request.args.get("status"))
        # WC_REST_CRUD_Controller::prepare_objects_query(): include -> post__in, exclude, search -> s; then the
        # coupons controller replaces post__in with the published coupon having ``code`` (0: no match).
        if not is_empty(request.args.get("code")):
            wanted = {self.coupon_id_by_code(request.args["code"])}
            items = [c for c in items if c["id"] in wanted]
        elif "include" in request.args:
            included = {int(x) for x in request.args["include"].split(",") if x.strip().isdigit()}
            items = [c for c in items if c["id"] in included]
        if "exclude" in request.args:
            excluded = {int(x) for x in request.args["exclude"].split(",") if x.strip().isdigit()}
            items = [c for c in items if c["id"] not in excluded]
        if request.args.get("search"):
            items = [c for c in items if search_matches(c, request.args["search"])]
        return self._paged(request, items)

    # ------------------------------------------------------------ writes
    def _apply(self, coupon: dict[str, Any], body: dict[str, Any]) -> Response | None:
        """Set the written fields on ``coupon``, or the refusal.

        WooCommerce: Version2/class-wc-rest-coupons-v2-controller.php, prepare_object_for_database(): each
        writable schema property that is not null (``! is_null( $value )``: a null changes nothing, "" clears a
        date) calls ``set_<key>()`` when WC_Coupon has one. It has no
        ``set_date_expires_gmt()``, so ``date_expires_gmt`` is dropped without a word.
        """
        if "code" in body and body["code"] is not None:
            code = format_coupon_code(body["code"])
            if self.coupon_id_by_code(code, exclude=coupon.get("id", 0)):
                return _rest_error("woocommerce_rest_coupon_code_already_exists", "The coupon code already exists", 400)
            coupon["code"] = code
        for key, value in body.items():
            if key not in WRITABLE or key in ("code", "date_expires_gmt") or value is None:
                continue
            if key == "date_expires":
                self._set_expiry(coupon, parse_wc_date(value, self.site_timezone))
            elif key == "meta_data":
                self._merge_meta(coupon, value if isinstance(value, list) else [])
            else:
                coupon[key] = value
        return None

    def _set_expiry(self, coupon: dict[str, Any], moment: datetime | None) -> None:
        coupon["date_expires"] = date_response(moment, self.site_timezone, utc=False)
        coupon["date_expires_gmt"] = date_response(moment, self.site_timezone)

    def _stamp(self, coupon: dict[str, Any], *, created: bool) -> None:
        moment = wp_now()
        fields = ("date_created", "date_modified") if created else ("date_modified",)
        for field in fields:
            coupon[field] = date_response(moment, self.site_timezone, utc=False)
            coupon[f"{field}_gmt"] = date_response(moment, self.site_timezone)

    def create_coupon(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        if is_empty(body.get("code")):
            return _rest_error("woocommerce_rest_empty_coupon_code", "The coupon code cannot be empty.", 400)
        coupon: dict[str, Any] = {
            "id": 0,
            "code": "",
            "amount": "0",
            # The data store creates the post as ``publish`` unless a status is given.
            "status": "publish",
            "discount_type": "fixed_cart",
            "description": "",
            "date_expires": None,
            "date_expires_gmt": None,
            "usage_count": 0,
            "individual_use": False,
            "usage_limit": None,
            "minimum_amount": "",
            "email_restrictions": [],
            "meta_data": [],
        }
        refused = self._apply(coupon, body)
        if refused is not None:
            return refused
        coupon["id"] = next(self._ids)
        self._stamp(coupon, created=True)
        self.coupons[coupon["id"]] = coupon
        return json_response(coupon, status=201)

    def get_coupon(self, request: Request, coupon_id: int) -> Response:
        coupon = self.coupons.get(coupon_id)
        return json_response(coupon) if coupon else self._not_found("shop_coupon")

    def update_coupon(self, request: Request, coupon_id: int) -> Response:
        coupon = self.coupons.get(coupon_id)
        if coupon is None:
            return self._not_found("shop_coupon")
        changed = {**coupon, "meta_data": [dict(m) for m in coupon["meta_data"]]}
        refused = self._apply(changed, request.get_json(silent=True) or {})
        if refused is not None:
            return refused
        self._stamp(changed, created=False)
        coupon.clear()
        coupon.update(changed)
        return json_response(coupon)
