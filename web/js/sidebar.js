// The side panel: the list of nodes with a text filter and protocol chips,
// and the resource checkboxes that choose what the cards show.
import { el } from './dom.js';
import { label } from './model.js';

export class Sidebar {
  // onChange(): the filters changed; onSelect(uid): a node was clicked.
  constructor(onChange, onSelect) {
    this.onChange = onChange;
    this.onSelect = onSelect;
    this.list = document.getElementById('node-list');
    this.empty = document.getElementById('node-list-empty');
    this.search = document.getElementById('node-search');
    this.protocolBox = document.getElementById('protocol-filters');
    this.resourceBox = document.getElementById('resource-filters');
    this.items = new Map(); // uid -> li
    this.protocols = new Map(); // protocol -> checkbox
    this.resources = new Map(); // resource -> checkbox
    this.hiddenResources = new Set();
    this.hiddenProtocols = new Set();
    this.search.addEventListener('input', () => this.onChange());
  }

  get query() {
    return this.search.value.trim().toLowerCase();
  }

  // Whether a card passes the text and protocol filters.
  shows(card) {
    if (card.protocol && this.hiddenProtocols.has(card.protocol)) return false;
    const q = this.query;
    return q === '' || card.searchText().includes(q);
  }

  addNode(card) {
    const name = el('span', { class: 'item-name' });
    const protocol = el('span', { class: 'badge small' });
    const li = el('li', { dataset: { uid: card.uid } },
      el('button', { type: 'button', class: 'node-link', onclick: () => this.onSelect(card.uid) },
        name, protocol));
    this.items.set(card.uid, { li, name, protocol });
    this.list.append(li);
    this.updateNode(card);
  }

  updateNode(card) {
    const item = this.items.get(card.uid);
    if (!item) return;
    item.name.textContent = card.name || `Node ${card.uid.slice(0, 8)}`;
    item.protocol.textContent = card.protocol;
    item.protocol.hidden = !card.protocol;
    if (card.protocol) this.addProtocol(card.protocol);
    this.sort();
  }

  removeNode(uid) {
    const item = this.items.get(uid);
    if (item) item.li.remove();
    this.items.delete(uid);
    this.refreshEmpty();
  }

  clear() {
    for (const uid of [...this.items.keys()]) this.removeNode(uid);
  }

  sort() {
    const entries = [...this.items.values()]
      .sort((a, b) => a.name.textContent.localeCompare(b.name.textContent));
    for (const e of entries) this.list.append(e.li);
    this.refreshEmpty();
  }

  refreshEmpty() {
    this.empty.hidden = this.items.size > 0;
  }

  setVisible(uid, visible) {
    const item = this.items.get(uid);
    if (item) item.li.hidden = !visible;
  }

  addProtocol(protocol) {
    if (this.protocols.has(protocol) || this.protocols.size >= 16) return;
    const box = el('input', { type: 'checkbox', checked: true });
    box.addEventListener('change', () => {
      if (box.checked) this.hiddenProtocols.delete(protocol);
      else this.hiddenProtocols.add(protocol);
      this.onChange();
    });
    this.protocols.set(protocol, box);
    this.protocolBox.append(el('label', { class: 'chip' }, box, el('span', { text: protocol })));
  }

  // Offers a checkbox for every resource name seen.
  addResource(resource) {
    if (this.resources.has(resource) || resource === 'uid' || resource === 'name') return;
    if (this.resources.size >= 64) return;
    const box = el('input', {
      type: 'checkbox', checked: !this.hiddenResources.has(resource),
      'data-testid': 'resource-filter', dataset: { resource },
    });
    box.addEventListener('change', () => {
      if (box.checked) this.hiddenResources.delete(resource);
      else this.hiddenResources.add(resource);
      this.onChange();
    });
    this.resources.set(resource, box);
    const items = [...this.resources.keys()].sort((a, b) => label(a).localeCompare(label(b)));
    const row = el('label', { class: 'check', dataset: { resource } }, box, el('span', { text: label(resource) }));
    const before = items.indexOf(resource) + 1 < items.length
      ? this.resourceBox.querySelector(`label[data-resource="${CSS.escape(items[items.indexOf(resource) + 1])}"]`)
      : null;
    this.resourceBox.insertBefore(row, before);
  }
}
