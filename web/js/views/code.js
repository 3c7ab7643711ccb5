// The JavaScript slot of a node (resource `js`): a code editor made of a
// textarea and a line-number gutter. Tab and Shift+Tab indent and outdent
// (two spaces); Escape, then Tab, leaves the editor. A textarea was chosen
// over CodeMirror: CodeMirror 6 is a dozen ES packages that need a bundler
// or an import map, and the page has no build step; this is 150 lines.
// Text being edited is never overwritten by a value from the node.
import { el } from '../dom.js';
import { clock } from '../format.js';
import { displayValue } from '../model.js';
import { ResourceView } from './base.js';

export const INDENT = '  ';

// "1\n2\n3" for a text of three lines.
export function lineNumbers(text) {
  let lines = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
  let out = '1';
  for (let i = 2; i <= lines; i++) out += `\n${i}`;
  return out;
}

// Tab (outdent false) or Shift+Tab (outdent true) on `text` with the
// selection [start, end): a caret gets two spaces; a selection over lines
// indents or outdents each of them. Returns {text, start, end}.
export function indentEdit(text, start, end, outdent) {
  if (!outdent && start === end) {
    return { text: text.slice(0, start) + INDENT + text.slice(end), start: start + INDENT.length, end: start + INDENT.length };
  }
  const first = text.lastIndexOf('\n', start - 1) + 1;
  const lastEnd = end > start && text.charAt(end - 1) === '\n' ? end - 1 : end;
  let stop = text.indexOf('\n', lastEnd);
  if (stop < 0) stop = text.length;
  const lines = text.slice(first, stop).split('\n');
  let newStart = start;
  let removedTotal = 0;
  const changed = lines.map((line, i) => {
    if (!outdent) {
      if (i === 0) newStart += INDENT.length;
      return INDENT + line;
    }
    const n = line.startsWith(INDENT) ? INDENT.length : line.startsWith(' ') || line.startsWith('\t') ? 1 : 0;
    if (i === 0) newStart = Math.max(first, start - n);
    removedTotal += n;
    return line.slice(n);
  });
  const body = changed.join('\n');
  const newText = text.slice(0, first) + body + text.slice(stop);
  const delta = outdent ? -removedTotal : INDENT.length * lines.length;
  return { text: newText, start: newStart, end: Math.max(newStart, end + delta) };
}

export class CodeView extends ResourceView {
  constructor(ctx) {
    super(ctx, 'js');
    this.gutter = el('pre', { class: 'gutter', 'aria-hidden': 'true', text: '1' });
    this.editor = el('textarea', {
      class: 'code',
      spellcheck: 'false',
      autocapitalize: 'off',
      autocomplete: 'off',
      rows: 8,
      wrap: 'off',
      'data-testid': 'js-editor',
    });
    this.dirty = false;
    this.escaped = false;
    this.editor.addEventListener('input', () => {
      this.dirty = true;
      this.root.dataset.dirty = 'true';
      this.syncGutter();
    });
    this.editor.addEventListener('scroll', () => { this.gutter.scrollTop = this.editor.scrollTop; });
    this.editor.addEventListener('keydown', (e) => this.onKey(e));
    this.status = el('span', { class: 'muted small', role: 'status' });
    this.sendButton = el('button', {
      type: 'button',
      class: 'button primary',
      'data-testid': 'js-send',
      onclick: () => this.sendCode(),
    }, 'Send to node');
    this.renamed();
    this.root.append(this.head(), el('div', { class: 'editor' }, this.gutter, this.editor),
      el('div', { class: 'row' }, this.sendButton, this.status));
  }

  renamed() {
    this.editor.setAttribute('aria-label',
      `JavaScript code for ${this.ctx.nodeName()} (Tab indents; Escape then Tab leaves)`);
  }

  onKey(e) {
    if (e.key === 'Escape') {
      this.escaped = true;
      return;
    }
    if (e.key !== 'Tab' || e.ctrlKey || e.altKey || e.metaKey) {
      this.escaped = false;
      return;
    }
    if (this.escaped) {
      this.escaped = false;
      return; // Tab moves the focus on
    }
    e.preventDefault();
    const r = indentEdit(this.editor.value, this.editor.selectionStart, this.editor.selectionEnd, e.shiftKey);
    this.editor.value = r.text;
    this.editor.setSelectionRange(r.start, r.end);
    this.dirty = true;
    this.root.dataset.dirty = 'true';
    this.syncGutter();
  }

  syncGutter() {
    const numbers = lineNumbers(this.editor.value);
    if (this.gutter.textContent !== numbers) this.gutter.textContent = numbers;
    this.gutter.scrollTop = this.editor.scrollTop;
  }

  sendCode() {
    if (this.ctx.send(this.ctx.uid, this.name, this.editor.value)) {
      this.dirty = false;
      delete this.root.dataset.dirty;
      this.status.textContent = `Sent at ${clock(Date.now())}`;
    }
  }

  update(value) {
    this.root.dataset.value = displayValue(value);
    if (!this.dirty && document.activeElement !== this.editor) {
      this.editor.value = displayValue(value);
      this.syncGutter();
    }
  }
}
