// One card per node. A card reads its node from the store (model.js) and
// draws only while on screen: values that arrive for a card off screen are
// noted and drawn when it scrolls in. Two layouts: the full card (what the
// node is, every resource with its widget) and the compact tile of the
// overview (name, protocol, key values as big numbers with a sparkline, LED
// switch, staleness), with the full card a click away.
import { el } from './dom.js';
import { Sparkline } from './charts.js';
import {
  INFO_FIELDS, displayName, displayValue, isInfoField, isStale, label, protocolName, relativeAge, resourceKind,
} from './model.js';
import { osIcon } from './os.js';
import { PositionView, TextView } from './views/base.js';
import { CodeView } from './views/code.js';
import { ImuView } from './views/imu.js';
import { LedView } from './views/led.js';
import { MeasurementView, measurementText } from './views/measurement.js';
import { JoystickView } from './views/ribot.js';
import { RobotView } from './views/robot.js';
import { SuitView } from './views/suit.js';
import { WebcamView } from './views/webcam.js';

const ORDER = { suit: 0, led: 1, robot: 2, ribot: 2, measurement: 3, imu: 4, webcam: 5, position: 6, js: 7, text: 8 };
const RELEASE_AFTER_MS = 10000; // charts of a card off screen this long are freed
const TILE_VALUES = 3;

// The view of a resource: dwnld belongs to the suit_state view.
const viewKey = (resource) => (resource === 'dwnld' ? 'suit_state' : resource);

// The elements of a card before it knows its node (cloned for each card).
let cardSkeleton = null;
function skeleton() {
  if (cardSkeleton) return cardSkeleton;
  const icon = el('img', { class: 'os-icon', width: '22', height: '22', alt: '' });
  icon.hidden = true;
  cardSkeleton = el('article', {
    class: 'card node', 'data-testid': 'node-card', dataset: { stale: 'false' }, tabindex: '-1',
  },
  el('header', { class: 'card-header' }, icon,
    el('h2', { class: 'node-name', 'data-testid': 'resource', dataset: { resource: 'name' } }),
    el('span', { class: 'badge', hidden: true }),
    el('span', { class: 'badge gone-badge', text: 'Gone', hidden: true }),
    el('button', { type: 'button', class: 'icon-button small-button', 'data-testid': 'hide-node' },
      el('span', { 'aria-hidden': 'true', text: '✕' }))),
  el('div', { class: 'card-body' }),
  el('footer', { class: 'card-footer' },
    el('button', { type: 'button', class: 'button details-button', 'data-testid': 'details', 'aria-expanded': 'false' },
      'Details'),
    el('span', { class: 'updated small', 'data-testid': 'last-seen' })));
  return cardSkeleton;
}

export class NodeCard {
  // node: the store's record; actions: {send(uid, endpoint, payload) -> bool,
  // hide(uid), expandChanged(card)}
  constructor(node, actions, layout) {
    this.node = node;
    this.uid = node.uid;
    this.actions = actions;
    this.layout = layout; // 'full' | 'compact'
    this.expanded = false;
    this.visible = false;
    this.pending = new Set(); // resources changed while off screen
    this.hiddenResources = new Set();
    this.views = new Map();
    this.infoRows = new Map();
    this.tiles = new Map(); // resource -> tile parts (compact)
    this.full = null; // {info, resources}
    this.compact = null; // {values, led}
    this.stale = false;
    this.gone = false;
    this.name = '';
    this.protocol = '';
    this.releaseTimer = null;

    // A copy of one skeleton (cloning is several times cheaper than building
    // a thousand cards element by element while a snapshot comes in).
    const root = skeleton().cloneNode(true);
    const [header, body, footer] = root.children;
    [this.icon, this.nameEl, this.protocolEl, this.goneEl, this.hideButton] = header.children;
    [this.detailsButton, this.seenEl] = footer.children;
    this.body = body;
    this.root = root;
    this.nameEl.textContent = displayName(this.uid, '');
    root.dataset.uid = this.uid;
    this.hideButton.addEventListener('click', () => this.actions.hide(this.uid));
    this.detailsButton.addEventListener('click', () => this.setExpanded(!this.expanded));
    this.root.aiotCard = this;
    this.renamed();
    for (const name of node.resources.keys()) this.noteInfo(name);
    this.applyLayout();
  }

  // --- what the card shows -------------------------------------------------

  get showsFull() { return this.layout === 'full' || this.expanded; }

  setLayout(layout) {
    if (layout === this.layout) return;
    this.layout = layout;
    this.applyLayout();
  }

  setExpanded(expanded) {
    this.expanded = expanded;
    this.applyLayout();
    this.actions.expandChanged(this);
  }

  applyLayout() {
    this.root.classList.toggle('compact', !this.showsFull);
    this.root.classList.toggle('expanded', this.expanded && this.layout === 'compact');
    this.detailsButton.hidden = this.layout !== 'compact';
    this.detailsButton.setAttribute('aria-expanded', String(this.expanded));
    this.detailsButton.textContent = this.expanded ? 'Less' : 'Details';
    if (this.full) this.full.root.hidden = !this.showsFull;
    if (this.compact) this.compact.root.hidden = this.showsFull;
    if (this.visible) this.renderAll();
  }

  setVisible(visible) {
    if (visible === this.visible) return;
    this.visible = visible;
    clearTimeout(this.releaseTimer);
    if (visible) {
      this.renderAll();
    } else {
      for (const v of this.views.values()) v.shown(false);
      this.releaseTimer = setTimeout(() => {
        for (const v of this.views.values()) if (v.release) v.release();
      }, RELEASE_AFTER_MS);
    }
  }

  // Resources changed: drawn now when on screen, else when it scrolls in.
  changed(resources) {
    for (const r of resources) this.noteInfo(r);
    if (!this.visible) {
      for (const r of resources) this.pending.add(r);
      return;
    }
    for (const r of resources) this.draw(r);
    this.tick(Date.now());
  }

  renderAll() {
    this.pending.clear();
    this.ensureParts();
    for (const r of this.node.resources.keys()) this.draw(r);
    for (const v of this.views.values()) v.shown(true);
    this.tick(Date.now());
  }

  ensureParts() {
    if (this.showsFull && !this.full) {
      const info = el('dl', { class: 'info' });
      const resources = el('div', { class: 'resources' });
      this.full = { root: el('div', { class: 'full' }, info, resources), info, resources };
      this.body.append(this.full.root);
      this.setInfo('uid', this.uid);
    }
    if (!this.showsFull && !this.compact) {
      const values = el('div', { class: 'tile-values' });
      this.compact = { root: el('div', { class: 'tile' }, values), values, led: null };
      this.body.prepend(this.compact.root);
    }
    if (this.full) this.full.root.hidden = !this.showsFull;
    if (this.compact) this.compact.root.hidden = this.showsFull;
  }

  // Name, protocol and OS follow the node at once, on screen or not (the
  // node list and the filters use the node's NodeEntry, not the card).
  noteInfo(resource) {
    if (!isInfoField(resource)) return;
    const value = this.node.resources.get(resource);
    if (resource === 'name') {
      const name = displayValue(value);
      if (name !== this.name) {
        this.name = name;
        this.nameEl.textContent = displayName(this.uid, name);
        this.nameEl.dataset.value = name;
        this.renamed();
      }
    } else if (resource === 'protocol') {
      this.protocol = protocolName(value);
      this.protocolEl.hidden = !this.protocol;
      this.protocolEl.textContent = this.protocol;
      this.root.dataset.protocol = this.protocol;
    } else if (resource === 'os') {
      const icon = osIcon(value);
      this.icon.hidden = !icon;
      if (icon) {
        if (this.icon.getAttribute('src') !== icon.file) this.icon.src = icon.file;
        this.icon.alt = icon.name;
        this.icon.title = icon.name;
        this.root.dataset.os = icon.name;
      }
    }
  }

  renamed() {
    const name = displayName(this.uid, this.name);
    this.hideButton.setAttribute('aria-label', `Hide ${name}`);
    this.hideButton.title = `Hide ${name}`;
    this.detailsButton.setAttribute('aria-label', `Details of ${name}`);
    this.root.setAttribute('aria-label', name);
    for (const v of this.views.values()) v.renamed();
    if (this.compact && this.compact.led) this.compact.led.renamed();
  }

  draw(resource) {
    const value = this.node.resources.get(resource);
    if (value === undefined) return;
    if (this.full && this.showsFull) this.drawFull(resource, value);
    if (this.compact && !this.showsFull) this.drawTile(resource, value);
  }

  // --- the full card -------------------------------------------------------

  setInfo(name, value) {
    let row = this.infoRows.get(name);
    if (!row) {
      const dd = el('dd');
      row = el('div', { class: 'info-row', 'data-testid': 'resource', dataset: { resource: name } },
        el('dt', { text: label(name) }), dd);
      row.hidden = this.hiddenResources.has(name);
      const order = INFO_FIELDS.indexOf(name);
      let next = null;
      for (const [k, r] of this.infoRows) {
        const o = INFO_FIELDS.indexOf(k);
        if (o > order && (!next || o < next.o)) next = { o, r };
      }
      this.full.info.insertBefore(row, next ? next.r : null);
      this.infoRows.set(name, row);
    }
    const text = displayValue(value);
    if (row.dataset.value !== text) {
      row.lastChild.textContent = text;
      row.dataset.value = text;
    }
  }

  drawFull(resource, value) {
    const key = viewKey(resource);
    let view = this.views.get(key);
    const kind = view ? view.kind : resourceKind(resource, value);
    if (kind === 'info') {
      if (resource !== 'name') this.setInfo(resource, value);
      return;
    }
    if (!view) {
      view = this.makeView(key, kind);
      view.root.hidden = this.hiddenResources.has(resource);
      const order = ORDER[kind] ?? 9;
      view.root.dataset.order = String(order);
      let next = null;
      for (const c of this.full.resources.children) {
        if (Number(c.dataset.order) > order) {
          next = c;
          break;
        }
      }
      this.full.resources.insertBefore(view.root, next);
      this.views.set(key, view);
      if (this.visible) view.shown(true);
    }
    if (resource === 'dwnld') view.setDownload(value);
    else view.update(value, this.node);
    if (kind === 'measurement' || kind === 'imu') this.actions.chartShown?.(this.uid, resource);
  }

  makeView(resource, kind) {
    const ctx = {
      uid: this.uid,
      resource,
      send: this.actions.send,
      nodeName: () => displayName(this.uid, this.name),
    };
    switch (kind) {
      case 'measurement': return new MeasurementView(ctx);
      case 'imu': return new ImuView(ctx);
      case 'led': return new LedView(ctx);
      case 'robot': return new RobotView(ctx);
      case 'ribot': return new JoystickView(ctx);
      case 'js': return new CodeView(ctx);
      case 'suit': return new SuitView(ctx);
      case 'webcam': return new WebcamView(ctx);
      case 'position': return new PositionView(ctx);
      default: return new TextView(ctx, kind);
    }
  }

  // --- the compact tile ----------------------------------------------------

  drawTile(resource, value) {
    const kind = resourceKind(resource, value);
    if (kind === 'led') {
      if (!this.compact.led) {
        this.compact.led = new LedView({
          uid: this.uid, resource, send: this.actions.send, nodeName: () => displayName(this.uid, this.name),
        });
        this.compact.root.append(this.compact.led.root);
      }
      this.compact.led.update(value);
      this.compact.led.root.hidden = this.hiddenResources.has(resource);
      return;
    }
    if (kind !== 'measurement') return;
    let tile = this.tiles.get(resource);
    if (!tile) {
      if (this.tiles.size >= TILE_VALUES) return;
      const number = el('span', { class: 'big-number' });
      const unit = el('span', { class: 'unit' });
      const canvas = el('canvas', { class: 'sparkline', 'data-testid': 'sparkline' });
      const root = el('div', { class: 'tile-value', 'data-testid': 'tile-value', dataset: { resource } },
        el('span', { class: 'label small', text: label(resource) }), el('span', { class: 'reading' }, number, unit), canvas);
      this.compact.values.append(root);
      tile = { root, number, unit, canvas, spark: null };
      this.tiles.set(resource, tile);
    }
    tile.root.hidden = this.hiddenResources.has(resource);
    const history = this.node.history.get(resource);
    const shown = measurementText(value, history ? history.decimals : 0);
    tile.number.textContent = shown.text;
    tile.unit.textContent = shown.unit;
    tile.root.dataset.value = displayValue(value);
    if (history) {
      this.actions.chartShown?.(this.uid, resource);
      if (!tile.spark || tile.spark.history !== history) {
        if (tile.spark) tile.spark.destroy();
        tile.spark = new Sparkline(tile.canvas, label(resource), history, shown.unit);
      }
      tile.spark.invalidate();
    }
  }

  // --- state over time -----------------------------------------------------

  // Every second: "last seen N s ago" on screen (when the last value came),
  // and the stale mark.
  tick(now) {
    const stale = isStale(this.node, now);
    if (stale !== this.stale) {
      this.stale = stale;
      this.root.classList.toggle('stale', stale);
      this.root.dataset.stale = String(stale);
    }
    if (this.visible) {
      const text = `Last seen ${relativeAge(now - this.node.updated)}${stale ? ' · stale' : ''}`;
      if (this.seenEl.textContent !== text) this.seenEl.textContent = text;
    }
  }

  setGone(gone) {
    this.gone = gone;
    this.root.classList.toggle('gone', gone);
    this.root.dataset.gone = String(gone);
    this.goneEl.hidden = !gone;
  }

  // After a node reset: everything but what its gateway set goes.
  reset() {
    for (const [key, view] of [...this.views]) {
      const keep = this.node.resources.has(key);
      if (keep) continue;
      view.destroy();
      view.root.remove();
      this.views.delete(key);
    }
    for (const [name, row] of [...this.infoRows]) {
      if (name === 'uid' || this.node.resources.has(name)) continue;
      row.remove();
      this.infoRows.delete(name);
    }
    for (const [name, tile] of [...this.tiles]) {
      if (tile.spark) tile.spark.destroy();
      tile.root.remove();
      this.tiles.delete(name);
    }
    if (this.compact && this.compact.led && !this.node.resources.has('led')) {
      this.compact.led.root.remove();
      this.compact.led = null;
    }
    if (!this.node.resources.has('name')) this.noteInfo('name');
    this.name = displayValue(this.node.resources.get('name'));
    this.nameEl.textContent = displayName(this.uid, this.name);
    if (!this.name) delete this.nameEl.dataset.value;
    if (this.visible) this.renderAll();
  }

  setHiddenResources(hidden) {
    this.hiddenResources = hidden;
    for (const [name, view] of this.views) view.root.hidden = hidden.has(name);
    for (const [name, row] of this.infoRows) row.hidden = hidden.has(name);
    for (const [name, tile] of this.tiles) tile.root.hidden = hidden.has(name);
    if (this.compact && this.compact.led) this.compact.led.root.hidden = hidden.has('led');
  }

  applyTheme() {
    for (const view of this.views.values()) view.applyTheme();
    for (const tile of this.tiles.values()) if (tile.spark) tile.spark.applyTheme();
  }

  destroy() {
    clearTimeout(this.releaseTimer);
    for (const view of this.views.values()) view.destroy();
    for (const tile of this.tiles.values()) if (tile.spark) tile.spark.destroy();
    if (this.compact && this.compact.led) this.compact.led.destroy();
    this.root.remove();
  }
}
