// The dashboard's state and the rules for reading resource values. No DOM
// here: node's test runner checks this module (tests/browser/model.test.mjs).

// Resources that describe a node rather than measure something.
export const INFO_FIELDS = ['name', 'os', 'board', 'mcu', 'ip', 'protocol', 'id', 'version', 'uid'];

// Measurements shown with a chart (any other "<number><unit>" value is too).
export const MEASUREMENTS = {
  temperature: 'Temperature',
  pressure: 'Pressure',
  humidity: 'Humidity',
  illuminance: 'Illuminance',
  eco2: 'eCO₂',
  tvoc: 'TVOC',
  particles: 'Particles',
  pm25: 'PM2.5',
  pm10: 'PM10',
  sound: 'Sound',
  battery: 'Battery',
};

const LABELS = {
  ...MEASUREMENTS,
  name: 'Name', os: 'OS', board: 'Board', mcu: 'MCU', ip: 'IP', protocol: 'Protocol',
  id: 'Node id', version: 'Version', uid: 'UID', led: 'LED', robot: 'Robot', js: 'JavaScript',
  position: 'Position', imu: 'IMU', camera: 'Camera',
};

// Resources a node keeps across a reset (set by its gateway, not the node).
export const KEPT_ON_RESET = ['protocol', 'ip', 'id'];

export const MAX_NODES = 1000;
export const MAX_RESOURCES_PER_NODE = 100;

export function label(resource) {
  if (LABELS[resource]) return LABELS[resource];
  return resource.charAt(0).toUpperCase() + resource.slice(1).replace(/[_-]+/g, ' ');
}

// The text shown for a value: strings as they are, anything else as JSON.
export function displayValue(value) {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const NUMBER_WITH_UNIT = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\s\d.][^\d]*)?$/;
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

// A JSON value: objects and arrays as they are, strings parsed; else null.
export function jsonValue(value) {
  if (value !== null && typeof value === 'object') return value;
  if (typeof value !== 'string') return null;
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
  if (INFO_FIELDS.includes(name)) return 'info';
  if (name === 'led') return 'led';
  if (name === 'robot') return 'robot';
  if (name === 'js') return 'js';
  if (name === 'position' || parsePosition(value) && name.endsWith('position')) return 'position';
  if (name === 'imu') return 'imu';
  if (name in MEASUREMENTS) return leadingNumber(value) === null ? 'text' : 'measurement';
  if (numberWithUnit(value)) return 'measurement';
  return 'text';
}

// The websocket URL of the broker. A broker host of "localhost" (or empty,
// or a wildcard address) means: the host this page was loaded from, so a
// dashboard opened from another machine still reaches the broker.
export function brokerUrl(cfg, location) {
  const scheme = cfg.broker_ssl ? 'wss' : 'ws';
  let host = (cfg.broker_host || '').trim();
  if (host === '' || host === 'localhost' || host === '0.0.0.0' || host === '::' || host === '[::]') {
    host = location.hostname || 'localhost';
  }
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  const port = Number(cfg.broker_port) || 8000;
  return `${scheme}://${host}:${port}/ws`;
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

// The nodes the page knows. apply() returns what changed, for the view:
//   {kind: 'added', uid} | {kind: 'removed', uid} | {kind: 'reset', uid} |
//   {kind: 'value', uid, resource, value, time}
export class NodeStore {
  constructor() {
    this.nodes = new Map(); // uid -> {uid, resources: Map(name -> value), updated}
    this.dropped = 0;
  }

  get size() { return this.nodes.size; }

  node(uid) { return this.nodes.get(uid); }

  apply(msg, time = Date.now()) {
    const events = [];
    const ensure = () => {
      if (this.nodes.has(msg.uid)) return this.nodes.get(msg.uid);
      if (this.nodes.size >= MAX_NODES) {
        this.dropped += 1;
        return null;
      }
      const node = { uid: msg.uid, resources: new Map(), updated: time };
      this.nodes.set(msg.uid, node);
      events.push({ kind: 'added', uid: msg.uid });
      return node;
    };
    switch (msg.type) {
      case 'new':
        ensure();
        break;
      case 'update': {
        const node = ensure();
        if (!node) break;
        if (!node.resources.has(msg.endpoint) && node.resources.size >= MAX_RESOURCES_PER_NODE) {
          this.dropped += 1;
          break;
        }
        node.resources.set(msg.endpoint, msg.data);
        node.updated = time;
        events.push({ kind: 'value', uid: msg.uid, resource: msg.endpoint, value: msg.data, time });
        break;
      }
      case 'out':
        if (this.nodes.delete(msg.uid)) events.push({ kind: 'removed', uid: msg.uid });
        break;
      case 'reset': {
        const node = this.nodes.get(msg.uid);
        if (!node) break;
        for (const name of [...node.resources.keys()]) {
          if (!KEPT_ON_RESET.includes(name)) node.resources.delete(name);
        }
        node.updated = time;
        events.push({ kind: 'reset', uid: msg.uid });
        break;
      }
      default:
        break;
    }
    return events;
  }

  // Forgets every node (the gateways replay them on reconnect).
  clear() {
    const events = [...this.nodes.keys()].map((uid) => ({ kind: 'removed', uid }));
    this.nodes.clear();
    return events;
  }
}
