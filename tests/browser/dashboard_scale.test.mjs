// The page with 300 real CoAP nodes (coap-test-node --nodes 300 through the
// real aiot-coap-gateway and aiot-broker, temperature and pressure every
// second, an LED each) in headless chromium: every node is listed, the page
// stays interactive (no long task, a bounded main-thread load), filtering is
// quick, cards off screen draw when scrolled to, and an LED still works.
// Bounded: 300 nodes, about 30 s. Run by ctest (tests/e2e/dashboard).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Daemon, eventually, freeTcpPort, freeUdpPort, launchBrowser, mainThreadTasks, newPage, startTrace, tempDir, testEnv,
  writeKeyFile,
} from './lib/harness.mjs';

const env = testEnv(['AIOT_BROKER', 'AIOT_DASHBOARD', 'AIOT_WEB_DIR', 'AIOT_ARTIFACTS', 'AIOT_COAP_GATEWAY',
  'AIOT_COAP_TEST_NODE']);
const NODES = 300;
const dir = tempDir('aiot-dashboard-scale-');
fs.mkdirSync(env.AIOT_ARTIFACTS, { recursive: true });
const daemons = [];
let browser;
let page;

const card = (uid) => page.locator(`[data-testid="node-card"][data-uid="${uid}"]`);

before(async () => {
  const keys = writeKeyFile(path.join(dir, 'keys'));
  const brokerPort = await freeTcpPort();
  const webPort = await freeTcpPort();
  const coapPort = await freeUdpPort();
  const nodePort = await freeUdpPort('127.0.3.1');
  const broker = new Daemon('aiot-broker', env.AIOT_BROKER,
    ['--broker-port', String(brokerPort), '--key-file', keys.file], path.join(dir, 'broker.log'));
  daemons.push(broker);
  await broker.waitForPort(brokerPort);
  const dashboard = new Daemon('aiot-dashboard', env.AIOT_DASHBOARD,
    ['--web-port', String(webPort), '--broker-port', String(brokerPort), '--static-path', env.AIOT_WEB_DIR,
      '--history-db', path.join(dir, 'history.db')],
    path.join(dir, 'dashboard.log'));
  daemons.push(dashboard);
  await dashboard.waitForPort(webPort);
  daemons.push(new Daemon('aiot-coap-gateway', env.AIOT_COAP_GATEWAY,
    ['--broker-port', String(brokerPort), '--key-file', keys.file, '--coap-bind', '127.0.0.1',
      '--coap-port', String(coapPort), '--node-port', String(nodePort), '--max-time', '60'],
    path.join(dir, 'coap-gateway.log')));
  browser = await launchBrowser();
  page = await newPage(browser);
  await page.goto(`http://127.0.0.1:${webPort}/`);
  await page.locator('[data-testid="connection-state"][data-state="open"]').waitFor({ timeout: 15000 });
  // The nodes start once the page is there: it sees them arrive.
  daemons.push(new Daemon('coap-test-node', env.AIOT_COAP_TEST_NODE,
    ['--gateway-host', '127.0.0.1', '--gateway-port', String(coapPort), '--node-host', '127.0.3.1',
      '--node-port', String(nodePort), '--nodes', String(NODES), '--uid', 'scale', '--temperature', '--pressure',
      '--led', '--value-interval', '1', '--alive-interval', '10'],
    path.join(dir, 'coap-test-node.log')));
});

after(async () => {
  if (browser) await browser.close();
  for (const d of daemons.reverse()) await d.stop();
});

// The node list is windowed: its length is data-count (and each item's
// aria-setsize), the items drawn are those near the panel's viewport.
const list = () => page.locator('#node-list');
const named = () => page.evaluate(() => [...window.aiotDashboard.cards.values()]
  .filter((c) => c.name.startsWith('CoAP test node')).length);

test(`all ${NODES} nodes are listed, in natural order`, async () => {
  const started = Date.now();
  await eventually(async () => (await list().getAttribute('data-count')) === String(NODES) &&
    (await named()) === NODES, `${NODES} named nodes in the list`, 45000, 250);
  console.log(`# ${NODES} nodes listed ${Date.now() - started} ms after the test nodes started`);
  await eventually(async () => (await page.locator('#node-list li .item-name').first().textContent()) === 'CoAP test node 1',
    'the list drawn with the names', 5000);
  const drawn = await page.locator('#node-list li').evaluateAll((items) => items.map((li) => ({
    name: li.querySelector('.item-name').textContent, pos: li.getAttribute('aria-posinset'), size: li.getAttribute('aria-setsize'),
  })));
  assert.ok(drawn.length >= 12 && drawn.length < NODES / 2, `${drawn.length} items drawn (windowed)`);
  assert.deepEqual(drawn.slice(0, 12).map((d) => d.name), Array.from({ length: 12 }, (_, i) => `CoAP test node ${i + 1}`));
  assert.deepEqual(drawn.slice(0, 3).map((d) => [d.pos, d.size]), [['1', String(NODES)], ['2', String(NODES)], ['3', String(NODES)]]);
  assert.match(await page.locator('#node-count').textContent(), new RegExp(`^${NODES} nodes`));
  // The cards are in chunks of whole rows (a change lays out one chunk).
  const chunks = await page.locator('#nodes > .card-chunk').evaluateAll((cs) => cs.map((c) => c.children.length));
  assert.equal(chunks.reduce((a, b) => a + b, 0), NODES, `every card in a chunk: ${chunks}`);
  assert.ok(chunks.length > 1 && Math.max(...chunks) <= 64, `chunks of ${chunks}`);
  // Scrolled to its end, the list draws its last items.
  await page.locator('#sidebar').evaluate((s) => { s.scrollTop = s.scrollHeight; });
  const last = page.locator(`#node-list li[aria-posinset="${NODES}"] .item-name`);
  await last.waitFor({ timeout: 5000 });
  assert.equal(await last.textContent(), `CoAP test node ${NODES}`);
  await page.locator('#sidebar').evaluate((s) => { s.scrollTop = 0; });
  await page.locator('#node-list li[aria-posinset="1"]').waitFor({ timeout: 5000 });
});

test('with every node sending, the page stays interactive', async () => {
  await page.evaluate(() => {
    window.aiotLongTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.aiotLongTasks.push(Math.round(e.duration));
    }).observe({ type: 'longtask' });
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const trace = await startTrace(cdp);
  const metric = async (name) => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === name).value;
  // ThreadTime: the main thread's CPU time (unlike task wall time, not
  // inflated when the machine is busy with other work).
  const cpu0 = await metric('ThreadTime');
  const t0 = Date.now();
  // 5 s of 600 values a second; the page answers a click meanwhile.
  const input = page.locator('[data-testid="node-search"]');
  const latencies = [];
  while (Date.now() - t0 < 5000) {
    const before = Date.now();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    latencies.push(Date.now() - before);
  }
  const busy = (await metric('ThreadTime')) - cpu0;
  const wall = (Date.now() - t0) / 1000;
  const tasks = mainThreadTasks(await trace.stop());
  const longTasks = await page.evaluate(() => window.aiotLongTasks);
  const heap = await metric('JSHeapUsedSize');
  const maxCpu = Math.max(0, ...tasks.map((t) => t.cpu));
  const heavy = tasks.filter((t) => t.cpu > 50).map((t) => `${t.cpu.toFixed(0)} (wall ${t.wall.toFixed(0)})`);
  console.log(`# main thread CPU ${(100 * busy / wall).toFixed(1)} %, ${tasks.length} tasks, longest ` +
    `${maxCpu.toFixed(1)} ms of CPU, tasks over 50 ms of CPU [${heavy}], long tasks (wall) ` +
    `${JSON.stringify(longTasks)}, frame wait max ${Math.max(...latencies)} ms, JS heap ${(heap / 1e6).toFixed(1)} MB`);
  assert.ok(busy / wall < 0.6, `main thread CPU ${(100 * busy / wall).toFixed(1)} %`);
  assert.ok(tasks.length > 50, `${tasks.length} main-thread tasks traced`);
  // Interactive: no task does more than 200 ms of the page's own work. Its
  // CPU time is asserted, not its wall time: the test shares two cores with
  // the sanitized daemons and other tests, and a long task's wall time then
  // counts the time the renderer waited for a core (a CI run saw a 558 ms
  // long task while the main thread used 8.5 % of a core). bench/dashboard_page
  // measures the 100 ms wall-time target on a quiet machine.
  assert.ok(maxCpu < 200, `a main-thread task used ${maxCpu.toFixed(0)} ms of CPU: [${heavy}]`);
  assert.ok(heap < 150e6, `JS heap ${heap}`);
  await input.focus();
});

test('filtering "node 42" shows its card alone, quickly', async () => {
  const input = page.locator('[data-testid="node-search"]');
  const ms = await input.evaluate((el) => new Promise((resolve) => {
    const start = performance.now();
    el.value = 'node 42';
    el.dispatchEvent(new Event('input', { bubbles: true }));
    requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - start)));
  }));
  console.log(`# filter to "node 42" painted in ${ms.toFixed(1)} ms`);
  assert.ok(ms < 500, `${ms} ms`);
  // The cards the filter hides are out of the DOM, the list has one item.
  assert.equal(await page.locator('[data-testid="node-card"]').count(), 1, 'one card in the page');
  assert.equal(await list().getAttribute('data-count'), '1');
  assert.equal(await page.locator('#node-list li').count(), 1);
  const shown = page.locator('[data-testid="node-card"]:visible');
  assert.equal(await shown.count(), 1);
  assert.equal(await shown.locator('h2').textContent(), 'CoAP test node 42');
  // Its LED reaches the real node and comes back.
  const toggle = shown.locator('[data-testid="led-toggle"]');
  const wasOn = (await toggle.getAttribute('aria-checked')) === 'true';
  await toggle.click();
  await eventually(async () => (await toggle.getAttribute('aria-checked')) === String(!wasOn), 'the LED switched', 15000);
  await page.screenshot({ path: path.join(env.AIOT_ARTIFACTS, 'scale-filter.png') });
  await input.fill('');
  await eventually(async () => (await page.locator('[data-testid="node-card"]').count()) === NODES, 'all cards back', 10000);
  const order = await page.locator('[data-testid="node-card"] h2').evaluateAll((hs) => hs.map((h) => h.textContent));
  assert.deepEqual(order, Array.from({ length: NODES }, (_, i) => `CoAP test node ${i + 1}`), 'back in natural order');
  assert.equal(await list().getAttribute('data-count'), String(NODES));
});

test('a card far down draws its values and chart when scrolled to', async () => {
  const last = card(`scale-${NODES}`);
  assert.equal(await last.locator('canvas').count(), 0, 'nothing drawn off screen yet');
  await last.scrollIntoViewIfNeeded();
  await last.locator('[data-testid="resource"][data-resource="temperature"][data-value]').waitFor({ timeout: 10000 });
  await eventually(() => last.locator('[data-resource="temperature"] canvas')
    .evaluate((c) => Number(c.dataset.points) >= 2), 'its chart with history', 10000);
  await page.screenshot({ path: path.join(env.AIOT_ARTIFACTS, 'scale-bottom.png') });
  // History is asked for the charts that came near the screen only, once
  // each, a few at a time: far fewer requests than the nodes' charts.
  const asked = await page.evaluate(() => {
    const h = window.aiotDashboard.history;
    return { requests: h.requests, running: h.running, charts: [...h.asked.values()].reduce((n, s) => n + s.size, 0) };
  });
  console.log(`history requests after the scroll: ${JSON.stringify(asked)}`);
  assert.ok(asked.running <= 4, 'at most 4 at a time');
  assert.ok(asked.requests <= asked.charts, 'once per chart');
  assert.ok(asked.requests < NODES, `${asked.requests} requests for ${NODES} nodes`);
});
