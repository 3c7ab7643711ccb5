// One card per node: what it is (name, os, board, ...), its live values with
// charts, and the controls it offers (LED, robot pad, JavaScript editor).
import { el } from './dom.js';
import { StreamChart, chartsAvailable } from './charts.js';
import {
  INFO_FIELDS, displayValue, imuGroups, label, leadingNumber, ledIsOn, numberWithUnit,
  parsePosition, resourceKind,
} from './model.js';

const ORDER = { led: 1, robot: 2, measurement: 3, imu: 4, position: 5, js: 6, text: 7 };

function clock(time) {
  return new Date(time).toLocaleTimeString([], {
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
}

function chartBox(seriesNames, unit) {
  const canvas = el('canvas', { 'data-testid': 'chart', dataset: { points: '0' } });
  const box = el('div', { class: 'chart' }, canvas);
  const chart = chartsAvailable() ? new StreamChart(canvas, seriesNames, unit) : null;
  if (!chart) box.append(el('p', { class: 'muted small', text: 'Charts unavailable' }));
  return { box, chart };
}

class ResourceView {
  constructor(name, kind) {
    this.name = name;
    this.kind = kind;
    this.valueEl = el('span', { class: 'value' });
    this.root = el('section', {
      class: `resource kind-${kind}`,
      'data-testid': 'resource',
      dataset: { resource: name, kind },
    });
  }

  update(value) {
    this.valueEl.textContent = displayValue(value);
    this.root.dataset.value = displayValue(value);
  }

  clear() {
    this.valueEl.textContent = '—';
  }

  applyTheme() {}

  destroy() {}
}

class MeasurementView extends ResourceView {
  constructor(name) {
    super(name, 'measurement');
    this.unitEl = el('span', { class: 'unit' });
    this.numberEl = el('span', { class: 'number' });
    this.valueEl.append(this.numberEl, this.unitEl);
    this.root.append(el('div', { class: 'resource-head' },
      el('span', { class: 'label', text: label(name) }), this.valueEl));
    this.chartParts = null;
  }

  update(value, time) {
    this.root.dataset.value = displayValue(value);
    const parsed = numberWithUnit(value);
    if (parsed) {
      this.numberEl.textContent = String(parsed.number);
      this.unitEl.textContent = parsed.unit;
    } else {
      this.numberEl.textContent = displayValue(value);
      this.unitEl.textContent = '';
    }
    const n = leadingNumber(value);
    if (n === null) return;
    if (!this.chartParts) {
      this.chartParts = chartBox([label(this.name)], parsed ? parsed.unit : '');
      this.root.append(this.chartParts.box);
    }
    if (this.chartParts.chart) this.chartParts.chart.push(time, [n]);
  }

  clear() {
    this.numberEl.textContent = '—';
    this.unitEl.textContent = '';
    if (this.chartParts && this.chartParts.chart) this.chartParts.chart.clear();
  }

  applyTheme() {
    if (this.chartParts && this.chartParts.chart) this.chartParts.chart.applyTheme();
  }

  destroy() {
    if (this.chartParts && this.chartParts.chart) this.chartParts.chart.destroy();
  }
}

class ImuView extends ResourceView {
  constructor(name) {
    super(name, 'imu');
    this.summary = el('div', { class: 'imu-summary' });
    this.charts = new Map(); // group name -> {box, chart, seriesNames}
    this.chartsEl = el('div', { class: 'imu-charts' });
    this.root.append(el('div', { class: 'resource-head' },
      el('span', { class: 'label', text: label(name) })), this.summary, this.chartsEl);
  }

  update(value, time) {
    this.root.dataset.value = displayValue(value);
    const groups = imuGroups(value);
    if (!groups) {
      this.summary.textContent = displayValue(value);
      return;
    }
    this.summary.replaceChildren(...groups.map((g) => el('span', { class: 'imu-group' },
      el('b', { text: g.name }), ' ',
      g.series.map((s) => `${s.name} ${Number(s.value.toFixed(3))}`).join('  '))));
    for (const g of groups) {
      let entry = this.charts.get(g.name);
      if (!entry && this.charts.size < 8) {
        const names = g.series.map((s) => s.name);
        entry = { ...chartBox(names, ''), seriesNames: names };
        entry.box.classList.add('small');
        entry.box.prepend(el('span', { class: 'chart-title', text: g.name }));
        this.chartsEl.append(entry.box);
        this.charts.set(g.name, entry);
      }
      if (entry && entry.chart) {
        const values = entry.seriesNames.map((n) => {
          const s = g.series.find((x) => x.name === n);
          return s ? s.value : null;
        });
        entry.chart.push(time, values);
      }
    }
  }

  clear() {
    this.summary.textContent = '—';
    for (const e of this.charts.values()) if (e.chart) e.chart.clear();
  }

  applyTheme() {
    for (const e of this.charts.values()) if (e.chart) e.chart.applyTheme();
  }

  destroy() {
    for (const e of this.charts.values()) if (e.chart) e.chart.destroy();
  }
}

class LedView extends ResourceView {
  constructor(name, uid, send) {
    super(name, 'led');
    this.on = false;
    this.bulb = el('span', { class: 'bulb', 'aria-hidden': 'true' });
    this.button = el('button', {
      type: 'button',
      class: 'switch',
      role: 'switch',
      'aria-checked': 'false',
      'aria-label': 'LED',
      'data-testid': 'led-toggle',
      onclick: () => {
        const payload = this.on ? '0' : '1';
        if (send(uid, name, payload)) {
          this.button.classList.add('pending');
          clearTimeout(this.pendingTimer);
          this.pendingTimer = setTimeout(() => this.button.classList.remove('pending'), 5000);
        }
      },
    }, el('span', { class: 'knob' }));
    this.root.append(el('div', { class: 'resource-head' },
      el('span', { class: 'label', text: label(name) }),
      el('span', { class: 'led-state' }, this.bulb, this.valueEl), this.button));
  }

  update(value) {
    this.on = ledIsOn(value);
    this.root.dataset.value = displayValue(value);
    this.root.dataset.state = this.on ? 'on' : 'off';
    this.valueEl.textContent = this.on ? 'On' : 'Off';
    this.button.setAttribute('aria-checked', String(this.on));
    this.button.classList.remove('pending');
    clearTimeout(this.pendingTimer);
  }

  destroy() {
    clearTimeout(this.pendingTimer);
  }
}

const ROBOT_KEYS = [
  { payload: 'u', text: '▲', title: 'Forward', area: 'up' },
  { payload: 'l', text: '◀', title: 'Left', area: 'left' },
  { payload: 's', text: '■', title: 'Stop', area: 'stop' },
  { payload: 'r', text: '▶', title: 'Right', area: 'right' },
  { payload: 'd', text: '▼', title: 'Backward', area: 'down' },
];

class RobotView extends ResourceView {
  constructor(name, uid, send) {
    super(name, 'robot');
    const pad = el('div', { class: 'robot-pad', role: 'group', 'aria-label': 'Robot control' },
      ROBOT_KEYS.map((k) => el('button', {
        type: 'button',
        class: `pad-${k.area}`,
        title: k.title,
        'aria-label': k.title,
        'data-testid': 'robot-button',
        dataset: { payload: k.payload },
        onclick: () => send(uid, name, k.payload),
      }, k.text)));
    this.root.append(el('div', { class: 'resource-head' },
      el('span', { class: 'label', text: label(name) }), this.valueEl), pad);
  }
}

class JsView extends ResourceView {
  constructor(name, uid, send) {
    super(name, 'js');
    this.editor = el('textarea', {
      class: 'code',
      spellcheck: 'false',
      rows: 6,
      'aria-label': 'JavaScript code for the node',
      'data-testid': 'js-editor',
    });
    this.dirty = false;
    this.editor.addEventListener('input', () => { this.dirty = true; });
    this.status = el('span', { class: 'muted small' });
    const sendButton = el('button', {
      type: 'button',
      class: 'button primary',
      'data-testid': 'js-send',
      onclick: () => {
        if (send(uid, name, this.editor.value)) {
          this.dirty = false;
          this.status.textContent = `Sent at ${clock(Date.now())}`;
        }
      },
    }, 'Send to node');
    this.root.append(el('div', { class: 'resource-head' },
      el('span', { class: 'label', text: label(name) })), this.editor,
      el('div', { class: 'row' }, sendButton, this.status));
  }

  update(value) {
    this.root.dataset.value = displayValue(value);
    if (!this.dirty && document.activeElement !== this.editor) {
      this.editor.value = displayValue(value);
    }
  }
}

class PositionView extends ResourceView {
  update(value) {
    super.update(value);
    const p = parsePosition(value);
    this.valueEl.textContent = p ? `${p.lat.toFixed(5)}, ${p.lng.toFixed(5)}` : displayValue(value);
  }
}

function textView(name, kind) {
  const view = kind === 'position' ? new PositionView(name, kind) : new ResourceView(name, kind);
  view.root.append(el('div', { class: 'resource-head' },
    el('span', { class: 'label', text: label(name) }), view.valueEl));
  return view;
}

export class NodeCard {
  // actions: {send(uid, endpoint, payload) -> bool, onName(uid, name)}
  constructor(uid, actions) {
    this.uid = uid;
    this.actions = actions;
    this.values = new Map();
    this.views = new Map();
    this.infoRows = new Map();
    this.hiddenResources = new Set();

    this.nameEl = el('h2', {
      class: 'node-name', text: `Node ${uid.slice(0, 8)}`, 'data-testid': 'resource', dataset: { resource: 'name' },
    });
    this.protocolEl = el('span', { class: 'badge', hidden: true });
    this.updatedEl = el('span', { class: 'updated muted small' });
    this.info = el('dl', { class: 'info' });
    this.resourcesEl = el('div', { class: 'resources' });
    this.root = el('article', {
      class: 'card node',
      'data-testid': 'node-card',
      dataset: { uid },
      tabindex: '-1',
    },
    el('header', { class: 'card-header' }, this.nameEl, this.protocolEl),
    this.info, this.resourcesEl,
    el('footer', { class: 'card-footer' }, this.updatedEl));
    this.setInfo('uid', uid);
  }

  get name() {
    const n = this.values.get('name');
    return n === undefined ? '' : displayValue(n);
  }

  get protocol() {
    const p = this.values.get('protocol');
    return p === undefined ? '' : displayValue(p);
  }

  // Text searched by the node filter.
  searchText() {
    return [this.uid, ...[...this.values.entries()]
      .filter(([k]) => INFO_FIELDS.includes(k)).map(([, v]) => displayValue(v))]
      .join(' ').toLowerCase();
  }

  setInfo(name, value) {
    let row = this.infoRows.get(name);
    if (!row) {
      const dd = el('dd');
      row = el('div', { class: 'info-row', 'data-testid': 'resource', dataset: { resource: name } },
        el('dt', { text: label(name) }), dd);
      row.hidden = this.hiddenResources.has(name);
      const order = INFO_FIELDS.indexOf(name);
      const next = [...this.infoRows.entries()]
        .filter(([k]) => INFO_FIELDS.indexOf(k) > order)
        .sort((a, b) => INFO_FIELDS.indexOf(a[0]) - INFO_FIELDS.indexOf(b[0]))[0];
      this.info.insertBefore(row, next ? next[1] : null);
      this.infoRows.set(name, row);
    }
    row.lastChild.textContent = displayValue(value);
    row.dataset.value = displayValue(value);
  }

  setValue(resource, value, time) {
    this.values.set(resource, value);
    this.updatedEl.textContent = `Updated ${clock(time)}`;
    let view = this.views.get(resource);
    const kind = view ? view.kind : resourceKind(resource, value);
    if (kind === 'info') {
      if (resource === 'name') {
        // Shown as the card's title rather than as a row.
        this.nameEl.textContent = displayValue(value) || `Node ${this.uid.slice(0, 8)}`;
        this.nameEl.dataset.value = displayValue(value);
        this.actions.onName(this.uid, this.name);
        return;
      }
      this.setInfo(resource, value);
      if (resource === 'protocol') {
        this.protocolEl.hidden = false;
        this.protocolEl.textContent = displayValue(value);
        this.root.dataset.protocol = displayValue(value);
      }
      return;
    }
    if (!view) {
      view = this.makeView(resource, kind);
      view.root.hidden = this.hiddenResources.has(resource);
      view.root.dataset.order = String(ORDER[kind] || 9);
      const next = [...this.resourcesEl.children]
        .find((c) => Number(c.dataset.order) > ORDER[kind]);
      this.resourcesEl.insertBefore(view.root, next || null);
      this.views.set(resource, view);
    }
    view.update(value, time);
  }

  makeView(resource, kind) {
    const send = this.actions.send;
    switch (kind) {
      case 'measurement': return new MeasurementView(resource);
      case 'imu': return new ImuView(resource);
      case 'led': return new LedView(resource, this.uid, send);
      case 'robot': return new RobotView(resource, this.uid, send);
      case 'js': return new JsView(resource, this.uid, send);
      default: return textView(resource, kind);
    }
  }

  // After a node reset: everything but what its gateway set goes.
  reset(kept) {
    for (const name of [...this.values.keys()]) {
      if (kept.includes(name)) continue;
      this.values.delete(name);
      const view = this.views.get(name);
      if (view) {
        view.destroy();
        view.root.remove();
        this.views.delete(name);
      }
      const row = this.infoRows.get(name);
      if (row && name !== 'uid') {
        row.remove();
        this.infoRows.delete(name);
      }
    }
    if (!kept.includes('name')) {
      this.nameEl.textContent = `Node ${this.uid.slice(0, 8)}`;
      delete this.nameEl.dataset.value;
      this.actions.onName(this.uid, '');
    }
  }

  setHiddenResources(hidden) {
    this.hiddenResources = hidden;
    for (const [name, view] of this.views) view.root.hidden = hidden.has(name);
    for (const [name, row] of this.infoRows) row.hidden = hidden.has(name);
  }

  applyTheme() {
    for (const view of this.views.values()) view.applyTheme();
  }

  destroy() {
    for (const view of this.views.values()) view.destroy();
    this.root.remove();
  }
}
