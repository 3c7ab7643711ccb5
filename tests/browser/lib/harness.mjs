// Helpers shared by the node-driven end-to-end tests of the dashboard:
// child processes with logs, free ports, key files and gateway tokens, a
// fake gateway, and Debian's chromium driven by playwright-core.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

// Polls `check` (sync or async) until it returns a truthy value; throws with
// `what` after `timeoutMs`.
export async function eventually(check, what, timeoutMs = 10000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
        (last instanceof Error ? `: ${last.message}` : ''));
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function freeUdpPort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', reject);
    socket.bind(0, host, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'aiot-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// A daemon under test; stdout and stderr go to logPath.
export class Daemon {
  constructor(name, exe, args, logPath) {
    this.name = name;
    this.exe = exe;
    this.args = args;
    this.logPath = logPath;
    this.exited = null;
    const out = fs.openSync(logPath, 'a');
    this.child = spawn(exe, args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.child.on('exit', (code, signal) => { this.exited = { code, signal }; });
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  get running() { return this.exited === null; }

  async waitForLog(text, timeoutMs = 10000) {
    await eventually(() => {
      if (this.log().includes(text)) return true;
      if (!this.running) throw new Error(`${this.name} exited (${JSON.stringify(this.exited)})`);
      return false;
    }, `"${text}" in the log of ${this.name}`, timeoutMs);
  }

  async waitForPort(port, timeoutMs = 10000, host = '127.0.0.1') {
    await eventually(() => {
      if (!this.running) throw new Error(`${this.name} exited (${JSON.stringify(this.exited)})`);
      return canConnect(port, host);
    }, `${this.name} listening on ${host}:${port}`, timeoutMs);
  }

  // SIGTERM (or `signal`), SIGKILL after timeoutMs; resolves with the exit.
  async stop(signal = 'SIGTERM', timeoutMs = 5000) {
    if (!this.running) return this.exited;
    const done = new Promise((resolve) => this.child.once('exit', (code, sig) => resolve({ code, signal: sig })));
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await done;
    clearTimeout(timer);
    return result;
  }
}

export function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

// A pyaiot key file: [keys] secret (32 letters and digits) and private
// (a Fernet key: URL-safe base64 of 32 random bytes).
export function writeKeyFile(file) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const secret = Array.from(crypto.randomBytes(32), (b) => alphabet[b % alphabet.length]).join('');
  const privateKey = crypto.randomBytes(32).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  fs.writeFileSync(file, `[keys]\nsecret = ${secret}\nprivate = ${privateKey}\n`, { mode: 0o600 });
  return { secret, privateKey, file };
}

// Fernet token (github.com/fernet/spec) of the secret under the private key.
export function gatewayToken({ secret, privateKey }) {
  const key = Buffer.from(privateKey.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  const signingKey = key.subarray(0, 16);
  const encryptionKey = key.subarray(16, 32);
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-128-cbc', encryptionKey, iv);
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000)));
  const body = Buffer.concat([Buffer.from([0x80]), time, iv, ciphertext]);
  const hmac = crypto.createHmac('sha256', signingKey).update(body).digest();
  return Buffer.concat([body, hmac]).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

// A gateway speaking to the broker's /gw like the real ones: announces its
// nodes, answers a client's `new` with its cache, records what it receives.
export class FakeGateway {
  constructor(brokerPort, keys, host = '127.0.0.1') {
    this.url = `ws://${host}:${brokerPort}/gw`;
    this.keys = keys;
    this.received = [];
    this.nodes = new Map(); // uid -> Map(resource -> value)
    this.ws = null;
  }

  connect(timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, ['token', gatewayToken(this.keys)], { handshakeTimeout: timeoutMs });
      ws.once('open', () => {
        this.ws = ws;
        resolve();
      });
      ws.once('error', reject);
      ws.on('message', (data) => this.onMessage(String(data)));
    });
  }

  onMessage(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    this.received.push(msg);
    if (msg.type === 'new' && typeof msg.src === 'string') {
      for (const uid of this.nodes.keys()) this.replay(uid, msg.src);
    }
  }

  send(msg) {
    this.ws.send(JSON.stringify(msg));
  }

  replay(uid, dst) {
    this.send({ type: 'new', uid, dst });
    for (const [endpoint, data] of this.nodes.get(uid)) {
      this.send({ type: 'update', uid, endpoint, data, dst });
    }
  }

  // Announces a node with its resources to every client.
  addNode(uid, resources) {
    this.nodes.set(uid, new Map(Object.entries(resources)));
    this.replay(uid, 'all');
  }

  update(uid, endpoint, data) {
    this.nodes.get(uid).set(endpoint, data);
    this.send({ type: 'update', uid, endpoint, data, dst: 'all' });
  }

  removeNode(uid) {
    this.nodes.delete(uid);
    this.send({ type: 'out', uid });
  }

  async waitFor(predicate, what, timeoutMs = 10000) {
    return eventually(() => this.received.find(predicate), what, timeoutMs);
  }

  close() {
    if (this.ws) this.ws.close();
    this.ws = null;
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

// Debian's chromium, headless, that can reach loopback only: every other
// request is aborted before it leaves the browser. `env` replaces the
// browser's environment (e.g. a HOME whose NSS database trusts a test CA).
export async function launchBrowser({ env } = {}) {
  const { chromium } = await import('playwright-core');
  const executablePath = process.env.AIOT_CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) {
    throw new Error(`${executablePath} not found: install Debian's chromium (scripts/install-deps --test)`);
  }
  const browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]'],
    ...(env ? { env } : {}),
  });
  return browser;
}

export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, ...options });
  const external = []; // requests that would have left the machine
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (LOOPBACK.has(url.hostname) || url.protocol === 'data:') return route.continue();
    external.push(url.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.external = external;
  page.consoleLines = [];
  page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => page.consoleLines.push(`pageerror: ${e.message}`));
  return page;
}

// Test certificates made now with the openssl command line into `dir`
// (nothing is committed): a CA and a server certificate for localhost and
// 127.0.0.1 signed by it. Returns { ca, cert, key } (paths).
export function makeTestCerts(dir, openssl = process.env.AIOT_OPENSSL || 'openssl') {
  const file = (name) => path.join(dir, name);
  const run = (...args) => {
    const r = spawnSync(openssl, args, { encoding: 'utf8', timeout: 30000 });
    if (r.status !== 0) {
      throw new Error(`openssl ${args.join(' ')} failed: ${r.error ? r.error.message : r.stderr}`);
    }
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2',
    '-subj', '/CN=aiot test ca', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  fs.writeFileSync(file('server.ext'), 'basicConstraints=CA:FALSE\n' +
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  run('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
  run('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
    '-CAcreateserial', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.pem'));
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

// A HOME for the browser whose NSS database (where chromium on Linux looks
// for the user's trust anchors) trusts `caFile` for TLS servers. Throws when
// Debian's certutil (libnss3-tools) is missing.
export function nssHomeTrusting(home, caFile, certutil = process.env.AIOT_CERTUTIL || 'certutil') {
  const db = path.join(home, '.pki', 'nssdb');
  fs.mkdirSync(db, { recursive: true });
  for (const args of [['-N', '-d', `sql:${db}`, '--empty-password'],
    ['-A', '-d', `sql:${db}`, '-t', 'C,,', '-n', 'aiot-test-ca', '-i', caFile]]) {
    const r = spawnSync(certutil, args, { encoding: 'utf8', timeout: 30000 });
    if (r.status !== 0) {
      throw new Error(`certutil ${args.join(' ')} failed: ${r.error ? r.error.message : r.stderr}`);
    }
  }
  return home;
}

// The binaries and folders the tests need, from the environment (set by
// tests/e2e/dashboard/CMakeLists.txt).
export function testEnv(names) {
  const env = {};
  for (const name of names) {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set (run the test through ctest)`);
    env[name] = value;
  }
  return env;
}

// A devtools timeline trace on a CDP session, started now: stop() returns
// its events. `categories` beyond the timeline's own may be added (e.g.
// 'v8.execute').
export async function startTrace(cdp, categories = []) {
  const events = [];
  const collect = (e) => events.push(...e.value);
  cdp.on('Tracing.dataCollected', collect);
  const done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: {
      includedCategories: ['disabled-by-default-devtools.timeline', 'devtools.timeline', ...categories],
    },
  });
  return {
    stop: async () => {
      await cdp.send('Tracing.end');
      await done;
      cdp.off('Tracing.dataCollected', collect);
      return events;
    },
  };
}

// The complete events ('X') of the renderer main thread in a trace.
export function mainThreadEvents(events) {
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (!main) throw new Error('no renderer main thread in the trace');
  return events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined);
}

// The renderer main thread's tasks over a trace, each with its wall time and
// its CPU time (ms). On a shared machine a task's wall time grows with
// everyone else's load; its CPU time is the page's own work.
export function mainThreadTasks(events) {
  return mainThreadEvents(events).filter((e) => e.name === 'RunTask')
    .map((e) => ({ wall: e.dur / 1000, cpu: (e.tdur ?? e.dur) / 1000 }));
}
