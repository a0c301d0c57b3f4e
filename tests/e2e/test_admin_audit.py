"""The admin API's audit trail over HTTP: admin bearer only, newest first, paged, a forged cursor refused."""

from __future__ import annotations

import base64
import json

import httpx

from tests.e2e.conftest import LocalStack


def test_the_audit_trail_needs_the_admin_bearer(api: httpx.Client) -> None:
    assert api.get("/admin/v1/audit").status_code == 401
    refused = api.get("/admin/v1/audit", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"


def test_admin_writes_are_listed_newest_first_and_paged(stack: LocalStack, admin: httpx.Client) -> None:
    for percentage in ("10", "12.5", "15"):  # three admin writes: a code created, then changed twice
        if percentage == "10":
            made = admin.post("/promo/v1/codes", json={"code": "AUDIT-E2E", "percentage": percentage})
            assert made.status_code == 201, made.text
        else:
            changed = admin.patch(
                "/promo/v1/codes/AUDIT-E2E", json={"percentage": percentage}, headers={"X-Admin-User": "Ada"}
            )
            assert changed.status_code == 200, changed.text
    first = admin.get("/admin/v1/audit", params={"limit": 2})
    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    newest = page["items"][0]
    assert (newest["action"], newest["target"], newest["who"]) == ("promo.update", "AUDIT-E2E", "Ada")
    assert newest["after"]["percentage"] == "15"
    assert newest["before"]["percentage"] == "12.5"
    assert page["items"][0]["at"] >= page["items"][1]["at"]
    rest = admin.get("/admin/v1/audit", params={"limit": 100, "cursor": page["next_cursor"]}).json()
    created = [e for e in rest["items"] if e["target"] == "AUDIT-E2E" and e["action"] == "promo.create"]
    assert created
    assert created[0]["who"] == "admin"  # no X-Admin-User: "admin"


def test_bad_paging_is_a_400_naming_the_field(admin: httpx.Client) -> None:
    forged = base64.urlsafe_b64encode(json.dumps({"sk": "nothing"}).encode()).decode()
    for params in ({"cursor": forged}, {"cursor": "%%%"}, {"limit": 0}, {"limit": 101}, {"limit": "ten"}):
        answer = admin.get("/admin/v1/audit", params=params)
        assert answer.status_code == 400, (params, answer.text)
        assert answer.json()["error"]["code"] in ("invalid_cursor", "validation_error")
