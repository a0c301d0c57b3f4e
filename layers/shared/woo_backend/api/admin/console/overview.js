// Overview: what needs a person first (the health's attention items, each with what to do), then the counts,
// the two charts, and each sync, webhook and upstream. Every part loads on its own: one failing call leaves
// the others shown.

import { api } from "./api.js";
import { badge, errorBox, h, loading, replace, table, when, words } from "./dom.js";
import { creditsChart, paymentsChart } from "./daily.js";

// Where the admin acts on an item (the item's own message says what to do; the README's "Operating the service"
// says more).
const ACTIONS = {
  payments_needing_attention: ["#/payments?status=needs_attention", "Open these payments"],
  drift: ["#/drift", "See the drift"],
  promo_pending: ["#/promo", "See the codes"],
};

function attention(items) {
  if (!items.length) return h("p", { class: "all-clear" }, badge("ok"), " Nothing needs your attention.");
  return h("ul", { class: "attention" }, items.map((item) => {
    const [href, label] = ACTIONS[item.kind] || [null, null];
    return h("li", { class: `attention-item k-${item.kind}` },
      h("p", {}, item.count ? h("span", { class: "count", "aria-label": `count ${item.count}` }, item.count) : null,
        item.message),
      href ? h("a", { href, class: "button-link" }, label) : null);
  }));
}

function counts(health) {
  const p = health.payments || {};
  const tiles = [
    ["Payments needing attention", p.needs_attention, "#/payments?status=needs_attention"],
    ["Captures pending", p.capture_pending, "#/payments?status=capture_pending"],
    ["Payments authorized", p.authorized, "#/payments?status=authorized"],
    ["Promo codes with a side pending", health.promo_pending, "#/promo"],
  ];
  return h("ul", { class: "tiles" }, tiles.map(([label, value, href]) =>
    h("li", {}, h("a", { href }, h("span", { class: "tile-value" }, value ?? "—"), h("span", {}, label)))));
}

function countsText(counts) {
  const pairs = Object.entries(counts || {});
  return pairs.length ? pairs.map(([k, v]) => `${words(k)} ${v}`).join(", ") : "—";
}

function details(health) {
  return [
    h("h2", {}, "Syncs"),
    table("Syncs", [
      { label: "Sync", cell: (s) => s.name },
      { label: "Last run", cell: (s) => (s.last_run ? when(s.last_run.at) : "never") },
      { label: "Outcome", cell: (s) => (s.last_run ? badge(s.last_run.outcome) : "—") },
      { label: "Counts", cell: (s) => countsText(s.last_run && s.last_run.counts) },
      { label: "Error", cell: (s) => (s.last_run && s.last_run.error) || "—" },
      { label: "Cursor", cell: (s) => s.cursor || "—", class: "mono" },
    ], health.syncs || []),
    h("h2", {}, "Shop webhooks"),
    table("Shop webhooks", [
      { label: "Webhook", cell: (w) => w.name },
      { label: "Topic", cell: (w) => w.topic, class: "mono" },
      { label: "Status", cell: (w) => badge(w.status) },
      { label: "Healthy", cell: (w) => (w.healthy ? "yes" : "no") },
      { label: "Delivers to", cell: (w) => w.delivery_url || "—", class: "mono" },
    ], health.webhooks || [], "No webhooks found."),
    h("h2", {}, "Upstreams"),
    table("Upstreams", [
      { label: "Upstream", cell: (u) => u.name },
      { label: "Reachable", cell: (u) => badge(u.reachable ? "reachable" : "unreachable") },
      { label: "Latency", cell: (u) => (u.latency_ms === null || u.latency_ms === undefined ? "—" : `${u.latency_ms} ms`) },
      { label: "Error", cell: (u) => u.error || "—" },
    ], health.upstreams || []),
  ];
}

export async function overview(view) {
  const top = h("section", { "aria-labelledby": "attention-title" }, h("h2", { id: "attention-title" }, "Needs attention"), loading());
  const charts = h("div", { class: "charts" }, loading());
  const rest = h("section", {});
  replace(view, h("h1", {}, "Overview"), top, charts, rest);
  const health = api.get("/admin/v1/health").then((answer) => {
    replace(top, h("h2", { id: "attention-title" }, "Needs attention"), attention(answer.attention || []), counts(answer));
    replace(rest, details(answer));
  }).catch((error) => replace(top, h("h2", { id: "attention-title" }, "Needs attention"), errorBox(error)));
  const pictures = Promise.all([paymentsChart(), creditsChart()]).then((figures) => replace(charts, figures));
  await Promise.all([health, pictures]);
}
