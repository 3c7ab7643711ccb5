// Which cards are on screen, or near it: a binary search over the shown
// cards by their top edge (a grid placed row by row has tops that never go
// down in document order), a few geometry reads per update. It replaces an
// IntersectionObserver per card and `content-visibility: auto` (which
// observes every card too): with a thousand cards the browser spent most of
// its long tasks computing those intersections, every frame.

// The range [from, to) of `cards` (in document order, all laid out) whose
// box comes within `margin` pixels of the viewport [0, height). rect(card)
// returns {top, bottom} in viewport coordinates.
export function nearRange(cards, height, margin, rect) {
  const n = cards.length;
  if (n === 0) return [0, 0];
  const low = -margin;
  const high = height + margin;
  // The first card whose top is at or below `low`.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rect(cards[mid]).top < low) lo = mid + 1;
    else hi = mid;
  }
  // Rows above that reach down into the window: back a row at a time while
  // one of its cards does.
  let from = lo;
  while (from > 0) {
    const rowTop = rect(cards[from - 1]).top;
    let start = from - 1;
    let reaches = rect(cards[start]).bottom >= low;
    while (start > 0 && rect(cards[start - 1]).top === rowTop) {
      start -= 1;
      if (rect(cards[start]).bottom >= low) reaches = true;
    }
    if (!reaches) break;
    from = start;
  }
  let to = lo;
  while (to < n && rect(cards[to]).top <= high) to += 1;
  return [from, to];
}

// rect(item) for nearRange: item.root's box, read once per item.
export function memoRects() {
  const rects = new Map();
  return (item) => {
    let r = rects.get(item);
    if (!r) {
      r = item.root.getBoundingClientRect();
      rects.set(item, r);
    }
    return r;
  };
}

// Tracks the cards near the viewport. update(cards) is called at the start
// of an animation frame (geometry is clean then), with the shown cards in
// document order; setNear(card, near) is called for each card that comes
// or goes. Returns whether any card came (their sizes move the others: the
// caller checks again in the next frame).
export class CardWindow {
  constructor(margin, setNear) {
    this.margin = margin;
    this.setNear = setNear;
    this.near = new Set();
  }

  // rect(card): its box (the caller may share a cache of them).
  update(cards, rect = memoRects()) {
    const [from, to] = nearRange(cards, window.innerHeight, this.margin, rect);
    const next = new Set();
    for (let i = from; i < to; i++) next.add(cards[i]);
    let came = false;
    for (const card of this.near) if (!next.has(card)) this.setNear(card, false);
    for (const card of next) {
      if (!this.near.has(card)) {
        this.setNear(card, true);
        came = true;
      }
    }
    this.near = next;
    return came;
  }

  forget(card) {
    this.near.delete(card);
  }
}

// Cards per chunk of the grid: whole rows of `columns` cards, about
// `target` cards (see grid.js).
export function chunkSize(columns, target = 32) {
  const c = Math.max(1, Math.floor(columns) || 1);
  return c * Math.max(2, Math.round(target / c));
}

// The rows [from, to) of a list of `count` rows of `rowPx` pixels to draw
// when its viewport shows [offset, offset + height) of it (list coordinates),
// with `margin` rows more on either side.
export function rowRange(count, rowPx, offset, height, margin) {
  const from = Math.min(count, Math.max(0, Math.floor(offset / rowPx) - margin));
  const to = Math.min(count, Math.max(0, Math.ceil((offset + height) / rowPx) + margin));
  return [from, Math.max(from, to)];
}
