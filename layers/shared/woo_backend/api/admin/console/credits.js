// Credits: the accounts (by status), one order's account and ledger, and an adjustment (+N grants, -N takes).
// An adjustment carries an Idempotency-Key made here; the same submission sent again after an unknown outcome
// (no answer, a 5xx) reuses it, so it is applied at most once.

import { api, enc, newIdempotencyKey } from "./api.js";
import { creditsChart } from "./daily.js";
import { badge, clearErrors, errorBox, field, h, loading, notify, pagedList, replace, showErrors, table, when, words } from "./dom.js";

const CODE_FIELDS = { invalid_amount: "amount", insufficient_credits: "amount", invalid_reason: "reason" };
const STATUSES = ["completed", "processing", "refunded", "cancelled"];

function accountSummary(a) {
  const rows = [["Order key", h("span", { class: "mono" }, a.order_key)], ["Order", `#${a.order_id}`],
    ["Status", badge(a.status)], ["Balance", h("strong", {}, a.balance)], ["Granted", a.granted],
    ["Consumed", a.consumed], ["Revoked", a.revoked], ["Adjusted", a.adjusted],
    ["Granted at", when(a.granted_at)], ["Closed at", when(a.closed_at)]];
  return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

const LEDGER = [
  { label: "When", cell: (e) => when(e.created_at) },
  { label: "Type", cell: (e) => badge(e.type) },
  { label: "Amount", cell: (e) => e.amount, class: "num" },
  { label: "Balance after", cell: (e) => e.balance_after, class: "num" },
  { label: "Reason", cell: (e) => words(e.reason) },
  { label: "Transaction", cell: (e) => e.transaction_id, class: "mono small" },
];

// One submission's key: kept while its outcome is unknown, so "Apply" again sends the same key.
let pending = null;

function adjustForm(orderKey, reopen) {
  const amount = h("input", { name: "amount", type: "text", inputmode: "numeric", autocomplete: "off", required: true });
  const reason = h("input", { name: "reason", type: "text", maxlength: 200, autocomplete: "off", required: true });
  const button = h("button", { type: "submit" }, "Apply adjustment");
  const form = h("form", { class: "adjust", novalidate: true, "aria-labelledby": "adjust-title" },
    h("h2", { id: "adjust-title" }, "Adjust credits"),
    field("Amount", amount, "(+N gives credits, -N takes them)"), field("Reason", reason, "(1 to 200 characters)"),
    h("p", { class: "error form-error", role: "alert" }), h("div", { class: "actions" }, button));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const text = amount.value.trim().replace(/^\+/, "");
    const body = { amount: /^-?\d+$/.test(text) ? Number(text) : text, reason: reason.value.trim() };
    const same = pending && pending.orderKey === orderKey && pending.body === JSON.stringify(body);
    if (!same) pending = { orderKey, body: JSON.stringify(body), key: newIdempotencyKey() };
    button.disabled = true;
    try {
      const done = await api.post(`/admin/v1/credits/orders/${enc(orderKey)}/adjustments`, body,
        { "Idempotency-Key": pending.key });
      pending = null;
      notify(`Adjusted ${done.amount > 0 ? "+" : ""}${done.amount} credits: the balance is now ${done.balance}.`);
      await reopen();
    } catch (error) {
      if (error.status > 0 && error.status < 500) pending = null; // answered: a new submission gets a new key
      showErrors(form, error, CODE_FIELDS);
      if (!(error.status > 0 && error.status < 500)) {
        form.querySelector(".form-error").textContent += " Press Apply again to retry the same adjustment (it is applied once).";
      }
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// `changed` redraws what an adjustment changes elsewhere on the page (the chart, the accounts list).
async function showAccount(box, orderKey, changed) {
  replace(box, loading());
  const reopen = () => Promise.all([showAccount(box, orderKey, changed), changed()]);
  try {
    const first = await api.get(`/admin/v1/credits/orders/${enc(orderKey)}`, { limit: 20 });
    const ledger = h("div", { class: "list" });
    replace(box, h("h2", {}, `Order ${first.account.order_key}`), accountSummary(first.account),
      adjustForm(orderKey, reopen), h("h2", {}, "Ledger"), ledger);
    let firstPage = { items: first.ledger, next_cursor: first.next_cursor };
    await pagedList(ledger, async (cursor) => {
      if (!cursor && firstPage) { const page = firstPage; firstPage = null; return page; }
      const next = await api.get(`/admin/v1/credits/orders/${enc(orderKey)}`, { limit: 20, cursor });
      return { items: next.ledger, next_cursor: next.next_cursor };
    }, (entries) => table("Ledger", LEDGER, entries, "No ledger entries."));
  } catch (error) {
    replace(box, errorBox(error));
  }
}

function accountsList(status) {
  const list = h("div", { class: "list" });
  pagedList(list, (cursor) => api.get("/admin/v1/credits/orders", { status, cursor, limit: 20 }),
    (items) => table("Accounts", [
      { label: "Order key", cell: (a) => h("a", { href: `#/credits?order=${enc(a.order_key)}`, class: "mono" }, a.order_key) },
      { label: "Order", cell: (a) => `#${a.order_id}` },
      { label: "Status", cell: (a) => badge(a.status) },
      { label: "Granted", cell: (a) => a.granted, class: "num" },
      { label: "Consumed", cell: (a) => a.consumed, class: "num" },
      { label: "Balance", cell: (a) => a.balance, class: "num" },
      { label: "Granted at", cell: (a) => when(a.granted_at) },
    ], items, "No accounts with this status."));
  return list;
}

export async function credits(view, params) {
  const key = h("input", { id: "order-key", name: "order_key", type: "text", autocomplete: "off", spellcheck: "false",
    value: params.get("order") || "" });
  const lookup = h("form", { class: "toolbar", role: "search" },
    h("label", { for: "order-key" }, "Order key "), key, h("button", { type: "submit" }, "Look up"));
  const account = h("section", { class: "account", "aria-live": "polite" });
  lookup.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = key.value.trim();
    if (!wanted) { replace(account, errorBox(new Error("Type or paste an order key (wc_order_…)."))); key.focus(); return; }
    location.hash = `#/credits?order=${enc(wanted)}`;
  });
  const status = h("select", { id: "accounts-status" }, STATUSES.map((s) => h("option", { value: s }, s)));
  status.value = params.get("status") || "completed";
  const accounts = h("div", {}, accountsList(status.value));
  const relist = () => replace(accounts, accountsList(status.value));
  status.addEventListener("change", relist);
  const chart = h("div", { class: "charts" }, loading());
  view.append(h("h1", {}, "Credits"), lookup, account, chart,
    h("h2", {}, "Accounts"), h("div", { class: "toolbar" }, h("label", { for: "accounts-status" }, "Status "), status), accounts);
  const redrawChart = () => creditsChart().then((figure) => replace(chart, figure));
  const drawn = redrawChart();
  if (params.get("order")) await showAccount(account, params.get("order"), () => Promise.all([redrawChart(), relist()]));
  await drawn;
}
