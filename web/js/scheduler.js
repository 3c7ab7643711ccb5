// Work done at most once per animation frame, and redraws done at most a
// few times a second, however fast values arrive.

// Calls fn(time) in the next animation frame, once however often asked
// (time: the frame's, as requestAnimationFrame gives it).
export class FrameTask {
  constructor(fn) {
    this.fn = fn;
    this.requested = false;
  }

  request() {
    if (this.requested) return;
    this.requested = true;
    requestAnimationFrame((time) => {
      this.requested = false;
      this.fn(time);
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
    this.skipAt = -1; // a frame (its time) whose drawing waits for the next
  }

  // Nothing drawn in the animation frame of `time` (one the user waits
  // for; every callback of a frame gets the same time): a run due in it
  // goes to the next frame.
  skipFrame(time) {
    this.skipAt = time;
  }

  mark(item) {
    this.dirty.add(item);
    if (this.timer !== null) return;
    const wait = Math.max(0, this.last + this.periodMs - performance.now());
    this.timer = setTimeout(() => requestAnimationFrame((t) => this.run(8, t)), wait);
  }

  forget(item) {
    this.dirty.delete(item);
  }

  // Draws the marked items, at most `budgetMs` per frame: the rest go on in
  // the next frames, so that many charts never make one long task.
  run(budgetMs = 8, time = -2) {
    if (time === this.skipAt) {
      this.timer = -1;
      requestAnimationFrame((t) => this.run(budgetMs, t));
      return;
    }
    this.timer = null;
    this.last = performance.now();
    const start = performance.now();
    for (const item of this.dirty) {
      this.dirty.delete(item);
      item.draw();
      if (performance.now() - start > budgetMs && this.dirty.size > 0) {
        this.timer = -1; // a frame is pending; marks wait for it
        requestAnimationFrame((t) => this.run(budgetMs, t));
        return;
      }
    }
  }
}

export const redraws = new Redraws(250);

