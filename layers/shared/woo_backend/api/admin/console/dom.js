// Small DOM helpers: elements built from data (text nodes only, never HTML strings, so nothing the API returns
// can run as markup), tables, confirmation dialogs with focus handling, the status line, form errors.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "value") el.value = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// ------------------------------------------------------------------ words and values
export function when(iso) {
  if (!iso) return "—";
  const shown = String(iso).replace("T", " ").replace(/\.\d+/, "").replace(/(\+00:00|Z)$/, " UTC");
  return h("time", { datetime: iso }, shown);
}

export function words(value) {
  return value === null || value === undefined || value === "" ? "—" : String(value).replaceAll("_", " ");
}

export function badge(status) {
  return h("span", { class: `badge s-${String(status).replace(/[^a-z_]/g, "")}` }, words(status));
}

// ------------------------------------------------------------------ the status line
let noticeTimer = null;
export function notify(message, kind = "ok") {
  const el = document.getElementById("notice");
  el.className = `notice ${kind}`;
  el.textContent = message;
  clearTimeout(noticeTimer);
  if (kind === "ok") noticeTimer = setTimeout(() => { el.textContent = ""; el.className = "notice"; }, 6000);
}

export function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, error.message || String(error));
}

export function loading() {
  return h("p", { class: "loading" }, "Loading…");
}

// ------------------------------------------------------------------ tables
// columns: [{label, cell: (row) => node | text, class}]. Wrapped in a region that scrolls sideways on a phone
// (focusable, so a keyboard can scroll it too).
export function table(caption, columns, rows, empty = "Nothing here.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.class === "num" ? "num" : null }, c.label)));
  const body = rows.map((row) => h("tr", {}, columns.map((c) => h("td", { class: c.class }, c.cell(row)))));
  return h(
    "div", { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
    h("table", {}, h("caption", { class: "sr-only" }, caption), h("thead", {}, head), h("tbody", {}, body)),
  );
}

// A list read page by page: `load(cursor)` answers {items, next_cursor}; `render(items)` draws all so far.
export function pagedList(container, load, render) {
  let items = [];
  const more = h("button", { type: "button", class: "quiet" }, "Load more");
  const error = h("div");
  async function next(cursor) {
    more.disabled = true;
    try {
      const page = await load(cursor);
      items = items.concat(page.items);
      replace(container, render(items), error);
      if (page.next_cursor) {
        more.onclick = () => next(page.next_cursor);
        more.disabled = false;
        container.append(more);
      }
    } catch (err) {
      replace(error, errorBox(err));
      if (!items.length) replace(container, error);
    }
  }
  replace(container, loading());
  return next(null);
}

// ------------------------------------------------------------------ dialogs
// A modal <dialog>: focus moves into it, Tab stays inside (the browser's modal), Esc or Cancel closes it,
// and focus goes back to what opened it. `confirm(form)` runs on submit; an ApiError is shown in the dialog
// (which stays open); success closes it. Resolves with confirm's result, or null when cancelled.
export function dialog({ title, body = [], confirmLabel = "Confirm", danger = false, confirm }) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    let result = null;
    const error = h("p", { class: "error form-error", role: "alert" });
    const ok = h("button", { type: "submit", class: danger ? "danger" : "" }, confirmLabel);
    const cancel = h("button", { type: "button", class: "quiet" }, "Cancel");
    const titleId = `dialog-${Math.random().toString(36).slice(2)}`;
    const form = h("form", { novalidate: true }, h("h2", { id: titleId }, title), body, error,
      h("div", { class: "actions" }, ok, cancel));
    const box = h("dialog", { "aria-labelledby": titleId }, form);
    cancel.addEventListener("click", () => box.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      ok.disabled = cancel.disabled = true;
      error.textContent = "";
      try {
        result = await confirm(form);
        box.close();
      } catch (err) {
        // A refusal already shown next to its fields (showErrors) is not repeated here.
        if (!err.shown) error.textContent = err.message || String(err);
        ok.disabled = cancel.disabled = false;
      }
    });
    box.addEventListener("close", () => {
      box.remove();
      // Back to what opened it; if an action redrew the view, to the view itself.
      if (opener && opener.isConnected) opener.focus();
      else document.getElementById("main").focus();
      resolve(result);
    });
    document.body.append(box);
    box.showModal();
    const first = form.querySelector("input, textarea, select");
    (first || ok).focus();
  });
}

// ------------------------------------------------------------------ form fields and their errors
export function field(label, input, hint) {
  const id = input.id || (input.id = `f-${input.name}-${Math.random().toString(36).slice(2, 8)}`);
  const message = h("p", { class: "field-error", id: `${id}-error` });
  input.setAttribute("aria-describedby", message.id);
  return h("div", { class: "field" }, h("label", { for: id }, label, hint ? h("span", { class: "hint" }, ` ${hint}`) : null),
    input, message);
}

// Put an API error next to the input it names: by its code (codeFields), else by a message that starts with a
// field's name ("percentage: must be ..."; several parts are joined by "; "). What names no field is shown in
// the form's own error line.
export function showErrors(form, error, codeFields = {}) {
  clearErrors(form);
  const general = form.querySelector(".form-error") || form.appendChild(h("p", { class: "error form-error", role: "alert" }));
  const byCode = codeFields[error.code];
  const parts = byCode ? [[byCode, error.message]] : error.message.split("; ").map((part) => {
    const name = /^([a-z_]+)\b/.exec(part);
    return [name && form.elements.namedItem(name[1]) ? name[1] : null, part];
  });
  let focused = false;
  for (const [name, text] of parts) {
    const input = name ? form.elements.namedItem(name) : null;
    const slot = input ? document.getElementById(`${input.id}-error`) : null;
    if (!input || !slot) {
      general.textContent = general.textContent ? `${general.textContent}; ${text}` : text;
      continue;
    }
    input.setAttribute("aria-invalid", "true");
    slot.textContent = text;
    if (!focused) { input.focus(); focused = true; }
  }
}

export function clearErrors(form) {
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  form.querySelectorAll(".field-error, .form-error").forEach((el) => { el.textContent = ""; });
}
