// aiot-dashboard over real sockets: what the pure request handler's unit
// tests cannot see (keep-alive, limits, timeouts, dual-stack, shutdown).
// Run by ctest (tests/e2e/dashboard): node dashboard_http.test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { Daemon, canConnect, eventually, freeTcpPort, tempDir, testEnv } from './lib/harness.mjs';

const env = testEnv(['AIOT_DASHBOARD', 'AIOT_WEB_DIR']);
const dir = tempDir('aiot-dashboard-http-');
let dashboard;
let port;

// Sends raw bytes, collects what comes back until the server closes the
// connection or `idleMs` pass without data.
function exchange(text, { host = '127.0.0.1', idleMs = 1500, p = port } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: p, host });
    const chunks = [];
    let timer = null;
    const finish = (closed) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), idleMs);
    };
    socket.on('connect', () => { socket.write(text); arm(); });
    socket.on('data', (d) => { chunks.push(d); arm(); });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (e) => (chunks.length ? finish(true) : reject(e)));
  });
}

function statusLines(text) {
  return text.split(/\r?\n/).filter((l) => l.startsWith('HTTP/1.1 '));
}

before(async () => {
  port = await freeTcpPort();
  dashboard = new Daemon('aiot-dashboard', env.AIOT_DASHBOARD,
    ['--web-port', String(port), '--static-path', env.AIOT_WEB_DIR, '--http-timeout', '2',
      '--title', '<script>alert("x")</script> Lab', '--broker-port', '8123', '--debug', '--no-history'],
    path.join(dir, 'dashboard.log'));
  await dashboard.waitForPort(port);
});

after(async () => {
  if (dashboard) await dashboard.stop();
});

test('serves the page with the title as text and the options as data', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.ok(res.headers.get('etag'));
  assert.ok(res.headers.get('content-security-policy'));
  const html = await res.text();
  assert.ok(!html.includes('<script>alert'), 'the title must not become markup');
  assert.ok(html.includes('<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Lab</title>'));
  const cfg = await (await fetch(`http://127.0.0.1:${port}/config.json`)).json();
  assert.equal(cfg.title, '<script>alert("x")</script> Lab');
  assert.equal(cfg.broker_port, 8123);
  assert.equal(cfg.broker_host, 'localhost');
});

test('serves scripts, styles and the front-end libraries with their types', async () => {
  for (const [file, type] of [
    ['/js/main.js', 'text/javascript; charset=utf-8'],
    ['/css/dashboard.css', 'text/css; charset=utf-8'],
    ['/favicon.svg', 'image/svg+xml'],
    ['/node_modules/leaflet/dist/leaflet.js', 'text/javascript; charset=utf-8'],
    ['/node_modules/world-atlas/countries-110m.json', 'application/json'],
    ['/node_modules/leaflet/dist/leaflet.css', 'text/css; charset=utf-8'],
  ]) {
    const res = await fetch(`http://127.0.0.1:${port}${file}`);
    assert.equal(res.status, 200, file);
    assert.equal(res.headers.get('content-type'), type, file);
    assert.ok((await res.arrayBuffer()).byteLength > 0, file);
  }
});

test('serves only the page\'s own assets: every library listed, no package or doc file', async () => {
  const listed = fs.readFileSync(path.join(env.AIOT_WEB_DIR, 'vendor.list'), 'utf8')
    .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.ok(listed.includes('node_modules/world-atlas/countries-110m.json'));
  for (const file of listed) {
    assert.equal((await fetch(`http://127.0.0.1:${port}/${file}`)).status, 200, file);
  }
  for (const file of ['/README.md', '/package.json', '/package-lock.json', '/vendor.list',
    '/node_modules/leaflet/package.json', '/node_modules/leaflet/dist/leaflet-src.js',
    '/node_modules/world-atlas/countries-10m.json', '/node_modules/.package-lock.json']) {
    const res = await fetch(`http://127.0.0.1:${port}${file}`);
    // 403 for the dot file (refused by the path rules), 404 for the others.
    assert.equal(res.status, file.includes('/.') ? 403 : 404, file);
    await res.arrayBuffer();
  }
});

test('sends precompressed libraries to gzip clients, and renders the page again on SIGHUP', async () => {
  // A web folder of its own: one library with its .gz copy.
  const web = path.join(dir, 'web-gz');
  const lib = path.join(web, 'node_modules', 'lib', 'lib.js');
  fs.mkdirSync(path.dirname(lib), { recursive: true });
  const text = `/* a library */ ${'var x = 1; '.repeat(2000)}`;
  fs.writeFileSync(lib, text);
  fs.writeFileSync(`${lib}.gz`, zlib.gzipSync(text));
  fs.writeFileSync(path.join(web, 'vendor.list'), 'node_modules/lib/lib.js\n');
  fs.writeFileSync(path.join(web, 'index.html'), '<title>{{title}}</title><p>first</p>');
  const p = await freeTcpPort();
  const d = new Daemon('aiot-dashboard (gz)', env.AIOT_DASHBOARD, ['--web-port', String(p), '--static-path', web, '--no-history'],
    path.join(dir, 'gz.log'));
  try {
    await d.waitForPort(p);
    const raw = await exchange(`GET /node_modules/lib/lib.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, br\r\nConnection: close\r\n\r\n`, { p });
    const head = raw.text.split('\r\n\r\n')[0];
    assert.match(head, /Content-Encoding: gzip/i);
    assert.match(head, /Vary: Accept-Encoding/i);
    const length = Number(/Content-Length: (\d+)/i.exec(head)[1]);
    assert.equal(length, fs.statSync(`${lib}.gz`).size, 'the .gz copy is sent');
    assert.ok(length < text.length / 5);
    const res = await fetch(`http://127.0.0.1:${p}/node_modules/lib/lib.js`); // decodes gzip
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.equal(await res.text(), text);
    const plain = await exchange(`GET /node_modules/lib/lib.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { p });
    assert.doesNotMatch(plain.text.split('\r\n\r\n')[0], /Content-Encoding/i);
    assert.ok(plain.text.endsWith(text), 'the file itself without Accept-Encoding');

    assert.match(await (await fetch(`http://127.0.0.1:${p}/`)).text(), /<p>first<\/p>/);
    fs.writeFileSync(path.join(web, 'index.html'), '<title>{{title}}</title><p>second</p>');
    assert.match(await (await fetch(`http://127.0.0.1:${p}/`)).text(), /<p>first<\/p>/, 'rendered once, at start');
    d.child.kill('SIGHUP');
    await eventually(async () => /<p>second<\/p>/.test(await (await fetch(`http://127.0.0.1:${p}/`)).text()),
      'the page rendered again after SIGHUP', 10000);
    assert.ok(d.running);
  } finally {
    await d.stop();
  }
});

test('answers 304 to a matching If-None-Match', async () => {
  const first = await fetch(`http://127.0.0.1:${port}/js/main.js`);
  const etag = first.headers.get('etag');
  const res = await fetch(`http://127.0.0.1:${port}/js/main.js`, { headers: { 'If-None-Match': etag } });
  assert.equal(res.status, 304);
});

test('keeps the connection alive across requests', async () => {
  const req = `GET /favicon.svg HTTP/1.1\r\nHost: x\r\n\r\n`;
  const { text } = await exchange(req + req + `HEAD / HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.deepEqual(statusLines(text), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
  const { closed } = await exchange(`GET /favicon.svg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  assert.ok(closed, 'Connection: close is honoured');
});

test('HEAD sends the length without the body', async () => {
  const { text } = await exchange(`HEAD /favicon.svg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  const [head, body] = text.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 200 OK/);
  assert.match(head, /Content-Length: [1-9]\d*/i);
  assert.equal(body, '');
});

test('refuses path traversal on the wire', async () => {
  for (const [target, status] of [
    ['/../../../../etc/passwd', 403],
    ['/%2e%2e/%2e%2e/etc/passwd', 403],
    ['/js/..%2f..%2f..%2fetc%2fpasswd', 403],
    ['/js%00/main.js', 400],
  ]) {
    const { text } = await exchange(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(statusLines(text)[0].split(' ')[1], String(status), target);
    assert.ok(!text.includes('root:'), target);
  }
  await dashboard.waitForLog('refused GET /%2e%2e/%2e%2e/etc/passwd: dot segment');
});

test('other methods get 405, a large body 413, garbage 400', async () => {
  let { text } = await exchange(`DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  assert.match(text, /^HTTP\/1\.1 405 /);
  assert.match(text, /Allow: GET, HEAD/i);
  ({ text } = await exchange(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n` + 'x'.repeat(70000)));
  assert.match(text, /^HTTP\/1\.1 413 /);
  ({ text } = await exchange(`NOT HTTP AT ALL\r\n\r\n`));
  assert.match(text, /^HTTP\/1\.1 400 /);
  ({ text } = await exchange(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`));
  assert.match(text, /^HTTP\/1\.1 431 /);
  assert.ok(dashboard.running, 'the daemon keeps serving');
  assert.equal((await fetch(`http://127.0.0.1:${port}/favicon.svg`)).status, 200);
});

test('closes an idle connection after --http-timeout', async () => {
  const started = Date.now();
  const { closed } = await exchange('', { idleMs: 6000 });
  assert.ok(closed, 'the server closed the idle connection');
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 1500 && elapsed < 5500, `closed after ${elapsed} ms`);
});

test('listens dual-stack on :: by default', async (t) => {
  if (!(await canConnect(port, '::1'))) {
    t.skip('no IPv6 loopback on this machine');
    return;
  }
  const res = await fetch(`http://[::1]:${port}/favicon.svg`);
  assert.equal(res.status, 200);
});

test('a missing web folder is a clear start error', async () => {
  const p = await freeTcpPort();
  const bad = new Daemon('aiot-dashboard (bad)', env.AIOT_DASHBOARD,
    ['--web-port', String(p), '--static-path', path.join(dir, 'nowhere'), '--no-history'], path.join(dir, 'bad.log'));
  const exit = await eventually(() => bad.exited, 'the daemon to exit', 10000);
  assert.notEqual(exit.code, 0);
  assert.match(bad.log(), /is not a readable directory \(--static-path\)/);
});

test('a port in use is a clear start error', async () => {
  const bad = new Daemon('aiot-dashboard (busy)', env.AIOT_DASHBOARD,
    ['--web-port', String(port), '--bind', '127.0.0.1', '--static-path', env.AIOT_WEB_DIR, '--no-history'],
    path.join(dir, 'busy.log'));
  const exit = await eventually(() => bad.exited, 'the daemon to exit', 10000);
  assert.notEqual(exit.code, 0);
  assert.match(bad.log(), new RegExp(`cannot listen on 127\\.0\\.0\\.1 port ${port}: .*\\(--bind, --web-port\\)`));
});

test('SIGTERM stops it promptly with a connection open', async () => {
  const p = await freeTcpPort();
  const d = new Daemon('aiot-dashboard (stop)', env.AIOT_DASHBOARD,
    ['--web-port', String(p), '--static-path', env.AIOT_WEB_DIR, '--no-history'], path.join(dir, 'stop.log'));
  await d.waitForPort(p);
  const socket = net.connect({ port: p, host: '127.0.0.1' });
  await new Promise((r) => socket.once('connect', r));
  const started = Date.now();
  const exit = await d.stop('SIGTERM', 5000);
  socket.destroy();
  assert.equal(exit.code, 0);
  assert.ok(Date.now() - started < 3000);
  assert.match(d.log(), /shutting down/);
});
