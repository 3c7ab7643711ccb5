// The side panel (a drawer on narrow screens): the node list in the cards'
// order, the text filter and protocol chips, the resource checkboxes, the
// hidden nodes, and the map/camera switches. Filters live in Settings.
import { el, syncChildren } from './dom.js';
import { rowRange } from './window.js';
import { PROTOCOLS, displayName, label, naturalCompare } from './model.js';

export const ROW_PX = 34; // the height of a node list item (the style sheet's too)
const MARGIN_ROWS = 12; // rows drawn beyond the panel's viewport, either side

export class Sidebar {
  // handlers: {filtersChanged(resources), select(uid), show(uid), displayChanged(), listMoved()}
  constructor(settings, handlers) {
    this.settings = settings;
    this.handlers = handlers;
    this.root = document.getElementById('sidebar');
    this.list = document.getElementById('node-list');
    this.empty = document.getElementById('node-list-empty');
    this.search = document.getElementById('node-search');
    this.protocolBox = document.getElementById('protocol-filters');
    this.resourceBox = document.getElementById('resource-filters');
    this.drawerButton = document.getElementById('drawer-toggle');
    this.items = new Map(); // uid -> {li, name, protocol, show, ...}: the items drawn once
    this.rows = [];
    this.known = 0;
    this.listTop = 0;
    this.viewTop = 0;
    this.viewHeight = window.innerHeight;
    this.root.addEventListener('scroll', () => handlers.listMoved(), { passive: true });
    this.protocols = new Map(); // protocol -> label
    this.resources = new Map(); // resource -> label
    this.search.value = settings.query;
    this.search.addEventListener('input', () => {
      settings.query = this.search.value;
      settings.save();
      handlers.filtersChanged();
    });
    for (const [id, key] of [['show-map', 'showMap'], ['show-camera', 'showCamera']]) {
      const box = document.getElementById(id);
      box.checked = settings[key];
      box.addEventListener('change', () => {
        settings[key] = box.checked;
        settings.save();
        handlers.displayChanged();
      });
    }
    for (const p of settings.hiddenProtocols) this.addProtocol(p);
    this.drawerButton.addEventListener('click', () => this.setDrawer(!this.drawerOpen));
    document.getElementById('drawer-close').addEventListener('click', () => this.setDrawer(false));
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.drawerOpen) {
        this.setDrawer(false);
        this.drawerButton.focus();
      }
    });
    this.narrow = window.matchMedia('(max-width: 800px)');
    this.narrow.addEventListener('change', () => this.setDrawer(false));
    this.drawerOpen = false;
    this.setDrawer(false);
  }

  // The text filter, trimmed and lower-cased (computed once per change).
  get query() {
    if (this.settings.query !== this.rawQuery) {
      this.rawQuery = this.settings.query;
      this.cleanQuery = this.rawQuery.trim().toLowerCase();
    }
    return this.cleanQuery;
  }

  // --- the drawer (narrow screens) -------------------------------------------

  setDrawer(open) {
    this.drawerOpen = open;
    document.body.classList.toggle('drawer-open', open);
    this.drawerButton.setAttribute('aria-expanded', String(open));
    // Closed on a narrow screen, the panel is out of the tab order too.
    this.root.inert = this.narrow.matches && !open;
    if (open) this.search.focus();
  }

  closeDrawerIfNarrow() {
    if (this.narrow.matches) this.setDrawer(false);
  }

  // --- filtering ------------------------------------------------------------

  // Whether a card passes the text and protocol filters (hidden nodes aside).
  matches(card) {
    if (card.protocol && this.settings.hiddenProtocols.has(card.protocol)) return false;
    const q = this.query;
    return q === '' || card.search.includes(q);
  }

  // --- the node list --------------------------------------------------------
  // Windowed: rows of ROW_PX each, only those near the panel's viewport in
  // the DOM (a thousand items laid out and styled made every filter and
  // every new node cost the whole list). The list's height is the whole
  // list's, its padding the rows above the window; the items say their place
  // (aria-posinset, aria-setsize) and the list its length (data-count).

  // The listed cards in order (they pass the filters; hidden nodes are
  // listed with a Show button). Drawn by render().
  setRows(cards) {
    this.rows = cards;
    this.list.dataset.count = String(cards.length);
    this.list.style.height = `${cards.length * ROW_PX}px`;
  }

  // Where the list is in the panel's viewport (read at the start of a frame,
  // when geometry is clean: after a scroll, a resize, a change above it).
  measure() {
    const panel = this.root.getBoundingClientRect();
    const list = this.list.getBoundingClientRect();
    this.listTop = list.top - panel.top + this.root.scrollTop - this.root.clientTop;
    this.viewTop = this.root.scrollTop;
    this.viewHeight = this.root.clientHeight || window.innerHeight;
  }

  // Draws the rows near the panel's viewport.
  render() {
    const rows = this.rows;
    const [from, to] = rowRange(rows.length, ROW_PX, this.viewTop - this.listTop, this.viewHeight, MARGIN_ROWS);
    const wanted = [];
    for (let i = from; i < to; i++) {
      const card = rows[i];
      let item = this.items.get(card.uid);
      if (!item) item = this.makeItem(card);
      const pos = String(i + 1);
      if (item.pos !== pos) {
        item.pos = pos;
        item.li.setAttribute('aria-posinset', pos);
      }
      if (item.size !== rows.length) {
        item.size = rows.length;
        item.li.setAttribute('aria-setsize', String(rows.length));
      }
      wanted.push(item.li);
    }
    const pad = `${from * ROW_PX}px`;
    if (this.list.style.paddingTop !== pad) this.list.style.paddingTop = pad;
    syncChildren(this.list, wanted);
    this.empty.hidden = this.items.size > 0 || rows.length > 0 || this.known > 0;
  }

  makeItem(card) {
    const name = el('span', { class: 'item-name' });
    const protocol = el('span', { class: 'badge small', hidden: true });
    const select = el('button', {
      type: 'button', class: 'node-link', onclick: () => {
        this.handlers.select(card.uid);
        this.closeDrawerIfNarrow();
      },
    }, name, protocol);
    const show = el('button', {
      type: 'button', class: 'button show-node', 'data-testid': 'show-node', hidden: true,
      onclick: () => this.handlers.show(card.uid),
    }, 'Show');
    const li = el('li', { dataset: { uid: card.uid } }, select, show);
    const item = { li, name, protocol, show, text: '', proto: '', hidden: false, pos: '', size: -1 };
    this.items.set(card.uid, item);
    this.fill(item, card);
    this.setUserHidden(card.uid, card.userHidden);
    return item;
  }

  // A card's name or protocol changed (its item, if drawn, follows).
  update(card) {
    if (card.protocol) this.addProtocol(card.protocol);
    const item = this.items.get(card.uid);
    if (item) this.fill(item, card);
  }

  fill(item, card) {
    const text = displayName(card.uid, card.name);
    if (item.text !== text) {
      item.text = text;
      item.name.textContent = text;
      item.show.setAttribute('aria-label', `Show ${text}`);
    }
    if (item.proto !== card.protocol) {
      item.proto = card.protocol;
      item.protocol.textContent = card.protocol;
      item.protocol.hidden = !card.protocol;
    }
  }

  // How many nodes there are (listed or not: for the empty hint).
  setKnown(n) {
    this.known = n;
  }

  remove(uid) {
    const item = this.items.get(uid);
    if (item) item.li.remove();
    this.items.delete(uid);
  }

  // Hidden by the user: listed, struck through, with a Show button.
  setUserHidden(uid, hidden) {
    const item = this.items.get(uid);
    if (!item || item.hidden === hidden) return;
    item.hidden = hidden;
    item.show.hidden = !hidden;
    item.li.classList.toggle('user-hidden', hidden);
  }

  // --- chips and checkboxes ----------------------------------------------------

  addProtocol(protocol) {
    if (this.protocols.has(protocol) || this.protocols.size >= 16) return;
    const box = el('input', { type: 'checkbox', checked: !this.settings.hiddenProtocols.has(protocol), 'data-testid': 'protocol-filter', dataset: { protocol } });
    box.addEventListener('change', () => {
      if (box.checked) this.settings.hiddenProtocols.delete(protocol);
      else this.settings.hiddenProtocols.add(protocol);
      this.settings.save();
      this.handlers.filtersChanged();
    });
    const chip = el('label', { class: 'chip', dataset: { protocol } }, box, el('span', { text: protocol }));
    this.protocols.set(protocol, chip);
    const rank = (p) => {
      const i = PROTOCOLS.indexOf(p);
      return i < 0 ? PROTOCOLS.length : i;
    };
    const order = [...this.protocols.keys()].sort((a, b) => rank(a) - rank(b) || naturalCompare(a, b));
    const next = order[order.indexOf(protocol) + 1];
    this.protocolBox.insertBefore(chip, next ? this.protocols.get(next) : null);
    this.handlers.listMoved(); // the list below moved down
  }

  // Offers a checkbox for a resource name (first time it is seen).
  addResource(resource) {
    if (this.resources.has(resource) || resource === 'uid' || resource === 'name') return;
    if (this.resources.size >= 64) return;
    const box = el('input', {
      type: 'checkbox', checked: !this.settings.hiddenResources.has(resource),
      'data-testid': 'resource-filter', dataset: { resource },
    });
    box.addEventListener('change', () => {
      if (box.checked) this.settings.hiddenResources.delete(resource);
      else this.settings.hiddenResources.add(resource);
      this.settings.save();
      this.handlers.filtersChanged(true);
    });
    const row = el('label', { class: 'check', dataset: { resource } }, box, el('span', { text: label(resource) }));
    this.resources.set(resource, row);
    const order = [...this.resources.keys()].sort((a, b) => naturalCompare(label(a), label(b)));
    const next = order[order.indexOf(resource) + 1];
    this.resourceBox.insertBefore(row, next ? this.resources.get(next) : null);
  }
}
