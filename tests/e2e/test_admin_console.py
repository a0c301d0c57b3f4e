"""The admin console (``/admin``) in a real browser: Playwright's Python package driving Debian's chromium
(``/usr/bin/chromium``, installed by ``make chromium``; never a downloaded browser) against the local runtime.

Journeys: log in, a wrong key, a promo code created and seen synced on both sides, a seeded order's credits
looked up and adjusted (once, even when the answer is lost), a payment left ``needs_attention`` retried after
the Topomer simulator heals, keyboard use of a dialog, a phone-width page. Each saves a screenshot under
``tests/e2e/artifacts/`` (gitignored). ``ADMIN_SCREENSHOT=1`` also writes the README's ``docs/admin-overview.png``.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect, sync_playwright

from tests.e2e.conftest import ROOT, LocalStack, start_stack
from tests.e2e.payments import auth, authorize, new_order, new_user
from woo_backend.api.admin.console import FILES, STATIC

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
EXPIRED = "/api/plugin/users/update-expired"
SEEDED_ORDER = "wc_order_seedCompleted"  # local/simulators/woo_orders.py: completed, 100 + 500 credits

expect.set_options(timeout=10_000)  # a loaded CI machine; the page itself answers in well under a second


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """This module's own stack: a capture step gives up after one failure (needs_attention at once)."""
    with start_stack(tmp_path_factory.mktemp("console"), {"CAPTURE_MAX_ATTEMPTS": "1"}) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: run `make chromium` (apt-get install -y chromium) to run the browser tests")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser: BrowserContext, stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A new tab (so a new sessionStorage: logged out) at the console; a screenshot of it when the test ends.
    A script error, a Content-Security-Policy refusal or an action slower than a second fails the test."""
    tab = browser.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    writes: list[tuple[str, float]] = []  # every action's round trip, in ms
    tab.on("requestfinished", lambda r: writes.append((r.url, r.timing["responseEnd"])) if r.method != "GET" else None)
    tab.goto(f"{stack.api}/admin")
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    tab.close()
    assert problems == []
    # Every action answers within a second on the local runtime (reads may meet a cold start: not counted).
    assert [(url, ms) for url, ms in writes if ms > 1000] == []


def sign_in(page: Page, stack: LocalStack, name: str = "Ada") -> None:
    page.get_by_label("Admin key").fill(stack.secret("ADMIN_API_KEY"))
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()


def section(page: Page, name: str) -> None:
    """Open a section from the navigation: the overview's cards link to sections too, with names that contain
    theirs ("0 Promo codes with a side pending"), and may be drawn by then or not."""
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=name, exact=True).click()


def parked_payment(stack: LocalStack, api: httpx.Client) -> str:
    """A payment whose capture stopped: Topomer refuses to expire the token and one attempt is all it gets."""
    token, order_id = new_user(stack, "50.00"), new_order(stack, "12.34")
    payment_id = str(authorize(api, token, order_id, "12.34").json()["payment_id"])
    stack.set_faults("topomer", rules=[{"method": "POST", "path": EXPIRED, "mode": "500", "times": 20}])
    try:
        api.post(f"/balance/v1/payments/{payment_id}/capture", headers=auth(token))
    finally:
        stack.clear_faults("topomer")  # healed: what the admin's retry then meets
    assert api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()["status"] == "needs_attention"
    return payment_id


# ------------------------------------------------------------------ the page's answers (no browser)
def test_the_page_and_its_files_carry_the_security_headers(api: httpx.Client) -> None:
    for path, media in (
        ("/admin", "text/html"),
        ("/admin/app.js", "text/javascript"),
        ("/admin/style.css", "text/css"),
    ):
        answer = api.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith(media)
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-frame-options"] == "DENY"
    assert api.get("/admin").headers["cache-control"] == "no-store"
    assert "<script" not in api.get("/admin").text.replace('<script type="module" src="/admin/app.js"></script>', "")


@pytest.mark.parametrize("name", ["nothing.js", "console.py", "..", "%2e%2e%2fconsole.py", "APP.JS", "index.html.bak"])
def test_only_the_console_files_are_served(api: httpx.Client, name: str) -> None:
    answer = api.get(f"/admin/{name}")
    assert answer.status_code == 404
    assert "def " not in answer.text  # never a source file


def test_every_console_file_is_served_and_every_import_is_a_served_file() -> None:
    # A file added to console/ but not to FILES would be a 404 in the browser; an import of a missing one too.
    on_disk = {p.name for p in STATIC.iterdir()}
    assert on_disk == set(FILES)
    for script in (n for n in FILES if n.endswith(".js")):
        for imported in re.findall(r'from "\./([\w.]+)"', (STATIC / script).read_text()):
            assert imported in FILES, (script, imported)


# ------------------------------------------------------------------ journeys
def test_log_in_and_see_the_overview(page: Page, stack: LocalStack) -> None:
    sign_in(page, stack, "Ada")
    expect(page.get_by_text("Signed in as Ada")).to_be_visible()
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    expect(page.get_by_role("heading", name="Syncs")).to_be_visible()
    expect(page.get_by_role("region", name="Upstreams")).to_contain_text("topomer")
    expect(page.get_by_role("img", name="Payments per status")).to_be_visible()
    expect(page.get_by_role("img", name="Credits granted and consumed")).to_be_visible()
    # The key is in this tab's sessionStorage only: nothing in localStorage or cookies.
    assert page.evaluate("sessionStorage.getItem('woo-admin-key')") == stack.secret("ADMIN_API_KEY")
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []


def test_a_wrong_key_is_refused_in_words(page: Page) -> None:
    page.get_by_label("Admin key").fill("not-the-key")
    page.get_by_role("button", name="Sign in").click()
    alert = page.locator("#login-error")
    expect(alert).to_contain_text("The admin key was refused")
    expect(alert).not_to_contain_text("{")  # words, not the API's JSON
    expect(page.get_by_role("navigation", name="Sections")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('woo-admin-key')") is None


def test_create_a_promo_code_and_see_it_synced(page: Page, stack: LocalStack, admin: httpx.Client) -> None:
    code = f"UI-{secrets.token_hex(3).upper()}"
    sign_in(page, stack)
    section(page, "Promo codes")
    page.get_by_role("button", name="New code").click()
    dialog = page.get_by_role("dialog", name="New promo code")
    dialog.get_by_label("Code").fill(code)
    dialog.get_by_label("Percentage").fill("150")
    dialog.get_by_role("button", name="Create code").click()
    # The API's 400 is shown next to the field it names, and the dialog stays open.
    percentage = dialog.get_by_label("Percentage")
    expect(percentage).to_have_attribute("aria-invalid", "true")
    expect(dialog.locator(".field-error").filter(has_text="percentage")).to_be_visible()
    percentage.fill("15")
    dialog.get_by_role("button", name="Create code").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text(f"Code {code} created: WooCommerce synced, Topomer synced")
    row = page.get_by_role("row").filter(has_text=code)
    expect(row.get_by_role("cell").nth(6)).to_contain_text("synced")  # WooCommerce
    expect(row.get_by_role("cell").nth(7)).to_contain_text("synced")  # Topomer
    sync = admin.get(f"/promo/v1/codes/{code}").json()["sync"]
    assert (sync["woocommerce"]["status"], sync["topomer"]["status"]) == ("synced", "synced")
    # Deactivated after a confirmation; the audit trail shows both writes with who made them.
    row.get_by_role("button", name=f"Deactivate {code}").click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    expect(row.get_by_role("cell").nth(3)).to_have_text("no")
    section(page, "Audit")
    expect(page.get_by_role("row").filter(has_text=code).filter(has_text="promo.create")).to_contain_text("Ada")


def test_look_up_a_seeded_order_and_adjust_it_once(page: Page, stack: LocalStack, admin: httpx.Client) -> None:
    stack.run_schedule("CreditsSyncFunction")  # the seeded completed order is granted by the credits sync
    before = admin.get(f"/admin/v1/credits/orders/{SEEDED_ORDER}").json()["account"]["balance"]
    sign_in(page, stack)
    section(page, "Credits")
    page.get_by_label("Order key").fill(SEEDED_ORDER)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name=f"Order {SEEDED_ORDER}")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text(str(before))
    expect(page.get_by_role("region", name="Ledger")).to_contain_text("grant")
    form = page.get_by_role("form", name="Adjust credits")
    # More than the balance: refused, in words, next to the amount.
    form.get_by_label("Amount").fill(f"-{before + 1}")
    form.get_by_label("Reason").fill("too much")
    form.get_by_role("button", name="Apply adjustment").click()
    expect(form.get_by_label("Amount")).to_have_attribute("aria-invalid", "true")
    # The first answer is lost on the way back: the adjustment was applied, the page cannot know. Applying
    # again sends the same Idempotency-Key, so it counts once.
    keys: list[str] = []

    def lose_first_answer(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # it reaches the API and is applied...
            route.abort()  # ...but the page sees the connection fail
        else:
            route.continue_()

    page.route("**/adjustments", lose_first_answer)
    form.get_by_label("Amount").fill("+25")
    form.get_by_label("Reason").fill("goodwill gesture")
    form.get_by_role("button", name="Apply adjustment").click()
    expect(form.locator(".form-error")).to_contain_text("Press Apply again")
    form.get_by_role("button", name="Apply adjustment").click()
    expect(page.get_by_role("status")).to_contain_text(f"the balance is now {before + 25}")
    assert len(keys) == 2
    assert keys[0] == keys[1]
    expect(
        page.get_by_role("region", name="Ledger").get_by_role("row").filter(has_text="goodwill gesture")
    ).to_have_count(1)
    account = admin.get(f"/admin/v1/credits/orders/{SEEDED_ORDER}").json()
    assert account["account"]["balance"] == before + 25
    assert [e["amount"] for e in account["ledger"] if e["type"] == "adjustment"] == [25]


def test_retry_a_payment_needing_attention_after_topomer_heals(
    page: Page, stack: LocalStack, api: httpx.Client, admin: httpx.Client
) -> None:
    payment_id = parked_payment(stack, api)  # parked, and Topomer healed since
    sign_in(page, stack)
    # The overview says so first, and leads to the payments that need a person.
    page.get_by_role("link", name="Open these payments").click()
    expect(page.locator("#payment-status")).to_have_value("needs_attention")  # the filter (not a "Status" cell)
    page.get_by_role("link", name=payment_id).click()
    detail = page.locator(".detail")
    expect(detail.get_by_role("heading", name=f"Payment {payment_id}")).to_be_visible()
    expect(detail.locator(".facts .badge").first).to_have_text("needs attention")
    expect(detail.get_by_role("region", name="Capture steps")).to_contain_text("expire token")
    detail.get_by_role("button", name="Retry").click()
    page.get_by_role("dialog", name="Retry this capture now?").get_by_role("button", name="Retry now").click()
    expect(page.get_by_role("status")).to_contain_text("Retry:")
    expect(detail.locator(".facts .badge").first).to_have_text("captured")
    payment = admin.get(f"/admin/v1/payments/{payment_id}").json()
    assert payment["status"] == "captured"
    assert {step["status"] for step in payment["steps"].values()} == {"done"}


def test_resolve_asks_for_a_note(page: Page, stack: LocalStack, api: httpx.Client, admin: httpx.Client) -> None:
    payment_id = parked_payment(stack, api)
    sign_in(page, stack, "Grace")
    page.goto(f"{stack.api}/admin#/payments?status=needs_attention&id={payment_id}")
    page.get_by_role("button", name="Resolve…").click()
    dialog = page.get_by_role("dialog", name="Resolve by hand")
    dialog.get_by_role("button", name="Mark resolved").click()
    expect(dialog.get_by_label("Note")).to_have_attribute("aria-invalid", "true")  # the API's 400, inline
    dialog.get_by_label("Note").fill("Expired the token in Topomer's back office")
    dialog.get_by_role("button", name="Mark resolved").click()
    expect(page.locator(".detail .facts .badge").first).to_have_text("resolved")
    payment = admin.get(f"/admin/v1/payments/{payment_id}").json()
    assert payment["resolution"]["by"] == "Grace"


def test_void_an_authorized_payment_after_confirming(page: Page, stack: LocalStack, api: httpx.Client) -> None:
    token, order_id = new_user(stack, "20.00"), new_order(stack, "5.00")
    payment_id = str(authorize(api, token, order_id, "5.00").json()["payment_id"])
    sign_in(page, stack)
    section(page, "Payments")
    page.locator("#payment-status").select_option("authorized")
    page.get_by_role("link", name=payment_id).click()
    page.locator(".detail").get_by_role("button", name="Void").click()
    dialog = page.get_by_role("dialog", name="Void this payment?")
    dialog.get_by_role("button", name="Cancel").click()  # cancelled: nothing happens
    expect(page.locator(".detail .facts .badge").first).to_have_text("authorized")
    page.locator(".detail").get_by_role("button", name="Void").click()
    dialog.get_by_role("button", name="Void payment").click()
    expect(page.locator(".detail .facts .badge").first).to_have_text("voided")
    assert api.get(f"/balance/v1/payments/{payment_id}", headers=auth(token)).json()["status"] == "voided"


def test_dialogs_work_from_the_keyboard(page: Page, stack: LocalStack) -> None:
    sign_in(page, stack)
    section(page, "Promo codes")
    opener = page.get_by_role("button", name="New code")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New promo code")
    expect(dialog.get_by_label("Code")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


def test_the_overview_fits_a_phone(page: Page, stack: LocalStack) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, stack)
    expect(page.get_by_role("heading", name="Syncs")).to_be_visible()
    # Nothing wider than the screen but the tables' own scrolling regions.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.skipif(not os.environ.get("ADMIN_SCREENSHOT"), reason="ADMIN_SCREENSHOT=1 writes docs/admin-overview.png")
def test_readme_screenshot_of_the_overview(page: Page, stack: LocalStack, api: httpx.Client) -> None:
    parked_payment(stack, api)  # one item that needs attention, as a morning might bring
    stack.run_schedule("CreditsSyncFunction")
    api.post("/credits/v1/orders/wc_order_seedProcessing/consume", json={"amount": 120})  # a day's use
    for schedule in ("CreditsSyncFunction", "BalanceSyncFunction", "PromoSyncFunction"):
        stack.run_schedule(schedule)
    sign_in(page, stack, "Ada")
    expect(page.get_by_role("link", name="Open these payments")).to_be_visible()
    expect(page.get_by_role("heading", name="Upstreams")).to_be_visible()
    expect(page.locator(".charts svg")).to_have_count(2)  # both pictures drawn, not "Loading…"
    page.screenshot(path=str(ROOT / "docs" / "admin-overview.png"), full_page=True)
