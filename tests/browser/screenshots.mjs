// Takes the documentation screenshots of the dashboard (dark and light
// theme) with a few simulated nodes of each protocol:
//   node tests/browser/screenshots.mjs <aiot-broker> <aiot-dashboard> <out-dir>
// writes <out-dir>/dashboard-dark.png and dashboard-light.png. Loopback
// only; the map is drawn without tiles. Takes about 40 s.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Daemon, FakeGateway, freeTcpPort, launchBrowser, newPage, tempDir, writeKeyFile,
} from './lib/harness.mjs';

const [brokerExe, dashboardExe, outDir] = process.argv.slice(2);
if (!brokerExe || !dashboardExe || !outDir) {
  console.error('usage: node screenshots.mjs <aiot-broker> <aiot-dashboard> <out-dir>');
  process.exit(2);
}
const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const dir = tempDir('aiot-screenshots-');
fs.mkdirSync(outDir, { recursive: true });

const keys = writeKeyFile(path.join(dir, 'keys'));
const brokerPort = await freeTcpPort();
const webPort = await freeTcpPort();
const broker = new Daemon('aiot-broker', brokerExe,
  ['--broker-port', String(brokerPort), '--key-file', keys.file], path.join(dir, 'broker.log'));
const dashboard = new Daemon('aiot-dashboard', dashboardExe,
  ['--web-port', String(webPort), '--broker-port', String(brokerPort), '--static-path', webDir,
    '--map-tile-url', 'none', '--title', 'IoT Dashboard', '--history-db', path.join(dir, 'history.db')], path.join(dir, 'dashboard.log'));
let browser;
try {
  await broker.waitForPort(brokerPort);
  await dashboard.waitForPort(webPort);
  const gw = new FakeGateway(brokerPort, keys);
  await gw.connect();
  gw.addNode('7f3c2a10-coap', {
    protocol: 'CoAP', name: 'riot-samr21-01', board: 'samr21-xpro', mcu: 'ATSAMR21G18A', os: 'RIOT',
    ip: 'fd00:dead:beef::5a4f', led: '1', temperature: '22.4°C', pressure: '1012hPa',
    position: '{"lat": 48.7146, "lng": 2.2058}',
  });
  gw.addNode('c41d9e22-mqtt', {
    protocol: 'MQTT', id: 'bme280-kitchen', name: 'bme280-kitchen', board: 'nucleo-f446re', os: 'RIOT',
    humidity: '47%', illuminance: '312lx', uvindex: '3', led: '0', robot: 's', suit_state: '6', dwnld: '62',
    position: '{"lat": 48.7162, "lng": 2.2121}',
  });
  gw.addNode('e8a07b31-ws', {
    protocol: 'WebSocket', name: 'pi-imu', board: 'raspberry-pi-3', os: 'Linux', ip: '192.0.2.17',
    eco2: '415ppm', tvoc: '18ppb', js: 'led.on();\nsetTimeout(() => led.off(), 500);',
  });

  browser = await launchBrowser();
  const page = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  await page.addInitScript(() => localStorage.setItem('aiot-theme', 'dark'));
  await page.goto(`http://127.0.0.1:${webPort}/`);
  await page.locator('[data-testid="connection-state"][data-state="open"]').waitFor({ timeout: 15000 });

  // About 30 s of readings, so that the charts have a history.
  const steps = 100;
  for (let i = 0; i < steps; i++) {
    const s = i / 6;
    gw.update('7f3c2a10-coap', 'temperature', `${(22 + 1.5 * Math.sin(s) + 0.2 * Math.sin(5 * s)).toFixed(1)}°C`);
    gw.update('7f3c2a10-coap', 'pressure', `${Math.round(1012 + 2 * Math.cos(s / 2))}hPa`);
    gw.update('c41d9e22-mqtt', 'humidity', `${Math.round(47 + 4 * Math.sin(s / 1.5))}%`);
    gw.update('c41d9e22-mqtt', 'illuminance', `${Math.round(310 + 60 * Math.sin(s * 0.8) + 15 * Math.cos(3 * s))}lx`);
    gw.update('e8a07b31-ws', 'eco2', `${Math.round(415 + 25 * Math.sin(s / 2) + 8 * Math.sin(2 * s))}ppm`);
    gw.update('e8a07b31-ws', 'tvoc', `${Math.round(18 + 6 * Math.cos(s / 1.3))}ppb`);
    gw.update('e8a07b31-ws', 'imu', JSON.stringify([
      { type: 'acc', values: [+(0.3 * Math.sin(2 * s)).toFixed(3), +(0.2 * Math.cos(s)).toFixed(3), +(9.81 + 0.05 * Math.sin(7 * s)).toFixed(3)] },
      { type: 'mag', values: [+(21 + 2 * Math.sin(s)).toFixed(2), +(-4 + Math.cos(s)).toFixed(2), +(40 + Math.sin(s / 2)).toFixed(2)] },
      { type: 'gyro', values: [+(0.05 * Math.sin(3 * s)).toFixed(3), +(0.04 * Math.cos(2 * s)).toFixed(3), +(0.02 * Math.sin(s)).toFixed(3)] },
    ]));
    await new Promise((r) => setTimeout(r, 300));
  }
  await page.locator('canvas[data-points="100"]').first().waitFor({ timeout: 15000 });
  for (const theme of ['dark', 'light']) {
    await page.evaluate((t) => {
      if (document.documentElement.dataset.theme !== t) document.getElementById('theme-toggle').click();
    }, theme);
    await page.waitForFunction((t) => document.documentElement.dataset.theme === t, theme);
    // Charts redraw at most every 250 ms: let them take the new colours.
    await page.evaluate(() => new Promise((r) => setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(r)), 400)));
    const file = path.join(outDir, `dashboard-${theme}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`${file}: ${fs.statSync(file).size} bytes`);
  }
  gw.close();
} finally {
  if (browser) await browser.close();
  await dashboard.stop();
  await broker.stop();
}
