// Streaming line charts (Chart.js, loaded as the global `Chart`). Redraws are
// batched to one per animation frame however fast values arrive.

const MAX_POINTS = 150;
const WINDOW_MS = 5 * 60 * 1000;

const dirty = new Set();
let frameRequested = false;

function flush() {
  frameRequested = false;
  for (const chart of dirty) chart.update('none');
  dirty.clear();
}

function scheduleUpdate(chart) {
  dirty.add(chart);
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(flush);
  }
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function palette() {
  return {
    lines: [cssVar('--chart-1'), cssVar('--chart-2'), cssVar('--chart-3'), cssVar('--chart-4')],
    grid: cssVar('--chart-grid'),
    text: cssVar('--text-muted'),
  };
}

function timeLabel(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
}

export function chartsAvailable() {
  return typeof window.Chart === 'function';
}

// A line chart with one dataset per series name, drawn in `canvas`.
export class StreamChart {
  constructor(canvas, seriesNames, unit = '') {
    this.canvas = canvas;
    this.unit = unit;
    const colors = palette();
    this.chart = new window.Chart(canvas, {
      type: 'line',
      data: {
        datasets: seriesNames.map((name, i) => ({
          label: name,
          data: [],
          borderColor: colors.lines[i % colors.lines.length],
          backgroundColor: colors.lines[i % colors.lines.length],
          borderWidth: 2,
          pointRadius: 0,
          tension: 0.25,
          fill: false,
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: {
          legend: {
            display: seriesNames.length > 1,
            labels: { color: colors.text, boxWidth: 10, boxHeight: 2 },
          },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? timeLabel(items[0].parsed.x) : ''),
              label: (item) => `${item.dataset.label}: ${item.parsed.y}${this.unit}`,
            },
          },
        },
        scales: {
          x: {
            type: 'linear',
            ticks: { color: colors.text, maxTicksLimit: 4, callback: (v) => timeLabel(v) },
            grid: { color: colors.grid },
          },
          y: {
            ticks: { color: colors.text, maxTicksLimit: 5 },
            grid: { color: colors.grid },
          },
        },
      },
    });
  }

  // Adds one reading: values[i] belongs to dataset i.
  push(time, values) {
    const datasets = this.chart.data.datasets;
    values.forEach((y, i) => {
      const data = datasets[i] && datasets[i].data;
      if (!data) return;
      data.push({ x: time, y });
      while (data.length > MAX_POINTS || (data.length > 2 && time - data[0].x > WINDOW_MS)) {
        data.shift();
      }
    });
    this.canvas.dataset.points = String(datasets[0] ? datasets[0].data.length : 0);
    // The x axis follows the newest reading (at least 30 s wide).
    const first = datasets[0] && datasets[0].data.length ? datasets[0].data[0].x : time;
    const x = this.chart.options.scales.x;
    x.max = time;
    x.min = Math.min(first, time - 30 * 1000);
    scheduleUpdate(this.chart);
  }

  clear() {
    for (const d of this.chart.data.datasets) d.data.length = 0;
    this.canvas.dataset.points = '0';
    scheduleUpdate(this.chart);
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
    scheduleUpdate(this.chart);
  }

  destroy() {
    dirty.delete(this.chart);
    this.chart.destroy();
  }
}
