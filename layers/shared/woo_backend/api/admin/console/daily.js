// The two pictures, from the admin API's daily counts (last 30 days, oldest first, zeros included).

import { api } from "./api.js";
import { barChart } from "./charts.js";
import { errorBox, h } from "./dom.js";

// Stacking order, bottom up: what ended well first, what waits for someone on top where it is seen.
const STATUSES = ["captured", "resolved", "voided", "expired", "authorized", "capture_pending", "needs_attention"];

function failed(title, error) {
  return h("figure", { class: "chart-box" }, h("figcaption", {}, title), errorBox(error));
}

export async function paymentsChart() {
  const title = "Payments per status, last 30 days";
  try {
    const { days } = await api.get("/admin/v1/payments/daily", { days: 30 });
    const seen = new Set(days.flatMap((d) => Object.keys(d.counts || {})));
    const statuses = STATUSES.filter((s) => seen.has(s)).concat([...seen].filter((s) => !STATUSES.includes(s)));
    const series = (statuses.length ? statuses : ["captured"]).map((status) => ({
      name: status, label: status.replaceAll("_", " "), values: days.map((d) => (d.counts || {})[status] || 0),
    }));
    return barChart({ title, days: days.map((d) => d.day), series, stacked: true });
  } catch (error) {
    return failed(title, error);
  }
}

export async function creditsChart() {
  const title = "Credits granted and consumed per day, last 30 days";
  try {
    const { days } = await api.get("/admin/v1/credits/daily", { days: 30 });
    const series = [
      { name: "granted", label: "granted", values: days.map((d) => Number(d.granted) || 0) },
      { name: "consumed", label: "consumed", values: days.map((d) => Number(d.consumed) || 0) },
    ];
    return barChart({ title, days: days.map((d) => d.day), series });
  } catch (error) {
    return failed(title, error);
  }
}
