// The dashboard page: connects to the broker, keeps one card per node.
// Messages update the store at once; the page is redrawn once per animation
// frame with what changed (a node sending ten values in a frame is drawn
// once), new cards are made in slices of a few milliseconds, and only cards
// on screen draw their values and charts.
import { HistoryLoader } from './backfill.js';
import { BrokerConnection } from './broker.js';
import { NodeCard } from './cards.js';
import { forgetPalette } from './charts.js';
import { NodeMap } from './map.js';
import { Sidebar } from './sidebar.js';
import { FrameTask, redraws } from './scheduler.js';
import { CardGrid } from './grid.js';
import { Settings } from './settings.js';
import {
  NodeEntry, NodeOrder, NodeStore, brokerUrls, displayName, messagesOf, parseMessage, parsePosition, writeMessage,
} from './model.js';
import { initTheme } from './theme.js';

const SLICE_MS = 20; // card making per task (well under a 50 ms long task)
const MESSAGES_MS = 20; // message handling per task, the same
const NEAR_PX = 300; // cards this close to the viewport draw as if on screen
// New readings are drawn at most this often (each drawing is a layout, a
// paint and a commit of the page); changes of state at the next frame.
const VALUES_MS = 100;
const RESYNC_QUIET_MS = 2000; // after a reconnection: the replay is over when no `new` came for this long
const RESYNC_MIN_MS = 3000;

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

let toastTimer = null;
function toast(text) {
  const box = document.getElementById('toast');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

// Announces changes of state to screen readers (never one per message).
class Announcer {
  constructor(region) {
    this.region = region;
    this.added = 0;
    this.removed = 0;
    this.timer = null;
  }

  say(text) {
    this.region.textContent = text;
  }

  nodes(added, removed) {
    this.added += added;
    this.removed += removed;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const parts = [];
      if (this.added) parts.push(`${this.added} node${this.added === 1 ? '' : 's'} appeared`);
      if (this.removed) parts.push(`${this.removed} node${this.removed === 1 ? '' : 's'} left`);
      this.added = 0;
      this.removed = 0;
      if (parts.length) this.say(parts.join(', '));
    }, 3000);
  }
}

class Dashboard {
  constructor(cfg) {
    this.cfg = cfg;
    this.settings = new Settings(window.localStorage);
    this.store = new NodeStore();
    this.cards = new Map();
    // Every node of the store, listed from its `new` on (its card is made
    // later, between frames): uid -> NodeEntry, and the entries in order.
    this.entries = new Map();
    this.order = new NodeOrder();
    this.resourcesSeen = new Set();
    this.goneKeepMs = 20000; // a node gone after a reconnection stays (dimmed) this long
    this.queue = { removed: new Set(), reset: new Set(), gone: new Set(), back: new Set() };
    this.frame = new FrameTask((time) => this.flush(time));
    this.madeCards = 0; // since the last frame
    this.makeScheduled = false;
    this.makeChannel = new MessageChannel();
    this.makeChannel.port1.onmessage = () => this.makeCards();
    // Messages received and not handled yet (a snapshot comes in batches of
    // hundreds): handled in tasks of at most MESSAGES_MS, in order.
    this.inbox = [];
    this.inboxScheduled = false;
    this.inboxChannel = new MessageChannel();
    this.inboxChannel.port1.onmessage = () => {
      this.inboxScheduled = false;
      this.handleInbox();
    };
    this.grid = document.getElementById('nodes');
    this.placeholder = document.getElementById('placeholder');
    this.count = document.getElementById('node-count');
    this.announcer = new Announcer(document.getElementById('announcer'));
    this.sidebar = new Sidebar(this.settings, {
      filtersChanged: (resources) => this.applyFilters(resources),
      select: (uid) => this.select(uid),
      show: (uid) => this.setNodeHidden(uid, false),
      displayChanged: () => this.applyDisplay(),
      listMoved: () => this.requestList(),
    });
    this.map = new NodeMap(document.getElementById('map-card'), document.getElementById('map'),
      cfg, (uid) => this.select(uid));
    // The shown cards, in chunks (grid.js); those near the viewport are
    // found at the start of a frame after a scroll or a resize, and after a
    // change of the shown cards.
    this.cardGrid = new CardGrid(this.grid, NEAR_PX, (card, near) => {
      card.root.classList.toggle('near', near);
      card.setVisible(near);
    }, () => (this.settings.view === 'compact' ? 182 : 480));
    this.windowDirty = false;
    this.listDirty = false;
    this.rowsDirty = false; // the listed entries to be found again
    this.listRender = false; // and drawn
    this.shownCount = 0;
    this.shown = null; // the shown cards in order; null: to be placed again
    this.placeNow = false; // and the cards near the screen found in the same frame
    this.valuesTimer = null;
    this.valuesDue = false;
    this.valuesAt = 0; // the shown cards in order, rebuilt when they change
    window.addEventListener('scroll', () => this.requestWindow(), { passive: true });
    window.addEventListener('resize', () => {
      this.requestWindow();
      this.requestList();
    });
    // Charts near the screen are filled from the dashboard's history once.
    this.history = new HistoryLoader({
      fetch: (url, init) => window.fetch(url, init),
      wanted: (uid) => this.cards.get(uid)?.visible === true,
      deliver: (uid, resource, values, offset) => {
        if (this.store.backfill(uid, resource, values, offset)) this.scheduleValues();
      },
    });
    this.connection = new BrokerConnection(brokerUrls(cfg, window.location), {
      onState: (state, detail) => this.showState(state, detail),
      onOpen: () => this.resync(),
      onFrames: (frames) => this.onFrames(frames),
    });
    this.showAbout();
    document.getElementById('connection').addEventListener('click', () => this.connection.retryNow());
    this.viewButton = document.getElementById('view-toggle');
    this.viewButton.addEventListener('click', () => this.setLayout(this.settings.view === 'compact' ? 'full' : 'compact'));
    this.setupCamera();
    this.applyLayoutButton();
    this.applyDisplay();
    this.lastState = null;
    this.ticker = setInterval(() => this.tick(), 1000);
    this.requestList();
  }

  start() {
    this.connection.start();
  }

  showAbout() {
    document.getElementById('about').textContent = `aiot ${this.cfg.version || ''} · broker ${this.connection.url}`;
  }

  // --- connection ------------------------------------------------------------

  showState(state, detail) {
    const box = document.getElementById('connection');
    const text = document.getElementById('connection-text');
    box.dataset.state = state === 'open' ? 'open' : 'closed';
    box.dataset.phase = state;
    document.body.classList.toggle('offline', state !== 'open');
    let words;
    if (state === 'open') words = 'Connected';
    else if (state === 'connecting') words = 'Connecting…';
    else if (detail.retryIn !== undefined) words = `Disconnected · retry in ${Math.ceil(detail.retryIn / 1000)} s`;
    else words = 'Disconnected';
    text.textContent = words;
    const named = state === 'open' ? 'Broker connected' : state === 'connecting' ? 'Connecting to the broker'
      : 'Broker disconnected, activate to retry now';
    box.setAttribute('aria-label', named);
    const url = this.connection.url; // with several brokers: the one in use or tried now
    box.title = state === 'open' ? url : `${url} (click to retry now)`;
    this.showAbout();
    const phase = state === 'open' ? 'open' : state === 'connecting' ? 'connecting' : 'closed';
    if (phase !== this.lastState) {
      if (phase !== 'connecting' || this.lastState === null) {
        this.announcer.say(phase === 'open' ? 'Connected to the broker' : phase === 'closed' ? 'Connection to the broker lost' : 'Connecting to the broker');
      }
      this.lastState = phase;
    }
  }

  // A (re)connected broker replays every node: what the page shows stays,
  // nodes replayed are confirmed, the others are marked gone once the replay
  // is over and removed a while later.
  resync() {
    const now = Date.now();
    this.store.beginResync();
    this.resyncOpened = now;
    this.lastNew = now;
    clearInterval(this.resyncTimer);
    this.resyncTimer = setInterval(() => {
      const t = Date.now();
      if (t - this.resyncOpened < RESYNC_MIN_MS || t - this.lastNew < RESYNC_QUIET_MS) return;
      clearInterval(this.resyncTimer);
      this.enqueue(this.store.endResync(t));
    }, 250);
  }

  // Frames from the broker (the socket's worker hands them over a few
  // dozen times a second; each holds one message, or several, one per
  // line): their messages join the inbox; each only updates the store, the
  // frame draws.
  onFrames(frames) {
    if (!this.heard) {
      this.heard = true;
      performance.mark('aiot:first-message'); // for bench/dashboard_page
    }
    messagesOf(frames, this.inbox);
    if (!this.inboxScheduled) this.handleInbox();
  }

  // Handles the inbox for at most MESSAGES_MS, then yields (to frames,
  // input and card making) and goes on in the next task: a batch of a
  // snapshot's thousand messages handled at once was a 100 ms task.
  handleInbox() {
    const start = performance.now();
    const now = Date.now();
    const box = this.inbox;
    let i = 0;
    while (i < box.length) {
      const text = box[i++];
      const msg = parseMessage(text);
      if (!msg) {
        console.warn('aiot: ignoring a message that is not a node message:', text.slice(0, 200));
        continue;
      }
      if (msg.type === 'new') this.lastNew = now;
      const events = this.store.apply(msg, now);
      if (events.length) {
        // For bench/dashboard_page: when the last node came (the replay's end).
        if (events[0].kind === 'added') this.lastNewAt = performance.now();
        this.enqueue(events);
      }
      if ((i & 15) === 0 && performance.now() - start >= MESSAGES_MS) break;
    }
    // What is handled goes: the inbox holds only what waits.
    this.inbox = i >= box.length ? [] : box.slice(i);
    if (this.inbox.length > 0) {
      this.inboxScheduled = true;
      this.inboxChannel.port2.postMessage(null);
    }
    if (this.store.changed.size) this.scheduleValues();
  }

  // The values of the store are drawn in the first frame VALUES_MS after
  // the last drawing, or in the next frame for a change of state.
  scheduleValues() {
    if (this.store.urgent) {
      clearTimeout(this.valuesTimer);
      this.valuesTimer = null;
      this.valuesDue = true;
      this.frame.request();
      return;
    }
    if (this.valuesTimer !== null || this.valuesDue) return;
    const wait = this.valuesAt + VALUES_MS - performance.now();
    if (wait <= 0) {
      this.valuesDue = true;
      this.frame.request();
      return;
    }
    this.valuesTimer = setTimeout(() => {
      this.valuesTimer = null;
      this.valuesDue = true;
      this.frame.request();
    }, wait);
  }

  send(uid, endpoint, payload) {
    if (this.connection.send(writeMessage(uid, endpoint, payload))) return true;
    toast('Not connected to the broker: the command was not sent.');
    return false;
  }

  // --- batching --------------------------------------------------------------

  enqueue(events) {
    if (events.length === 0) return;
    const q = this.queue;
    for (const e of events) {
      switch (e.kind) {
        case 'added': this.addEntry(e.uid); this.makeCardsSoon(); break;
        case 'removed': this.removeEntry(e.uid); q.removed.add(e.uid); break;
        case 'reset': q.reset.add(e.uid); break;
        case 'gone': q.gone.add(e.uid); q.back.delete(e.uid); break;
        case 'back': q.back.add(e.uid); q.gone.delete(e.uid); break;
        default: break;
      }
    }
    this.frame.request();
  }

  // The shown cards moved (or may have): which are near the viewport is
  // found again at the start of the next frame.
  requestWindow(shownChanged = false) {
    if (shownChanged) this.shown = null;
    this.windowDirty = true;
    this.frame.request();
  }

  // The node list's panel scrolled or moved: its rows are drawn again.
  requestList() {
    this.listDirty = true;
    this.frame.request();
  }

  flush(time) {
    const q = this.queue;
    // Geometry first, while the layout is still clean from the last frame.
    const listMoved = this.listDirty;
    if (listMoved) {
      this.listDirty = false;
      this.sidebar.measure();
    }
    if (this.windowDirty && this.shown !== null) {
      this.windowDirty = false;
      if (this.cardGrid.update()) this.requestWindow();
    }
    for (const uid of q.removed) {
      // Gone from the store (a node back with the same uid has a new entry).
      if (this.entries.get(uid)?.card !== this.cards.get(uid)) this.removeCard(uid);
    }
    q.removed.clear();
    for (const uid of q.reset) {
      const entry = this.entries.get(uid);
      if (entry) this.resetEntry(entry);
      const card = this.cards.get(uid);
      if (card) {
        card.reset();
        this.map.remove(uid);
      }
    }
    q.reset.clear();
    const added = this.madeCards;
    this.madeCards = 0;
    // A frame the user waits for (a filter, a layout change): only that
    // work; readings and charts are drawn in the next frame.
    const userFrame = this.placeNow;
    if (userFrame) {
      redraws.skipFrame(time);
      if (this.valuesDue) this.frame.request();
    } else if (this.valuesDue) {
      this.valuesDue = false;
      this.valuesAt = performance.now();
      this.store.takeChanged((node) => {
        const entry = this.entries.get(node.uid);
        if (entry && entry.node === node) this.changed(entry, node.changed);
      });
    }
    for (const uid of q.gone) this.cards.get(uid)?.setGone(true);
    for (const uid of q.back) this.cards.get(uid)?.setGone(false);
    q.gone.clear();
    q.back.clear();
    if (this.rowsDirty) this.placeRows();
    if (this.shown === null) {
      this.placeCards();
      if (this.placeNow) {
        // The user asked (a filter): the cards near the screen at once (a
        // forced layout, of the chunks near the screen only), so that this
        // frame paints them. Else at the start of the next frame.
        this.placeNow = false;
        this.windowDirty = false;
        if (this.cardGrid.update()) this.requestWindow();
      } else {
        this.requestWindow();
      }
    }
    if (listMoved || this.listRender) {
      this.listRender = false;
      this.sidebar.render();
    }
    if (added && !this.marked50 && this.cards.size >= 50) {
      this.marked50 = true;
      performance.mark('aiot:50-cards'); // for bench/dashboard_page: placed, painted in this frame
    }
  }

  // New cards are made in tasks of SLICE_MS between frames, not in the
  // frames: on a busy machine frames are few (a snapshot of a thousand nodes
  // made 20 ms per frame took seconds); the frame places what was made.
  makeCardsSoon() {
    if (this.makeScheduled) return;
    this.makeScheduled = true;
    this.makeChannel.port2.postMessage(null);
  }

  // The cards are made in the page's order, top first (the entries
  // without a card are the ones waiting): each slice's cards then go after those made
  // before, and a frame moves the cards of the last chunks only. Made in
  // the order the nodes arrived, they landed all over the list and the
  // frame that placed the last of a thousand spent 100 ms on style and
  // layout.
  makeCards() {
    this.makeScheduled = false;
    const start = performance.now();
    const items = this.order.items;
    let made = 0;
    let done = true;
    for (const entry of items) {
      if (entry.card) continue;
      if (performance.now() - start >= SLICE_MS) {
        done = false;
        break;
      }
      this.addCard(entry);
      made++;
    }
    if (made) {
      this.madeCards += made;
      this.frame.request();
    }
    if (!done) this.makeCardsSoon();
  }

  // The filter's search texts, made in idle time (else the first filter
  // after a snapshot makes a thousand of them while the user waits).
  warmSearch() {
    if (this.warming) return;
    this.warming = true;
    const idle = window.requestIdleCallback || ((fn) => setTimeout(() => fn({ timeRemaining: () => 4 }), 100));
    idle((deadline) => {
      this.warming = false;
      for (const entry of this.order.items) {
        if (entry.searchText !== null) continue;
        if (deadline.timeRemaining() < 1) {
          this.warmSearch();
          return;
        }
        void entry.search;
      }
    }, { timeout: 2000 });
  }

  // The shown cards into the grid's chunks: out of the DOM what the filters
  // hide (and nodes whose card is not made yet).
  placeCards() {
    const shown = [];
    for (const entry of this.order.items) {
      if (entry.shown && entry.card) shown.push(entry.card);
    }
    this.shown = shown;
    this.cardGrid.place(shown);
  }

  // The listed entries into the node list (every node of the store, card
  // made or not).
  placeRows() {
    this.rowsDirty = false;
    const listed = [];
    let shown = 0;
    for (const entry of this.order.items) {
      if (entry.listed) listed.push(entry);
      if (entry.shown) shown++;
    }
    this.shownCount = shown;
    this.sidebar.setKnown(this.entries.size);
    this.sidebar.setRows(listed);
    this.listRender = true;
    this.refreshCount();
  }

  requestRows() {
    this.rowsDirty = true;
    this.frame.request();
  }

  // --- entries: the node list, from the store at once ---------------------------

  addEntry(uid) {
    const node = this.store.node(uid);
    if (!node) return;
    const old = this.entries.get(uid);
    if (old) this.order.remove(old); // out and back in one batch: its old card goes in the frame
    const entry = new NodeEntry(node);
    this.entries.set(uid, entry);
    this.order.add(entry);
    this.filterOne(entry);
    this.sidebar.update(entry);
    this.announcer.nodes(1, 0);
    this.warmSearch();
    this.requestRows();
  }

  // A node reset: its name (and what the filter searches) may be gone.
  resetEntry(entry) {
    const renamed = entry.note('name').renamed;
    entry.note('protocol');
    if (renamed && this.order.renamed(entry)) {
      this.requestRows();
      if (entry.card && entry.shown) this.requestWindow(true);
    }
    this.sidebar.update(entry);
    this.filterOne(entry);
  }

  removeEntry(uid) {
    const entry = this.entries.get(uid);
    if (!entry) return;
    this.entries.delete(uid);
    this.order.remove(entry);
    this.sidebar.remove(uid);
    this.announcer.nodes(0, 1);
    this.requestRows();
  }

  // --- cards ----------------------------------------------------------------

  addCard(entry) {
    const { uid, node } = entry;
    const old = this.cards.get(uid);
    if (old) this.removeCard(uid); // of a node that left and came back
    const card = new NodeCard(node, {
      send: (nodeUid, endpoint, payload) => this.send(nodeUid, endpoint, payload),
      hide: (nodeUid) => this.setNodeHidden(nodeUid, true),
      expandChanged: () => this.requestWindow(),
      chartShown: (nodeUid, resource) => this.history.want(nodeUid, resource),
    }, this.settings.view);
    card.setHiddenResources(this.settings.hiddenResources);
    card.entry = entry;
    entry.card = card;
    this.cards.set(uid, card);
    this.shown = null;
    for (const name of node.resources.keys()) this.noteResource(name);
    const position = parsePosition(node.resources.get('position'));
    if (position) this.map.set(uid, position, displayName(uid, entry.name));
    return card;
  }

  // Resources of a node changed (drawn by its card, if made; a card made
  // later reads the store). A rename moves the entry to its binary-searched
  // place (the chunks and the node list follow in the frame).
  changed(entry, set) {
    let renamed = false;
    let protocol = false;
    let info = false;
    for (const name of set) {
      const what = entry.note(name);
      renamed ||= what.renamed;
      protocol ||= what.protocol;
      info ||= what.info;
      this.noteResource(name);
    }
    if (renamed) {
      if (this.order.renamed(entry)) {
        this.requestRows();
        if (entry.card && entry.shown) this.requestWindow(true);
      }
      this.map.rename(entry.uid, displayName(entry.uid, entry.name));
    }
    if (renamed || protocol) this.sidebar.update(entry);
    if (info) {
      this.filterOne(entry);
      this.warmSearch();
    }
    if (entry.card) entry.card.changed(set);
    if (set.has('position')) {
      const p = parsePosition(entry.node.resources.get('position'));
      if (p) this.map.set(entry.uid, p, displayName(entry.uid, entry.name));
      else this.map.remove(entry.uid);
    }
  }

  noteResource(name) {
    if (this.resourcesSeen.has(name)) return;
    this.resourcesSeen.add(name);
    this.sidebar.addResource(name);
  }

  removeCard(uid) {
    const card = this.cards.get(uid);
    if (!card) return false;
    this.cardGrid.forget(card);
    this.history.forget(uid);
    card.destroy();
    this.cards.delete(uid);
    if (card.entry.card === card) card.entry.card = null;
    if (!this.entries.has(uid)) this.map.remove(uid);
    this.shown = null;
    return true;
  }

  // --- filters, layout, settings ---------------------------------------------

  // Whether a node is listed and its card shown; a change places the rows
  // (and the cards) again in the next frame.
  filterOne(entry) {
    const listed = this.sidebar.matches(entry);
    const hidden = this.settings.hiddenNodes.has(entry.uid);
    const shown = (listed && !hidden) || entry.revealed;
    if (entry.listed !== listed || entry.shown !== shown) {
      if (entry.shown !== shown && entry.card) this.requestWindow(true);
      entry.listed = listed;
      entry.shown = shown;
      this.requestRows();
    }
    if (entry.userHidden !== hidden) {
      entry.userHidden = hidden;
      this.sidebar.setUserHidden(entry.uid, hidden);
    }
  }

  // resources: the resource checkboxes changed too (else only the node
  // filters did, and the cards' contents stay as they are).
  applyFilters(resources = false) {
    this.placeNow = true;
    for (const entry of this.order.items) {
      entry.revealed = false;
      this.filterOne(entry);
      if (resources && entry.card) entry.card.setHiddenResources(this.settings.hiddenResources);
    }
  }

  setNodeHidden(uid, hidden) {
    if (hidden) this.settings.hiddenNodes.add(uid);
    else this.settings.hiddenNodes.delete(uid);
    this.settings.save();
    const entry = this.entries.get(uid);
    this.placeNow = true;
    if (entry) {
      entry.revealed = false;
      this.filterOne(entry);
    }
    if (!hidden) this.select(uid);
  }

  setLayout(layout) {
    this.settings.view = layout;
    this.settings.save();
    for (const card of this.cards.values()) card.setLayout(layout);
    this.applyLayoutButton();
    this.placeNow = true;
    this.requestWindow(true); // the chunks' expected sizes too
  }

  applyLayoutButton() {
    const compact = this.settings.view === 'compact';
    document.body.classList.toggle('layout-compact', compact);
    this.viewButton.setAttribute('aria-pressed', String(compact));
    this.viewButton.dataset.view = this.settings.view;
  }

  setupCamera() {
    const img = document.getElementById('camera');
    const fallback = document.getElementById('camera-fallback');
    img.addEventListener('error', () => { img.hidden = true; fallback.hidden = false; });
    img.addEventListener('load', () => { img.hidden = false; fallback.hidden = true; });
  }

  applyDisplay() {
    const cameraCard = document.getElementById('camera-card');
    const img = document.getElementById('camera');
    const showCamera = Boolean(this.cfg.camera_url) && this.settings.showCamera;
    cameraCard.hidden = !showCamera;
    if (showCamera && img.getAttribute('src') !== this.cfg.camera_url) img.src = this.cfg.camera_url;
    this.map.setEnabled(this.settings.showMap);
  }

  refreshCount() {
    const n = this.entries.size;
    const hidden = n - this.shownCount;
    const text = `${n} node${n === 1 ? '' : 's'}${hidden ? ` · ${hidden} not shown` : ''}`;
    if (this.count.textContent !== text) this.count.textContent = text;
    this.placeholder.hidden = n > 0;
  }

  tick() {
    const now = Date.now();
    for (const card of this.cards.values()) card.tick(now);
    this.enqueue(this.store.sweepGone(now, this.goneKeepMs));
  }

  select(uid) {
    const entry = this.entries.get(uid);
    if (!entry) return;
    const card = entry.card || this.addCard(entry); // not made yet: now
    if (!entry.shown) {
      entry.revealed = true;
      this.filterOne(entry);
    }
    if (this.shown === null) this.placeCards(); // now: it is scrolled to
    card.root.scrollIntoView({ block: 'center' });
    card.root.classList.remove('flash');
    void card.root.offsetWidth; // restart the animation
    card.root.classList.add('flash');
    card.root.focus({ preventScroll: true });
  }

  applyTheme() {
    forgetPalette();
    for (const card of this.cards.values()) card.applyTheme();
    this.map.applyTheme();
  }
}

const cfg = await readConfig();
if (cfg.title) {
  document.title = cfg.title;
  document.getElementById('title').textContent = cfg.title;
}
if (cfg.logo) document.getElementById('logo').src = cfg.logo;
const dashboard = new Dashboard(cfg);
initTheme(() => dashboard.applyTheme());
window.aiotDashboard = dashboard; // for debugging from the console and for tests
dashboard.start();
