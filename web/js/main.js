// The dashboard page: connects to the broker, keeps one card per node.
import { BrokerConnection } from './broker.js';
import { NodeCard } from './cards.js';
import { NodeMap } from './map.js';
import { Sidebar } from './sidebar.js';
import { KEPT_ON_RESET, NodeStore, brokerUrl, parseMessage, parsePosition, writeMessage } from './model.js';
import { initTheme } from './theme.js';

async function readConfig() {
  const block = document.getElementById('aiot-config');
  try {
    return JSON.parse(block.textContent);
  } catch {
    // Served by another static server: the template was not filled in.
    const res = await fetch('config.json', { cache: 'no-cache' });
    return res.json();
  }
}

function applyOptions(cfg) {
  if (cfg.title) {
    document.title = cfg.title;
    document.getElementById('title').textContent = cfg.title;
  }
  if (cfg.logo) document.getElementById('logo').src = cfg.logo;
  if (cfg.camera_url) {
    document.getElementById('camera').src = cfg.camera_url;
    document.getElementById('camera-card').hidden = false;
  }
}

let toastTimer = null;
function toast(text) {
  const box = document.getElementById('toast');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

class Dashboard {
  constructor(cfg) {
    this.cfg = cfg;
    this.store = new NodeStore();
    this.cards = new Map();
    this.grid = document.getElementById('nodes');
    this.placeholder = document.getElementById('placeholder');
    this.count = document.getElementById('node-count');
    this.sidebar = new Sidebar(() => this.applyFilters(), (uid) => this.select(uid));
    this.map = new NodeMap(document.getElementById('map-card'), document.getElementById('map'),
      cfg, (uid) => this.select(uid));
    this.url = brokerUrl(cfg, window.location);
    this.connection = new BrokerConnection(this.url, {
      onState: (state, detail) => this.showState(state, detail),
      onOpen: () => this.reset(),
      onMessage: (text) => this.onMessage(text),
    });
    document.getElementById('about').textContent =
      `aiot ${cfg.version || ''} · broker ${this.url}`;
    document.getElementById('connection').addEventListener('click', () => this.connection.retryNow());
  }

  start() {
    this.connection.start();
  }

  showState(state, detail) {
    const box = document.getElementById('connection');
    const text = document.getElementById('connection-text');
    box.dataset.state = state === 'open' ? 'open' : 'closed';
    box.dataset.phase = state;
    document.body.classList.toggle('offline', state !== 'open');
    if (state === 'open') text.textContent = 'Connected';
    else if (state === 'connecting') text.textContent = 'Connecting…';
    else if (detail.retryIn !== undefined) {
      text.textContent = `Disconnected · retry in ${Math.ceil(detail.retryIn / 1000)} s`;
    } else text.textContent = 'Disconnected';
    box.title = state === 'open' ? this.url : `${this.url} (click to retry now)`;
  }

  // A (re)connected broker: the gateways replay every node, start afresh.
  reset() {
    this.handle(this.store.clear());
  }

  onMessage(text) {
    const msg = parseMessage(text);
    if (!msg) {
      console.warn('aiot: ignoring a message that is not a node message:', text.slice(0, 200));
      return;
    }
    this.handle(this.store.apply(msg));
  }

  handle(events) {
    for (const e of events) {
      if (e.kind === 'added') this.addCard(e.uid);
      else if (e.kind === 'removed') this.removeCard(e.uid);
      else if (e.kind === 'reset') this.resetCard(e.uid);
      else if (e.kind === 'value') this.setValue(e.uid, e.resource, e.value, e.time);
    }
    if (events.length > 0) this.refreshCount();
  }

  addCard(uid) {
    const card = new NodeCard(uid, {
      send: (nodeUid, endpoint, payload) => this.send(nodeUid, endpoint, payload),
      onName: (nodeUid, name) => {
        this.sidebar.updateNode(card);
        this.map.rename(nodeUid, name);
      },
    });
    card.setHiddenResources(this.sidebar.hiddenResources);
    this.cards.set(uid, card);
    this.grid.append(card.root);
    this.sidebar.addNode(card);
    this.sortCards();
  }

  removeCard(uid) {
    const card = this.cards.get(uid);
    if (!card) return;
    card.destroy();
    this.cards.delete(uid);
    this.sidebar.removeNode(uid);
    this.map.remove(uid);
  }

  resetCard(uid) {
    const card = this.cards.get(uid);
    if (!card) return;
    card.reset(KEPT_ON_RESET);
    this.map.remove(uid);
  }

  setValue(uid, resource, value, time) {
    const card = this.cards.get(uid);
    if (!card) return;
    card.setValue(resource, value, time);
    this.sidebar.addResource(resource);
    if (resource === 'protocol' || resource === 'name') {
      this.sidebar.updateNode(card);
      this.sortCards();
      this.applyFilters();
    }
    if (resource === 'position') {
      const p = parsePosition(value);
      if (p) this.map.set(uid, p, card.name);
      else this.map.remove(uid);
    }
  }

  sortCards() {
    const key = (c) => `${c.name || '\uffff'} ${c.uid}`;
    const sorted = [...this.cards.values()].sort((a, b) => key(a).localeCompare(key(b)));
    sorted.forEach((card, i) => {
      if (this.grid.children[i] !== card.root) this.grid.insertBefore(card.root, this.grid.children[i] || null);
    });
  }

  applyFilters() {
    for (const card of this.cards.values()) {
      const visible = this.sidebar.shows(card);
      card.root.hidden = !visible;
      this.sidebar.setVisible(card.uid, visible);
      card.setHiddenResources(this.sidebar.hiddenResources);
    }
  }

  refreshCount() {
    const n = this.cards.size;
    this.count.textContent = `${n} node${n === 1 ? '' : 's'}`;
    this.placeholder.hidden = n > 0;
  }

  send(uid, endpoint, payload) {
    if (this.connection.send(writeMessage(uid, endpoint, payload))) return true;
    toast('Not connected to the broker: the command was not sent.');
    return false;
  }

  select(uid) {
    const card = this.cards.get(uid);
    if (!card) return;
    card.root.hidden = false;
    card.root.scrollIntoView({ behavior: 'smooth', block: 'center' });
    card.root.classList.remove('flash');
    void card.root.offsetWidth; // restart the animation
    card.root.classList.add('flash');
    card.root.focus({ preventScroll: true });
  }

  applyTheme() {
    for (const card of this.cards.values()) card.applyTheme();
  }
}

const cfg = await readConfig();
applyOptions(cfg);
const dashboard = new Dashboard(cfg);
initTheme(() => dashboard.applyTheme());
window.aiotDashboard = dashboard; // for debugging from the console and for tests
dashboard.start();
