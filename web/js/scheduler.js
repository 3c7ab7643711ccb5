// Work done at most once per animation frame, and redraws done at most a
// few times a second, however fast values arrive.

// Calls fn() in the next animation frame, once however often asked.
export class FrameTask {
  constructor(fn) {
    this.fn = fn;
    this.requested = false;
  }

  request() {
    if (this.requested) return;
    this.requested = true;
    requestAnimationFrame(() => {
      this.requested = false;
      this.fn();
    });
  }
}

// Redraws of charts and similar views: draw() of each marked item, at most
// every `periodMs`, in an animation frame (so never while hidden).
export class Redraws {
  constructor(periodMs = 250) {
    this.periodMs = periodMs;
    this.dirty = new Set();
    this.last = 0;
    this.timer = null;
  }

  mark(item) {
    this.dirty.add(item);
    if (this.timer !== null) return;
    const wait = Math.max(0, this.last + this.periodMs - performance.now());
    this.timer = setTimeout(() => requestAnimationFrame(() => this.run()), wait);
  }

  forget(item) {
    this.dirty.delete(item);
  }

  // Draws the marked items, at most `budgetMs` per frame: the rest go on in
  // the next frames, so that many charts never make one long task.
  run(budgetMs = 8) {
    this.timer = null;
    this.last = performance.now();
    const start = performance.now();
    for (const item of this.dirty) {
      this.dirty.delete(item);
      item.draw();
      if (performance.now() - start > budgetMs && this.dirty.size > 0) {
        this.timer = -1; // a frame is pending; marks wait for it
        requestAnimationFrame(() => this.run(budgetMs));
        return;
      }
    }
  }
}

export const redraws = new Redraws(250);
