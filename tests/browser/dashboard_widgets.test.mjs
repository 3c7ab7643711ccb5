// Every widget of the page drawn in a real browser (Debian's chromium,
// headless, driven by playwright-core) against the real aiot-broker and
// aiot-dashboard, with a gateway on the broker's /gw playing the nodes:
// SUIT update, RiBot joystick (mouse, touch, keyboard), webcam with its
// fallback, IMU orientation, OS icons, friendly labels, code editor,
// per-node hide, map and camera settings, staleness, the compact overview,
// the phone drawer, and axe-core's accessibility rules in both themes.
// Screenshots go to $AIOT_ARTIFACTS. Run by ctest (tests/e2e/dashboard).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Daemon, FakeGateway, eventually, freeTcpPort, launchBrowser, newPage, tempDir, testEnv, writeKeyFile,
} from './lib/harness.mjs';

const env = testEnv(['AIOT_BROKER', 'AIOT_DASHBOARD', 'AIOT_WEB_DIR', 'AIOT_ARTIFACTS']);
const here = path.dirname(fileURLToPath(import.meta.url));
const AXE = path.join(here, 'node_modules', 'axe-core', 'axe.min.js');
const dir = tempDir('aiot-dashboard-widgets-');
const artifacts = env.AIOT_ARTIFACTS;
fs.mkdirSync(artifacts, { recursive: true });
const WAIT = 15000;

let keys;
let brokerPort;
let webPort;
let closedPort;
let broker;
let dashboard;
let gateway;
let browser;
let page;

const card = (uid) => page.locator(`[data-testid="node-card"][data-uid="${uid}"]`);
const resource = (uid, name) => card(uid).locator(`[data-testid="resource"][data-resource="${name}"]`);
const shot = (name, p = page) => p.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
const written = (endpoint, test, what) => gateway.waitFor((m) => m.type === 'update' && m.data &&
  m.data.endpoint === endpoint && test(m.data.payload), what, WAIT);

async function explain(t, fn) {
  try {
    await fn();
  } catch (e) {
    const name = t.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    if (page) await shot(`failed-${name}`).catch(() => {});
    e.message += `\n--- page console ---\n${page ? page.consoleLines.slice(-40).join('\n') : ''}`;
    throw e;
  }
}

async function openPage(options = {}) {
  const p = await newPage(browser, { bypassCSP: true, ...options }); // bypassCSP: to inject axe-core
  await p.goto(`http://127.0.0.1:${webPort}/`);
  await p.locator('[data-testid="connection-state"][data-state="open"]').waitFor({ timeout: WAIT });
  return p;
}

before(async () => {
  keys = writeKeyFile(path.join(dir, 'keys'));
  brokerPort = await freeTcpPort();
  closedPort = await freeTcpPort(); // nothing listens there
  broker = new Daemon('aiot-broker', env.AIOT_BROKER,
    ['--broker-port', String(brokerPort), '--key-file', keys.file], path.join(dir, 'broker.log'));
  await broker.waitForPort(brokerPort);
  webPort = await freeTcpPort();
  dashboard = new Daemon('aiot-dashboard', env.AIOT_DASHBOARD,
    ['--web-port', String(webPort), '--broker-port', String(brokerPort), '--static-path', env.AIOT_WEB_DIR,
      '--camera-url', `http://127.0.0.1:${closedPort}/camera.jpg`, '--history-db', path.join(dir, 'history.db')],
    path.join(dir, 'dashboard.log'));
  await dashboard.waitForPort(webPort);
  gateway = new FakeGateway(brokerPort, keys);
  await eventually(() => gateway.connect(2000).then(() => true, () => false), 'the gateway to connect', WAIT, 200);
  browser = await launchBrowser();
  page = await openPage();
});

after(async () => {
  if (browser) await browser.close();
  if (gateway) gateway.close();
  for (const d of [dashboard, broker]) if (d) await d.stop();
});

test('nodes are listed in natural order; MQTT-SN has its chip; no map before a position', async (t) => explain(t, async () => {
  for (const n of [10, 2, 1]) gateway.addNode(`order-${n}`, { protocol: 'MQTT-SN', name: `node ${n}` });
  await card('order-10').waitFor({ timeout: WAIT });
  const order = await page.locator('[data-testid="node-card"]').evaluateAll((cards) => cards.map((c) => c.dataset.uid));
  assert.deepEqual(order, ['order-1', 'order-2', 'order-10']);
  const listed = await page.locator('#node-list li').evaluateAll((items) => items.map((li) => li.dataset.uid));
  assert.deepEqual(listed, order, 'the list follows the cards');
  await page.locator('[data-testid="protocol-filter"][data-protocol="MQTT-SN"]').waitFor({ timeout: WAIT });
  assert.equal(await page.evaluate(() => typeof window.L), 'undefined', 'Leaflet loads only for a position');
  // A rename moves the card, once.
  gateway.update('order-1', 'name', 'node 20');
  await eventually(async () => (await page.locator('[data-testid="node-card"]').last().getAttribute('data-uid')) === 'order-1',
    'the renamed node last', WAIT);
  const listedNow = () => page.locator('#node-list li').evaluateAll((items) => items.map((li) => li.dataset.uid));
  await eventually(async () => (await listedNow()).join() === 'order-2,order-10,order-1', 'the node list follows the rename', WAIT);
  for (const n of [10, 2, 1]) gateway.removeNode(`order-${n}`);
  await card('order-1').waitFor({ state: 'detached', timeout: WAIT });
  await eventually(async () => !(await listedNow()).some((uid) => uid.startsWith('order-')), 'the node list without them', WAIT);
}));

test('the widgets of a node: SUIT, OS icon, labels, IMU orientation, webcam, offline map', async (t) => explain(t, async () => {
  gateway.addNode('w1', {
    protocol: 'CoAP', name: 'widget node', os: 'RIOT', board: 'iotlab-m3',
    suit_state: '6', dwnld: '40', tsp: '12.5g/m3', tlp: '3g/m3', uvindex: '5',
    imu: '[{"type":"acc","values":[0,9.81,0]},{"type":"mag","values":[0.2,0.1,-0.4]}]',
    webcam: `http://127.0.0.1:${webPort}/logo.svg`, position: '{"lat": 48.71, "lng": 2.2}',
  });
  gateway.addNode('w2', { protocol: 'WebSocket', name: 'broken cam', os: 'MicroPython', webcam: `http://127.0.0.1:${closedPort}/x.jpg` });
  await card('w1').waitFor({ timeout: WAIT });
  // SUIT: the state as text, the download as a progress bar.
  const suit = resource('w1', 'suit_state');
  await suit.and(page.locator('[data-download="40"]')).waitFor({ timeout: WAIT });
  assert.equal(await suit.locator('[data-testid="suit-state"]').textContent(), 'Downloading');
  assert.equal(await suit.locator('progress').evaluate((p) => p.value), 40);
  gateway.update('w1', 'dwnld', '100');
  gateway.update('w1', 'suit_state', '11');
  await suit.and(page.locator('[data-phase="done"]')).waitFor({ timeout: WAIT });
  assert.equal(await suit.locator('[data-testid="suit-state"]').textContent(), 'Download completed');
  assert.equal(await suit.locator('progress').isVisible(), false, 'no bar once complete');
  gateway.update('w1', 'suit_state', '3');
  await suit.and(page.locator('[data-phase="error"]')).waitFor({ timeout: WAIT });
  // OS icons, local SVG files.
  const icon = card('w1').locator('img.os-icon');
  assert.equal(await icon.getAttribute('src'), 'icons/riot.svg');
  await eventually(() => icon.evaluate((i) => i.complete && i.naturalWidth > 0), 'the RIOT icon loaded', WAIT);
  assert.equal(await card('w2').locator('img.os-icon').getAttribute('alt'), 'MicroPython');
  // Friendly labels.
  const text = await card('w1').innerText();
  for (const words of ['Small particles (1–2 µm)', 'Large particles (3–10 µm)', 'UV index']) {
    assert.ok(text.includes(words), words);
  }
  // IMU: rolled 90° by gravity along y.
  await resource('w1', 'imu').locator('[data-testid="imu-orientation"]').filter({ hasText: 'roll 90°' }).waitFor({ timeout: WAIT });
  assert.match(await resource('w1', 'imu').locator('.imu-cube').evaluate((c) => c.style.transform), /rotateY\(90deg\)/);
  // Webcam: the image, and the fallback when it cannot load.
  await resource('w1', 'webcam').and(page.locator('[data-state="image"]')).waitFor({ timeout: WAIT });
  await resource('w2', 'webcam').and(page.locator('[data-state="fallback"]')).waitFor({ timeout: WAIT });
  assert.equal(await resource('w2', 'webcam').locator('[data-testid="webcam-fallback"]').isVisible(), true);
  // The camera of --camera-url cannot load either: its fallback shows.
  await page.locator('#camera-fallback').waitFor({ state: 'visible', timeout: WAIT });
  // The map: country shapes from the dashboard itself, the node on them.
  await page.locator('#map[data-state="ready"][data-base="countries"]').waitFor({ timeout: WAIT });
  assert.ok(await page.locator('#map path.leaflet-interactive, #map svg path').count() > 50, 'countries drawn');
  assert.match(await page.locator('#map .leaflet-control-attribution').innerText(), /Natural Earth/);
  assert.deepEqual(page.external, [], 'no request left the machine');
  await shot('widgets');
}));

test('the RiBot joystick: mouse drag, touch drag and arrow keys', async (t) => explain(t, async () => {
  gateway.addNode('bot', { protocol: 'CoAP', name: 'ribot node', ribot: '0:0:0' });
  const pad = resource('bot', 'ribot').locator('[data-testid="joystick"]');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const parse = (p) => p.split(':').map(Number);
  const isMove = (p) => /^-?\d+:-?\d+:-?\d+\n$/.test(p) && p !== '0:0:0\n';
  const since = () => gateway.received.length;
  // Mouse: drag right, hold (a repeat every second), release (stop).
  let start = since();
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  await page.mouse.move(cx + box.width, cy, { steps: 4 });
  const first = await written('ribot', (p) => isMove(p), 'a joystick move');
  const [dx, dy, sum] = parse(first.data.payload);
  assert.ok(dx <= -250 && Math.abs(dy) <= 5 && sum === dx + dy, first.data.payload);
  await eventually(() => gateway.received.slice(start).filter((m) => m.data && m.data.endpoint === 'ribot' && isMove(m.data.payload)).length >= 2,
    'the move repeated while held', 4000);
  await page.mouse.up();
  await eventually(() => gateway.received.slice(start).some((m) => m.data && m.data.endpoint === 'ribot' && m.data.payload === '0:0:0\n'),
    'the stop on release', WAIT);
  // Touch, through Chromium's input pipeline.
  start = since();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: cx, y: cy }] });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: cx, y: cy + box.height }] });
  await eventually(() => gateway.received.slice(start).some((m) => m.data && m.data.endpoint === 'ribot' && isMove(m.data.payload) &&
    parse(m.data.payload)[1] >= 250), 'a touch drag downwards', WAIT);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await eventually(() => gateway.received.slice(start).some((m) => m.data && m.data.payload === '0:0:0\n'), 'the stop on touch end', WAIT);
  // Keyboard.
  start = since();
  await pad.focus();
  await page.keyboard.down('ArrowUp');
  await eventually(() => gateway.received.slice(start).some((m) => m.data && m.data.endpoint === 'ribot' &&
    parse(m.data.payload)[1] === -255), 'ArrowUp: full speed forward', WAIT);
  await page.keyboard.up('ArrowUp');
  await eventually(() => gateway.received.slice(start).some((m) => m.data && m.data.payload === '0:0:0\n'), 'the stop on key up', WAIT);
  assert.equal(await pad.getAttribute('aria-label'), 'RiBot joystick of ribot node');
}));

test('the code editor: line numbers, Tab indents, unsent text is kept', async (t) => explain(t, async () => {
  gateway.addNode('coder', { protocol: 'CoAP', name: 'js node', js: 'print(1)' });
  const editor = resource('coder', 'js').locator('[data-testid="js-editor"]');
  await editor.waitFor({ timeout: WAIT });
  assert.equal(await editor.inputValue(), 'print(1)');
  await editor.fill('a();\nb();\nc();');
  assert.equal(await resource('coder', 'js').locator('.gutter').textContent(), '1\n2\n3');
  await editor.press('Control+Home');
  await editor.press('Tab');
  assert.equal(await editor.inputValue(), '  a();\nb();\nc();', 'Tab indents instead of leaving');
  assert.equal(await editor.evaluate((e) => document.activeElement === e), true);
  gateway.update('coder', 'js', 'from the node');
  await resource('coder', 'js').and(page.locator('[data-value="from the node"]')).waitFor({ timeout: WAIT });
  assert.equal(await editor.inputValue(), '  a();\nb();\nc();', 'the text being edited stays');
  await editor.press('Escape');
  await editor.press('Tab');
  assert.equal(await editor.evaluate((e) => document.activeElement === e), false, 'Escape then Tab leaves');
  await resource('coder', 'js').locator('[data-testid="js-send"]').click();
  await written('js', (p) => p === '  a();\nb();\nc();', 'the code at the gateway');
}));

test('a node that stops sending is shown stale', async (t) => explain(t, async () => {
  gateway.addNode('slow', { protocol: 'CoAP', name: 'slow node', temperature: '20°C' });
  for (let i = 1; i <= 4; i++) {
    await new Promise((r) => setTimeout(r, 150)); // the node's own rhythm, not a wait for the page
    gateway.update('slow', 'temperature', `2${i}°C`);
  }
  await card('slow').and(page.locator('[data-stale="false"]')).waitFor({ timeout: WAIT });
  await card('slow').and(page.locator('[data-stale="true"]')).waitFor({ timeout: WAIT });
  await eventually(async () => /stale/.test(await card('slow').locator('[data-testid="last-seen"]').textContent()),
    'the card says stale', WAIT);
  assert.ok(Number(await card('slow').locator('canvas').first().evaluate((c) => getComputedStyle(c).opacity)) < 0.8,
    'the chart dimmed');
  gateway.update('slow', 'temperature', '30°C');
  await card('slow').and(page.locator('[data-stale="false"]')).waitFor({ timeout: WAIT });
}));

test('per-node hide, map and camera settings and filters survive a reload', async (t) => explain(t, async () => {
  await card('w2').locator('[data-testid="hide-node"]').click();
  await card('w2').waitFor({ state: 'hidden', timeout: WAIT });
  const show = page.locator('#node-list li[data-uid="w2"] [data-testid="show-node"]');
  await show.waitFor({ state: 'visible', timeout: WAIT });
  await page.locator('[data-testid="show-map"]').uncheck();
  await page.locator('#map-card').waitFor({ state: 'hidden', timeout: WAIT });
  await page.locator('[data-testid="show-camera"]').uncheck();
  await page.locator('#camera-card').waitFor({ state: 'hidden', timeout: WAIT });
  await page.locator('[data-testid="node-search"]').fill('widget');
  await page.reload();
  await card('w1').waitFor({ timeout: WAIT });
  assert.equal(await page.locator('[data-testid="node-search"]').inputValue(), 'widget');
  assert.equal(await card('coder').isHidden(), true, 'the filter holds');
  await page.locator('[data-testid="node-search"]').fill('');
  await card('coder').waitFor({ state: 'visible', timeout: WAIT });
  assert.equal(await card('w2').isHidden(), true, 'still hidden after the reload');
  assert.equal(await page.locator('#map-card').isHidden(), true);
  assert.equal(await page.locator('#camera-card').isHidden(), true);
  await page.locator('#node-list li[data-uid="w2"] [data-testid="show-node"]').click();
  await card('w2').waitFor({ state: 'visible', timeout: WAIT });
  await page.locator('[data-testid="show-map"]').check();
  await page.locator('#map-card').waitFor({ state: 'visible', timeout: WAIT });
  await page.locator('[data-testid="show-camera"]').check();
  await page.locator('#camera-card').waitFor({ state: 'visible', timeout: WAIT });
}));

test('the compact overview: tiles with big numbers and sparklines, full card a click away', async (t) => explain(t, async () => {
  gateway.addNode('tile', { protocol: 'CoAP', name: 'tile node', temperature: '21.5°C', pressure: '1013hPa', led: '0' });
  for (const v of ['21.6°C', '21.7°C']) gateway.update('tile', 'temperature', v);
  await card('tile').waitFor({ timeout: WAIT });
  const full = await card('tile').evaluate((c) => c.getBoundingClientRect().height);
  await page.locator('[data-testid="view-toggle"]').click();
  await card('tile').and(page.locator('.compact')).waitFor({ timeout: WAIT });
  const value = card('tile').locator('[data-testid="tile-value"][data-resource="temperature"]');
  await value.and(page.locator('[data-value="21.7°C"]')).waitFor({ timeout: WAIT });
  assert.match(await value.innerText(), /21\.7\s*°C/);
  await eventually(() => value.locator('canvas').evaluate((c) => c.dataset.points === '3'), 'the sparkline drawn', WAIT);
  const compact = await card('tile').evaluate((c) => c.getBoundingClientRect().height);
  assert.ok(compact < full / 2, `a tile (${compact} px) is far smaller than a card (${full} px)`);
  const toggle = card('tile').locator('[data-testid="led-toggle"]:visible');
  assert.equal(await toggle.getAttribute('aria-label'), 'LED of tile node');
  await toggle.click();
  await written('led', (p) => p === '1', 'the LED from the tile');
  await card('tile').locator('[data-testid="details"]').click();
  await resource('tile', 'pressure').waitFor({ state: 'visible', timeout: WAIT });
  await shot('compact');
  await page.reload();
  await card('tile').and(page.locator('.compact')).waitFor({ timeout: WAIT });
  assert.equal(await page.locator('[data-testid="view-toggle"]').getAttribute('aria-pressed'), 'true');
  await page.locator('[data-testid="view-toggle"]').click();
  await card('tile').and(page.locator(':not(.compact)')).waitFor({ timeout: WAIT });
}));

test('on a phone the cards come first and the node list is a drawer', async (t) => explain(t, async () => {
  const phone = await openPage({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  try {
    const first = phone.locator('[data-testid="node-card"]').first();
    await first.waitFor({ timeout: WAIT });
    const cardTop = await first.evaluate((c) => c.getBoundingClientRect().top);
    assert.ok(cardTop < 844, `the first card is on the first screen (top ${cardTop})`);
    const search = phone.locator('[data-testid="node-search"]');
    assert.equal(await search.isVisible(), false, 'the drawer is closed');
    const button = phone.locator('#drawer-toggle');
    assert.equal(await button.getAttribute('aria-expanded'), 'false');
    await button.click();
    await search.waitFor({ state: 'visible', timeout: WAIT });
    assert.equal(await button.getAttribute('aria-expanded'), 'true');
    await shot('phone-drawer', phone);
    await phone.keyboard.press('Escape');
    await search.waitFor({ state: 'hidden', timeout: WAIT });
    await phone.locator('#drawer-toggle').click();
    await phone.locator('#node-list li[data-uid="w1"] .node-link').click();
    await search.waitFor({ state: 'hidden', timeout: WAIT });
    await shot('phone', phone);
  } finally {
    await phone.context().close();
  }
}));

async function axeFindings(p) {
  if (!(await p.evaluate(() => typeof window.axe === 'object'))) await p.addScriptTag({ path: AXE });
  return p.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
}

test('axe-core finds nothing serious or critical, in both themes', async (t) => explain(t, async () => {
  await page.locator('#map[data-state="ready"]').waitFor({ timeout: WAIT });
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
  const seen = {};
  for (let i = 0; i < 2; i++) {
    seen[await theme()] = await axeFindings(page);
    await shot(`axe-${await theme()}`);
    await page.locator('#theme-toggle').click();
  }
  assert.deepEqual(Object.keys(seen).sort(), ['dark', 'light']);
  assert.deepEqual(seen, { dark: [], light: [] });
  // The compact overview too.
  await page.locator('[data-testid="view-toggle"]').click();
  await card('tile').and(page.locator('.compact')).waitFor({ timeout: WAIT });
  assert.deepEqual(await axeFindings(page), []);
  await page.locator('[data-testid="view-toggle"]').click();
}));

test('the page ran without script errors and made no request off the machine', async (t) => explain(t, async () => {
  const bad = page.consoleLines.filter((l) => /pageerror|Refused to|Uncaught/.test(l));
  assert.deepEqual(bad, []);
  assert.deepEqual(page.external, []);
}));
