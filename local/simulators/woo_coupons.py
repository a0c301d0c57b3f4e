"""The WooCommerce simulator's coupons (``/wc/v3/coupons``)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from local.simulators.base import json_response
from local.simulators.woo_shop import PREFIX, WooShop, _fmt, _now


class WooCoupons(WooShop):
    def add_routes(self) -> None:
        super().add_routes()
        r = self.route
        r(f"{PREFIX}/coupons", ["GET"], self.list_coupons)
        r(f"{PREFIX}/coupons", ["POST"], self.create_coupon)
        r(f"{PREFIX}/coupons/<int:coupon_id>", ["GET"], self.get_coupon)
        r(f"{PREFIX}/coupons/<int:coupon_id>", ["PUT", "POST", "PATCH"], self.update_coupon)

    def reset(self) -> None:
        super().reset()
        self.coupons: dict[int, dict[str, Any]] = {}

    def state(self) -> dict[str, Any]:
        return {**super().state(), "coupons": self.coupons}

    def list_coupons(self, request: Request) -> Response:
        items = list(self.coupons.values())
        if "code" in request.args:
            items = [c for c in items if c["code"].lower() == request.args["code"].lower()]
        return self._paged(request, items)

    def create_coupon(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        code = str(body.get("code", "")).lower()
        if not code:
            return json_response(
                {"code": "woocommerce_rest_empty_coupon_code", "message": "The coupon code cannot be empty."},
                status=400,
            )
        if any(c["code"] == code for c in self.coupons.values()):
            return json_response(
                {"code": "woocommerce_rest_coupon_code_already_exists", "message": "The coupon code already exists"},
                status=400,
            )
        coupon_id = next(self._ids)
        self.coupons[coupon_id] = {
            "id": coupon_id,
            "status": "publish",
            "discount_type": "fixed_cart",
            "meta_data": [],
            **body,
            "code": code,
            "date_modified_gmt": _fmt(_now()),
        }
        return json_response(self.coupons[coupon_id], status=201)

    def get_coupon(self, request: Request, coupon_id: int) -> Response:
        coupon = self.coupons.get(coupon_id)
        return json_response(coupon) if coupon else self._not_found("shop_coupon")

    def update_coupon(self, request: Request, coupon_id: int) -> Response:
        coupon = self.coupons.get(coupon_id)
        if coupon is None:
            return self._not_found("shop_coupon")
        body = request.get_json(silent=True) or {}
        coupon.update({k: v for k, v in body.items() if k not in ("id",)})
        self._touch(coupon)
        return json_response(coupon)
