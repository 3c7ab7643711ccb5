// Fills charts from the dashboard's history (its REST API, on the port the
// page came from): once per chart, when the chart is near the screen, the
// last WINDOW_MS of readings, at most MAX_POINTS, merged before the live ones
// (NodeStore.backfill). A few requests at a time: a thousand nodes scrolled
// past do not fire thousands of requests, and a request still queued when its
// card has left the screen is dropped (asked again when it comes back).
// Only nodes the dashboard already records are asked (GET api/nodes, read
// again at most every INDEX_MS while a chart waits for its node): a node it
// does not know yet would be a 404, which the browser logs as an error.
// A 404 or a failed request means "no history": one console.info, no more.
// No DOM here (tested by tests/browser/backfill.test.mjs under node).
import { MAX_POINTS, WINDOW_MS } from './model.js';

export const CONCURRENCY = 4;
export const INDEX_MS = 3000;

// The history URL of a chart, relative to the page.
export function historyUrl(uid, resource, now) {
  const since = Math.floor((now - WINDOW_MS) / 1000);
  return `api/nodes/${encodeURIComponent(uid)}/${encodeURIComponent(resource)}/history`
    + `?since=${since}&limit=${MAX_POINTS}`;
}

export class HistoryLoader {
  // fetch: window.fetch; wanted(uid): is the node's card near the screen;
  // deliver(uid, resource, values, offset): the readings, with how far
  // (ms) the server's clock is ahead of the page's; now(): the page's clock.
  constructor({ fetch, wanted, deliver, now = () => Date.now(), concurrency = CONCURRENCY, log = console }) {
    this.fetch = fetch;
    this.wanted = wanted;
    this.deliver = deliver;
    this.now = now;
    this.concurrency = concurrency;
    this.log = log;
    this.asked = new Map(); // uid -> Set of resources asked (queued, running or done)
    this.queue = []; // [uid, resource]
    this.running = 0;
    this.off = false; // the dashboard keeps no history (--no-history)
    this.told = false; // the one console.info is spent
    this.requests = 0; // sent so far (for tests and the bench)
    this.index = null; // uid -> key of the nodes the dashboard records
    this.indexAt = -Infinity;
    this.indexLoading = false;
    this.indexTimer = null;
    this.parked = []; // [uid, resource] waiting for the dashboard to know the node
  }

  // A chart of `resource` is drawn for node `uid`: its history is fetched
  // unless it was already.
  want(uid, resource) {
    if (this.off) return;
    let set = this.asked.get(uid);
    if (!set) {
      set = new Set();
      this.asked.set(uid, set);
    }
    if (set.has(resource)) return;
    set.add(resource);
    this.queue.push([uid, resource]);
    this.pump();
  }

  // The node left (or was reset): a new card of it asks again.
  forget(uid) {
    this.asked.delete(uid);
  }

  pump() {
    while (this.running < this.concurrency && this.queue.length) {
      const [uid, resource] = this.queue.shift();
      if (this.off) {
        this.queue.length = 0;
        return;
      }
      if (!this.wanted(uid)) {
        this.asked.get(uid)?.delete(resource); // asked again when it is near the screen
        continue;
      }
      if (!this.index || !this.index.get(uid)) {
        this.parked.push([uid, resource]);
        this.readIndex();
        continue;
      }
      this.running++;
      this.requests++;
      this.load(uid, resource).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  // Reads the dashboard's list of nodes (now, or INDEX_MS after the last
  // time), then gives the parked charts another turn.
  readIndex() {
    if (this.indexLoading || this.indexTimer !== null || this.off) return;
    const wait = this.indexAt + INDEX_MS - this.now();
    if (wait > 0) {
      this.indexTimer = setTimeout(() => {
        this.indexTimer = null;
        this.readIndex();
      }, wait);
      return;
    }
    this.indexLoading = true;
    this.fetch('api/nodes', { headers: { Accept: 'application/json' } })
      .then((res) => (res.ok ? res.json() : Promise.reject(new Error(`status ${res.status}`))))
      .then((body) => {
        const index = new Map();
        for (const n of Array.isArray(body && body.nodes) ? body.nodes : []) {
          if (n && typeof n.uid === 'string') index.set(n.uid, n.key || '');
        }
        this.index = index;
      })
      .catch((e) => {
        this.off = true;
        this.note(`the list of recorded nodes failed (${e && e.message ? e.message : e})`);
      })
      .finally(() => {
        this.indexLoading = false;
        this.indexAt = this.now();
        const parked = this.parked;
        this.parked = [];
        if (this.off) return;
        this.queue.push(...parked);
        this.pump();
      });
  }

  async load(uid, resource) {
    const start = this.now();
    let body = null;
    try {
      const res = await this.fetch(historyUrl(uid, resource, start), { headers: { Accept: 'application/json' } });
      body = await res.json().catch(() => null);
      if (!res.ok) {
        if (res.status === 404 && body && /history is off/.test(String(body.error))) this.off = true;
        this.note(`no history for ${uid}/${resource} (${res.status}${body && body.error ? `: ${body.error}` : ''})`);
        return;
      }
    } catch (e) {
      this.note(`no history for ${uid}/${resource} (${e && e.message ? e.message : e})`);
      return;
    }
    if (!body || !Array.isArray(body.values)) return;
    // The server's clock against the page's: its `until` is its "now" when
    // it answered, taken as the middle of the request.
    const end = this.now();
    const until = Date.parse(body.until);
    const offset = Number.isFinite(until) ? until - (start + end) / 2 : 0;
    this.deliver(uid, resource, body.values, Math.abs(offset) < 1000 ? 0 : offset);
  }

  note(text) {
    if (this.told) return;
    this.told = true;
    this.log.info(`aiot: charts start empty where the dashboard has no history: ${text}`);
  }
}
