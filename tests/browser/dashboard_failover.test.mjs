// The page with several brokers (--broker-host A,B): it uses A while A
// lives; A killed (SIGKILL), it moves to B within a bound and shows B's
// node; a page opened while A is down goes to B at once (no backoff
// delay between the entries of a round). Headless chromium, two real
// aiot-brokers, a real aiot-dashboard, a fake gateway (ws) on each broker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  Daemon, FakeGateway, eventually, freeTcpPort, launchBrowser, newPage, tempDir, testEnv, writeKeyFile,
} from './lib/harness.mjs';

const env = testEnv(['AIOT_BROKER', 'AIOT_DASHBOARD', 'AIOT_WEB_DIR', 'AIOT_ARTIFACTS']);
const dir = tempDir('aiot-dashboard-failover-');
const artifacts = env.AIOT_ARTIFACTS;
fs.mkdirSync(artifacts, { recursive: true });
const WAIT = 15000;
const FAILOVER_BOUND_MS = 3000; // the page's first delay is at most 0.5 s

let keys;
const brokers = {};
const gateways = [];
let dashboard;
let webPort;
let browser;
let holder; // holds the killed broker's port

const card = (page, uid) => page.locator(`[data-testid="node-card"][data-uid="${uid}"]`);
const about = (page) => page.locator('#about').textContent();

async function startBroker(name) {
  const port = await freeTcpPort();
  const d = new Daemon(name, env.AIOT_BROKER, ['--broker-port', String(port), '--key-file', keys.file],
    path.join(dir, `${name}.log`));
  await d.waitForPort(port);
  const gateway = new FakeGateway(port, keys);
  await eventually(() => gateway.connect(2000).then(() => true, () => false), `a gateway on ${name}`, WAIT, 200);
  gateways.push(gateway);
  brokers[name] = { daemon: d, port, gateway };
}

before(async () => {
  keys = writeKeyFile(path.join(dir, 'keys'));
  await startBroker('broker-a');
  await startBroker('broker-b');
  brokers['broker-a'].gateway.addNode('node-on-a', { protocol: 'WebSocket', name: 'node on A' });
  brokers['broker-b'].gateway.addNode('node-on-b', { protocol: 'WebSocket', name: 'node on B' });
  webPort = await freeTcpPort();
  const list = `127.0.0.1:${brokers['broker-a'].port},127.0.0.1:${brokers['broker-b'].port}`;
  dashboard = new Daemon('aiot-dashboard', env.AIOT_DASHBOARD,
    ['--web-port', String(webPort), '--broker-host', list, '--static-path', env.AIOT_WEB_DIR,
      '--map-tile-url', 'none', '--no-history'], path.join(dir, 'dashboard.log'));
  await dashboard.waitForPort(webPort);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (holder) holder.close();
  for (const g of gateways) g.close();
  for (const d of [dashboard, ...Object.values(brokers).map((b) => b.daemon)]) if (d) await d.stop();
});

async function explain(page, name, fn) {
  try {
    await fn();
  } catch (e) {
    await page.screenshot({ path: path.join(artifacts, `failed-failover-${name}.png`), fullPage: true }).catch(() => {});
    e.message += `\n--- page console ---\n${page.consoleLines.slice(-40).join('\n')}`;
    throw e;
  }
}

test('the page moves to the second broker when the first is killed', async () => {
  const page = await newPage(browser);
  await explain(page, 'kill', async () => {
    const { port: portA } = brokers['broker-a'];
    const { port: portB } = brokers['broker-b'];
    await page.goto(`http://127.0.0.1:${webPort}/`);
    await card(page, 'node-on-a').waitFor({ timeout: WAIT });
    assert.match(await about(page), new RegExp(`ws://127\\.0\\.0\\.1:${portA}/ws$`));
    assert.equal(await card(page, 'node-on-b').count(), 0, 'B\'s node is not shown while on A');

    await brokers['broker-a'].daemon.stop('SIGKILL');
    const killed = Date.now();
    // A's port stays A's: a listener that drops every connection at once
    // (a dead broker behind a proxy). Else a daemon of a test running
    // beside this one can be given the freed port, and the page would talk
    // to it (one cause a CI run could have had for taking 6.9 s to reach
    // B in the next test).
    await new Promise((resolve, reject) => {
      holder = net.createServer((socket) => socket.destroy());
      holder.once('error', reject);
      holder.listen(portA, '127.0.0.1', resolve);
    });
    await card(page, 'node-on-b').waitFor({ timeout: WAIT });
    const took = Date.now() - killed;
    console.log(`page failover: B's node shown ${took} ms after the kill`);
    assert.ok(took < FAILOVER_BOUND_MS, `failover took ${took} ms`);
    await eventually(async () => (await page.locator('#connection').getAttribute('data-state')) === 'open',
      'the page connected again', WAIT);
    assert.match(await about(page), new RegExp(`ws://127\\.0\\.0\\.1:${portB}/ws$`));
  });
  await page.context().close();
});

test('a page opened while the first broker is down goes to the second at once', async () => {
  assert.ok(!brokers['broker-a'].daemon.running, 'runs after the kill test');
  const page = await newPage(browser);
  await explain(page, 'first-down', async () => {
    // Every text the connection indicator shows.
    await page.addInitScript(() => {
      window.connectionTexts = [];
      document.addEventListener('DOMContentLoaded', () => {
        const el = document.getElementById('connection-text');
        new MutationObserver(() => window.connectionTexts.push(el.textContent))
          .observe(el, { childList: true, characterData: true, subtree: true });
      });
    });
    const opened = Date.now();
    await page.goto(`http://127.0.0.1:${webPort}/`);
    await card(page, 'node-on-b').waitFor({ timeout: WAIT });
    const took = Date.now() - opened;
    // The time counts the page's own load too (3.2 s once on a loaded CI
    // machine): it is only logged, and the card's wait bounds it; "at once"
    // is the indicator's texts below (no backoff countdown between A's
    // refusal and B).
    console.log(`first broker down: B's node shown ${took} ms after opening the page`);
    // A refused, then B at once: no backoff countdown in between (the
    // indicator's texts of one task are seen as its last one).
    const texts = await page.evaluate(() => window.connectionTexts);
    assert.ok(texts.length > 0 && texts.at(-1) === 'Connected', JSON.stringify(texts));
    assert.ok(!texts.some((t) => /retry in/.test(t)), `no backoff delay: ${JSON.stringify(texts)}`);
    assert.match(await about(page), new RegExp(`:${brokers['broker-b'].port}/ws$`));
  });
  await page.context().close();
});
