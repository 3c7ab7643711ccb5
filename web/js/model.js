// The dashboard's state and the rules for reading resource values. No DOM
// here: node's test runner checks this module (tests/browser/model.test.mjs).

// Resources that describe a node rather than measure something.
export const INFO_FIELDS = ['name', 'os', 'board', 'mcu', 'ip', 'protocol', 'id', 'version', 'vendor', 'uid'];
const INFO_SET = new Set(INFO_FIELDS);
export const isInfoField = (name) => INFO_SET.has(name);

// Measurements shown with a chart (any other "<number><unit>" value is too).
export const MEASUREMENTS = {
  temperature: 'Temperature',
  pressure: 'Pressure',
  humidity: 'Humidity',
  illuminance: 'Illuminance',
  uvindex: 'UV index',
  eco2: 'eCO₂',
  tvoc: 'TVOC',
  tsp: 'Small particles (1–2 µm)',
  tlp: 'Large particles (3–10 µm)',
  particles: 'Particles',
  pm25: 'PM2.5',
  pm10: 'PM10',
  sound: 'Sound',
  battery: 'Battery',
};

const LABELS = {
  ...MEASUREMENTS,
  name: 'Name', os: 'OS', board: 'Board', mcu: 'MCU', ip: 'IP', protocol: 'Protocol',
  id: 'Node id', version: 'Version', vendor: 'Vendor', uid: 'UID', led: 'LED', robot: 'Robot',
  ribot: 'RiBot', js: 'JavaScript', position: 'Position', imu: 'IMU', camera: 'Camera',
  webcam: 'Webcam', suit_state: 'Firmware update', dwnld: 'Firmware download', text: 'Message',
};

// The protocols gateways announce (resource `protocol`), in the order the
// filter chips show them; others are shown as they come.
export const PROTOCOLS = ['CoAP', 'MQTT', 'MQTT-SN', 'WebSocket'];

// A protocol value in its usual spelling ("mqtt-sn" -> "MQTT-SN").
export function protocolName(value) {
  const text = displayValue(value).trim();
  const key = text.toLowerCase().replace(/[\s_]/g, '-');
  const alias = { coap: 'CoAP', mqtt: 'MQTT', 'mqtt-sn': 'MQTT-SN', mqttsn: 'MQTT-SN', websocket: 'WebSocket', ws: 'WebSocket' };
  return alias[key] || text;
}

// Resources a node keeps across a reset (set by its gateway, not the node).
export const KEPT_ON_RESET = ['protocol', 'ip', 'id'];

// Per node, a bound on distinct resource names (a node cannot grow the page
// without limit). There is no bound on the number of nodes.
export const MAX_RESOURCES_PER_NODE = 100;
// Chart history per series: at most this many points, over this window.
export const MAX_POINTS = 150;
export const WINDOW_MS = 15 * 60 * 1000;
// A point of the dashboard's history this close to a live point (in time,
// after correcting the clocks) is the same reading.
export const SEAM_MS = 500;

export function label(resource) {
  if (LABELS[resource]) return LABELS[resource];
  return resource.charAt(0).toUpperCase() + resource.slice(1).replace(/[_-]+/g, ' ');
}

// The text shown for a value: strings as they are, anything else as JSON.
export function displayValue(value) {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

// The unit starts with neither a digit nor a dot and has no space ("g/m3" is one).
const NUMBER_WITH_UNIT = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\s\d.]\S*)?$/;
const LEADING_NUMBER = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/;

// The number a value starts with ("23°C" -> 23, "1013hPa" -> 1013), or null.
export function leadingNumber(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const m = LEADING_NUMBER.exec(value);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : null;
}

// "23°C" -> {number: 23, unit: "°C"}; null unless the whole value is a number
// and an optional unit ("1.0.2" or "12 apples 3" are not).
export function numberWithUnit(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? { number: value, unit: '' } : null;
  if (typeof value !== 'string') return null;
  const m = NUMBER_WITH_UNIT.exec(value);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isFinite(n) ? { number: n, unit: (m[2] || '').trim() } : null;
}

// The decimals a sensor sends ("21.50°C" -> 2, 3 -> 0, 0.1 + 0.2 -> 2 at
// most after removing binary noise), capped at 4.
export function decimalsOf(value) {
  let text;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 0;
    text = String(Number(value.toPrecision(12)));
  } else {
    const m = LEADING_NUMBER.exec(String(value));
    if (!m) return 0;
    text = m[1];
  }
  if (/e/i.test(text)) return 4;
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : Math.min(4, text.length - dot - 1);
}

// A number with the given decimals, without "-0".
export function roundTo(n, decimals) {
  const text = n.toFixed(Math.max(0, Math.min(4, decimals)));
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

// A JSON value: objects and arrays as they are, strings parsed; else null.
export function jsonValue(value) {
  if (value !== null && typeof value === 'object') return value;
  if (typeof value !== 'string') return null;
  const c = value.trimStart().charAt(0);
  if (c !== '{' && c !== '[') return null;
  try {
    const parsed = JSON.parse(value);
    return parsed !== null && typeof parsed === 'object' ? parsed : null;
  } catch {
    return null;
  }
}

// {"lat": .., "lng": ..} (or "lon"), as an object or JSON text; else null.
export function parsePosition(value) {
  const v = jsonValue(value);
  if (!v || Array.isArray(v)) return null;
  const lat = Number(v.lat);
  const lng = Number(v.lng !== undefined ? v.lng : v.lon);
  if (!Number.isFinite(lat) || !Number.isFinite(lng)) return null;
  if (Math.abs(lat) > 90 || Math.abs(lng) > 180) return null;
  return { lat, lng };
}

const AXES = ['x', 'y', 'z', 'w'];

function numericSeries(values) {
  if (Array.isArray(values)) {
    const nums = values.map(Number);
    if (nums.length === 0 || nums.length > 16 || nums.some((n) => !Number.isFinite(n))) return null;
    return nums.map((n, i) => ({ name: AXES[i] || String(i), value: n }));
  }
  if (values && typeof values === 'object') {
    const series = [];
    for (const [k, v] of Object.entries(values)) {
      const n = Number(v);
      if (typeof v === 'boolean' || !Number.isFinite(n)) return null;
      series.push({ name: k, value: n });
    }
    return series.length > 0 && series.length <= 16 ? series : null;
  }
  const n = Number(values);
  return typeof values !== 'boolean' && Number.isFinite(n) ? [{ name: 'value', value: n }] : null;
}

// The groups of an IMU reading, each with named numeric series:
//   [{"type":"acc","values":[x,y,z]}, ...]      (RIOT's imu resource)
//   {"acc":[x,y,z] or {"x":..}, "gyro":...}    (objects keyed by sensor)
//   [x, y, z]                                  (one sensor)
// -> [{name: "acc", series: [{name: "x", value: 1}, ...]}, ...]; null when
// the value is none of these.
export function imuGroups(value) {
  const v = jsonValue(value);
  if (!v) return null;
  let groups = [];
  if (Array.isArray(v) && v.length > 0 && v.every((e) => e && typeof e === 'object' && !Array.isArray(e))) {
    v.forEach((e, i) => {
      const series = numericSeries(e.values !== undefined ? e.values : e.value);
      if (series) groups.push({ name: String(e.type || e.name || `sensor ${i + 1}`), series });
    });
  } else if (Array.isArray(v)) {
    const series = numericSeries(v);
    if (series) groups.push({ name: 'imu', series });
  } else {
    for (const [k, e] of Object.entries(v)) {
      const series = numericSeries(e);
      if (series) groups.push({ name: k, series });
    }
  }
  groups = groups.slice(0, 8);
  return groups.length > 0 ? groups : null;
}

// LED values: "1"/"0", "on"/"off", true/false, 1/0.
export function ledIsOn(value) {
  const text = displayValue(value).trim().toLowerCase();
  return text === '1' || text === 'on' || text === 'true';
}

// How a resource is shown.
export function resourceKind(name, value) {
  if (INFO_SET.has(name)) return 'info';
  if (name === 'led') return 'led';
  if (name === 'robot') return 'robot';
  if (name === 'ribot') return 'ribot';
  if (name === 'js') return 'js';
  if (name === 'webcam') return 'webcam';
  if (name === 'suit_state' || name === 'dwnld') return 'suit';
  if (name === 'position' || (name.endsWith('position') && parsePosition(value))) return 'position';
  if (name === 'imu') return 'imu';
  if (name in MEASUREMENTS) return leadingNumber(value) === null ? 'text' : 'measurement';
  if (numberWithUnit(value)) return 'measurement';
  return 'text';
}

// Node names in natural order ("node 2" before "node 10"), ignoring case.
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
export const naturalCompare = (a, b) => collator.compare(a, b);

// The index at which `item` goes in the sorted `array` (after equal items).
export function sortedIndex(array, item, compare) {
  let lo = 0;
  let hi = array.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(array[mid], item) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The name shown for a node.
export function displayName(uid, name) {
  return name || `Node ${uid.slice(0, 8)}`;
}

// Order of nodes: named ones by name, naturally, then unnamed ones; uid last.
export function compareNodes(a, b) {
  return compareNames(a.name, a.uid, b.name, b.uid);
}

function compareNames(aName, aUid, bName, bUid) {
  if (!aName !== !bName) return aName ? -1 : 1;
  return naturalCompare(aName, bName) || (aUid < bUid ? -1 : aUid > bUid ? 1 : 0);
}

// What the node list and the filters need of a node, kept from the store
// from its `new` on (its card comes later): name, protocol, the search text,
// and whether the filters list and show it. `card` is set once made.
export class NodeEntry {
  constructor(node) {
    this.node = node;
    this.uid = node.uid;
    this.name = '';
    this.protocol = '';
    this.searchText = null;
    this.listed = false;
    this.shown = false;
    this.userHidden = false;
    this.revealed = false; // shown by a click in the list though the filters hide it
    this.card = null;
    for (const r of node.resources.keys()) this.note(r);
  }

  // A resource of the node changed: what changed of the entry, as
  // {renamed, protocol, info} (info: the search text).
  note(resource) {
    if (!isInfoField(resource)) return NOTHING_NOTED;
    const value = this.node.resources.get(resource);
    let renamed = false;
    let protocol = false;
    if (resource === 'name') {
      const name = displayValue(value);
      renamed = name !== this.name;
      this.name = name;
    } else if (resource === 'protocol') {
      const p = protocolName(value);
      protocol = p !== this.protocol;
      this.protocol = p;
    }
    this.searchText = null;
    return { renamed, protocol, info: true };
  }

  // What the text filter searches: uid, name and what the node is.
  get search() {
    if (this.searchText === null) {
      const parts = [this.uid, displayName(this.uid, this.name)];
      for (const k of INFO_FIELDS) {
        if (k !== 'uid' && this.node.resources.has(k)) parts.push(displayValue(this.node.resources.get(k)));
      }
      this.searchText = parts.join(' ').toLowerCase();
    }
    return this.searchText;
  }
}
const NOTHING_NOTED = Object.freeze({ renamed: false, protocol: false, info: false });

// Entries in the order of compareNodes; an entry is found by a binary
// search on the name it was placed by (`placedName`), so a rename moves it
// with two splices.
export class NodeOrder {
  constructor() {
    this.items = [];
  }

  get length() { return this.items.length; }

  // Where an entry with this name and uid is or would go (the first place
  // not before it).
  place(name, uid) {
    // Never "equal": the first place after every entry that goes before.
    return sortedIndex(this.items, null,
      (m) => (compareNames(m.placedName, m.uid, name, uid) < 0 ? -1 : 1));
  }

  indexOf(entry) {
    const i = this.place(entry.placedName, entry.uid);
    if (this.items[i] === entry) return i;
    return -1;
  }

  add(entry) {
    const i = this.place(entry.name, entry.uid);
    this.items.splice(i, 0, entry);
    entry.placedName = entry.name;
    return i;
  }

  remove(entry) {
    const i = this.indexOf(entry);
    if (i >= 0) this.items.splice(i, 1);
    return i >= 0;
  }

  // The entry's name changed: true when it moved.
  renamed(entry) {
    const from = this.indexOf(entry);
    if (from >= 0) this.items.splice(from, 1);
    const to = this.add(entry);
    return to !== from;
  }
}

// "just now", "12 s ago", "2 min ago", "3 h ago", "2 days ago".
export function relativeAge(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 2) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  const d = Math.floor(s / 86400);
  return `${d} day${d === 1 ? '' : 's'} ago`;
}

// A node is stale when nothing came for three of its usual intervals (the
// shortest mean gap between two values of one resource), and at least 3 s.
// A node that never sent a resource twice has no known interval and is
// never stale.
export const STALE_INTERVALS = 3;
export const STALE_FLOOR_MS = 3000; // fast nodes: a short hiccup is not staleness
export function isStale(node, now) {
  if (!node || !(node.interval > 0)) return false;
  return now - node.updated > Math.max(STALE_FLOOR_MS, STALE_INTERVALS * node.interval);
}

// The websocket URL of the broker. A broker host of "localhost" (or empty,
// or a wildcard address) means: the host this page was loaded from, so a
// dashboard opened from another machine still reaches the broker. wss://
// with --broker-ssl, and whenever the page itself came over https (a
// browser refuses ws:// from an https page as mixed content).
export function brokerUrl(cfg, location) {
  const scheme = cfg.broker_ssl || location.protocol === 'https:' ? 'wss' : 'ws';
  let host = (cfg.broker_host || '').trim();
  if (host === '' || host === 'localhost' || host === '0.0.0.0' || host === '::' || host === '[::]') {
    host = location.hostname || 'localhost';
  }
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  const port = Number(cfg.broker_port) || 8000;
  return `${scheme}://${host}:${port}/ws`;
}

// The websocket URLs of the brokers, in the order the page tries them:
// cfg.brokers ([{host, port}], the dashboard's --broker-host list), each
// entry mapped as brokerUrl does ("localhost" is the page's own host), the
// same URL once; without a list, the one of broker_host and broker_port.
export const MAX_BROKERS = 16;
export function brokerUrls(cfg, location) {
  const list = Array.isArray(cfg.brokers) ? cfg.brokers.slice(0, MAX_BROKERS) : [];
  const urls = [];
  for (const b of list) {
    if (!b || typeof b !== 'object') continue;
    const url = brokerUrl({ ...cfg, broker_host: String(b.host ?? ''), broker_port: b.port }, location);
    if (!urls.includes(url)) urls.push(url);
  }
  return urls.length > 0 ? urls : [brokerUrl(cfg, location)];
}

// Which broker URL the page tries next, and whether it waits first (the
// gateways' rule, common::broker_rotation): a failed attempt moves to the
// next URL at once until every URL failed in a row, then the backoff delay
// comes before the next round; a lost connection moves to the next URL
// after the delay. It stays on a broker that works, however far down the
// list. With one URL: every failure waits, as before lists existed.
export class BrokerRotation {
  constructor(urls) {
    this.urls = urls.length > 0 ? urls : ['ws://localhost:8000/ws'];
    this.index = 0;
    this.failed = 0; // attempts failed in a row in this round
  }

  get url() {
    return this.urls[this.index];
  }

  connected() {
    this.failed = 0;
  }

  // The connection ended; wasOpen: it had opened. Returns 'now' or 'wait'.
  closed(wasOpen) {
    this.index = (this.index + 1) % this.urls.length;
    if (wasOpen) {
      this.failed = 0;
      return 'wait';
    }
    this.failed += 1;
    if (this.failed < this.urls.length) return 'now';
    this.failed = 0;
    return 'wait';
  }
}

// Reconnect delay after `attempt` failures: 0.5 s doubling to 10 s, with up
// to 20 % jitter so that many pages do not come back at the same instant.
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(10000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (1 - 0.2 * random()));
}

const TYPES = ['new', 'update', 'out', 'reset'];

// A broker message, or null when it is not one we can use.
export function parseMessage(text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return null;
  if (!TYPES.includes(msg.type) || typeof msg.uid !== 'string' || msg.uid === '') return null;
  if (msg.type === 'update' && (typeof msg.endpoint !== 'string' || msg.endpoint === '')) return null;
  return msg;
}

// The page's message to act on a node.
export function writeMessage(uid, endpoint, payload) {
  return JSON.stringify({ type: 'update', data: { uid, endpoint, payload: String(payload) } });
}

export const HELLO = JSON.stringify({ type: 'new', data: 'client' });

// How long the page lets the broker gather its messages into one frame.
// aiot-broker, asked with `?batch=MS`, sends one message per line (its JSON
// never holds a raw newline); pyaiot's broker ignores the query and sends a
// message per frame, which reads the same. With a thousand nodes this is
// about 60 frames a second instead of 2,500: each frame costs the browser
// (its network service and the socket's thread) far more than its bytes.
export const BATCH_MS = 16;

export function batchedUrl(url, ms = BATCH_MS) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  u.searchParams.set('batch', String(ms));
  return u.toString();
}

// The messages of received frames (each one message, or several, one per
// line), in order, appended to `out`.
export function messagesOf(frames, out = []) {
  for (const frame of frames) {
    if (!frame.includes('\n')) {
      out.push(frame);
      continue;
    }
    for (const line of frame.split('\n')) if (line !== '') out.push(line);
  }
  return out;
}

// The chart history of one resource: named series of {x: time, y} points,
// bounded by MAX_POINTS and WINDOW_MS, plus the decimals the sensor uses.
export class History {
  constructor(names) {
    this.names = names;
    this.data = names.map(() => []);
    this.decimals = 0;
    this.version = 0; // grows with every point: views redraw when it moved
  }

  // One point of a single series (`replayed`: a gateway's cached value,
  // sent when the page connected, not a new reading).
  push1(time, y, replayed = false) {
    const data = this.data[0];
    data.push(replayed ? { x: time, y, replayed } : { x: time, y });
    let drop = 0;
    while (data.length - drop > MAX_POINTS || (data.length - drop > 2 && time - data[drop].x > WINDOW_MS)) drop++;
    if (drop) data.splice(0, drop);
    this.version++;
  }

  push(time, values) {
    for (let i = 0; i < this.data.length; i++) {
      const data = this.data[i];
      const y = values[i];
      if (y === null || y === undefined) continue;
      data.push({ x: time, y });
      let drop = 0;
      while (data.length - drop > MAX_POINTS || (data.length - drop > 2 && time - data[drop].x > WINDOW_MS)) drop++;
      if (drop) data.splice(0, drop);
    }
    this.version++;
  }

  clear() {
    for (const d of this.data) d.length = 0;
    this.version++;
  }

  // Older readings (from the dashboard's history) go before the live ones:
  // older[i] is series i's, sorted by x. True when a point was added.
  mergeOlder(older) {
    let added = false;
    for (let i = 0; i < this.data.length; i++) {
      if (!older[i] || older[i].length === 0) continue;
      const merged = mergeOlderPoints(this.data[i], older[i]);
      if (merged.length !== this.data[i].length) added = true;
      this.data[i] = merged;
    }
    if (added) this.version++;
    return added;
  }

  // {min, max, last} of series i, or null when empty.
  summary(i = 0) {
    const data = this.data[i];
    if (!data || data.length === 0) return null;
    let min = Infinity;
    let max = -Infinity;
    for (const p of data) {
      if (p.y < min) min = p.y;
      if (p.y > max) max = p.y;
    }
    return { min, max, last: data[data.length - 1].y, count: data.length };
  }
}

// Live points (sorted by x) with older points (sorted by x) before them,
// without duplicates and within the bounds of a History (MAX_POINTS, and
// WINDOW_MS before the newest point):
// - an older point at or after the first live one (less SEAM_MS) is dropped:
//   the live points cover that time;
// - a replayed live point (the gateway's cached value, sent when the page
//   connected) with the same value as the newest older point is that
//   reading again: dropped.
// Pure; exposed for tests.
export function mergeOlderPoints(live, older, seam = SEAM_MS) {
  const firstLive = live.length ? live[0].x : Infinity;
  const kept = [];
  let lastX = -Infinity;
  let lastY = NaN;
  for (const p of older) {
    if (!(p.x < firstLive - seam) || !Number.isFinite(p.y)) continue;
    // Unsorted or repeated input is skipped; two readings the dashboard
    // recorded in the same millisecond (a loaded machine) are both kept.
    if (p.x < lastX || (p.x === lastX && p.y === lastY)) continue;
    kept.push({ x: p.x, y: p.y });
    lastX = p.x;
    lastY = p.y;
  }
  if (kept.length === 0) return live;
  const newest = kept[kept.length - 1];
  let rest = live;
  if (live.length && live[0].replayed && live[0].y === newest.y) rest = live.slice(1);
  let merged = kept.concat(rest);
  const end = merged[merged.length - 1].x;
  let drop = 0;
  while (merged.length - drop > MAX_POINTS || (merged.length - drop > 2 && end - merged[drop].x > WINDOW_MS)) drop++;
  if (drop) merged = merged.slice(drop);
  return merged;
}

// A measurement's number and the decimals the sensor sent, read in one
// pass ("21.50°C" -> 21.5 and 2); null when the value starts with no number.
let readDecimals = 0;
function readMeasurement(value) {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    readDecimals = decimalsOf(value);
    return value;
  }
  if (typeof value !== 'string') return null;
  const m = LEADING_NUMBER.exec(value);
  if (!m) return null;
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return null;
  const text = m[1];
  const dot = text.indexOf('.');
  readDecimals = /e/i.test(text) ? 4 : dot < 0 ? 0 : Math.min(4, text.length - dot - 1);
  return n;
}

const NO_EVENTS = Object.freeze([]);

// The nodes the page knows. apply() returns the changes of the node set
// (rare), for the view:
//   {kind: 'added', uid} | {kind: 'removed', uid} | {kind: 'reset', uid} |
//   {kind: 'gone', uid} | {kind: 'back', uid}
// A value does O(1) work and allocates no event: its node goes in
// `changed` (a set of nodes) and its resource in the node's own `changed`
// set; the view takes both when it draws (takeChanged()). `urgent` says a
// state changed (an LED, a name), not only a reading: worth drawing at once.
// After a reconnection, beginResync() marks every node unconfirmed; the
// gateways' replay confirms them; endResync() marks the others gone (shown,
// dimmed) and sweepGone() removes them a while later.
export class NodeStore {
  constructor() {
    this.nodes = new Map(); // uid -> node
    this.changed = new Set(); // nodes with resources changed since takeChanged()
    this.urgent = false; // a change of state among them (not only new readings)
    this.dropped = 0;
    this.resyncing = false;
  }

  get size() { return this.nodes.size; }

  node(uid) { return this.nodes.get(uid); }

  apply(msg, time = Date.now()) {
    const uid = msg.uid;
    let node = this.nodes.get(uid);
    let events = NO_EVENTS;
    if (msg.type === 'new' || msg.type === 'update') {
      if (node === undefined) {
        node = {
          uid, resources: new Map(), history: new Map(), lastSeen: new Map(), gaps: new Map(),
          updated: time, interval: 0, confirmed: true, gone: false, goneAt: 0, changed: new Set(),
        };
        this.nodes.set(uid, node);
        events = [{ kind: 'added', uid }];
      } else {
        node.confirmed = true;
        if (node.gone) {
          node.gone = false;
          events = [{ kind: 'back', uid }];
        }
      }
      if (msg.type === 'update') this.update(node, msg.endpoint, msg.data, time);
      return events;
    }
    if (node === undefined) return events;
    if (msg.type === 'out') {
      this.nodes.delete(uid);
      this.changed.delete(node);
      return [{ kind: 'removed', uid }];
    }
    if (msg.type === 'reset') {
      for (const name of [...node.resources.keys()]) {
        if (!KEPT_ON_RESET.includes(name)) node.resources.delete(name);
      }
      node.history.clear();
      node.lastSeen.clear();
      node.gaps.clear();
      node.changed.clear();
      this.changed.delete(node);
      node.interval = 0;
      node.updated = time;
      return [{ kind: 'reset', uid }];
    }
    return events;
  }

  update(node, name, value, time) {
    if (!node.resources.has(name) && node.resources.size >= MAX_RESOURCES_PER_NODE) {
      this.dropped += 1;
      return;
    }
    const before = node.resources.get(name);
    node.resources.set(name, value);
    this.noteTiming(node, name, time);
    node.changed.add(name);
    this.changed.add(node);
    const kind = resourceKind(name, value);
    // A change of state (an LED switched, a name...) is worth drawing at
    // once; a new reading can wait for the next round.
    if (kind !== 'measurement' && kind !== 'imu' && before !== value) this.urgent = true;
    if (kind === 'measurement') {
      const n = readMeasurement(value);
      if (n === null) return;
      let h = node.history.get(name);
      if (!h || h.names.length !== 1) {
        h = new History([label(name)]);
        node.history.set(name, h);
      }
      if (readDecimals > h.decimals) h.decimals = readDecimals;
      // The first value of a chart is the gateway's cached one as often as
      // not (its replay when the page connected; it may come seconds after
      // the socket opened on a loaded machine, when `resyncing` is over):
      // marked, the dashboard's copy of that reading replaces it on backfill.
      h.push1(time, n, this.resyncing || h.data[0].length === 0);
    } else if (kind === 'imu') {
      const groups = imuGroups(value);
      if (!groups) return;
      for (const g of groups) {
        const key = `${name}:${g.name}`;
        let h = node.history.get(key);
        if (!h || h.names.length !== g.series.length) {
          h = new History(g.series.map((s) => s.name));
          node.history.set(key, h);
        }
        const values = g.series.map((s) => s.value);
        const decimals = Math.max(...g.series.map((s) => decimalsOf(s.value)));
        if (decimals > h.decimals) h.decimals = decimals;
        h.push(time, values);
      }
    }
  }

  // Readings of `resource` from the dashboard's history (GET
  // /api/nodes/{uid}/{resource}/history: [{t, value, text}], oldest first),
  // `offset` ms ahead of this page's clock, merged before the live ones.
  // True when a chart got points (the node is then marked changed).
  backfill(uid, resource, values, offset = 0) {
    const node = this.nodes.get(uid);
    if (!node || !Array.isArray(values)) return false;
    const kind = resourceKind(resource, node.resources.get(resource));
    let added = false;
    if (kind === 'measurement') {
      const h = node.history.get(resource);
      if (!h || h.names.length !== 1) return false;
      const points = [];
      for (const v of values) {
        if (!v || !Number.isFinite(v.t)) continue;
        const n = readMeasurement(typeof v.text === 'string' ? v.text : v.value);
        if (n === null) continue;
        if (readDecimals > h.decimals) h.decimals = readDecimals;
        points.push({ x: v.t - offset, y: n });
      }
      added = h.mergeOlder([points]);
    } else if (kind === 'imu') {
      const byKey = new Map(); // history key -> points per series
      for (const v of values) {
        if (!v || !Number.isFinite(v.t)) continue;
        const groups = imuGroups(v.text);
        if (!groups) continue;
        for (const g of groups) {
          const key = `${resource}:${g.name}`;
          const h = node.history.get(key);
          if (!h || h.names.length !== g.series.length) continue;
          let series = byKey.get(key);
          if (!series) {
            series = g.series.map(() => []);
            byKey.set(key, series);
          }
          g.series.forEach((s, i) => series[i].push({ x: v.t - offset, y: s.value }));
        }
      }
      for (const [key, series] of byKey) {
        if (node.history.get(key).mergeOlder(series)) added = true;
      }
    }
    if (added) {
      node.changed.add(resource);
      this.changed.add(node);
    }
    return added;
  }

  // The nodes whose resources changed since the last call, each with its
  // set of resource names (node.changed, cleared by the caller when done):
  // calls fn(node) for each, then forgets them.
  takeChanged(fn) {
    this.urgent = false;
    for (const node of this.changed) {
      fn(node);
      node.changed.clear();
    }
    this.changed.clear();
  }

  // Mean gap between two values of one resource (exponential average);
  // the node's interval is the shortest of them.
  noteTiming(node, name, time) {
    const last = node.lastSeen.get(name);
    node.lastSeen.set(name, time);
    node.updated = time;
    if (last === undefined || time <= last) return;
    const gap = time - last;
    const mean = node.gaps.get(name);
    const next = mean === undefined ? gap : mean * 0.8 + gap * 0.2;
    node.gaps.set(name, next);
    let shortest = Infinity;
    for (const g of node.gaps.values()) if (g < shortest) shortest = g;
    node.interval = shortest;
  }

  beginResync() {
    this.resyncing = true;
    for (const node of this.nodes.values()) node.confirmed = false;
  }

  // Nodes no gateway replayed are gone: [{kind: 'gone', uid}].
  endResync(time = Date.now()) {
    if (!this.resyncing) return [];
    this.resyncing = false;
    const events = [];
    for (const node of this.nodes.values()) {
      if (!node.confirmed && !node.gone) {
        node.gone = true;
        node.goneAt = time;
        events.push({ kind: 'gone', uid: node.uid });
      }
    }
    return events;
  }

  // Removes the nodes gone for keepMs or more.
  sweepGone(time, keepMs) {
    const events = [];
    for (const node of [...this.nodes.values()]) {
      if (node.gone && time - node.goneAt >= keepMs) {
        this.nodes.delete(node.uid);
        this.changed.delete(node);
        events.push({ kind: 'removed', uid: node.uid });
      }
    }
    return events;
  }

  // Forgets every node.
  clear() {
    const events = [...this.nodes.keys()].map((uid) => ({ kind: 'removed', uid }));
    this.nodes.clear();
    this.changed.clear();
    return events;
  }
}
