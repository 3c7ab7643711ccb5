// The cards' grid, in chunks: the shown cards (and only they: a card the
// filters hide is out of the DOM) are placed in order into chunks of whole
// rows, each a grid of its own with `content-visibility: auto`. A value that
// changes in a card lays out its chunk (a few dozen cards), not a grid of a
// thousand; chunks far from the screen are skipped whole by the browser
// (a few dozen elements to observe, not one per card). Within the chunks near
// the screen, the cards near it are found by CardWindow (window.js).
import { syncChildren } from './dom.js';
import { CardWindow, chunkSize, memoRects, nearRange } from './window.js';

export class CardGrid {
  // container: the element holding the chunks; margin: pixels around the
  // viewport that count as near; setNear(card, near); cardPx(): the
  // expected height of a card and its gap (the size of a chunk never drawn).
  constructor(container, margin, setNear, cardPx) {
    this.container = container;
    this.margin = margin;
    this.cardPx = cardPx;
    this.window = new CardWindow(margin, setNear);
    this.chunks = []; // {root, cards}
    this.cards = [];
    this.columns = 1;
    this.size = chunkSize(1);
  }

  // Puts `cards` (the shown cards, in order) into the chunks: only the chunks
  // whose cards changed are touched, a card moved in with one DOM operation.
  place(cards) {
    this.cards = cards;
    const k = this.size;
    const n = Math.ceil(cards.length / k);
    while (this.chunks.length < n) {
      const root = document.createElement('div');
      root.className = 'card-chunk';
      this.container.append(root);
      this.chunks.push({ root, cards: [], estimate: '' });
    }
    const rows = Math.ceil(k / this.columns);
    const estimate = `auto ${Math.round(rows * this.cardPx())}px`;
    for (let i = 0; i < n; i++) {
      const chunk = this.chunks[i];
      const want = cards.slice(i * k, (i + 1) * k);
      if (!sameCards(chunk.cards, want)) {
        syncChildren(chunk.root, want.map((card) => card.root));
        chunk.cards = want;
      }
      if (chunk.estimate !== estimate) {
        chunk.estimate = estimate;
        chunk.root.style.containIntrinsicHeight = estimate;
      }
    }
    while (this.chunks.length > n) this.chunks.pop().root.remove();
  }

  // Called at the start of a frame or after place() (a forced layout, of
  // chunks near the screen only): marks the cards near the viewport. Returns
  // whether it should be called again in the next frame (cards came near,
  // and their sizes move the others; or the number of columns changed).
  update() {
    const rect = memoRects();
    const [from, to] = nearRange(this.chunks, window.innerHeight, this.margin, rect);
    const columns = from < to ? this.readColumns(this.chunks[from]) : this.columns;
    if (columns !== this.columns) {
      this.columns = columns;
      this.size = chunkSize(columns);
      this.place(this.cards);
      return true;
    }
    const candidates = [];
    for (let i = from; i < to; i++) candidates.push(...this.chunks[i].cards);
    return this.window.update(candidates, rect);
  }

  // The number of grid columns of a chunk near the screen, as the style
  // sheet makes them (resolved track sizes: "366px 366px 366px").
  readColumns(chunk) {
    const tracks = getComputedStyle(chunk.root).gridTemplateColumns;
    if (!tracks || tracks === 'none' || tracks.includes('(')) return this.columns;
    return Math.max(1, tracks.trim().split(/\s+/).length);
  }

  forget(card) {
    this.window.forget(card);
  }
}

function sameCards(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
