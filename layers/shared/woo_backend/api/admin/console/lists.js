// Drift (balances Topomer showed that the service did not expect) and the audit trail (every admin write):
// read-only lists, newest first.

import { api } from "./api.js";
import { h, pagedList, table, when, words } from "./dom.js";

export async function drift(view) {
  const list = h("div", { class: "list" });
  view.append(h("h1", {}, "Drift"),
    h("p", { class: "intro" }, "Each line is a balance Topomer showed that differs from what the service expected "
      + "(its payments and holds). Check the customer's payments before changing anything."),
    list);
  await pagedList(list, (cursor) => api.get("/admin/v1/drift", { cursor, limit: 50 }), (items) => table("Drift", [
    { label: "Seen at", cell: (d) => when(d.at) },
    { label: "Topomer user", cell: (d) => d.user_id },
    { label: "Expected", cell: (d) => d.expected ?? "unknown", class: "num" },
    { label: "Seen", cell: (d) => d.seen, class: "num" },
    { label: "Difference", cell: (d) => h("strong", {}, d.difference), class: "num" },
    { label: "Sync run", cell: (d) => d.run_id, class: "mono small" },
  ], items, "No drift recorded."));
}

// A snapshot as dotted paths to plain values ({"sync": {"topomer": {"attempts": 2}}} -> "sync.topomer.attempts"),
// so a change shows only the values that moved, in words (never raw JSON).
function flat(value, prefix = "", out = {}) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flat(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function shown(value) { return value === null || value === undefined || value === "" ? "—" : String(value); }

// What changed: the values that differ between before and after (what a creation set, for a creation).
function change(entry) {
  const before = flat(entry.before);
  const after = flat(entry.after);
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => before[k] !== after[k])
    .filter((k) => entry.before || (after[k] !== null && after[k] !== undefined));
  if (!keys.length) return "—";
  return h("ul", { class: "changes" }, keys.map((k) => h("li", {}, h("span", { class: "key" }, words(k)), ": ",
    entry.before ? [h("del", {}, shown(before[k])), " → "] : null, h("ins", {}, shown(after[k])))));
}

export async function audit(view) {
  const list = h("div", { class: "list" });
  view.append(h("h1", {}, "Audit"), h("p", { class: "intro" }, "Every change made through the admin API: who, what, when."), list);
  await pagedList(list, (cursor) => api.get("/admin/v1/audit", { cursor, limit: 50 }), (items) => table("Audit trail", [
    { label: "When", cell: (e) => when(e.at) },
    { label: "Who", cell: (e) => e.who },
    { label: "Action", cell: (e) => h("span", { class: "mono" }, e.action) },
    { label: "Target", cell: (e) => h("span", { class: "mono" }, e.target) },
    { label: "Change", cell: change },
    { label: "Note", cell: (e) => e.note || "—" },
  ], items, "No changes recorded yet."));
}
