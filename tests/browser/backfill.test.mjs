// Charts filled from the dashboard's history: the merge (web/js/model.js)
// and the request queue (web/js/backfill.js), under node's test runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryLoader, historyUrl } from '../../web/js/backfill.js';
import {
  History, NodeStore, mergeOlderPoints, MAX_POINTS, SEAM_MS, WINDOW_MS,
} from '../../web/js/model.js';

const pts = (xs, y = (x) => x) => xs.map((x) => ({ x, y: y(x) }));

test('older points go before the live ones, in order, without duplicates', () => {
  const live = pts([10000, 11000, 12000]);
  const older = pts([7000, 8000, 9000, 10000, 10000 - SEAM_MS + 1, 11000]);
  const merged = mergeOlderPoints(live, older);
  assert.deepEqual(merged.map((p) => p.x), [7000, 8000, 9000, 10000, 11000, 12000]);
  // no live points: all of the history
  assert.deepEqual(mergeOlderPoints([], pts([1, 2, 3])).map((p) => p.x), [1, 2, 3]);
  // nothing older: the live array itself
  assert.equal(mergeOlderPoints(live, pts([10000, 13000])), live);
  // unsorted or repeated input and non-numbers are skipped; two readings
  // recorded in the same millisecond are both kept
  assert.deepEqual(mergeOlderPoints(live, [{ x: 5, y: 1 }, { x: 4, y: 1 }, { x: 5, y: 1 }, { x: 6, y: NaN }])
    .map((p) => p.x), [5, 10000, 11000, 12000]);
  assert.deepEqual(mergeOlderPoints(live, [{ x: 5, y: 1 }, { x: 5, y: 2 }, { x: 6, y: 3 }])
    .map((p) => [p.x, p.y]), [[5, 1], [5, 2], [6, 3], [10000, 10000], [11000, 11000], [12000, 12000]]);
});

test('a replayed live value that repeats the newest history point is dropped', () => {
  const live = [{ x: 20000, y: 21, replayed: true }, { x: 21000, y: 22 }];
  assert.deepEqual(mergeOlderPoints(live, pts([18000, 19000], () => 21)).map((p) => p.x), [18000, 19000, 21000]);
  // a replayed value that differs is kept, and so is a new reading equal to the last one
  const other = [{ x: 20000, y: 25, replayed: true }];
  assert.equal(mergeOlderPoints(other, pts([19000], () => 21)).length, 2);
  assert.equal(mergeOlderPoints([{ x: 20000, y: 21 }], pts([19000], () => 21)).length, 2);
});

test('the merge keeps the bounds of a history', () => {
  const live = pts([WINDOW_MS * 2]);
  const older = pts(Array.from({ length: 500 }, (_, i) => WINDOW_MS * 2 - 1000 - i * 1000).reverse());
  const merged = mergeOlderPoints(live, older);
  assert.equal(merged.length, MAX_POINTS);
  assert.equal(merged[merged.length - 1].x, WINDOW_MS * 2);
  const sparse = pts([0, WINDOW_MS / 2, WINDOW_MS - 1000, WINDOW_MS + 10]);
  assert.deepEqual(mergeOlderPoints(pts([WINDOW_MS + 100]), sparse).map((p) => p.x),
    [WINDOW_MS / 2, WINDOW_MS - 1000, WINDOW_MS + 100]);
  const h = new History(['t']);
  h.push1(50000, 3);
  const v = h.version;
  assert.equal(h.mergeOlder([pts([40000, 45000])]), true);
  assert.ok(h.version > v);
  assert.equal(h.mergeOlder([pts([40000])]), false);
});

test('the store merges a history answer into a chart and marks the node changed', () => {
  const store = new NodeStore();
  store.beginResync();
  store.apply({ type: 'new', uid: 'n1' }, 100000);
  store.apply({ type: 'update', uid: 'n1', endpoint: 'temperature', data: '21.5°C' }, 100000);
  store.endResync(100001);
  store.takeChanged(() => {});
  const values = [
    { t: 97000 + 5000, text: '20.25°C', value: 20.25 },
    { t: 98000 + 5000, text: '21.5°C', value: 21.5 },
    { t: 99000 + 5000, text: 'n/a', value: null },
  ];
  // the server's clock is 5 s ahead of the page's
  assert.equal(store.backfill('n1', 'temperature', values, 5000), true);
  const h = store.node('n1').history.get('temperature');
  // the replayed 21.5 at 100000 is the reading of 98000 again
  assert.deepEqual(h.data[0].map((p) => [p.x, p.y]), [[97000, 20.25], [98000, 21.5]]);
  assert.equal(h.decimals, 2);
  let seen = null;
  store.takeChanged((node) => { seen = [node.uid, [...node.changed]]; });
  assert.deepEqual(seen, ['n1', ['temperature']]);
  assert.equal(store.backfill('nobody', 'temperature', values), false);
  assert.equal(store.backfill('n1', 'temperature', 'bad'), false);
});

test('a chart\'s first value is taken as the replayed one, however late the replay came', () => {
  // The page connected, its resync window closed (a loaded machine), then
  // the gateway's replay came: its cached 21.5 is the recorded 21.5 again.
  const store = new NodeStore();
  store.beginResync();
  store.endResync(1000);
  store.apply({ type: 'new', uid: 'n1' }, 9000);
  store.apply({ type: 'update', uid: 'n1', endpoint: 'temperature', data: '21.5°C' }, 9000);
  const values = [{ t: 5000, text: '21.0°C', value: 21 }, { t: 6000, text: '21.5°C', value: 21.5 }];
  assert.equal(store.backfill('n1', 'temperature', values), true);
  const h = store.node('n1').history.get('temperature');
  assert.deepEqual(h.data[0].map((p) => [p.x, p.y]), [[5000, 21], [6000, 21.5]]);
  // A later reading is a reading, even with the same value.
  store.apply({ type: 'update', uid: 'n1', endpoint: 'temperature', data: '21.5°C' }, 10000);
  assert.equal(h.data[0].length, 3);
  assert.equal(h.data[0][2].replayed, undefined);
});

test('the store merges IMU history into each sensor chart', () => {
  const store = new NodeStore();
  store.apply({ type: 'update', uid: 'i', endpoint: 'imu', data: '{"acc":[1,2,3]}' }, 10000);
  const values = [{ t: 8000, text: '{"acc":[0,0,1]}', value: null }, { t: 9000, text: 'junk', value: null }];
  assert.equal(store.backfill('i', 'imu', values), true);
  assert.deepEqual(store.node('i').history.get('imu:acc').data.map((d) => d.map((p) => p.x)),
    [[8000, 10000], [8000, 10000], [8000, 10000]]);
});

// A fetch that answers history requests when told; api/nodes at once,
// with the nodes `known(uid)` says the dashboard records.
function fakeFetch(known = () => true, all = []) {
  const calls = [];
  const index = { reads: 0 };
  const fetch = (url) => {
    if (url === 'api/nodes') {
      index.reads++;
      const nodes = all.filter(known).map((uid) => ({ uid, key: `ws:${uid}` }));
      return Promise.resolve({ ok: true, status: 200, json: async () => ({ nodes }) });
    }
    return new Promise((resolve, reject) => calls.push({ url, resolve, reject }));
  };
  const answer = (call, status, body) => call.resolve({ ok: status === 200, status, json: async () => body });
  return { calls, fetch, answer, index };
}
const tick = () => new Promise((resolve) => setImmediate(resolve));
async function eventually(check) {
  for (let i = 0; i < 50; i++) {
    if (check()) return;
    await tick();
  }
  assert.fail('never happened');
}

test('the loader asks once per chart, four at a time, only for cards near the screen', async () => {
  const uids = Array.from({ length: 1001 }, (_, i) => `n${i}`);
  const f = fakeFetch((uid) => uid !== 'n1000', uids);
  const near = new Set();
  const delivered = [];
  const loader = new HistoryLoader({
    fetch: f.fetch, wanted: (uid) => near.has(uid), now: () => 1_000_000,
    deliver: (...args) => delivered.push(args), log: { info() {} },
  });
  for (let i = 0; i < 10; i++) near.add(`n${i}`);
  for (let i = 0; i < 1000; i++) {
    loader.want(`n${i}`, 'temperature');
    loader.want(`n${i}`, 'temperature');
  }
  await eventually(() => f.calls.length === 4);
  assert.equal(f.index.reads, 1, 'the list of nodes read once');
  assert.equal(f.calls[0].url, historyUrl('n0', 'temperature', 1_000_000));
  assert.match(f.calls[0].url, /^api\/nodes\/n0\/temperature\/history\?since=100&limit=150$/);
  for (let round = 0; round < 5 && f.calls.some((c) => !c.done); round++) {
    for (const c of f.calls.filter((x) => !x.done)) {
      c.done = true;
      f.answer(c, 200, { until: new Date(1_000_000).toISOString(), values: [{ t: 1, text: '1', value: 1 }] });
    }
    await tick();
  }
  // the ten near the screen, no more; the others are asked again when they come near
  assert.equal(f.calls.length, 10);
  assert.equal(loader.requests, 10);
  assert.equal(delivered.length, 10);
  assert.deepEqual(delivered[0], ['n0', 'temperature', [{ t: 1, text: '1', value: 1 }], 0]);
  near.add('n500');
  loader.want('n500', 'temperature');
  loader.want('n0', 'temperature');
  assert.equal(f.calls.length, 11);
  loader.forget('n0');
  loader.want('n0', 'temperature');
  assert.equal(f.calls.length, 12);
  // a node the dashboard does not record (yet) is not asked (it would be a 404)
  near.add('n1000');
  loader.want('n1000', 'temperature');
  await tick();
  assert.equal(f.calls.length, 12);
  assert.equal(loader.parked.length, 1);
  clearTimeout(loader.indexTimer);
});

test('the loader corrects a server clock that is ahead', async () => {
  const f = fakeFetch(() => true, ['a']);
  let got = null;
  const loader = new HistoryLoader({
    fetch: f.fetch, wanted: () => true, now: () => 50_000, deliver: (...a) => { got = a; }, log: { info() {} },
  });
  loader.want('a', 'temperature');
  await eventually(() => f.calls.length === 1);
  f.answer(f.calls[0], 200, { until: new Date(80_000).toISOString(), values: [] });
  for (let i = 0; i < 5 && !got; i++) await tick();
  assert.equal(got[3], 30_000);
});

test('no history: one console.info, and none asked again once history is off', async () => {
  const f = fakeFetch(() => true, ['a', 'b', 'c', 'd']);
  const infos = [];
  const loader = new HistoryLoader({
    fetch: f.fetch, wanted: () => true, deliver: () => assert.fail('nothing to deliver'),
    log: { info: (t) => infos.push(t) }, concurrency: 1,
  });
  loader.want('a', 'temperature');
  loader.want('b', 'temperature');
  await eventually(() => f.calls.length === 1);
  f.answer(f.calls[0], 404, { error: 'no history for a', status: 404 });
  for (let i = 0; i < 5 && f.calls.length < 2; i++) await tick();
  f.calls[1].reject(new TypeError('Failed to fetch'));
  await tick();
  await tick();
  assert.equal(infos.length, 1);
  assert.match(infos[0], /no history for a/);
  loader.want('c', 'temperature');
  await eventually(() => f.calls.length === 3);
  f.answer(f.calls[2], 404, { error: 'history is off (--no-history)', status: 404 });
  for (let i = 0; i < 5 && !loader.off; i++) await tick();
  assert.equal(loader.off, true);
  loader.want('d', 'temperature');
  assert.equal(f.calls.length, 3);
});
