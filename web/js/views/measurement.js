// A measurement: the last value rounded to the sensor's precision, its unit,
// and a chart of the last minutes (drawn only while the card is on screen).
import { el } from '../dom.js';
import { StreamChart } from '../charts.js';
import { displayValue, label, numberWithUnit, roundTo } from '../model.js';
import { ResourceView } from './base.js';

// The number and unit shown for a value: "21.50°C" with 1 decimal -> {text:
// "21.5", unit: "°C"}; a value that is not a number is shown as it is.
export function measurementText(value, decimals) {
  const parsed = numberWithUnit(value);
  if (!parsed) return { text: displayValue(value), unit: '' };
  return { text: roundTo(parsed.number, decimals), unit: parsed.unit };
}

export class MeasurementView extends ResourceView {
  constructor(ctx) {
    super(ctx, 'measurement');
    this.unitEl = el('span', { class: 'unit' });
    this.numberEl = el('span', { class: 'number' });
    this.valueEl.append(this.numberEl, this.unitEl);
    this.canvas = el('canvas', { 'data-testid': 'chart', dataset: { points: '0' } });
    this.chartBox = el('div', { class: 'chart' }, this.canvas);
    this.root.append(this.head(this.valueEl), this.chartBox);
    this.chart = null;
    this.history = null;
    this.unit = '';
  }

  update(value, node) {
    this.root.dataset.value = displayValue(value);
    this.history = node.history.get(this.name) || null;
    const decimals = this.history ? this.history.decimals : 0;
    const shown = measurementText(value, decimals);
    this.numberEl.textContent = shown.text;
    this.unitEl.textContent = shown.unit;
    this.unit = shown.unit;
    this.refreshChart();
  }

  refreshChart() {
    if (!this.visible || !this.history) return;
    if (this.chart && this.chart.history !== this.history) this.release();
    if (!this.chart) this.chart = new StreamChart(this.canvas, label(this.name), this.history, this.unit);
    this.chart.invalidate();
  }

  shown(visible) {
    super.shown(visible);
    this.refreshChart();
  }

  applyTheme() {
    if (this.chart) this.chart.applyTheme();
  }

  // Frees the chart (the history stays in the store).
  release() {
    if (this.chart) this.chart.destroy();
    this.chart = null;
  }

  destroy() {
    this.release();
  }
}
