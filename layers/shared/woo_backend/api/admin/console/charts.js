// Bar charts as inline SVG. The page has two small charts (credits per day, payments per status per day); a
// charting library would outweigh the whole console and need shipping and updating, while bars over a
// day axis are a few rectangles. Colours come from style.css (classes), so the CSP needs no inline style.

import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 640;
const H = 220;
const PAD = { top: 12, right: 8, bottom: 34, left: 44 };

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

// A round top for the y axis (1, 2 or 5 times a power of ten), so the grid lines fall on whole numbers.
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

// days: ["2026-11-25", ...]; series: [{name, label, values: [numbers, one per day]}]. Stacked bars add the
// series up in one bar per day; grouped bars stand side by side.
export function barChart({ title, days, series, stacked = false, unit = "" }) {
  const totals = days.map((_, i) => series.reduce((sum, one) => sum + (one.values[i] || 0), 0));
  const top = niceMax(Math.max(0, ...(stacked ? totals : series.flatMap((one) => one.values))));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(days.length, 1);
  const y = (v) => PAD.top + plotH - (v / top) * plotH;
  const sums = series.map((one) => `${one.values.reduce((a, b) => a + b, 0)} ${one.label}`).join(", ");
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-label": `${title}, ${days.length} days: ${sums || "nothing"}${unit}`,
  });
  for (const fraction of [0, 0.5, 1]) {
    const value = top * fraction;
    svg.append(s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(value), y2: y(value), class: "grid" }));
    svg.append(s("text", { x: PAD.left - 6, y: y(value) + 4, class: "axis", "text-anchor": "end" },
      Number.isInteger(value) ? value : value.toFixed(1)));
  }
  days.forEach((day, i) => {
    const x0 = PAD.left + i * slot;
    let base = 0;
    series.forEach((one, k) => {
      const value = one.values[i] || 0;
      if (!value) return;
      const width = stacked ? slot * 0.7 : (slot * 0.8) / series.length;
      const x = stacked ? x0 + slot * 0.15 : x0 + slot * 0.1 + k * width;
      const from = stacked ? base : 0;
      base += value;
      svg.append(s("rect", {
        x, width: Math.max(width - 1, 1), y: y(from + value), height: Math.max(y(from) - y(from + value), 1),
        class: `bar c-${one.name}`,
      }, s("title", {}, `${day}: ${value} ${one.label}`)));
    });
    // A date under the first day, then one a week: readable at phone width too.
    const last = i === days.length - 1;
    if (i % 7 === 0 ? days.length - 1 - i >= 3 || last : last) {
      // The last date ends at the plot's edge, so it is never cut off.
      const at = last ? { x: x0 + slot, "text-anchor": "end" } : { x: x0 + slot / 2, "text-anchor": "middle" };
      svg.append(s("text", { ...at, y: H - 8, class: "axis" }, day.slice(5)));
    }
  });
  if (!totals.some(Boolean)) {
    svg.append(s("text", { x: PAD.left + plotW / 2, y: PAD.top + plotH / 2, class: "axis", "text-anchor": "middle" },
      "nothing in these days"));
  }
  const legend = h("ul", { class: "legend" }, series.map((one) =>
    h("li", {}, h("span", { class: `swatch c-${one.name}`, "aria-hidden": "true" }), one.label)));
  return h("figure", { class: "chart-box" }, h("figcaption", {}, title), svg, legend);
}
