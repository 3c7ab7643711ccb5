// The RiBot joystick (resource `ribot`): drag the knob (mouse, pen or touch:
// pointer events), or hold the arrow keys; while held, the page sends
// "dx:dy:dx+dy\n" every second, and "0:0:0\n" when released. dx and dy run
// from -255 to 255 in the RiBot firmware's convention: dx grows to the left,
// dy downwards.
import { el } from '../dom.js';
import { ResourceView } from './base.js';

export const JOYSTICK_STOP = '0:0:0\n';
export const JOYSTICK_PERIOD_MS = 1000;

// The command for a knob moved (x, y) pixels from the centre of a pad of
// the given radius: {dx, dy, x, y} with the knob kept inside the pad.
export function joystickVector(x, y, radius) {
  const length = Math.hypot(x, y);
  if (length > radius && length > 0) {
    x *= radius / length;
    y *= radius / length;
  }
  const scale = (v) => Math.max(-255, Math.min(255, Math.round((v * 255) / radius))) + 0;
  return { dx: -scale(x) + 0, dy: scale(y), x, y };
}

export function joystickPayload(dx, dy) {
  return `${dx}:${dy}:${dx + dy}\n`;
}

const KEYS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

export class JoystickView extends ResourceView {
  constructor(ctx) {
    super(ctx, 'ribot');
    this.knob = el('span', { class: 'knob' });
    this.pad = el('div', {
      class: 'joystick',
      tabindex: '0',
      role: 'group',
      'data-testid': 'joystick',
    }, this.knob);
    this.help = el('p', { class: 'small muted', text: 'Drag the knob, or hold the arrow keys; Space stops.' });
    this.help.id = `ribot-help-${Math.random().toString(36).slice(2)}`;
    this.pad.setAttribute('aria-describedby', this.help.id);
    this.renamed();
    this.root.append(this.head(this.valueEl), this.pad, this.help);
    this.vector = null;
    this.timer = null;
    this.pointer = null;
    this.keys = new Set();

    this.pad.addEventListener('pointerdown', (e) => {
      this.pointer = e.pointerId;
      try {
        this.pad.setPointerCapture(e.pointerId);
      } catch {
        /* a pointer the browser no longer tracks: moves still arrive on the pad */
      }
      e.preventDefault();
      this.moveTo(e);
    });
    this.pad.addEventListener('pointermove', (e) => {
      if (e.pointerId === this.pointer) this.moveTo(e);
    });
    const release = (e) => {
      if (e.pointerId !== this.pointer) return;
      this.pointer = null;
      this.stop();
    };
    this.pad.addEventListener('pointerup', release);
    this.pad.addEventListener('pointercancel', release);
    this.pad.addEventListener('keydown', (e) => {
      if (KEYS[e.key]) {
        e.preventDefault();
        this.keys.add(e.key);
        this.fromKeys();
      } else if (e.key === ' ' || e.key === 'Escape') {
        e.preventDefault();
        this.keys.clear();
        this.stop();
      }
    });
    this.pad.addEventListener('keyup', (e) => {
      if (!KEYS[e.key]) return;
      this.keys.delete(e.key);
      if (this.keys.size === 0) this.stop();
      else this.fromKeys();
    });
    this.pad.addEventListener('blur', () => {
      if (this.keys.size) {
        this.keys.clear();
        this.stop();
      }
    });
  }

  renamed() {
    this.pad.setAttribute('aria-label', `RiBot joystick of ${this.ctx.nodeName()}`);
  }

  radius() {
    return Math.max(10, this.pad.clientWidth / 2 - 14);
  }

  moveTo(e) {
    const box = this.pad.getBoundingClientRect();
    this.set(joystickVector(e.clientX - (box.left + box.width / 2), e.clientY - (box.top + box.height / 2), this.radius()));
  }

  fromKeys() {
    let x = 0;
    let y = 0;
    for (const k of this.keys) {
      x += KEYS[k][0];
      y += KEYS[k][1];
    }
    const r = this.radius();
    this.set(joystickVector(x * r, y * r, r));
  }

  set(vector) {
    const first = this.vector === null;
    this.vector = vector;
    this.knob.style.transform = `translate(${vector.x}px, ${vector.y}px)`;
    this.pad.dataset.dx = String(vector.dx);
    this.pad.dataset.dy = String(vector.dy);
    if (first) {
      this.send();
      this.timer = setInterval(() => this.send(), JOYSTICK_PERIOD_MS);
    }
  }

  send() {
    if (this.vector) this.ctx.send(this.ctx.uid, this.name, joystickPayload(this.vector.dx, this.vector.dy));
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    const wasMoving = this.vector !== null;
    this.vector = null;
    this.knob.style.transform = '';
    this.pad.dataset.dx = '0';
    this.pad.dataset.dy = '0';
    if (wasMoving) this.ctx.send(this.ctx.uid, this.name, JOYSTICK_STOP);
  }

  destroy() {
    clearInterval(this.timer);
  }
}
