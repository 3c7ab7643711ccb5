// After a complete install, scripts/install-deps needs no network: it runs
// `npm ci` only when node_modules differs from package-lock.json. Checked
// with the npm registry pointed at a closed loopback port (any registry
// request fails at once), on the real tree and on copies made to differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, tempDir } from './lib/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const checker = path.join(root, 'scripts', 'npm-up-to-date.mjs');
const dir = tempDir('aiot-install-offline-');

function upToDate(folder) {
  return spawnSync(process.execPath, [checker, folder], { encoding: 'utf8' });
}

function copyProject(from, to) {
  fs.mkdirSync(to, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(from, f), path.join(to, f));
  fs.cpSync(path.join(from, 'node_modules'), path.join(to, 'node_modules'), { recursive: true });
}

test('the lockfile check tells an up-to-date node_modules from a stale one', () => {
  const web = path.join(dir, 'web');
  copyProject(path.join(root, 'web'), web);
  assert.equal(upToDate(web).status, 0, upToDate(web).stdout);
  const pkg = path.join(web, 'node_modules', 'leaflet', 'package.json');
  const manifest = JSON.parse(fs.readFileSync(pkg, 'utf8'));
  fs.writeFileSync(pkg, JSON.stringify({ ...manifest, version: '0.0.1' }));
  let r = upToDate(web);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /node_modules\/leaflet is 0\.0\.1, locked at /);
  fs.rmSync(path.join(web, 'node_modules', 'leaflet'), { recursive: true });
  r = upToDate(web);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /node_modules\/leaflet is missing/);
  fs.rmSync(path.join(web, 'node_modules'), { recursive: true });
  assert.equal(upToDate(web).status, 1, 'no node_modules at all');
  // A dependency added to package.json but not to the lockfile.
  const manifestRoot = JSON.parse(fs.readFileSync(path.join(root, 'web', 'package.json'), 'utf8'));
  manifestRoot.dependencies['left-pad'] = '1.3.0';
  copyProject(path.join(root, 'web'), path.join(dir, 'web2'));
  fs.writeFileSync(path.join(dir, 'web2', 'package.json'), JSON.stringify(manifestRoot));
  r = upToDate(path.join(dir, 'web2'));
  assert.equal(r.status, 1);
  assert.match(r.stdout, /package\.json and package-lock\.json disagree/);
});

test('scripts/install-deps --test runs offline after a complete install', async () => {
  const closed = await freeTcpPort();
  const marker = path.join(root, 'web', 'node_modules', 'leaflet', 'package.json');
  const before = fs.statSync(marker);
  const r = spawnSync(path.join(root, 'scripts', 'install-deps'), ['--test'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120000,
    env: {
      ...process.env,
      npm_config_registry: `http://127.0.0.1:${closed}/`,
      npm_config_fetch_retries: '0',
      http_proxy: `http://127.0.0.1:${closed}`,
      https_proxy: `http://127.0.0.1:${closed}`,
    },
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /installing|npm (ERR|error)/, 'nothing to install, no registry asked');
  const after = fs.statSync(marker);
  assert.equal(after.ino, before.ino, 'node_modules was not reinstalled');
  // The gzip copies of the page's libraries are there and current.
  for (const line of fs.readFileSync(path.join(root, 'web', 'vendor.list'), 'utf8').split('\n')) {
    const file = line.trim();
    if (!file || file.startsWith('#')) continue;
    const plain = fs.statSync(path.join(root, 'web', file));
    const gz = fs.statSync(path.join(root, 'web', `${file}.gz`));
    assert.ok(gz.mtimeMs >= plain.mtimeMs, `${file}.gz is current`);
  }
});
