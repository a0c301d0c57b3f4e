"""The WooCommerce simulator's shipping: the shipping methods, zones, zone locations and zone method instances.

Modelled on WooCommerce (``woocommerce/woocommerce``, ``plugins/woocommerce/includes/``): the
``rest-api/Controllers/Version2/class-wc-rest-shipping-*`` controllers (the v3 ones extend them unchanged),
``class-wc-shipping-zones.php`` and ``data-stores/class-wc-shipping-zone-data-store.php``.
"""

from __future__ import annotations

import itertools
from typing import Any

from werkzeug.wrappers import Request, Response

from local.simulators.base import json_response
from local.simulators.woo_shop import WooShop, _rest_error


class WooShipping(WooShop):
    def add_routes(self) -> None:
        super().add_routes()
        self.rest_routes("shipping_methods", get_items=self.list_shipping_methods)
        self.rest_routes("shipping/zones", "zone_id", get_items=self.list_zones, get_item=self.get_zone)
        self.rest_routes("shipping/zones/<int:zone_id>/locations", get_items=self.list_zone_locations)
        self.rest_routes(
            "shipping/zones/<int:zone_id>/methods",
            "instance_id",
            get_items=self.list_zone_methods,
            update_item=self.update_zone_method,
        )

    # ------------------------------------------------------------ seed
    def reset(self) -> None:
        super().reset()
        self._seed_shipping()

    def _seed_shipping(self) -> None:
        # WC_Shipping::get_shipping_methods(): the method types. Their REST answer is id, title (the type's
        # method_title) and description only (class-wc-rest-shipping-methods-v2-controller.php,
        # prepare_item_for_response()): no cost, which lives on each zone's instances.
        self.method_types = {
            "flat_rate": ("Flat rate", "Lets you charge a fixed rate for shipping."),
            "free_shipping": (
                "Free shipping",
                "Free shipping is a special method which can be triggered with coupons and minimum spends.",
            ),
            "local_pickup": ("Local pickup", "Allow customers to pick up orders themselves."),
        }
        # Zones: id -> name, order, locations ({code, type}), method instances. Zone 0 is "the locations not
        # covered by your other zones" (class-wc-shipping-zone-data-store.php, read_multiple()).
        self.zones: dict[int, dict[str, Any]] = {
            0: {"name": "Locations not covered by your other zones", "order": 0, "locations": [], "methods": []},
            1: {"name": "France", "order": 0, "locations": [{"code": "FR", "type": "country"}], "methods": []},
            2: {"name": "Europe", "order": 1, "locations": [{"code": "EU", "type": "continent"}], "methods": []},
        }
        self._instance_ids = itertools.count(1)
        self._add_method(1, "flat_rate", "Colissimo", cost="5.00")
        self._add_method(1, "free_shipping", "Free shipping", requires="min_amount", min_amount="50.00")
        self._add_method(1, "local_pickup", "Pick up at the shop", cost="0.00")
        self._add_method(2, "flat_rate", "Europe standard", cost="12.50")
        self._add_method(2, "flat_rate", "Europe express", cost="25.00", enabled=False)
        self._add_method(0, "flat_rate", "International", cost="30.00")

    def _add_method(
        self,
        zone_id: int,
        method_id: str,
        title: str,
        *,
        cost: str | None = None,
        requires: str | None = None,
        min_amount: str | None = None,
        enabled: bool = True,
    ) -> None:
        instance_id = next(self._instance_ids)
        # The instance form fields of each type (includes/shipping/<type>/...: init_form_fields()).
        settings: dict[str, Any] = {"title": title}
        if method_id in ("flat_rate", "local_pickup"):
            settings.update({"tax_status": "taxable", "cost": cost or ""})
        if method_id == "free_shipping":
            settings.update({"requires": requires or "", "min_amount": min_amount or "0", "ignore_discounts": "no"})
        zone = self.zones[zone_id]
        zone["methods"].append(
            {
                "instance_id": instance_id,
                "method_id": method_id,
                "order": len(zone["methods"]) + 1,
                "enabled": enabled,
                "settings": settings,
            }
        )

    def state(self) -> dict[str, Any]:
        return {**super().state(), "shipping_zones": self.zones}

    # ------------------------------------------------------------ the REST routes
    def list_shipping_methods(self, request: Request) -> Response:
        return json_response(
            [{"id": mid, "title": title, "description": text} for mid, (title, text) in self.method_types.items()]
        )

    def _zone_answer(self, zone_id: int) -> dict[str, Any]:
        zone = self.zones[zone_id]
        return {"id": zone_id, "name": zone["name"], "order": zone["order"]}

    def list_zones(self, request: Request) -> Response:
        # WC_REST_Shipping_Zones_V2_Controller::get_items(): zone 0 first, then by order, then id.
        others = sorted((z for z in self.zones if z != 0), key=lambda z: (self.zones[z]["order"], z))
        data = [self._zone_answer(z) for z in [0, *others]]
        return json_response(data, headers={"X-WP-Total": str(len(data)), "X-WP-TotalPages": "1"})

    def _zone_missing(self) -> Response:
        # WC_REST_Shipping_Zones_Controller_Base::get_zone().
        return _rest_error("woocommerce_rest_shipping_zone_invalid", "Resource does not exist.", 404)

    def get_zone(self, request: Request, zone_id: int) -> Response:
        return json_response(self._zone_answer(zone_id)) if zone_id in self.zones else self._zone_missing()

    def list_zone_locations(self, request: Request, zone_id: int) -> Response:
        if zone_id not in self.zones:
            return self._zone_missing()
        return json_response([dict(loc) for loc in self.zones[zone_id]["locations"]])

    def _method_answer(self, instance: dict[str, Any]) -> dict[str, Any]:
        # class-wc-rest-shipping-zone-methods-v2-controller.php, prepare_item_for_response() and get_settings().
        title, text = self.method_types[instance["method_id"]]
        return {
            "id": instance["instance_id"],
            "instance_id": instance["instance_id"],
            "title": instance["settings"]["title"],
            "order": instance["order"],
            "enabled": instance["enabled"],
            "method_id": instance["method_id"],
            "method_title": title,
            "method_description": text,
            "settings": {
                key: {"id": key, "label": key.replace("_", " ").capitalize(), "type": "text", "value": value}
                for key, value in instance["settings"].items()
            },
        }

    def list_zone_methods(self, request: Request, zone_id: int) -> Response:
        if zone_id not in self.zones:
            return self._zone_missing()
        data = [self._method_answer(m) for m in self.zones[zone_id]["methods"]]
        return json_response(data, headers={"X-WP-Total": str(len(data)), "X-WP-TotalPages": "1" if data else "0"})

    def update_zone_method(self, request: Request, zone_id: int, instance_id: int) -> Response:
        # update_item() -> update_fields(): settings (only the instance's own fields), order, enabled.
        if zone_id not in self.zones:
            return self._zone_missing()
        instance = next((m for m in self.zones[zone_id]["methods"] if m["instance_id"] == instance_id), None)
        if instance is None:
            return _rest_error("woocommerce_rest_shipping_zone_method_invalid", "Resource does not exist.", 404)
        body = request.get_json(silent=True) or {}
        for key, value in (body.get("settings") or {}).items():
            if key in instance["settings"]:
                instance["settings"][key] = str(value)
        if "order" in body:
            instance["order"] = abs(int(body["order"]))
        if "enabled" in body:
            instance["enabled"] = bool(body["enabled"])
        return json_response(self._method_answer(instance))
