// Vega-Lite specs drawn as plain SVG: no vega bundle, so the page works offline.
// Covers what oxy's `chart_spec` makes (bar, line, area, point, arc over inline `data.values`, with an
// optional `color` series); anything else shows its spec, collapsed, instead of a wrong picture.

import { displayValue, h, s } from "./dom.js";

const PALETTE = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"];
const WIDTH = 640;
const HEIGHT = 300;
const MARGIN = { top: 12, right: 16, bottom: 64, left: 64 };
const UNSUPPORTED_KEYS = ["layer", "hconcat", "vconcat", "concat", "facet", "repeat", "transform", "spec"];

/** A <figure> for a chart event: the drawing (or why there is none) and the spec, collapsed. */
export function renderChart(spec, title) {
  const caption = title || specTitle(spec);
  const figure = h("figure", { class: "chart", testid: "chart" });
  if (caption) figure.append(h("figcaption", { class: "chart-title" }, caption));
  let drawing = null;
  let reason = "";
  try {
    const plan = planChart(spec);
    if (typeof plan === "string") reason = plan;
    else drawing = draw(plan, caption);
  } catch (error) {
    reason = `could not draw it (${error.message})`;
  }
  if (drawing) {
    figure.dataset.mark = drawing.mark;
    figure.append(drawing.node);
  } else {
    figure.dataset.mark = "unsupported";
    figure.append(h("p", { class: "chart-unsupported", testid: "chart-unsupported" }, `This chart isn't drawn here: ${reason}.`));
  }
  figure.append(
    h("details", { class: "chart-spec", testid: "chart-spec", open: drawing ? undefined : true },
      h("summary", {}, "Vega-Lite spec"),
      h("pre", {}, h("code", {}, JSON.stringify(spec, null, 2)))),
  );
  return figure;
}

function specTitle(spec) {
  const t = spec && spec.title;
  if (typeof t === "string") return t;
  if (t && typeof t.text === "string") return t.text;
  return "";
}

function markType(spec) {
  return typeof spec.mark === "string" ? spec.mark : spec.mark && spec.mark.type;
}

/** What to draw, or a string saying why it can't be drawn. */
function planChart(spec) {
  if (!spec || typeof spec !== "object") return "the spec is not an object";
  const extra = UNSUPPORTED_KEYS.find((key) => key in spec);
  if (extra) return `it uses "${extra}"`;
  const mark = markType(spec);
  if (!["bar", "line", "area", "point", "circle", "arc"].includes(mark)) return `the mark ${JSON.stringify(mark ?? null)} is not supported`;
  const values = spec.data && spec.data.values;
  if (!Array.isArray(values)) return "its data is not inline (data.values)";
  const enc = spec.encoding || {};
  for (const [channel, def] of Object.entries(enc)) {
    if (def && (def.aggregate || def.bin || def.timeUnit)) return `the ${channel} channel uses aggregate, bin or timeUnit`;
  }
  const field = (channel) => enc[channel] && typeof enc[channel].field === "string" ? enc[channel] : null;
  const color = field("color");
  if (mark === "arc") {
    if (!field("theta")) return "the arc has no theta field";
    return { mark, values, theta: field("theta"), color };
  }
  if (!field("x") || !field("y")) return "it needs both an x and a y field";
  return { mark: mark === "circle" ? "point" : mark, values, x: field("x"), y: field("y"), color };
}

function draw(plan, caption) {
  const svg = s("svg", {
    class: "chart-svg", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", preserveAspectRatio: "xMidYMid meet",
    "aria-label": caption || describe(plan), testid: "chart-svg",
  }, s("title", {}, caption || describe(plan)));
  let legend = null;
  if (plan.mark === "arc") legend = drawArc(svg, plan);
  else if (plan.mark === "bar") legend = drawBars(svg, plan);
  else legend = drawXY(svg, plan);
  const node = h("div", { class: "chart-body" }, svg, legend);
  return { mark: plan.mark, node };
}

function describe(plan) {
  if (plan.mark === "arc") return `pie chart of ${plan.theta.field}${plan.color ? ` by ${plan.color.field}` : ""}`;
  return `${plan.mark} chart of ${plan.y.field} by ${plan.x.field}`;
}

const isQuantitative = (def) => def.type === "quantitative";
const isTemporal = (def) => def.type === "temporal";
const num = (v) => (v === null || v === undefined || v === "" ? NaN : Number(v));

function title(def) {
  return typeof def.title === "string" ? def.title : def.field;
}

/** Distinct values of a discrete channel, in Vega-Lite's default order (ascending) unless `sort: null`. */
function domainOf(values, def, valueDef) {
  const seen = new Map();
  for (const row of values) {
    const key = displayValue(row[def.field]);
    if (!seen.has(key)) seen.set(key, row[def.field]);
  }
  let keys = [...seen.keys()];
  const sort = def.sort;
  if (sort === null) return keys;
  if (typeof sort === "string" && /^-?[xy]$/.test(sort) && valueDef) {
    const totals = new Map(keys.map((k) => [k, 0]));
    for (const row of values) totals.set(displayValue(row[def.field]), totals.get(displayValue(row[def.field])) + (num(row[valueDef.field]) || 0));
    keys.sort((a, b) => totals.get(a) - totals.get(b));
    if (sort.startsWith("-")) keys.reverse();
    return keys;
  }
  const numeric = keys.every((k) => !Number.isNaN(Number(k)));
  keys.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => a.localeCompare(b));
  if (sort === "descending") keys.reverse();
  return keys;
}

/** Round ticks covering [lo, hi]. */
function niceScale(lo, hi, count = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) { lo = 0; hi = 1; }
  if (lo === hi) { hi = lo + (lo === 0 ? 1 : Math.abs(lo) * 0.5); lo = lo === 0 ? 0 : lo - Math.abs(lo) * 0.5; }
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((x) => x >= raw) || raw;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks = [];
  for (let t = start; t <= end + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { lo: start, hi: end, ticks };
}

function formatNumber(v) {
  const abs = Math.abs(v);
  if (abs >= 1e9) return `${+(v / 1e9).toFixed(1)}B`;
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return String(+v.toFixed(4));
}

function formatDate(ms) {
  const iso = new Date(ms).toISOString();
  return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.slice(0, 16).replace("T", " ");
}

function shorten(text, max = 14) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function colorOf(index) {
  return PALETTE[index % PALETTE.length];
}

function seriesKeys(plan) {
  return plan.color ? domainOf(plan.values, plan.color) : [""];
}

function legendFor(keys, fieldName) {
  if (keys.length < 2 && keys[0] === "") return null;
  return h("ul", { class: "chart-legend", "aria-label": fieldName ? `Legend: ${fieldName}` : "Legend", testid: "chart-legend" },
    keys.map((key, i) => h("li", {}, h("span", { class: "swatch", style: `background:${colorOf(i)}`, "aria-hidden": "true" }), key)));
}

/** Axes: a value axis (ticks from a linear scale) and a category/linear axis with its labels. */
function valueAxis(svg, scale, toPixel, horizontal, label) {
  const group = s("g", { class: "axis axis-value" });
  for (const t of scale.ticks) {
    const p = toPixel(t);
    if (horizontal) {
      group.append(s("line", { class: "grid", x1: p, x2: p, y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom }));
      group.append(s("text", { x: p, y: HEIGHT - MARGIN.bottom + 16, "text-anchor": "middle" }, formatNumber(t)));
    } else {
      group.append(s("line", { class: "grid", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: p, y2: p }));
      group.append(s("text", { x: MARGIN.left - 6, y: p + 4, "text-anchor": "end" }, formatNumber(t)));
    }
  }
  if (horizontal) group.append(s("text", { class: "axis-title", x: (MARGIN.left + WIDTH - MARGIN.right) / 2, y: HEIGHT - 8, "text-anchor": "middle" }, label));
  else group.append(s("text", { class: "axis-title", transform: `translate(14 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}) rotate(-90)`, "text-anchor": "middle" }, label));
  svg.append(group);
}

function categoryAxis(svg, labels, horizontal, label) {
  const group = s("g", { class: "axis axis-category" });
  // Rotate labels only when they would run into each other (about 6.5 px a character).
  const room = (WIDTH - MARGIN.left - MARGIN.right) / Math.max(1, labels.length);
  const crowded = !horizontal && labels.some((l) => Math.min(l.text.length, 14) * 6.5 > room - 6);
  for (const { text, at } of labels) {
    const short = shorten(text, horizontal ? 9 : 14);
    if (horizontal) {
      group.append(s("text", { x: MARGIN.left - 6, y: at + 4, "text-anchor": "end" }, s("title", {}, text), short));
    } else if (crowded) {
      const y = HEIGHT - MARGIN.bottom + 12;
      group.append(s("text", { x: at, y, "text-anchor": "end", transform: `rotate(-35 ${at} ${y})` }, s("title", {}, text), short));
    } else {
      group.append(s("text", { x: at, y: HEIGHT - MARGIN.bottom + 16, "text-anchor": "middle" }, s("title", {}, text), short));
    }
  }
  svg.append(group);
  if (horizontal) svg.append(s("text", { class: "axis-title", transform: `translate(12 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}) rotate(-90)`, "text-anchor": "middle" }, label));
  else if (!crowded) svg.append(s("text", { class: "axis-title", x: (MARGIN.left + WIDTH - MARGIN.right) / 2, y: HEIGHT - 12, "text-anchor": "middle" }, label));
  svg.append(s("line", horizontal
    ? { class: "domain", x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom }
    : { class: "domain", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: HEIGHT - MARGIN.bottom, y2: HEIGHT - MARGIN.bottom }));
}

/** Bars, stacked by the color series (Vega-Lite's default); horizontal when y is the category. */
function drawBars(svg, plan) {
  const horizontal = isQuantitative(plan.x) && !isQuantitative(plan.y);
  const cat = horizontal ? plan.y : plan.x;
  const val = horizontal ? plan.x : plan.y;
  const categories = domainOf(plan.values, cat, val);
  const series = seriesKeys(plan);
  // Stack positives up and negatives down, per category, in series order.
  const up = new Map(categories.map((c) => [c, 0]));
  const down = new Map(categories.map((c) => [c, 0]));
  const segments = [];
  const rows = [...plan.values].sort((a, b) =>
    series.indexOf(plan.color ? displayValue(a[plan.color.field]) : "") - series.indexOf(plan.color ? displayValue(b[plan.color.field]) : ""));
  for (const row of rows) {
    const c = displayValue(row[cat.field]);
    const v = num(row[val.field]);
    if (!up.has(c) || Number.isNaN(v)) continue;
    const base = v >= 0 ? up.get(c) : down.get(c);
    (v >= 0 ? up : down).set(c, base + v);
    segments.push({ c, from: base, to: base + v, row, seriesIndex: plan.color ? series.indexOf(displayValue(row[plan.color.field])) : 0 });
  }
  const scale = niceScale(Math.min(0, ...down.values()), Math.max(0, ...up.values()));
  const span = horizontal ? [MARGIN.left, WIDTH - MARGIN.right] : [HEIGHT - MARGIN.bottom, MARGIN.top];
  const toPixel = (v) => span[0] + ((v - scale.lo) / (scale.hi - scale.lo)) * (span[1] - span[0]);
  const band = horizontal ? (HEIGHT - MARGIN.top - MARGIN.bottom) / Math.max(1, categories.length) : (WIDTH - MARGIN.left - MARGIN.right) / Math.max(1, categories.length);
  const bandStart = (i) => (horizontal ? MARGIN.top : MARGIN.left) + i * band;
  valueAxis(svg, scale, toPixel, horizontal, title(val));
  const bars = s("g", { class: "marks" });
  for (const seg of segments) {
    const i = categories.indexOf(seg.c);
    const a = toPixel(seg.from);
    const b = toPixel(seg.to);
    const offset = bandStart(i) + band * 0.1;
    const thickness = band * 0.8;
    const tip = tooltip(seg.row, plan);
    bars.append(s("rect", horizontal
      ? { x: Math.min(a, b), y: offset, width: Math.abs(b - a), height: thickness, fill: colorOf(seg.seriesIndex), testid: "chart-mark" }
      : { x: offset, y: Math.min(a, b), width: thickness, height: Math.abs(b - a), fill: colorOf(seg.seriesIndex), testid: "chart-mark" },
      s("title", {}, tip)));
  }
  svg.append(bars);
  categoryAxis(svg, categories.map((text, i) => ({ text, at: bandStart(i) + band / 2 })), horizontal, title(cat));
  return legendFor(series, plan.color && title(plan.color));
}

/** Lines, areas and points over a linear, temporal or point x scale, one series per color. */
function drawXY(svg, plan) {
  const { x, y } = plan;
  const continuousX = isQuantitative(x) || isTemporal(x);
  const xOf = (row) => (isTemporal(x) ? (typeof row[x.field] === "number" ? row[x.field] : Date.parse(row[x.field])) : num(row[x.field]));
  const categories = continuousX ? [] : domainOf(plan.values, x);
  const left = MARGIN.left + 8;
  const right = WIDTH - MARGIN.right - 8;
  let xPixel;
  let xLabels;
  if (continuousX) {
    const xs = plan.values.map(xOf).filter(Number.isFinite);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    if (isTemporal(x)) {
      const span = hi - lo || 1;
      xPixel = (v) => left + ((v - lo) / span) * (right - left);
      const n = Math.min(6, new Set(xs).size);
      xLabels = Array.from({ length: n }, (_, i) => lo + (n === 1 ? 0 : (i * (hi - lo)) / (n - 1))).map((v) => ({ text: formatDate(v), at: xPixel(v) }));
    } else {
      const scale = niceScale(lo, hi);
      xPixel = (v) => left + ((v - scale.lo) / (scale.hi - scale.lo)) * (right - left);
      xLabels = scale.ticks.map((t) => ({ text: formatNumber(t), at: xPixel(t) }));
    }
  } else {
    const step = categories.length > 1 ? (right - left) / (categories.length - 1) : 0;
    xPixel = (key) => (categories.length > 1 ? left + categories.indexOf(key) * step : (left + right) / 2);
    xLabels = categories.map((text) => ({ text, at: xPixel(text) }));
  }
  const ys = plan.values.map((row) => num(row[y.field])).filter(Number.isFinite);
  const zero = !(y.scale && y.scale.zero === false);
  const scale = niceScale(Math.min(zero ? 0 : Infinity, ...ys), Math.max(zero ? 0 : -Infinity, ...ys));
  const yPixel = (v) => HEIGHT - MARGIN.bottom + ((v - scale.lo) / (scale.hi - scale.lo)) * (MARGIN.top - (HEIGHT - MARGIN.bottom));
  valueAxis(svg, scale, yPixel, false, title(y));
  categoryAxis(svg, xLabels, false, title(x));

  const series = seriesKeys(plan);
  const marks = s("g", { class: "marks" });
  series.forEach((key, index) => {
    const rows = plan.values.filter((row) => !plan.color || displayValue(row[plan.color.field]) === key);
    const points = rows
      .map((row) => ({ row, px: continuousX ? xPixel(xOf(row)) : xPixel(displayValue(row[x.field])), v: num(row[y.field]) }))
      .filter((p) => Number.isFinite(p.px) && Number.isFinite(p.v))
      .sort((a, b) => a.px - b.px);
    const path = points.map((p, i) => `${i ? "L" : "M"}${p.px.toFixed(1)},${yPixel(p.v).toFixed(1)}`).join(" ");
    if (plan.mark === "area" && points.length) {
      const base = yPixel(Math.max(scale.lo, Math.min(0, scale.hi)));
      marks.append(s("path", { class: "area", d: `${path} L${points.at(-1).px.toFixed(1)},${base} L${points[0].px.toFixed(1)},${base} Z`, fill: colorOf(index), testid: "chart-mark" }));
    }
    if (plan.mark === "line" && points.length) marks.append(s("path", { class: "line", d: path, stroke: colorOf(index), testid: "chart-mark" }));
    for (const p of points) {
      marks.append(s("circle", { class: plan.mark === "point" ? "point" : "vertex", cx: p.px, cy: yPixel(p.v), r: plan.mark === "point" ? 4 : 3, fill: colorOf(index), testid: plan.mark === "point" ? "chart-mark" : undefined },
        s("title", {}, tooltip(p.row, plan))));
    }
  });
  svg.append(marks);
  return legendFor(series, plan.color && title(plan.color));
}

/** A pie: one slice per row (or per color value, summed). */
function drawArc(svg, plan) {
  const label = plan.color ? plan.color.field : null;
  const totals = new Map();
  for (const row of plan.values) {
    const key = label ? displayValue(row[label]) : String(totals.size + 1);
    const v = num(row[plan.theta.field]);
    if (Number.isFinite(v) && v > 0) totals.set(key, (totals.get(key) || 0) + v);
  }
  const keys = [...totals.keys()];
  const sum = [...totals.values()].reduce((a, b) => a + b, 0) || 1;
  const cx = WIDTH / 2;
  const cy = HEIGHT / 2;
  const r = HEIGHT / 2 - 16;
  let angle = -Math.PI / 2;
  const marks = s("g", { class: "marks" });
  keys.forEach((key, i) => {
    const share = totals.get(key) / sum;
    const next = angle + share * 2 * Math.PI;
    const tip = `${label || "slice"}: ${key}, ${plan.theta.field}: ${formatNumber(totals.get(key))} (${(share * 100).toFixed(1)}%)`;
    const attrs = { fill: colorOf(i), stroke: "var(--surface)", "stroke-width": 1, testid: "chart-mark" };
    if (share >= 0.9999) {
      marks.append(s("circle", { ...attrs, cx, cy, r }, s("title", {}, tip)));
    } else {
      const large = share > 0.5 ? 1 : 0;
      const [x1, y1] = [cx + r * Math.cos(angle), cy + r * Math.sin(angle)];
      const [x2, y2] = [cx + r * Math.cos(next), cy + r * Math.sin(next)];
      marks.append(s("path", { ...attrs, d: `M${cx},${cy} L${x1.toFixed(2)},${y1.toFixed(2)} A${r},${r} 0 ${large} 1 ${x2.toFixed(2)},${y2.toFixed(2)} Z` }, s("title", {}, tip)));
    }
    angle = next;
  });
  svg.append(marks);
  return legendFor(keys, label);
}

function tooltip(row, plan) {
  const fields = [plan.x, plan.y, plan.color, plan.theta].filter(Boolean).map((d) => d.field);
  return [...new Set(fields)].map((f) => `${f}: ${displayValue(row[f])}`).join(", ");
}
