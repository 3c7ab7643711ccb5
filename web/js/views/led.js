// The LED: its state and a switch named after its node.
import { el } from '../dom.js';
import { displayValue, ledIsOn } from '../model.js';
import { ResourceView } from './base.js';

export class LedView extends ResourceView {
  constructor(ctx) {
    super(ctx, 'led');
    this.on = false;
    this.bulb = el('span', { class: 'bulb', 'aria-hidden': 'true' });
    this.button = el('button', {
      type: 'button',
      class: 'switch',
      role: 'switch',
      'aria-checked': 'false',
      'data-testid': 'led-toggle',
      onclick: () => this.toggle(),
    }, el('span', { class: 'knob' }));
    this.renamed();
    this.root.append(this.head(el('span', { class: 'led-state' }, this.bulb, this.valueEl), this.button));
  }

  toggle() {
    const payload = this.on ? '0' : '1';
    if (this.ctx.send(this.ctx.uid, this.name, payload)) {
      this.button.classList.add('pending');
      clearTimeout(this.pendingTimer);
      this.pendingTimer = setTimeout(() => this.button.classList.remove('pending'), 5000);
    }
  }

  renamed() {
    this.button.setAttribute('aria-label', `LED of ${this.ctx.nodeName()}`);
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
