#!/usr/bin/env node
// The dashboard page under load, in Debian's chromium (headless, driven by
// playwright-core from tests/browser/node_modules): aiot-broker,
// aiot-dashboard and aiot-coap-gateway on free loopback ports, coap-test-node
// playing N nodes (temperature and pressure every second, an LED) and M IMU
// nodes (5 readings a second). Run by hand; figures in docs/PERFORMANCE.md.
//
//   node bench/dashboard_page/run.mjs [--build build-rel] [--nodes 1000]
//        [--imu-nodes 100] [--seconds 30] [--layout full|compact] [--profile 1]
//        [--baseline 0] [--trace 1] [--threads 1] [--web DIR]
//
// Reports, for a page opened once every node is known (the gateways' replay
// is the snapshot): time from the first message to 50 cards and to every
// node listed (when the list's data-count reached every node, seen by a
// MutationObserver; also when the bench's polling saw it); then over --seconds of steady load: main-thread busy share
// (CDP Performance: ThreadTime, the main thread's CPU time, and TaskDuration,
// the wall time of its tasks, which a loaded machine inflates), long tasks
// (PerformanceObserver), JS heap;
// then the time from typing "node 42" in the filter to the next paint (six
// times, with the time back to every node between); then the LED round trip
// (a click on a card's switch to the node's answer on the page, ten times).
// --threads 1 then traces 10 s more and prints the CPU time of every
// thread of the browser (renderer, browser, GPU process) and what it spent
// it on, and the page's compositor layers: where the load goes outside the
// page's main thread.
// --web serves another copy of the page (to compare two versions back to
// back). --trace 1 records a devtools timeline trace of the steady state and
// another of the filter, and prints for each the tasks over 50 ms with what
// they spent their time on (script, style, layout, paint...) and their CPU
// time (a task with little CPU for its wall time waited for a core).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Daemon, eventually, freeTcpPort, freeUdpPort, launchBrowser, mainThreadEvents, newPage, startTrace, tempDir,
  writeKeyFile,
} from '../../tests/browser/lib/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = {
  build: 'build-rel', nodes: 1000, 'imu-nodes': 100, seconds: 30, layout: 'full', profile: 0, baseline: 1, trace: 0,
  threads: 0, web: '',
};
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '');
  if (!(key in args)) {
    console.error(`unknown option ${process.argv[i]}`);
    process.exit(2);
  }
  args[key] = typeof args[key] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const total = args.nodes + args['imu-nodes'];
const bin = (sub, name) => path.resolve(root, args.build, sub, name);
const exe = {
  broker: bin('src/broker', 'aiot-broker'),
  dashboard: bin('src/dashboard', 'aiot-dashboard'),
  gateway: bin('src/gateways/coap', 'aiot-coap-gateway'),
  node: bin('utils/coap-test-node', 'coap-test-node'),
};
for (const f of Object.values(exe)) {
  if (!fs.existsSync(f)) {
    console.error(`${f} is missing: build it first (see docs/PERFORMANCE.md)`);
    process.exit(2);
  }
}

const dir = tempDir('aiot-bench-page-');
const daemons = [];
let browser;
const log = (text) => console.log(text);

async function main() {
  const keys = writeKeyFile(path.join(dir, 'keys'));
  const brokerPort = await freeTcpPort();
  const webPort = await freeTcpPort();
  const coapPort = await freeUdpPort();
  const nodePort = await freeUdpPort('127.0.4.1');
  const start = (name, file, argv) => {
    const d = new Daemon(name, file, argv, path.join(dir, `${name}.log`));
    daemons.push(d);
    return d;
  };
  const broker = start('broker', exe.broker, ['--broker-port', String(brokerPort), '--key-file', keys.file]);
  await broker.waitForPort(brokerPort);
  const dash = start('dashboard', exe.dashboard, ['--web-port', String(webPort), '--broker-port', String(brokerPort),
    '--static-path', args.web ? path.resolve(args.web) : path.join(root, 'web'), '--history-db', path.join(dir, 'history.db')]);
  await dash.waitForPort(webPort);
  start('gateway', exe.gateway, ['--broker-port', String(brokerPort), '--key-file', keys.file, '--coap-bind', '127.0.0.1',
    '--coap-port', String(coapPort), '--node-port', String(nodePort), '--max-time', '120']);
  const common = ['--gateway-host', '127.0.0.1', '--gateway-port', String(coapPort), '--node-port', String(nodePort)];
  start('nodes', exe.node, [...common, '--node-host', '127.0.4.1', '--nodes', String(args.nodes), '--uid', 'bench',
    '--temperature', '--pressure', '--led', '--value-interval', '1']);
  if (args['imu-nodes'] > 0) {
    start('imu-nodes', exe.node, [...common, '--node-host', '127.0.9.1', '--nodes', String(args['imu-nodes']),
      '--uid', 'imu', '--imu', '--imu-interval', '0.2']);
  }
  browser = await launchBrowser();

  // A first page waits until the gateway knows every node.
  const t0 = Date.now();
  const warm = await newPage(browser);
  await warm.goto(`http://127.0.0.1:${webPort}/`);
  await eventually(async () => (await warm.evaluate(listedCount)) >= total, `${total} nodes known`, 120000, 500);
  log(`${total} nodes announced and discovered after ${((Date.now() - t0) / 1000).toFixed(1)} s (a page watching)`);
  await warm.context().close();

  // The floor: a bare websocket client of the broker in the same browser,
  // doing nothing with the messages (what receiving them costs). It asks
  // for batches as the page does (web/js/model.js, BATCH_MS).
  if (args.baseline) {
    const bare = await newPage(browser);
    await bare.goto(`http://127.0.0.1:${webPort}/favicon.svg`);
    const bcdp = await bare.context().newCDPSession(bare);
    await bcdp.send('Performance.enable');
    await bare.evaluate((port) => new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?batch=16`);
      window.received = 0;
      // The replay as a bare client gets it: first message to the last node
      // announced for the first time (what the page's socket cannot beat).
      window.announced = new Set();
      ws.onopen = () => { ws.send(JSON.stringify({ type: 'new', data: 'client' })); resolve(); };
      ws.onmessage = (e) => {
        if (!window.firstAt) window.firstAt = performance.now();
        for (const text of e.data.split('\n')) {
          window.received += 1;
          if (!/"type":\s*"new"/.test(text)) continue;
          const { uid } = JSON.parse(text);
          if (!window.announced.has(uid)) {
            window.announced.add(uid);
            window.lastNewAt = performance.now();
          }
        }
      };
    }), brokerPort);
    const replayed = await eventually(async () => (await bare.evaluate(() => window.announced.size)) >= total,
      'the replay to a bare client', 60000, 100).then(() => true, () => false);
    const replay = await bare.evaluate(() => [window.announced.size, window.lastNewAt - window.firstAt]);
    log(`floor: a bare websocket client has the replay of ${replay[0]} nodes${replayed ? '' : ' (not all)'} ` +
      `${replay[1].toFixed(0)} ms after its first message`);
    await new Promise((r) => setTimeout(r, 1000)); // past the snapshot
    const get = async () => Object.fromEntries((await bcdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const b0 = await get();
    const n0 = await bare.evaluate(() => window.received);
    const bw0 = Date.now();
    await new Promise((r) => setTimeout(r, 10000)); // the measurement window
    const b1 = await get();
    const n1 = await bare.evaluate(() => window.received);
    const bw = (Date.now() - bw0) / 1000;
    log(`floor: a bare websocket client receives ${((n1 - n0) / bw).toFixed(0)} messages/s with ` +
      `${(100 * (b1.ThreadTime - b0.ThreadTime) / bw).toFixed(1)} % main thread CPU`);
    await bare.context().close();
  }

  // The measured page: everything arrives as the gateway's snapshot.
  const page = await newPage(browser, { viewport: { width: 1440, height: 900 } });
  await page.addInitScript(([layout, n]) => {
    localStorage.setItem('aiot-settings', JSON.stringify({ view: layout }));
    // When the node list's length reaches every node, taken as the page sets
    // it (polling from here adds the round trips of a loaded machine).
    new MutationObserver(() => {
      const list = document.getElementById('node-list');
      if (!window.aiotListedAt && list && Number(list.dataset.count) >= n) window.aiotListedAt = performance.now();
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-count'] });
    window.aiotLongTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.aiotLongTasks.push({ at: e.startTime, ms: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    // Frames that took over 100 ms (Long Animation Frames): where the time
    // went (the scripts by name, then the rendering), for the steady state.
    window.aiotLongFrames = [];
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          if (e.duration <= 100) continue;
          window.aiotLongFrames.push({
            at: e.startTime,
            ms: Math.round(e.duration),
            blocking: Math.round(e.blockingDuration),
            render: Math.round(e.renderStart ? e.startTime + e.duration - e.renderStart : 0),
            layout: Math.round(e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0),
            scripts: e.scripts.map((x) => `${x.invoker || '?'}` +
              `${x.sourceFunctionName ? ` ${x.sourceFunctionName}@${(x.sourceURL || '').split('/').pop()}:${x.sourceCharPosition}` : ''}` +
              ` ${Math.round(x.duration)}` +
              `${x.forcedStyleAndLayoutDuration ? ` (forced layout ${Math.round(x.forcedStyleAndLayoutDuration)})` : ''}`),
          });
        }
      }).observe({ type: 'long-animation-frame', buffered: true });
    } catch {
      // no Long Animation Frames in this browser
    }
  }, [args.layout, total]);
  await page.goto(`http://127.0.0.1:${webPort}/`);
  const at = (name) => page.evaluate((n) => performance.getEntriesByName(n)[0]?.startTime ?? null, name);
  await page.waitForFunction(() => performance.getEntriesByName('aiot:50-cards').length > 0, null, { timeout: 60000 });
  const storedAt = await page.evaluate((n) => new Promise((resolve) => {
    const check = () => (window.aiotDashboard && window.aiotDashboard.store.size >= n
      ? resolve(performance.now()) : setTimeout(check, 5));
    check();
  }), total);
  await page.waitForFunction((n) => {
    const list = document.getElementById('node-list'); // as listedCount() (no eval: the page's CSP)
    return (list.dataset.count !== undefined ? Number(list.dataset.count) : list.querySelectorAll('li').length) >= n;
  }, total, { timeout: 60000, polling: 'raf' });
  const [listedAt, polledAt] = await page.evaluate(() => [window.aiotListedAt ?? NaN, performance.now()]);
  // When every card is made (the page makes them in slices between frames,
  // after the list), noted by the page without waiting for it here: the
  // steady state is measured from the list on.
  await page.evaluate((n) => {
    const check = () => {
      const d = window.aiotDashboard;
      if (d.cards.size >= n && !d.makeScheduled) window.aiotMadeAt = performance.now();
      else requestAnimationFrame(check);
    };
    check();
  }, total);
  const first = await at('aiot:first-message');
  const fifty = await at('aiot:50-cards');
  // Upstream: the replay reaching the page (first to last `new` received);
  // the page: from the last `new` to the last node listed.
  // (received: by the socket's worker, before the page's main thread saw
  // it; pages without the worker have only the main thread's time.)
  const [lastNew, received] = await page.evaluate(() => [window.aiotDashboard.lastNewAt,
    window.aiotDashboard.connection.lastNewReceived || 0]);
  const upstream = received || lastNew;
  log(`snapshot: 50 cards ${(fifty - first).toFixed(0)} ms after the first message; all ${total} announced ` +
    `(store) after ${(storedAt - first).toFixed(0)} ms, listed after ${(listedAt - first).toFixed(0)} ms ` +
    `(upstream: last \`new\` received ${(upstream - first).toFixed(0)} ms after the first message` +
    `${received ? `, handled by the page ${(lastNew - first).toFixed(0)} ms after it` : ''}; ` +
    `page: listed ${(listedAt - upstream).toFixed(0)} ms after it; the bench's polling saw it ` +
    `${(polledAt - first).toFixed(0)} ms after the first message)`);
  const snapshotLong = await page.evaluate(() => window.aiotLongTasks.map((t) => Math.round(t.ms)));
  log(`long tasks while loading: ${snapshotLong.length} (longest ${Math.max(0, ...snapshotLong)} ms)`);
  for (const f of await page.evaluate(() => window.aiotLongFrames)) {
    log(`  loading: frame of ${f.ms} ms (blocking ${f.blocking}; rendering ${f.render}, of which style and layout ` +
      `${f.layout}): ${f.scripts.join(', ') || 'no script'}`);
  }

  // Steady state.
  const steadyFrom = await page.evaluate(() => {
    window.aiotLongTasks = [];
    window.aiotLongFrames = [];
    return performance.now();
  });
  const cdp = await page.context().newCDPSession(page);
  const tracing = args.trace ? await startTrace(cdp, ['v8.execute']) : null;
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  if (args.profile) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
  }
  const c0 = daemonCpu();
  const m0 = await metrics();
  const w0 = Date.now();
  await new Promise((r) => setTimeout(r, args.seconds * 1000)); // the measurement window itself
  const m1 = await metrics();
  const c1 = daemonCpu();
  if (args.profile) {
    const { profile } = await cdp.send('Profiler.stop');
    const self = new Map();
    const dt = new Map();
    profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) || 0) + (profile.timeDeltas[i] || 0)));
    for (const n of profile.nodes) {
      const f = n.callFrame;
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
      self.set(key, (self.get(key) || 0) + (dt.get(n.id) || 0));
    }
    const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
    for (const [k, us] of top) log(`  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  }
  const wall = (Date.now() - w0) / 1000;
  const steadyTrace = tracing ? await tracing.stop() : null;
  const steadyTasks = await page.evaluate(() => window.aiotLongTasks);
  const steadyLong = steadyTasks.map((t) => Math.round(t.ms));
  const longFrames = await page.evaluate(() => window.aiotLongFrames);
  const busy = (m1.TaskDuration - m0.TaskDuration) / wall;
  const script = (m1.ScriptDuration - m0.ScriptDuration) / wall;
  const layout = (m1.LayoutDuration - m0.LayoutDuration) / wall;
  const style = (m1.RecalcStyleDuration - m0.RecalcStyleDuration) / wall;
  const cpu = m1.ThreadTime !== undefined ? (m1.ThreadTime - m0.ThreadTime) / wall : NaN;
  const proc = m1.ProcessTime !== undefined ? (m1.ProcessTime - m0.ProcessTime) / wall : NaN;
  log(`steady ${wall.toFixed(0)} s: main thread CPU ${(cpu * 100).toFixed(1)} % (renderer process ${(proc * 100).toFixed(1)} %); ` +
    `tasks ${(busy * 100).toFixed(1)} % of wall time (script ${(script * 100).toFixed(1)} %, ` +
    `style ${(style * 100).toFixed(1)} %, layout ${(layout * 100).toFixed(1)} %); long tasks ${steadyLong.length}` +
    `${steadyLong.length ? ` (longest ${Math.max(...steadyLong)} ms)` : ''}; JS heap ${(m1.JSHeapUsedSize / 1e6).toFixed(1)} MB; ` +
    `DOM nodes ${m1.Nodes}`);
  log(`daemons' CPU over the steady state: ${[...c1.keys()].map((name) =>
    `${name} ${((c1.get(name) - (c0.get(name) ?? 0)) / wall).toFixed(1)} %`).join(', ')} (of a core)`);
  const madeAt = await page.evaluate(() => window.aiotMadeAt ?? NaN);
  log(`  every card made ${((madeAt - steadyFrom) / 1000).toFixed(1)} s after the steady state began`);
  if (steadyTasks.length) {
    log(`  long tasks (ms at s after the steady state began): ${steadyTasks.map((t) =>
      `${Math.round(t.ms)} at ${((t.at - steadyFrom) / 1000).toFixed(1)}`).join(', ')}`);
  }
  for (const f of longFrames) {
    log(`  frame of ${f.ms} ms at ${((f.at - steadyFrom) / 1000).toFixed(1)} s (blocking ${f.blocking}; rendering ${f.render}, of which style and layout ${f.layout}): ` +
      `${f.scripts.join(', ') || 'no script'}`);
  }

  if (args.threads) await threadsReport(cdp);

  // Filtering: "node 42", then back to every node, five times (a loaded
  // machine makes single figures noisy); the first time is reported apart.
  const typeFilter = (text) => page.locator('[data-testid="node-search"]').evaluate((el, t) => new Promise((resolve) => {
    const startAt = performance.now();
    el.value = t;
    el.dispatchEvent(new Event('input', { bubbles: true }));
    requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - startAt)));
  }), text);
  if (steadyTrace) summariseTrace(steadyTrace, 'steady state');
  const filterTracing = args.trace ? await startTrace(cdp, ['v8.execute']) : null;
  const f0 = await metrics();
  const fw0 = Date.now();
  const filterMs = await typeFilter('node 42');
  const f1 = await metrics();
  const fw = Date.now() - fw0;
  const shown = await page.locator('[data-testid="node-card"]').count(); // the others are out of the DOM (or hidden)
  const visible = await page.locator('[data-testid="node-card"]:visible').count();
  const part = (name) => (1000 * (f1[name] - f0[name])).toFixed(0);
  log(`filter "node 42": next paint after ${filterMs.toFixed(1)} ms, ${visible} card(s) shown, ${shown} in the page ` +
    `(in the ${fw} ms around it, messages included: script ` +
    `${part('ScriptDuration')} ms, style ${part('RecalcStyleDuration')} ms, layout ${part('LayoutDuration')} ms)`);
  const filters = [filterMs];
  const clears = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    clears.push(await typeFilter(''));
    await new Promise((r) => setTimeout(r, 1000));
    filters.push(await typeFilter('node 42'));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  log(`filter "node 42" x${filters.length}: median ${median(filters).toFixed(0)} ms, max ${Math.max(...filters).toFixed(0)} ms ` +
    `(${filters.map((x) => x.toFixed(0)).join(', ')}); back to every node: median ${median(clears).toFixed(0)} ms, ` +
    `max ${Math.max(...clears).toFixed(0)} ms`);
  if (filterTracing) summariseTrace(await filterTracing.stop(), 'filter');

  // The LED round trip under the load: a click on the first shown card's
  // switch (the filter left "node 42" and its kin) to its answer on the
  // page (the switch's aria-checked), through the broker, the gateway and
  // the CoAP node; ten times.
  const trips = [];
  for (let i = 0; i < 10; i++) {
    trips.push(await page.locator('[data-testid="led-toggle"]').first().evaluate((button) => new Promise((resolve, reject) => {
      const before = button.getAttribute('aria-checked');
      const startAt = performance.now();
      const timer = setTimeout(() => reject(new Error('no LED answer within 5 s')), 5000);
      new MutationObserver((_, observer) => {
        if (button.getAttribute('aria-checked') === before) return;
        observer.disconnect();
        clearTimeout(timer);
        resolve(performance.now() - startAt);
      }).observe(button, { attributes: true, attributeFilter: ['aria-checked'] });
      button.click();
    })));
  }
  log(`LED round trip x${trips.length}: median ${median(trips).toFixed(1)} ms, max ${Math.max(...trips).toFixed(1)} ms ` +
    `(${trips.map((x) => x.toFixed(0)).join(', ')})`);
  await page.screenshot({ path: path.join(dir, 'page.png') });
  log(`logs and a screenshot in ${dir}`);
}

// CPU time (user + system, in hundredths of a second: percent of a core
// over a second) of each daemon the bench started, by name.
function daemonCpu() {
  const out = new Map();
  for (const d of daemons) {
    try {
      const fields = fs.readFileSync(`/proc/${d.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(d.name, Number(fields[11]) + Number(fields[12])); // utime, stime (fields 14 and 15)
    } catch {
      // exited
    }
  }
  return out;
}

// --threads: the page's layers, then 10 s of every browser thread's CPU
// time (top-level events' thread time) and the events it went to.
async function threadsReport(cdp) {
  await cdp.send('LayerTree.enable');
  const layers = await new Promise((resolve) => cdp.once('LayerTree.layerTreeDidChange', (e) => resolve(e.layers || [])));
  await cdp.send('LayerTree.disable');
  log(`layers: ${layers.length}, ${layers.filter((l) => l.drawsContent).length} drawing content`);
  const tracing = await startTrace(cdp, ['cc', 'viz', 'toplevel', 'gpu', 'blink', 'renderer.scheduler']);
  await new Promise((r) => setTimeout(r, 10000));
  const events = await tracing.stop();
  const names = new Map();
  const processes = new Map();
  const byThread = new Map();
  for (const e of events) {
    const key = `${e.pid}/${e.tid}`;
    if (e.name === 'thread_name') names.set(key, e.args.name);
    if (e.name === 'process_name') processes.set(e.pid, e.args.name);
    if (e.ph !== 'X' || e.dur === undefined) continue;
    if (!byThread.has(key)) byThread.set(key, []);
    byThread.get(key).push(e);
  }
  const rows = [];
  for (const [key, list] of byThread) {
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    let end = -Infinity;
    let cpu = 0;
    const spent = new Map();
    for (const e of list) {
      if (e.ts >= end) { // top level: not inside the previous top-level event
        end = e.ts + e.dur;
        cpu += e.tdur ?? 0;
      }
      spent.set(e.name, (spent.get(e.name) || 0) + (e.tdur ?? 0));
    }
    const top = [...spent.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6)
      .map(([n, us]) => `${n} ${(us / 1000).toFixed(0)}`).join(', ');
    const pid = Number(key.split('/')[0]);
    rows.push([cpu, `${processes.get(pid) || pid} ${names.get(key) || key}: ${(cpu / 1e5).toFixed(1)} % of a core | ${top}`]);
  }
  rows.sort((a, b) => b[0] - a[0]);
  log('threads over 10 s (CPU; then the events, nested ones counted in their parents too, in ms):');
  for (const [, row] of rows.slice(0, 10)) log(`  ${row}`);
}

// How many nodes the page lists (in the page): the windowed list says it in
// data-count; an older page has one item per node.
function listedCount() {
  const list = document.getElementById('node-list');
  return list.dataset.count !== undefined ? Number(list.dataset.count) : list.querySelectorAll('li').length;
}

// The main thread's tasks over 50 ms, each with the self time of the events
// inside it by name (complete events only; good enough to see where a long
// task goes).
function summariseTrace(events, what) {
  const mine = mainThreadEvents(events).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const tasks = mine.filter((e) => e.name === 'RunTask' && e.dur > 50000);
  const totals = new Map();
  log(`trace of the ${what}: ${tasks.length} task(s) over 50 ms`);
  for (const task of tasks) {
    const end = task.ts + task.dur;
    const inside = mine.filter((e) => e !== task && e.ts >= task.ts && e.ts + e.dur <= end);
    const self = new Map();
    // Self time: an event's duration minus its direct children's.
    const stack = [];
    for (const e of inside) {
      while (stack.length && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= e.ts) stack.pop();
      if (stack.length) {
        const parent = stack[stack.length - 1];
        self.set(parent, (self.get(parent) ?? parent.dur) - e.dur);
      }
      if (!self.has(e)) self.set(e, e.dur);
      stack.push(e);
    }
    const byName = new Map();
    for (const [e, us] of self) {
      const key = e.name === 'FunctionCall' && e.args?.data?.functionName ? `FunctionCall ${e.args.data.functionName}` : e.name;
      byName.set(key, (byName.get(key) || 0) + us);
      totals.set(key, (totals.get(key) || 0) + us);
    }
    const top = [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6)
      .map(([k, us]) => `${k} ${(us / 1000).toFixed(0)}`).join(', ');
    log(`  ${(task.dur / 1000).toFixed(0).padStart(5)} ms (cpu ${((task.tdur ?? 0) / 1000).toFixed(0)}): ${top}`);
  }
  const top = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10)
    .map(([k, us]) => `${k} ${(us / 1000).toFixed(0)} ms`).join(', ');
  if (tasks.length) log(`  in all: ${top}`);
}

try {
  await main();
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  for (const d of daemons.reverse()) await d.stop();
}
