// What the user chose, kept in localStorage: the view (full cards or the
// compact overview), the filters, the hidden nodes and whether the map and
// the camera are shown. No DOM here (tests/browser/views.test.mjs).
export const SETTINGS_KEY = 'aiot-settings';

export const DEFAULT_SETTINGS = Object.freeze({
  view: 'full', // 'full' | 'compact'
  query: '',
  hiddenProtocols: [],
  hiddenResources: [],
  hiddenNodes: [],
  showMap: true,
  showCamera: true,
});

const MAX_LIST = 5000;

function stringList(v) {
  return Array.isArray(v) ? [...new Set(v.filter((x) => typeof x === 'string' && x.length <= 256))].slice(0, MAX_LIST) : [];
}

// The settings in a stored text; anything missing or malformed falls back to
// its default.
export function parseSettings(text) {
  let raw = null;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = null;
  }
  const s = { ...DEFAULT_SETTINGS, hiddenProtocols: [], hiddenResources: [], hiddenNodes: [] };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return s;
  if (raw.view === 'full' || raw.view === 'compact') s.view = raw.view;
  if (typeof raw.query === 'string') s.query = raw.query.slice(0, 200);
  s.hiddenProtocols = stringList(raw.hiddenProtocols);
  s.hiddenResources = stringList(raw.hiddenResources);
  s.hiddenNodes = stringList(raw.hiddenNodes);
  if (typeof raw.showMap === 'boolean') s.showMap = raw.showMap;
  if (typeof raw.showCamera === 'boolean') s.showCamera = raw.showCamera;
  return s;
}

export function serializeSettings(s) {
  return JSON.stringify({
    view: s.view,
    query: s.query,
    hiddenProtocols: [...s.hiddenProtocols],
    hiddenResources: [...s.hiddenResources],
    hiddenNodes: [...s.hiddenNodes],
    showMap: s.showMap,
    showCamera: s.showCamera,
  });
}

// The settings of this browser, saved on every change.
export class Settings {
  constructor(storage) {
    this.storage = storage;
    let text = null;
    try {
      text = storage ? storage.getItem(SETTINGS_KEY) : null;
    } catch {
      text = null; // storage blocked: defaults, kept for this page only
    }
    const s = parseSettings(text);
    this.view = s.view;
    this.query = s.query;
    this.hiddenProtocols = new Set(s.hiddenProtocols);
    this.hiddenResources = new Set(s.hiddenResources);
    this.hiddenNodes = new Set(s.hiddenNodes);
    this.showMap = s.showMap;
    this.showCamera = s.showCamera;
  }

  save() {
    try {
      if (this.storage) this.storage.setItem(SETTINGS_KEY, serializeSettings(this));
    } catch {
      /* storage blocked or full */
    }
  }
}
