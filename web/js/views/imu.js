// An IMU: the readings as text, a chart per sensor group, and the board's
// orientation drawn as a box with CSS 3D transforms (no library).
import { el } from '../dom.js';
import { StreamChart } from '../charts.js';
import { displayValue, imuGroups, label, roundTo } from '../model.js';
import { ResourceView } from './base.js';

const deg = (rad) => (rad * 180) / Math.PI;

function axis(group, name, i) {
  const s = group.series.find((x) => x.name === name) || group.series[i];
  return s ? s.value : NaN;
}

function vector(groups, pattern) {
  // An unnamed single sensor ([x, y, z]) is taken for an accelerometer.
  const g = groups.find((x) => pattern.test(x.name))
    || (pattern.source.includes('acc') && groups.length === 1 && groups[0].name === 'imu' ? groups[0] : null);
  if (!g || g.series.length < 3) return null;
  const v = [axis(g, 'x', 0), axis(g, 'y', 1), axis(g, 'z', 2)];
  return v.every(Number.isFinite) ? v : null;
}

// Roll, pitch (from gravity: the accelerometer) and yaw (from the
// magnetometer, tilt-compensated; 0 without one), in degrees; null without
// a usable accelerometer reading.
export function imuOrientation(groups) {
  if (!groups) return null;
  const acc = vector(groups, /^acc/i);
  if (!acc) return null;
  const [ax, ay, az] = acc;
  if (Math.hypot(ax, ay, az) < 1e-6) return null;
  const roll = Math.atan2(ay, az);
  const pitch = Math.atan2(-ax, Math.hypot(ay, az));
  let yaw = 0;
  const mag = vector(groups, /^mag/i);
  if (mag) {
    const [mx, my, mz] = mag;
    const xh = mx * Math.cos(pitch) + mz * Math.sin(pitch);
    const yh = mx * Math.sin(roll) * Math.sin(pitch) + my * Math.cos(roll) - mz * Math.sin(roll) * Math.cos(pitch);
    yaw = Math.atan2(-yh, xh);
  }
  const r1 = (x) => Math.round(deg(x) * 10) / 10 + 0; // + 0: no -0
  return { roll: r1(roll), pitch: r1(pitch), yaw: r1(yaw) };
}

const FACES = ['front', 'back', 'left', 'right', 'top', 'bottom'];

export class ImuView extends ResourceView {
  constructor(ctx) {
    super(ctx, 'imu');
    this.summary = el('div', { class: 'imu-summary' });
    this.cube = el('div', { class: 'imu-cube', 'aria-hidden': 'true' },
      FACES.map((f) => el('span', { class: `face ${f}`, text: f === 'top' ? 'top' : '' })));
    this.orientationText = el('p', { class: 'imu-angles small', 'data-testid': 'imu-orientation' });
    this.scene = el('div', { class: 'imu-3d' }, el('div', { class: 'imu-stage' }, this.cube), this.orientationText);
    this.chartsEl = el('div', { class: 'imu-charts' });
    this.charts = new Map(); // group name -> {canvas, chart}
    this.groups = null;
    this.root.append(this.head(), this.summary, this.scene, this.chartsEl);
  }

  update(value, node) {
    this.root.dataset.value = displayValue(value);
    this.node = node;
    const groups = imuGroups(value);
    this.groups = groups;
    if (!groups) {
      this.summary.textContent = displayValue(value);
      return;
    }
    this.summary.replaceChildren(...groups.map((g) => {
      const h = node.history.get(`${this.name}:${g.name}`);
      const d = h ? h.decimals : 2;
      return el('span', { class: 'imu-group' }, el('b', { text: g.name }), ' ',
        g.series.map((s) => `${s.name} ${roundTo(s.value, d)}`).join('  '));
    }));
    const o = imuOrientation(groups);
    if (o) {
      this.cube.style.transform =
        `rotateX(60deg) rotateZ(${-o.yaw}deg) rotateY(${o.roll}deg) rotateX(${o.pitch}deg)`;
      this.orientationText.textContent = `roll ${o.roll}°, pitch ${o.pitch}°, yaw ${o.yaw}°`;
      this.root.dataset.orientation = `${o.roll},${o.pitch},${o.yaw}`;
    }
    this.scene.hidden = !o;
    this.refreshCharts();
  }

  refreshCharts() {
    if (!this.visible || !this.groups || !this.node) return;
    for (const g of this.groups) {
      const history = this.node.history.get(`${this.name}:${g.name}`);
      if (!history) continue;
      let entry = this.charts.get(g.name);
      if (!entry && this.charts.size < 8) {
        const canvas = el('canvas', { 'data-testid': 'chart', dataset: { points: '0', group: g.name } });
        const box = el('div', { class: 'chart small' }, el('span', { class: 'chart-title', text: g.name }), canvas);
        this.chartsEl.append(box);
        entry = { canvas, chart: null };
        this.charts.set(g.name, entry);
      }
      if (!entry) continue;
      if (entry.chart && entry.chart.history !== history) {
        entry.chart.destroy();
        entry.chart = null;
      }
      if (!entry.chart) {
        entry.chart = new StreamChart(entry.canvas, `${label(this.name)} ${g.name}`, history);
      }
      if (entry.chart) entry.chart.invalidate();
    }
  }

  shown(visible) {
    super.shown(visible);
    this.refreshCharts();
  }

  applyTheme() {
    for (const e of this.charts.values()) if (e.chart) e.chart.applyTheme();
  }

  release() {
    for (const e of this.charts.values()) {
      if (e.chart) e.chart.destroy();
      e.chart = null;
    }
  }

  destroy() {
    this.release();
  }
}
