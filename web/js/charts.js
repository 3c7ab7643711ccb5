// Line charts of a History (model.js): Chart.js (the global `Chart`) for the
// full cards, a small canvas sparkline for the overview tiles. Neither draws
// when asked: both mark themselves with the shared Redraws, which draws at
// most four times a second, and only charts whose card is on screen ask.
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

export function chartsAvailable() {
  return typeof window.Chart === 'function';
}

// "Temperature over the last 5 min: min 20, max 23, last 22 °C."
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

// A Chart.js line chart drawing `history` in `canvas` (made when first shown).
export class StreamChart {
  constructor(canvas, title, history, unit = '') {
    this.canvas = canvas;
    this.title = title;
    this.history = history;
    this.unit = unit;
    this.drawn = -1;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${title}: no readings yet`);
    const colors = palette();
    const decimals = () => this.history.decimals;
    this.chart = new window.Chart(canvas, {
      type: 'line',
      data: {
        datasets: history.names.map((name, i) => ({
          label: name,
          data: history.data[i],
          borderColor: colors.lines[i % colors.lines.length],
          backgroundColor: colors.lines[i % colors.lines.length],
          borderWidth: 2,
          // A lone reading is a dot; a line has none.
          pointRadius: (ctx) => (ctx.dataset.data.length === 1 ? 3 : 0),
          cubicInterpolationMode: 'monotone', // no overshoot between readings
          fill: false,
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        events: ['mousemove', 'mouseout', 'touchstart', 'touchmove'],
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: {
          legend: {
            display: history.names.length > 1,
            labels: { color: colors.text, boxWidth: 10, boxHeight: 2 },
          },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? clock(items[0].parsed.x) : ''),
              label: (item) => `${item.dataset.label}: ${roundTo(item.parsed.y, decimals())}${this.unit}`,
            },
          },
        },
        scales: {
          x: {
            type: 'linear',
            ticks: { color: colors.text, maxTicksLimit: 4, maxRotation: 0, callback: (v) => clock(v) },
            grid: { color: colors.grid },
          },
          y: {
            ticks: { color: colors.text, maxTicksLimit: 5, callback: (v) => roundTo(v, Math.max(decimals(), 0)) },
            grid: { color: colors.grid },
          },
        },
      },
    });
  }

  get points() { return this.history.data[0] ? this.history.data[0].length : 0; }

  // Asks for a redraw (call when the history moved and the chart is shown).
  invalidate() {
    if (this.drawn !== this.history.version) redraws.mark(this);
  }

  draw() {
    if (!this.chart) return;
    const data = this.history.data[0] || [];
    const x = this.chart.options.scales.x;
    if (data.length) {
      const last = data[data.length - 1].x;
      x.max = last;
      x.min = Math.min(data[0].x, last - 30 * 1000);
    }
    this.chart.update('none');
    this.drawn = this.history.version;
    this.canvas.dataset.points = String(this.points);
    this.canvas.setAttribute('aria-label', chartSummary(this.title, this.history, this.unit));
  }

  applyTheme() {
    const colors = palette();
    const o = this.chart.options;
    this.chart.data.datasets.forEach((d, i) => {
      d.borderColor = colors.lines[i % colors.lines.length];
      d.backgroundColor = d.borderColor;
    });
    o.plugins.legend.labels.color = colors.text;
    for (const axis of [o.scales.x, o.scales.y]) {
      axis.ticks.color = colors.text;
      axis.grid.color = colors.grid;
    }
    this.drawn = -1;
    redraws.mark(this);
  }

  destroy() {
    redraws.forget(this);
    if (this.chart) this.chart.destroy();
    this.chart = null;
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
  }

  get points() { return this.history.data[0] ? this.history.data[0].length : 0; }

  invalidate() {
    if (this.drawn !== this.history.version) redraws.mark(this);
  }

  draw() {
    const canvas = this.canvas;
    if (canvas.clientWidth === 0) {
      this.drawn = -1; // not laid out (yet): drawn at the next reading
      return;
    }
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const h = Math.max(1, Math.round(canvas.clientHeight * ratio));
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
    const xs = data.map(px);
    const ys = data.map(py);
    const m = monotoneTangents(xs, ys);
    ctx.beginPath();
    ctx.moveTo(xs[0], ys[0]);
    for (let i = 0; i < xs.length - 1; i++) {
      const dx = (xs[i + 1] - xs[i]) / 3;
      ctx.bezierCurveTo(xs[i] + dx, ys[i] + m[i] * dx, xs[i + 1] - dx, ys[i + 1] - m[i + 1] * dx, xs[i + 1], ys[i + 1]);
    }
    ctx.stroke();
  }

  applyTheme() {
    this.drawn = -1;
    redraws.mark(this);
  }

  destroy() {
    redraws.forget(this);
  }
}
