// Promo codes (the promo API's admin routes, /promo/v1/codes): list with filters, create, edit, deactivate.
// Each code shows both sides' sync state (WooCommerce coupon, Topomer promo). A refused form shows the API's
// words next to the field they name.

import { api, enc } from "./api.js";
import { badge, clearErrors, dialog, field, h, notify, pagedList, showErrors, table, when, words } from "./dom.js";

// Error codes that name one field (the rest are matched by the field name their message starts with).
const CODE_FIELDS = {
  invalid_code: "code", duplicate_code: "code", invalid_percentage: "percentage", invalid_expiry: "expires_at",
};

function sideCell(side) {
  return h("div", { class: "side" }, badge(side.status), side.id ? h("span", { class: "mono" }, ` #${side.id}`) : null,
    side.status === "pending" && side.attempts ? h("div", { class: "small" }, `${side.attempts} attempt(s)`) : null,
    side.last_error ? h("div", { class: "small error-text" }, side.last_error) : null);
}

export function syncWords(code) {
  const { woocommerce, topomer } = code.sync;
  return `WooCommerce ${woocommerce.status}, Topomer ${topomer.status}`;
}

// A <input type=datetime-local> holds the browser's local time; the API wants an instant (UTC, "Z").
function toInstant(local) { return local ? new Date(local).toISOString().replace(/\.\d+Z$/, "Z") : null; }
function toLocal(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}
// Whole numbers go as numbers; anything else goes as typed, so the API's own words say what is wrong.
function whole(text) { return /^\d+$/.test(text) ? Number(text) : text; }

function input(name, attrs = {}) { return h("input", { name, type: "text", autocomplete: "off", ...attrs }); }

function codeFields(code) {
  const editing = Boolean(code);
  const type = h("select", { name: "type", disabled: editing },
    h("option", { value: "manual" }, "manual"), h("option", { value: "auto" }, "auto"));
  if (editing) type.value = code.type;
  return [
    editing ? null : field("Code", input("code", { required: true, maxlength: 64, autocapitalize: "characters" }),
      "(3 to 32 of A-Z, 0-9 and -)"),
    field("Percentage", input("percentage", { inputmode: "decimal", value: editing ? code.percentage : "" }), "(0 to 100)"),
    editing ? null : field("Type", type),
    h("div", { class: "field check" }, h("label", {},
      h("input", { type: "checkbox", name: "active", checked: editing ? code.active : true }), " Active")),
    field("Expires at", h("input", { name: "expires_at", type: "datetime-local", value: toLocal(editing && code.expires_at) }),
      "(your local time; empty: never)"),
    field("Usage limit", input("usage_limit", { inputmode: "numeric", value: editing && code.usage_limit ? code.usage_limit : "" }),
      "(empty: no limit)"),
  ];
}

// Submit a code form; field errors go next to their field, and the dialog stays open.
async function submit(form, send) {
  clearErrors(form);
  try {
    return await send();
  } catch (error) {
    if (error.status === 400 || error.code in CODE_FIELDS) {
      showErrors(form, error, CODE_FIELDS);
      error.shown = true;
    }
    throw error;
  }
}

function createCode(reload) {
  return dialog({
    title: "New promo code",
    body: codeFields(null),
    confirmLabel: "Create code",
    confirm: (form) => submit(form, async () => {
      const v = form.elements;
      const body = { code: v.code.value.trim(), percentage: v.percentage.value.trim(), type: v.type.value,
        active: v.active.checked };
      if (v.expires_at.value) body.expires_at = toInstant(v.expires_at.value);
      if (v.usage_limit.value.trim()) body.usage_limit = whole(v.usage_limit.value.trim());
      const made = await api.post("/promo/v1/codes", body);
      notify(`Code ${made.code} created: ${syncWords(made)}.`);
      reload();
      return made;
    }),
  });
}

function editCode(code, reload) {
  return dialog({
    title: `Edit ${code.code}`,
    body: codeFields(code),
    confirmLabel: "Save changes",
    confirm: (form) => submit(form, async () => {
      const v = form.elements;
      const body = {};
      if (v.percentage.value.trim() !== code.percentage) body.percentage = v.percentage.value.trim();
      if (v.active.checked !== code.active) body.active = v.active.checked;
      if (v.expires_at.value && v.expires_at.value !== toLocal(code.expires_at)) body.expires_at = toInstant(v.expires_at.value);
      const limit = v.usage_limit.value.trim();
      if (limit && String(limit) !== String(code.usage_limit ?? "")) body.usage_limit = whole(limit);
      if (!Object.keys(body).length) return code;
      const changed = await api.patch(`/promo/v1/codes/${enc(code.code)}`, body);
      notify(`Code ${changed.code} saved: ${syncWords(changed)}.`);
      reload();
      return changed;
    }),
  });
}

function deactivate(code, reload) {
  return dialog({
    title: `Deactivate ${code.code}?`,
    body: [h("p", {}, "Shoppers can no longer use it. The WooCommerce coupon is drafted and expired, and Topomer is told.")],
    confirmLabel: "Deactivate",
    danger: true,
    confirm: async () => {
      const done = await api.delete(`/promo/v1/codes/${enc(code.code)}`);
      notify(`Code ${done.code} deactivated: ${syncWords(done)}.`);
      reload();
      return done;
    },
  });
}

function codesTable(codes, reload) {
  return table("Promo codes", [
    { label: "Code", cell: (c) => h("span", { class: "mono" }, c.code) },
    { label: "Type", cell: (c) => c.type },
    { label: "%", cell: (c) => c.percentage, class: "num" },
    { label: "Active", cell: (c) => (c.active ? "yes" : "no") },
    { label: "Expires", cell: (c) => when(c.expires_at) },
    { label: "Limit", cell: (c) => words(c.usage_limit), class: "num" },
    { label: "WooCommerce", cell: (c) => sideCell(c.sync.woocommerce) },
    { label: "Topomer", cell: (c) => sideCell(c.sync.topomer) },
    { label: "Updated", cell: (c) => when(c.updated_at) },
    { label: "Actions", cell: (c) => h("div", { class: "row-actions" },
      h("button", { type: "button", class: "quiet", "aria-label": `Edit ${c.code}`, onclick: () => editCode(c, reload) }, "Edit"),
      c.active ? h("button", { type: "button", class: "quiet danger-text", "aria-label": `Deactivate ${c.code}`,
        onclick: () => deactivate(c, reload) }, "Deactivate") : null) },
  ], codes, "No codes match.");
}

export async function promo(view, params) {
  const type = h("select", { name: "type", id: "promo-type" },
    h("option", { value: "" }, "all"), h("option", { value: "manual" }, "manual"), h("option", { value: "auto" }, "auto"));
  const active = h("select", { name: "active", id: "promo-active" },
    h("option", { value: "" }, "all"), h("option", { value: "true" }, "active"), h("option", { value: "false" }, "inactive"));
  type.value = params.get("type") || "";
  active.value = params.get("active") || "";
  const list = h("div", { class: "list" });
  const reload = () => pagedList(list,
    (cursor) => api.get("/promo/v1/codes", { type: type.value, active: active.value, cursor, limit: 50 }),
    (codes) => codesTable(codes, reload));
  type.addEventListener("change", reload);
  active.addEventListener("change", reload);
  const create = h("button", { type: "button", onclick: () => createCode(reload) }, "New code");
  view.append(h("h1", {}, "Promo codes"),
    h("div", { class: "toolbar" },
      h("label", { for: "promo-type" }, "Type "), type,
      h("label", { for: "promo-active" }, "State "), active, create),
    list);
  await reload();
}
