// A SUIT firmware update: the state the node reports (`suit_state`, a code)
// as text, and the download (`dwnld`, percent) as a progress bar.
import { el } from '../dom.js';
import { displayValue, leadingNumber } from '../model.js';
import { ResourceView } from './base.js';

const STATES = {
  0: { text: 'Idle', phase: 'idle' },
  1: { text: 'Update triggered', phase: 'busy' },
  2: { text: 'Validating the signature', phase: 'busy' },
  3: { text: 'Signature validation failed', phase: 'error' },
  5: { text: 'Sequence number refused', phase: 'error' },
  6: { text: 'Downloading', phase: 'busy' },
  8: { text: 'Download failed', phase: 'error' },
  9: { text: 'Validating the digest', phase: 'busy' },
  10: { text: 'Digest validation failed', phase: 'error' },
  11: { text: 'Download completed', phase: 'done' },
};

// {code, text, phase: idle|busy|error|done|unknown} of a suit_state value;
// null when it is not a state code.
export function suitState(value) {
  const text = displayValue(value).trim();
  if (!/^\d+$/.test(text)) return null;
  const code = Number(text);
  const known = STATES[code];
  return known ? { code, ...known } : { code, text: `State ${code}`, phase: 'unknown' };
}

// The download progress of a dwnld value ("45", "45%", 45), 0 to 100; null
// when it is not a number.
export function downloadPercent(value) {
  const n = leadingNumber(value);
  if (n === null) return null;
  return Math.max(0, Math.min(100, Math.round(n)));
}

export class SuitView extends ResourceView {
  constructor(ctx) {
    super({ ...ctx, resource: 'suit_state' }, 'suit');
    this.stateEl = el('span', { class: 'suit-state', 'data-testid': 'suit-state' });
    this.progress = el('progress', { max: '100', value: '0', 'data-testid': 'suit-progress' });
    this.percentEl = el('span', { class: 'small muted' });
    this.progressRow = el('div', { class: 'row suit-progress' }, this.progress, this.percentEl);
    this.progressRow.hidden = true;
    this.renamed();
    this.root.append(this.head(this.stateEl), this.progressRow);
    this.state = null;
    this.percent = null;
  }

  renamed() {
    this.progress.setAttribute('aria-label', `Firmware download of ${this.ctx.nodeName()}`);
  }

  // Called with (value) for suit_state and setDownload(value) for dwnld.
  update(value) {
    this.state = suitState(value);
    this.root.dataset.value = displayValue(value);
    this.root.dataset.phase = this.state ? this.state.phase : 'unknown';
    this.stateEl.textContent = this.state ? this.state.text : displayValue(value);
    this.refresh();
  }

  setDownload(value) {
    this.percent = downloadPercent(value);
    this.root.dataset.download = this.percent === null ? '' : String(this.percent);
    if (!this.state) this.stateEl.textContent = 'Downloading';
    this.refresh();
  }

  refresh() {
    const downloading = this.percent !== null && (!this.state || this.state.code === 6 || this.percent < 100);
    this.progressRow.hidden = !downloading;
    if (this.percent !== null) {
      this.progress.value = this.percent;
      this.percentEl.textContent = `${this.percent} %`;
    }
  }
}
