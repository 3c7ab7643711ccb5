// The robot's direction pad (resource `robot`: u, d, l, r, s).
import { el } from '../dom.js';
import { ResourceView } from './base.js';

const ROBOT_KEYS = [
  { payload: 'u', text: '▲', title: 'Forward', area: 'up' },
  { payload: 'l', text: '◀', title: 'Left', area: 'left' },
  { payload: 's', text: '■', title: 'Stop', area: 'stop' },
  { payload: 'r', text: '▶', title: 'Right', area: 'right' },
  { payload: 'd', text: '▼', title: 'Backward', area: 'down' },
];

export class RobotView extends ResourceView {
  constructor(ctx) {
    super(ctx, 'robot');
    this.pad = el('div', { class: 'robot-pad', role: 'group' },
      ROBOT_KEYS.map((k) => el('button', {
        type: 'button',
        class: `pad-${k.area}`,
        title: k.title,
        'aria-label': k.title,
        'data-testid': 'robot-button',
        dataset: { payload: k.payload },
        onclick: () => ctx.send(ctx.uid, this.name, k.payload),
      }, k.text)));
    this.renamed();
    this.root.append(this.head(this.valueEl), this.pad);
  }

  renamed() {
    this.pad.setAttribute('aria-label', `Robot of ${this.ctx.nodeName()}`);
  }
}
