// The dashboard over https and the broker over wss, in a real browser
// (Debian's chromium driven by playwright-core): the broker and the
// dashboard serve a certificate of a test CA made now with the openssl
// command line, the CoAP gateway reaches the broker with --broker-ssl
// --broker-ca, and chromium trusts the test CA through a throw-away NSS
// database in its own HOME (no certificate check is switched off). The page
// loads over https, shows a real CoAP node live over wss, and its LED toggle
// reaches the node. Run by ctest (tests/e2e/dashboard).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import {
  Daemon, eventually, freeTcpPort, freeUdpPort, launchBrowser, makeTestCerts, newPage,
  nssHomeTrusting, tempDir, testEnv, writeKeyFile,
} from './lib/harness.mjs';

const env = testEnv(['AIOT_BROKER', 'AIOT_DASHBOARD', 'AIOT_WEB_DIR', 'AIOT_COAP_GATEWAY',
  'AIOT_COAP_TEST_NODE']);
const certutil = process.env.AIOT_CERTUTIL || 'certutil';
const noCertutil = spawnSync(certutil, ['-H'], { stdio: 'ignore' }).error?.code === 'ENOENT';
const skip = noCertutil ? `${certutil} not found: install libnss3-tools (scripts/install-deps --test)` : false;

const WAIT = 10000;
const UID = 'https-coap-1';
const dir = tempDir('aiot-dashboard-https-');
const daemons = [];
let certs;
let webPort;
let browser;
let page;
let node;
const sockets = []; // URLs of the websockets the page opened

const card = () => page.locator(`[data-testid="node-card"][data-uid="${UID}"]`);
const resource = (name) => card().locator(`[data-testid="resource"][data-resource="${name}"]`);

// On failure: the page's console and the daemons' logs.
async function explain(fn) {
  try {
    await fn();
  } catch (e) {
    e.message += `\n--- page console ---\n${page ? page.consoleLines.slice(-30).join('\n') : ''}` +
      daemons.map((d) => `\n--- ${d.name} ---\n${d.log().slice(-2500)}`).join('');
    throw e;
  }
}

before(async () => {
  if (skip) return;
  certs = makeTestCerts(dir);
  const keys = writeKeyFile(path.join(dir, 'keys'));
  const brokerPort = await freeTcpPort();
  const broker = new Daemon('aiot-broker', env.AIOT_BROKER,
    ['--bind', '127.0.0.1', '--broker-port', String(brokerPort), '--key-file', keys.file,
      '--tls-cert', certs.cert, '--tls-key', certs.key, '--debug'],
    path.join(dir, 'broker.log'));
  daemons.push(broker);
  await broker.waitForPort(brokerPort);
  webPort = await freeTcpPort();
  const dashboard = new Daemon('aiot-dashboard', env.AIOT_DASHBOARD,
    ['--web-bind', '127.0.0.1', '--web-port', String(webPort), '--broker-host', 'localhost',
      '--broker-port', String(brokerPort), '--broker-ssl', '--broker-ca', certs.ca,
      '--tls-cert', certs.cert, '--tls-key', certs.key, '--static-path', env.AIOT_WEB_DIR,
      '--map-tile-url', 'none', '--history-db', path.join(dir, 'history.db')],
    path.join(dir, 'dashboard.log'));
  daemons.push(dashboard);
  const coapPort = await freeUdpPort();
  const nodePort = await freeUdpPort();
  daemons.push(new Daemon('aiot-coap-gateway', env.AIOT_COAP_GATEWAY,
    ['--broker-host', 'localhost', '--broker-port', String(brokerPort), '--broker-ssl',
      '--broker-ca', certs.ca, '--key-file', keys.file, '--coap-bind', '127.0.0.1',
      '--coap-port', String(coapPort), '--node-port', String(nodePort), '--max-time', '5', '--debug'],
    path.join(dir, 'coap-gateway.log')));
  node = new Daemon('coap-test-node', env.AIOT_COAP_TEST_NODE,
    ['--gateway-host', '127.0.0.1', '--gateway-port', String(coapPort), '--node-host', '127.0.0.1',
      '--node-port', String(nodePort), '--uid', UID, '--alive-interval', '1', '--temperature', '--led'],
    path.join(dir, 'coap-test-node.log'));
  daemons.push(node);
  await dashboard.waitForPort(webPort);

  const home = nssHomeTrusting(path.join(dir, 'home'), certs.ca);
  browser = await launchBrowser({ env: { ...process.env, HOME: home } });
  page = await newPage(browser);
  page.on('websocket', (ws) => sockets.push(ws.url()));
});

after(async () => {
  if (browser) await browser.close();
  for (const d of daemons.reverse()) await d.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the page loads over https with the test CA trusted, not with checks off', { skip }, () => explain(async () => {
  // An untrusted certificate would fail goto (net::ERR_CERT_AUTHORITY_INVALID).
  const response = await page.goto(`https://localhost:${webPort}/`);
  assert.equal(response.status(), 200);
  const security = await response.securityDetails();
  assert.equal(security.issuer, 'aiot test ca');
  assert.equal(security.subjectName, 'localhost');
  assert.match(security.protocol, /^TLS 1\.[23]$/);
  assert.match(response.headers()['strict-transport-security'] || '', /max-age=/);
}));

test('the node appears live over wss and its LED toggle reaches it', { skip }, () => explain(async () => {
  await page.locator('[data-testid="connection-state"][data-state="open"]').waitFor({ timeout: WAIT });
  assert.ok(sockets.length >= 1, 'the page opened a websocket');
  for (const url of sockets) assert.match(url, /^wss:\/\/localhost:[0-9]+\/ws\?batch=[0-9]+$/); // batches asked (model.js, BATCH_MS)

  await card().and(page.locator('[data-protocol="CoAP"]')).waitFor({ timeout: WAIT });
  await resource('temperature').locator('canvas').waitFor({ timeout: WAIT });
  // Live: a second temperature value comes after the first.
  await eventually(() => resource('temperature').locator('canvas')
    .evaluate((canvas) => Number(canvas.dataset.points) >= 2), 'two temperature points', WAIT);

  const toggle = card().locator('[data-testid="led-toggle"]');
  await resource('led').waitFor({ timeout: WAIT });
  const wasOn = (await toggle.getAttribute('aria-checked')) === 'true';
  await toggle.click();
  // The write reached the real node, and its new value came back to the page.
  await node.waitForLog(`node '${UID}': LED set to ${wasOn ? 0 : 1}`, WAIT);
  await resource('led').and(page.locator(`[data-state="${wasOn ? 'off' : 'on'}"]`))
    .waitFor({ timeout: WAIT });
  assert.equal(await toggle.getAttribute('aria-checked'), wasOn ? 'false' : 'true');
  assert.deepEqual(page.external, [], 'no request left the machine');
  const bad = page.consoleLines.filter((l) => /pageerror|Refused to|Uncaught|Failed to load resource|ERR_CERT/.test(l));
  assert.deepEqual(bad, []);
}));
