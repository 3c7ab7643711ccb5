// The dashboard page in a real browser (Debian's chromium, headless, driven
// by playwright-core) against the real aiot-broker and aiot-dashboard. A
// fake gateway (a websocket client of the broker's /gw with a real token)
// plays the nodes; when the real CoAP gateway and coap-test-node are built,
// a real CoAP node is driven from the page too. Screenshots go to
// $AIOT_ARTIFACTS. Run by ctest (tests/e2e/dashboard).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Daemon, FakeGateway, eventually, freeTcpPort, freeUdpPort, launchBrowser, newPage, tempDir,
  testEnv, writeKeyFile,
} from './lib/harness.mjs';

const env = testEnv(['AIOT_BROKER', 'AIOT_DASHBOARD', 'AIOT_WEB_DIR', 'AIOT_ARTIFACTS']);
const coapGateway = process.env.AIOT_COAP_GATEWAY || '';
const coapTestNode = process.env.AIOT_COAP_TEST_NODE || '';
const dir = tempDir('aiot-dashboard-page-');
const artifacts = env.AIOT_ARTIFACTS;
fs.mkdirSync(artifacts, { recursive: true });

const TITLE = 'Lab <b>bold</b> & "quotes"';
const WAIT = 15000;

let keys;
let brokerPort;
let broker;
let dashboard;
let gateway;
let browser;
let page;

function startBroker() {
  return new Daemon('aiot-broker', env.AIOT_BROKER,
    ['--broker-port', String(brokerPort), '--key-file', keys.file, '--debug'],
    path.join(dir, 'broker.log'));
}

async function connectGateway() {
  const gw = new FakeGateway(brokerPort, keys);
  await eventually(async () => {
    try {
      await gw.connect(2000);
      return true;
    } catch {
      return false;
    }
  }, 'the fake gateway to connect to the broker', WAIT, 200);
  return gw;
}

const card = (uid) => page.locator(`[data-testid="node-card"][data-uid="${uid}"]`);
const resource = (uid, name) => card(uid).locator(`[data-testid="resource"][data-resource="${name}"]`);
const connection = () => page.locator('[data-testid="connection-state"]');

async function shot(name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// On failure: a screenshot, the page's console and the daemons' logs.
async function explain(t, fn) {
  try {
    await fn();
  } catch (e) {
    const name = t.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    if (page) await shot(`failed-${name}`).catch(() => {});
    const logs = [
      `--- page console ---\n${page ? page.consoleLines.slice(-40).join('\n') : ''}`,
      `--- broker ---\n${broker ? broker.log().slice(-4000) : ''}`,
      `--- dashboard ---\n${dashboard ? dashboard.log().slice(-2000) : ''}`,
    ].join('\n');
    e.message += `\n${logs}`;
    throw e;
  }
}

before(async () => {
  keys = writeKeyFile(path.join(dir, 'keys'));
  brokerPort = await freeTcpPort();
  broker = startBroker();
  await broker.waitForPort(brokerPort);
  const webPort = await freeTcpPort();
  dashboard = new Daemon('aiot-dashboard', env.AIOT_DASHBOARD,
    ['--web-port', String(webPort), '--broker-port', String(brokerPort), '--static-path',
      env.AIOT_WEB_DIR, '--title', TITLE, '--map-tile-url', 'none',
      '--history-db', path.join(dir, 'history.db')],
    path.join(dir, 'dashboard.log'));
  await dashboard.waitForPort(webPort);
  gateway = await connectGateway();
  browser = await launchBrowser();
  page = await newPage(browser);
  await page.goto(`http://127.0.0.1:${webPort}/`);
});

after(async () => {
  if (browser) await browser.close();
  if (gateway) gateway.close();
  for (const d of [dashboard, broker]) if (d) await d.stop();
});

test('the page connects to the broker and shows its title as text', async (t) => explain(t, async () => {
  await connection().and(page.locator('[data-state="open"]')).waitFor({ timeout: WAIT });
  assert.equal(await page.title(), TITLE);
  assert.equal(await page.locator('#title').textContent(), TITLE);
  assert.equal(await page.locator('#title b').count(), 0, 'no markup from the title');
}));

test('a node card appears with its name and values, and a chart draws', async (t) => explain(t, async () => {
  gateway.addNode('fake-1', {
    protocol: 'WebSocket', name: 'fake-node', board: 'native', os: 'RIOT', led: '0',
    temperature: '21°C', position: '{"lat": 48.7146, "lng": 2.2056}', robot: 's', js: 'print(1)',
  });
  await card('fake-1').waitFor({ timeout: WAIT });
  await resource('fake-1', 'name').and(page.locator('[data-value="fake-node"]')).waitFor({ timeout: WAIT });
  await resource('fake-1', 'board').and(page.locator('[data-value="native"]')).waitFor({ timeout: WAIT });
  // The socket's worker saw the announcement in the broker's bytes
  // ({"type": "new", ...}): the dashboard bench's upstream time rests on it.
  assert.ok(await page.evaluate(() => window.aiotDashboard.connection.lastNewReceived) > 0,
    'the worker noted when the last new came');
  for (const value of ['22°C', '23°C', '22.5°C']) {
    gateway.update('fake-1', 'temperature', value);
    await resource('fake-1', 'temperature').and(page.locator(`[data-value="${value}"]`))
      .waitFor({ timeout: WAIT });
  }
  assert.match(await resource('fake-1', 'temperature').innerText(), /22\.5\s*°C/);
  const points = await eventually(() => resource('fake-1', 'temperature').locator('canvas')
    .evaluate((canvas) => Number(canvas.dataset.points))
    .then((n) => (n >= 4 ? n : 0)), 'four chart points', WAIT);
  assert.ok(points >= 4);
  // The chart has drawn: the canvas is no longer blank.
  const drawn = await resource('fake-1', 'temperature').locator('canvas').evaluate((canvas) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
    return false;
  });
  assert.ok(drawn, 'the chart canvas has pixels');
  await page.locator('#map-card:not([hidden])').waitFor({ timeout: WAIT });
  await shot('node-card');
}));

test('the LED toggle sends the update and shows the answer', async (t) => explain(t, async () => {
  const toggle = card('fake-1').locator('[data-testid="led-toggle"]');
  assert.equal(await toggle.getAttribute('aria-checked'), 'false');
  await toggle.click();
  const write = await gateway.waitFor((m) => m.type === 'update' && m.data && m.data.uid === 'fake-1' &&
    m.data.endpoint === 'led', 'the LED update at the gateway', WAIT);
  assert.deepEqual(write.data, { uid: 'fake-1', endpoint: 'led', payload: '1' });
  assert.equal(typeof write.src, 'string', 'the broker adds the client id');
  gateway.update('fake-1', 'led', '1');
  await resource('fake-1', 'led').and(page.locator('[data-state="on"]')).waitFor({ timeout: WAIT });
  assert.equal(await toggle.getAttribute('aria-checked'), 'true');
  await toggle.click();
  await gateway.waitFor((m) => m.type === 'update' && m.data && m.data.endpoint === 'led' &&
    m.data.payload === '0', 'the LED off update', WAIT);
}));

test('the robot pad and the JavaScript editor send their updates', async (t) => explain(t, async () => {
  const written = (endpoint, payload) => gateway.waitFor((m) => m.type === 'update' && m.data &&
    m.data.uid === 'fake-1' && m.data.endpoint === endpoint && m.data.payload === payload,
  `${endpoint}=${payload} at the gateway`, WAIT);
  await resource('fake-1', 'robot').locator('[data-payload="u"]').click();
  await written('robot', 'u');
  await resource('fake-1', 'robot').locator('[data-payload="s"]').click();
  await written('robot', 's');
  const editor = resource('fake-1', 'js').locator('[data-testid="js-editor"]');
  assert.equal(await editor.inputValue(), 'print(1)');
  const code = 'led.on();\nprint("°C <ok>");';
  await editor.fill(code);
  await resource('fake-1', 'js').locator('[data-testid="js-send"]').click();
  await written('js', code);
}));

test('the resource filter hides a resource on the cards', async (t) => explain(t, async () => {
  const filter = page.locator('[data-testid="resource-filter"][data-resource="temperature"]');
  await filter.uncheck();
  await resource('fake-1', 'temperature').waitFor({ state: 'hidden', timeout: WAIT });
  await filter.check();
  await resource('fake-1', 'temperature').waitFor({ state: 'visible', timeout: WAIT });
}));

test('a reset clears the node values, out removes the card', async (t) => explain(t, async () => {
  gateway.send({ type: 'reset', uid: 'fake-1' });
  await resource('fake-1', 'temperature').waitFor({ state: 'detached', timeout: WAIT });
  await resource('fake-1', 'protocol').waitFor({ timeout: WAIT });
  gateway.removeNode('fake-1');
  await card('fake-1').waitFor({ state: 'detached', timeout: WAIT });
  assert.equal(await page.locator('[data-testid="node-card"]').count(), 0);
}));

test('a reconnection keeps cards, chart history and editor text, and reconciles', async (t) => explain(t, async () => {
  gateway.addNode('keeper', { protocol: 'CoAP', name: 'keeper-node', temperature: '20.5°C', js: 'a();' });
  gateway.addNode('stale', { protocol: 'MQTT', name: 'stale-node' });
  await card('stale').waitFor({ timeout: WAIT });
  for (const v of ['21.0°C', '21.5°C']) {
    gateway.update('keeper', 'temperature', v);
    await resource('keeper', 'temperature').and(page.locator(`[data-value="${v}"]`)).waitFor({ timeout: WAIT });
  }
  const points = () => resource('keeper', 'temperature').locator('canvas')
    .evaluate((c) => Number(c.dataset.points));
  await eventually(async () => (await points()) === 3, 'three chart points', WAIT);
  const editor = resource('keeper', 'js').locator('[data-testid="js-editor"]');
  await editor.fill('unsent();\nwork();');
  await page.evaluate(() => { window.aiotDashboard.goneKeepMs = 1500; });

  await broker.stop('SIGKILL');
  await connection().and(page.locator('[data-state="closed"]')).waitFor({ timeout: WAIT });
  assert.equal(await card('stale').count(), 1, 'cards stay while the broker is away');
  await shot('broker-lost');
  gateway.close();
  gateway = null;

  broker = startBroker();
  await broker.waitForPort(brokerPort);
  gateway = await connectGateway();
  gateway.addNode('keeper', { protocol: 'CoAP', name: 'keeper-node', temperature: '22.0°C', js: 'a();' });
  gateway.addNode('fresh', { protocol: 'CoAP', name: 'fresh-node', temperature: '19°C' });
  await connection().and(page.locator('[data-state="open"]')).waitFor({ timeout: WAIT });
  await card('fresh').waitFor({ timeout: WAIT });
  await resource('fresh', 'temperature').and(page.locator('[data-value="19°C"]')).waitFor({ timeout: WAIT });
  await resource('keeper', 'temperature').and(page.locator('[data-value="22.0°C"]')).waitFor({ timeout: WAIT });
  await eventually(async () => (await points()) === 4, 'the old history plus the new point', WAIT);
  assert.equal(await editor.inputValue(), 'unsent();\nwork();', 'the unsent editor text survives');
  // The node no gateway replayed is marked gone, then removed.
  await card('stale').and(page.locator('[data-gone="true"]')).waitFor({ timeout: WAIT });
  assert.equal(await card('keeper').getAttribute('data-gone'), null);
  await shot('reconnected');
  await card('stale').waitFor({ state: 'detached', timeout: WAIT });
  gateway.removeNode('keeper');
  await card('keeper').waitFor({ state: 'detached', timeout: WAIT });
}));

test('the theme switches and is kept across a reload', async (t) => explain(t, async () => {
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
  const before = await theme();
  await page.locator('#theme-toggle').click();
  const switched = await theme();
  assert.notEqual(switched, before);
  await page.reload();
  assert.equal(await theme(), switched);
  await connection().and(page.locator('[data-state="open"]')).waitFor({ timeout: WAIT });
  await card('fresh').waitFor({ timeout: WAIT });
  await shot(`theme-${switched}`);
}));

test('the page ran without script errors or refused resources', async (t) => explain(t, async () => {
  const bad = page.consoleLines.filter((l) => /pageerror|Refused to|Uncaught|Failed to load resource/.test(l));
  assert.deepEqual(bad, []);
}));

test('a real CoAP node: its card, and its LED driven from the page', {
  skip: coapGateway && coapTestNode ? false : 'aiot-coap-gateway or coap-test-node is not built',
}, async (t) => explain(t, async () => {
  const coapPort = await freeUdpPort();
  const nodePort = await freeUdpPort();
  const uid = 'dashboard-coap-1';
  const gw = new Daemon('aiot-coap-gateway', coapGateway,
    ['--broker-port', String(brokerPort), '--key-file', keys.file, '--coap-bind', '127.0.0.1',
      '--coap-port', String(coapPort), '--node-port', String(nodePort), '--max-time', '3', '--debug'],
    path.join(dir, 'coap-gateway.log'));
  const node = new Daemon('coap-test-node', coapTestNode,
    ['--gateway-host', '127.0.0.1', '--gateway-port', String(coapPort), '--node-host', '127.0.0.1',
      '--node-port', String(nodePort), '--uid', uid, '--alive-interval', '1', '--temperature', '--led'],
    path.join(dir, 'coap-test-node.log'));
  try {
    await card(uid).and(page.locator('[data-protocol="CoAP"]')).waitFor({ timeout: 30000 });
    await resource(uid, 'led').waitFor({ timeout: 30000 });
    await resource(uid, 'temperature').locator('canvas').waitFor({ timeout: 30000 });
    const toggle = card(uid).locator('[data-testid="led-toggle"]');
    const wasOn = (await toggle.getAttribute('aria-checked')) === 'true';
    await toggle.click();
    await resource(uid, 'led').and(page.locator(`[data-state="${wasOn ? 'off' : 'on'}"]`))
      .waitFor({ timeout: 30000 });
    await shot('coap-node');
    // The write reached the real node, not only the page.
    await node.waitForLog(`node '${uid}': LED set to ${wasOn ? 0 : 1}`, 10000);
    // A node that stops is removed after --max-time and leaves the page.
    await node.stop();
    await card(uid).waitFor({ state: 'detached', timeout: 30000 });
  } catch (e) {
    e.message += `\n--- coap gateway ---\n${gw.log().slice(-3000)}\n--- coap-test-node ---\n${node.log().slice(-2000)}`;
    throw e;
  } finally {
    await node.stop();
    await gw.stop();
  }
}));
