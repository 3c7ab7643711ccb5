// The base of every resource view: one <section> per resource in a card,
// with stable attributes for tests (data-testid="resource", data-resource,
// data-kind, data-value). A view is told values with update(value, node)
// (node: the store's record, with its history) and whether its card is on
// screen with shown(visible); only shown views draw.
import { el } from '../dom.js';
import { displayValue, label, parsePosition } from '../model.js';

export class ResourceView {
  // ctx: {uid, resource, send(uid, endpoint, payload) -> bool, nodeName() -> string}
  constructor(ctx, kind) {
    this.ctx = ctx;
    this.name = ctx.resource;
    this.kind = kind;
    this.visible = false;
    this.valueEl = el('span', { class: 'value' });
    this.root = el('section', {
      class: `resource kind-${kind}`,
      'data-testid': 'resource',
      dataset: { resource: this.name, kind },
    });
  }

  head(...extra) {
    return el('div', { class: 'resource-head' }, el('span', { class: 'label', text: label(this.name) }), ...extra);
  }

  update(value) {
    this.valueEl.textContent = displayValue(value);
    this.root.dataset.value = displayValue(value);
  }

  shown(visible) {
    this.visible = visible;
  }

  // The node was renamed (views that name it in labels follow).
  renamed() {}

  applyTheme() {}

  destroy() {}
}

export class TextView extends ResourceView {
  constructor(ctx, kind = 'text') {
    super(ctx, kind);
    this.root.append(this.head(this.valueEl));
  }
}

export class PositionView extends TextView {
  constructor(ctx) {
    super(ctx, 'position');
  }

  update(value) {
    super.update(value);
    const p = parsePosition(value);
    this.valueEl.textContent = p ? `${p.lat.toFixed(5)}, ${p.lng.toFixed(5)}` : displayValue(value);
  }
}
