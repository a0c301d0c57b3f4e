// Payments: by status (needs_attention first), one payment with its capture steps, and what a person can do:
// retry its pending steps now, resolve it (settled by hand, with a note), or void it (before capture). Each
// action asks first.

import { api, enc } from "./api.js";
import { paymentsChart } from "./daily.js";
import { badge, clearErrors, dialog, errorBox, field, h, loading, notify, pagedList, replace, showErrors, table, when, words } from "./dom.js";

const STATUSES = ["needs_attention", "capture_pending", "authorized", "captured", "voided", "expired", "resolved"];
const RETRYABLE = ["needs_attention", "capture_pending"];
const VOIDABLE = ["authorized"];

function money(p) { return `${p.amount} ${p.currency || ""}`.trim(); }

function steps(payment) {
  const rows = Object.entries(payment.steps || {}).map(([name, step]) => ({ name, ...step }));
  return table("Capture steps", [
    { label: "Step", cell: (s) => words(s.name) },
    { label: "Status", cell: (s) => badge(s.status) },
    { label: "Attempts", cell: (s) => s.attempts ?? 0, class: "num" },
    { label: "Started", cell: (s) => when(s.started_at) },
    { label: "Done", cell: (s) => when(s.done_at) },
    { label: "Next attempt", cell: (s) => when(s.next_attempt_at) },
    { label: "Last error", cell: (s) => s.last_error || "—" },
  ], rows, "No capture steps yet.");
}

function facts(p) {
  const rows = [["Payment", h("span", { class: "mono" }, p.payment_id)], ["Status", badge(p.status)],
    ["Amount", h("strong", {}, money(p))], ["Order", `#${p.order_id}`], ["Topomer user", p.user_id],
    ["Created", when(p.created_at)], ["Hold expires", when(p.hold_expires_at)], ["Captured", when(p.captured_at)],
    ["Closed", when(p.closed_at)], ["Reason", words(p.reason)]];
  if (p.resolution) {
    rows.push(["Resolved by", `${p.resolution.by}`], ["Resolved at", when(p.resolution.at)], ["Note", p.resolution.note]);
  }
  return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function actions(p, refresh) {
  const path = `/admin/v1/payments/${enc(p.payment_id)}`;
  const done = async (payment, message) => {
    notify(message);
    await refresh(payment);
  };
  const retry = () => dialog({
    title: "Retry this capture now?",
    body: [h("p", {}, `The pending steps of payment ${p.payment_id} (${money(p)}) run now against Topomer and the shop.`)],
    confirmLabel: "Retry now",
    confirm: async () => {
      const answer = await api.post(`${path}/retry`);
      await done(answer.payment, `Retry: ${answer.message || words(answer.outcome)}`);
      return answer;
    },
  });
  const resolve = () => {
    const note = h("textarea", { name: "note", rows: 4, maxlength: 500, required: true });
    return dialog({
      title: "Resolve by hand",
      body: [h("p", {}, "Use this once you have settled the payment yourself (in Topomer or the shop). Nothing is sent to Topomer; the hold is given back in the service's books."),
        field("Note", note, "(what you did; 1 to 500 characters)")],
      confirmLabel: "Mark resolved",
      confirm: async (form) => {
        clearErrors(form);
        try {
          const payment = await api.post(`${path}/resolve`, { note: note.value.trim() });
          await done(payment, `Payment ${payment.payment_id} resolved.`);
          return payment;
        } catch (error) {
          if (error.status === 400) { showErrors(form, error, { invalid_note: "note" }); error.shown = true; }
          throw error;
        }
      },
    });
  };
  const voidIt = () => dialog({
    title: "Void this payment?",
    body: [h("p", {}, `The hold of ${money(p)} is released; the customer is not charged. This cannot be undone.`)],
    confirmLabel: "Void payment",
    danger: true,
    confirm: async () => {
      const payment = await api.post(`${path}/void`);
      await done(payment, `Payment ${payment.payment_id} voided.`);
      return payment;
    },
  });
  return h("div", { class: "actions" },
    RETRYABLE.includes(p.status) ? h("button", { type: "button", onclick: retry }, "Retry") : null,
    p.status === "needs_attention" ? h("button", { type: "button", onclick: resolve }, "Resolve…") : null,
    VOIDABLE.includes(p.status) ? h("button", { type: "button", class: "danger", onclick: voidIt }, "Void") : null);
}

function showPayment(box, payment, reloadList) {
  const refresh = async (changed) => {
    showPayment(box, changed, reloadList);
    await reloadList();
  };
  replace(box, h("h2", { id: "payment-title", tabindex: "-1" }, `Payment ${payment.payment_id}`), facts(payment),
    actions(payment, refresh), h("h3", {}, "Capture steps"), steps(payment));
}

export async function payments(view, params) {
  const status = h("select", { id: "payment-status" }, STATUSES.map((s) => h("option", { value: s }, words(s))));
  status.value = STATUSES.includes(params.get("status")) ? params.get("status") : "needs_attention";
  const list = h("div", { class: "list" });
  const detail = h("section", { class: "detail", "aria-live": "polite" });
  const chart = h("div", { class: "charts" }, loading());
  const drawChart = () => paymentsChart().then((figure) => replace(chart, figure));
  const listed = () => pagedList(list,
    (cursor) => api.get("/admin/v1/payments", { status: status.value, cursor, limit: 20 }),
    (items) => table("Payments", [
      { label: "Payment", cell: (p) => h("a", { href: `#/payments?status=${status.value}&id=${enc(p.payment_id)}`, class: "mono" }, p.payment_id) },
      { label: "Amount", cell: (p) => money(p), class: "num" },
      { label: "Order", cell: (p) => `#${p.order_id}` },
      { label: "Status", cell: (p) => badge(p.status) },
      { label: "Created", cell: (p) => when(p.created_at) },
      { label: "Reason", cell: (p) => words(p.reason) },
    ], items, `No payments with status ${words(status.value)}.`));
  // After an action: the list and the picture change too.
  const reloadList = () => Promise.all([listed(), drawChart()]);
  status.addEventListener("change", () => { location.hash = `#/payments?status=${status.value}`; });
  view.append(h("h1", {}, "Payments"),
    h("div", { class: "toolbar" }, h("label", { for: "payment-status" }, "Status "), status),
    detail, list, chart);
  const drawn = drawChart();
  const id = params.get("id");
  if (id) {
    replace(detail, loading());
    try {
      showPayment(detail, await api.get(`/admin/v1/payments/${enc(id)}`), reloadList);
    } catch (error) {
      replace(detail, errorBox(error));
    }
  }
  await Promise.all([listed(), drawn]);
}
