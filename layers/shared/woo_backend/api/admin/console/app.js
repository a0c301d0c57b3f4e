// The admin console: login, then one view per hash route (#/overview, #/promo, #/credits, #/payments, #/drift,
// #/audit). Plain ES modules, no build step: edit a file, reload the page.

import { api, session, whenUnauthorized } from "./api.js";
import { notify, replace } from "./dom.js";
import { overview } from "./overview.js";
import { promo } from "./promo.js";
import { credits } from "./credits.js";
import { payments } from "./payments.js";
import { audit, drift } from "./lists.js";

const VIEWS = { overview, promo, credits, payments, drift, audit };
const TITLES = {
  overview: "Overview", promo: "Promo codes", credits: "Credits", payments: "Payments", drift: "Drift", audit: "Audit",
};

const $ = (id) => document.getElementById(id);

// "#/payments?status=captured" -> ["payments", URLSearchParams("status=captured")]
function route() {
  const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
  const name = VIEWS[path] ? path : "overview";
  return [name, new URLSearchParams(search || "")];
}

function showLogin(message) {
  document.querySelectorAll("dialog[open]").forEach((box) => box.close());
  for (const id of ["nav", "who", "sign-out"]) $(id).hidden = true;
  replace($("view"));
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("login-key").value = "";
  $("login-name").value = session.name;
  document.title = "Sign in · woo-backend admin";
  $("login-key").focus();
}

async function render() {
  if (!session.key) return showLogin();
  const [name, params] = route();
  $("login").hidden = true;
  for (const id of ["nav", "who", "sign-out"]) $(id).hidden = false;
  $("who").textContent = `Signed in as ${session.name || "admin"}`;
  for (const link of $("nav").querySelectorAll("a")) {
    if (link.getAttribute("href") === `#/${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${TITLES[name]} · woo-backend admin`;
  const view = $("view");
  view.replaceChildren();
  await VIEWS[name](view, params);
}

whenUnauthorized((error) => {
  session.forget();
  showLogin(`The admin key was refused: ${error.message}`);
});

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = $("login-key").value.trim();
  const name = $("login-name").value.trim();
  if (!key) {
    $("login-error").textContent = "Paste the admin key first.";
    $("login-key").focus();
    return;
  }
  const button = event.submitter || $("login-form").querySelector("button");
  button.disabled = true;
  session.start(key, name);
  try {
    await api.get("/admin/v1/audit", { limit: 1 }); // the cheapest call the bearer guards: is the key right?
  } catch (error) {
    if (error.status !== 401) {
      session.forget();
      $("login-error").textContent = `Could not sign in: ${error.message}`;
    }
    return;
  } finally {
    button.disabled = false;
  }
  if (!location.hash || location.hash === "#/") {
    location.hash = "#/overview"; // hashchange draws it
    return;
  }
  const drawing = render();
  $("main").focus();
  await drawing;
});

$("sign-out").addEventListener("click", () => {
  session.end();
  notify("Signed out.");
  showLogin();
});

window.addEventListener("hashchange", async () => {
  // Focus moves to the new view at once, not once its data has loaded: by then the user may have moved on
  // (opened a dialog, say), and taking the focus back would lose their place.
  const drawing = render();
  $("main").focus({ preventScroll: true });
  await drawing;
});
render();
