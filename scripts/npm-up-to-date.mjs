#!/usr/bin/env node
// Whether a folder's node_modules holds what its package-lock.json pins:
//   node scripts/npm-up-to-date.mjs DIR
// exits 0 when every locked package is installed at its locked version, 1
// (naming the first difference) otherwise. scripts/install-deps runs `npm ci`
// only then, so that a complete install never asks the registry again (the
// demo and the tests start without a network).
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: npm-up-to-date.mjs DIR');
  process.exit(2);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function differs(why) {
  console.log(`${dir}: ${why}: npm ci needed`);
  process.exit(1);
}

const lock = readJson(path.join(dir, 'package-lock.json'));
const manifest = readJson(path.join(dir, 'package.json'));
if (!lock || !lock.packages || !manifest) differs('no package.json or package-lock.json (v2 or later)');
const wanted = JSON.stringify(manifest.dependencies || {});
const locked = JSON.stringify((lock.packages[''] || {}).dependencies || {});
if (wanted !== locked) differs('package.json and package-lock.json disagree');
for (const [key, entry] of Object.entries(lock.packages)) {
  if (key === '' || entry.link) continue;
  const installed = readJson(path.join(dir, key, 'package.json'));
  if (!installed) differs(`${key} is missing`);
  if (installed.version !== entry.version) differs(`${key} is ${installed.version}, locked at ${entry.version}`);
}
process.exit(0);
