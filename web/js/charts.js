// Line charts of a History (model.js), drawn on a canvas by hand: a chart
// with axes for the full cards, a sparkline for the overview tiles. (Chart.js
// was used first; with a thousand nodes its per-redraw option resolution was
// most of the page's script time.) Neither draws when asked: both mark
// themselves with the shared Redraws, which draws at most four times a
// second, spread over frames; only charts whose card is on screen ask.
import { clock } from './format.js';
import { redraws } from './scheduler.js';
import { roundTo } from './model.js';

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

let paletteCache = null;
function palette() {
  if (!paletteCache) {
    paletteCache = {
      lines: [cssVar('--chart-1'), cssVar('--chart-2'), cssVar('--chart-3'), cssVar('--chart-4')],
      grid: cssVar('--chart-grid'),
      text: cssVar('--text-muted'),
    };
  }
  return paletteCache;
}

// The theme changed: colours are read again.
export function forgetPalette() {
  paletteCache = null;
}

// "Temperature, min 20, max 23, last 22 °C (12 readings)": the text
// alternative of a chart.
export function chartSummary(title, history, unit = '') {
  const parts = [];
  history.names.forEach((name, i) => {
    const s = history.summary(i);
    if (!s) return;
    const d = history.decimals;
    const who = history.names.length > 1 ? `${name}: ` : '';
    parts.push(`${who}min ${roundTo(s.min, d)}, max ${roundTo(s.max, d)}, last ${roundTo(s.last, d)}${unit ? ` ${unit}` : ''}`);
  });
  return parts.length ? `${title}, ${parts.join('; ')} (${history.data[0].length} readings)` : `${title}: no readings yet`;
}

// Tick values covering [min, max]: about `count` round numbers, 1, 2 or 5
// times a power of ten apart, and the decimals they need. Exposed for tests.
export function niceTicks(min, max, count = 4) {
  if (!(max > min)) {
    const pad = Math.abs(min) > 1 ? Math.abs(min) * 0.01 : 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((v) => v >= raw * (1 - 1e-9));
  const ticks = [];
  for (let v = Math.floor(min / step) * step; ticks.length < 20; v += step) {
    ticks.push(Number(v.toPrecision(12)));
    if (v >= max - step * 1e-9) break;
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return { ticks, step, decimals };
}

// Canvas sizes come from one ResizeObserver (told after layout), never read
// while drawing: a draw after DOM writes in the same frame would force a
// synchronous layout of the page.
let sizes = null;
function watchSize(chart) {
  if (!sizes) {
    sizes = new ResizeObserver((entries) => {
      for (const e of entries) {
        const c = e.target.aiotChart;
        if (!c) continue;
        const box = e.contentBoxSize && e.contentBoxSize[0];
        const w = box ? box.inlineSize : e.contentRect.width;
        const h = box ? box.blockSize : e.contentRect.height;
        if (w === c.cw && h === c.ch) continue;
        c.cw = w;
        c.ch = h;
        c.drawn = -1;
        redraws.mark(c);
      }
    });
  }
  chart.cw = 0;
  chart.ch = 0;
  chart.canvas.aiotChart = chart;
  sizes.observe(chart.canvas);
}

function unwatchSize(chart) {
  if (sizes) sizes.unobserve(chart.canvas);
  if (chart.canvas.aiotChart === chart) chart.canvas.aiotChart = null;
}

const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';

// A monotone curve through the points (the path; the caller strokes it).
function curve(ctx, xs, ys) {
  const m = monotoneTangents(xs, ys);
  ctx.beginPath();
  ctx.moveTo(xs[0], ys[0]);
  for (let i = 0; i < xs.length - 1; i++) {
    const dx = (xs[i + 1] - xs[i]) / 3;
    ctx.bezierCurveTo(xs[i] + dx, ys[i] + m[i] * dx, xs[i + 1] - dx, ys[i + 1] - m[i + 1] * dx, xs[i + 1], ys[i + 1]);
  }
}

// A line chart of `history`: time on x (at least the last 30 s), round
// ticks on y, monotone curves, a dot for a lone reading, a legend when there
// are several series.
export class StreamChart {
  constructor(canvas, title, history, unit = '') {
    this.canvas = canvas;
    this.title = title;
    this.history = history;
    this.unit = unit;
    this.drawn = -1;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${title}: no readings yet`);
    watchSize(this);
    this.legend = null;
    if (history.names.length > 1 && canvas.parentNode) {
      this.legend = document.createElement('span');
      this.legend.className = 'chart-legend';
      this.legend.setAttribute('aria-hidden', 'true');
      this.colorLegend();
      canvas.parentNode.insertBefore(this.legend, canvas);
    }
  }

  colorLegend() {
    if (!this.legend) return;
    const colors = palette().lines;
    this.legend.replaceChildren(...this.history.names.map((name, i) => {
      const item = document.createElement('span');
      item.style.setProperty('--swatch', colors[i % colors.length]);
      item.textContent = name;
      return item;
    }));
  }

  get points() { return this.history.data[0] ? this.history.data[0].length : 0; }

  // Asks for a redraw (call when the history moved and the chart is shown).
  invalidate() {
    if (this.drawn !== this.history.version) redraws.mark(this);
  }

  draw() {
    const canvas = this.canvas;
    const cw = this.cw;
    const ch = this.ch;
    if (cw === 0 || ch === 0) {
      this.drawn = -1; // not laid out (yet): drawn once it is (watchSize)
      return;
    }
    const ratio = window.devicePixelRatio || 1;
    const w = Math.round(cw * ratio);
    const h = Math.round(ch * ratio);
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cw, ch);
    const history = this.history;
    this.drawn = history.version;
    canvas.dataset.points = String(this.points);
    canvas.setAttribute('aria-label', chartSummary(this.title, history, this.unit));
    let lo = Infinity;
    let hi = -Infinity;
    let first = Infinity;
    let last = -Infinity;
    for (const d of history.data) {
      if (d.length === 0) continue;
      for (const p of d) {
        if (p.y < lo) lo = p.y;
        if (p.y > hi) hi = p.y;
      }
      if (d[0].x < first) first = d[0].x;
      if (d[d.length - 1].x > last) last = d[d.length - 1].x;
    }
    if (lo === Infinity) return;
    const colors = palette();
    const x1 = last;
    const x0 = Math.min(first, last - 30 * 1000);
    const y = niceTicks(lo, hi, ch > 100 ? 4 : 3);
    const y0 = y.ticks[0];
    const y1 = y.ticks[y.ticks.length - 1];
    const labels = y.ticks.map((v) => roundTo(v, y.decimals));
    ctx.font = FONT;
    let labelWidth = 0;
    for (const l of labels) labelWidth = Math.max(labelWidth, ctx.measureText(l).width);
    const left = Math.ceil(labelWidth) + 8;
    const top = this.legend ? 18 : 6;
    const right = cw - 4;
    const bottom = ch - 18;
    const px = (x) => left + ((x - x0) / Math.max(1, x1 - x0)) * (right - left);
    const py = (v) => bottom - ((v - y0) / (y1 - y0)) * (bottom - top);
    ctx.strokeStyle = colors.grid;
    ctx.fillStyle = colors.text;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    y.ticks.forEach((v, i) => {
      const yy = Math.round(py(v)) + 0.5;
      ctx.moveTo(left, yy);
      ctx.lineTo(right, yy);
      ctx.fillText(labels[i], left - 5, yy);
    });
    ctx.textBaseline = 'alphabetic';
    for (const [x, align] of [[x0, 'left'], [(x0 + x1) / 2, 'center'], [x1, 'right']]) {
      const xx = Math.round(px(x)) + 0.5;
      ctx.moveTo(xx, top);
      ctx.lineTo(xx, bottom);
      ctx.textAlign = align;
      ctx.fillText(clock(x), xx, ch - 4);
    }
    ctx.stroke();
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    history.data.forEach((d, i) => {
      if (d.length === 0) return;
      ctx.strokeStyle = colors.lines[i % colors.lines.length];
      ctx.fillStyle = ctx.strokeStyle;
      if (d.length === 1) { // a one-point chart shows its point
        ctx.beginPath();
        ctx.arc(px(d[0].x), py(d[0].y), 3, 0, Math.PI * 2);
        ctx.fill();
        return;
      }
      curve(ctx, d.map((p) => px(p.x)), d.map((p) => py(p.y)));
      ctx.stroke();
    });
  }

  applyTheme() {
    this.colorLegend();
    this.drawn = -1;
    redraws.mark(this);
  }

  destroy() {
    redraws.forget(this);
    unwatchSize(this);
    if (this.legend) this.legend.remove();
    this.legend = null;
  }
}

// The monotone cubic (Fritsch-Carlson) tangents of points sorted by x: the
// curve through them never overshoots a reading. Exposed for tests.
export function monotoneTangents(xs, ys) {
  const n = xs.length;
  const m = new Array(n).fill(0);
  if (n < 2) return m;
  const d = [];
  for (let i = 0; i < n - 1; i++) {
    const dx = xs[i + 1] - xs[i];
    d.push(dx === 0 ? 0 : (ys[i + 1] - ys[i]) / dx);
  }
  m[0] = d[0];
  m[n - 1] = d[n - 2];
  for (let i = 1; i < n - 1; i++) {
    m[i] = d[i - 1] * d[i] <= 0 ? 0 : (d[i - 1] + d[i]) / 2;
  }
  for (let i = 0; i < n - 1; i++) {
    if (d[i] === 0) {
      m[i] = 0;
      m[i + 1] = 0;
      continue;
    }
    const a = m[i] / d[i];
    const b = m[i + 1] / d[i];
    const s = a * a + b * b;
    if (s > 9) {
      const t = 3 / Math.sqrt(s);
      m[i] = t * a * d[i];
      m[i + 1] = t * b * d[i];
    }
  }
  return m;
}

// A small line of the first series of `history`, drawn on a canvas of its
// own (no axes, no library): the overview tiles have one per value.
export class Sparkline {
  constructor(canvas, title, history, unit = '') {
    this.canvas = canvas;
    this.title = title;
    this.history = history;
    this.unit = unit;
    this.drawn = -1;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${title}: no readings yet`);
    watchSize(this);
  }

  get points() { return this.history.data[0] ? this.history.data[0].length : 0; }

  invalidate() {
    if (this.drawn !== this.history.version) redraws.mark(this);
  }

  draw() {
    const canvas = this.canvas;
    if (this.cw === 0) {
      this.drawn = -1; // not laid out (yet): drawn once it is (watchSize)
      return;
    }
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.cw * ratio));
    const h = Math.max(1, Math.round(this.ch * ratio));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, w, h);
    const data = this.history.data[0] || [];
    this.drawn = this.history.version;
    canvas.dataset.points = String(data.length);
    canvas.setAttribute('aria-label', chartSummary(this.title, this.history, this.unit));
    if (data.length === 0) return;
    const s = this.history.summary(0);
    const x0 = data[0].x;
    const span = Math.max(1, data[data.length - 1].x - x0);
    const pad = 3 * ratio;
    const range = s.max - s.min || 1;
    const px = (p) => pad + ((p.x - x0) / span) * (w - 2 * pad);
    const py = (p) => (s.max === s.min ? h / 2 : h - pad - ((p.y - s.min) / range) * (h - 2 * pad));
    ctx.strokeStyle = palette().lines[0];
    ctx.fillStyle = ctx.strokeStyle;
    ctx.lineWidth = 1.5 * ratio;
    if (data.length === 1) {
      ctx.beginPath();
      ctx.arc(w / 2, py(data[0]), 2.5 * ratio, 0, Math.PI * 2);
      ctx.fill();
      return;
    }
    curve(ctx, data.map(px), data.map(py));
    ctx.stroke();
  }

  applyTheme() {
    this.drawn = -1;
    redraws.mark(this);
  }

  destroy() {
    redraws.forget(this);
    unwatchSize(this);
  }
}
