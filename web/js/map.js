// The map of the nodes that report a position. Leaflet (and the country
// shapes) load only when the first node has a position. By default the base
// map is drawn from Natural Earth's country shapes (npm world-atlas, read
// with topojson-client), served by the dashboard itself: no request leaves
// the machine. With --map-tile-url, tiles from that server are drawn instead
// and the attribution names it.
const LEAFLET_JS = 'node_modules/leaflet/dist/leaflet.js';
const LEAFLET_CSS = 'node_modules/leaflet/dist/leaflet.css';
const TOPOJSON_JS = 'node_modules/topojson-client/dist/topojson-client.min.js';
const COUNTRIES = 'node_modules/world-atlas/countries-110m.json';

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(s);
  });
}

function loadStyle(href) {
  return new Promise((resolve, reject) => {
    const l = document.createElement('link');
    l.rel = 'stylesheet';
    l.href = href;
    l.onload = resolve;
    l.onerror = () => reject(new Error(`cannot load ${href}`));
    document.head.append(l);
  });
}

let leafletLoading = null;
function loadLeaflet() {
  if (!leafletLoading) {
    leafletLoading = Promise.all([loadScript(LEAFLET_JS), loadStyle(LEAFLET_CSS)]);
  }
  return leafletLoading;
}

// The attribution of a tile server: OpenStreetMap's own wording for its
// tiles, else the server's host name.
export function tileAttribution(url) {
  let host = '';
  try {
    host = new URL(url.replace(/\{[^}]*\}/g, 'x')).hostname;
  } catch {
    host = '';
  }
  if (/openstreetmap\.(org|fr)$/.test(host)) return '&copy; OpenStreetMap contributors';
  return host ? `Tiles: ${host.replace(/[<>&"]/g, '')}` : 'Tiles';
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export class NodeMap {
  constructor(card, container, cfg, onSelect) {
    this.card = card;
    this.container = container;
    this.cfg = cfg;
    this.onSelect = onSelect;
    this.map = null;
    this.base = null;
    this.loading = null;
    this.markers = new Map(); // uid -> {position, name, marker}
    this.fitted = false;
    this.enabled = true;
  }

  setEnabled(enabled) {
    this.enabled = enabled;
    this.refreshCard();
  }

  refreshCard() {
    const show = this.enabled && this.markers.size > 0;
    this.card.hidden = !show;
    if (show) {
      this.ensureMap();
      if (this.map) {
        this.map.invalidateSize();
        if (!this.fitted) this.fit();
      }
    }
  }

  ensureMap() {
    if (this.map || this.loading) return;
    this.container.dataset.state = 'loading';
    this.loading = loadLeaflet().then(() => this.makeMap()).catch((e) => {
      this.container.dataset.state = 'failed';
      this.container.textContent = `Map unavailable (${e.message}).`;
    });
  }

  async makeMap() {
    const L = window.L;
    this.map = L.map(this.container, {
      worldCopyJump: true, attributionControl: true, minZoom: 1, maxZoom: this.cfg.map_tile_url ? 19 : 7,
    });
    this.map.setView([30, 0], 2);
    const url = this.cfg.map_tile_url;
    if (url) {
      L.tileLayer(url, {
        maxZoom: 19, apikey: this.cfg.map_api_key || '', attribution: tileAttribution(url),
      }).addTo(this.map);
      this.container.dataset.base = 'tiles';
    } else {
      await this.drawCountries();
    }
    for (const [uid, entry] of this.markers) this.place(uid, entry);
    this.container.dataset.state = 'ready';
    this.fit();
  }

  async drawCountries() {
    const L = window.L;
    try {
      const [world] = await Promise.all([fetch(COUNTRIES).then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.json();
      }), window.topojson ? null : loadScript(TOPOJSON_JS)]);
      const shapes = window.topojson.feature(world, world.objects.countries);
      this.base = L.geoJSON(shapes, {
        style: () => ({
          color: cssVar('--map-border'), weight: 0.7, fillColor: cssVar('--map-land'), fillOpacity: 1,
        }),
        interactive: false,
        attribution: 'Natural Earth (public domain), via world-atlas',
      }).addTo(this.map);
      this.container.dataset.base = 'countries';
    } catch (e) {
      this.container.dataset.base = 'none';
      console.warn('aiot: no country shapes for the map:', e.message);
    }
  }

  applyTheme() {
    if (this.base) this.base.setStyle({ color: cssVar('--map-border'), fillColor: cssVar('--map-land') });
  }

  place(uid, entry) {
    const L = window.L;
    if (!entry.marker) {
      entry.marker = L.circleMarker([entry.position.lat, entry.position.lng], {
        radius: 8, weight: 2, color: '#ffffff', fillColor: '#e8590c', fillOpacity: 0.95,
      }).addTo(this.map);
      entry.marker.on('click', () => this.onSelect(uid));
    } else {
      entry.marker.setLatLng([entry.position.lat, entry.position.lng]);
    }
    // A DOM node, not a string: Leaflet would parse a string as HTML.
    const text = document.createElement('span');
    text.textContent = entry.name || uid;
    entry.marker.unbindTooltip();
    entry.marker.bindTooltip(text);
  }

  // Places (or moves) the marker of a node.
  set(uid, position, name) {
    let entry = this.markers.get(uid);
    if (!entry) {
      entry = { position, name, marker: null };
      this.markers.set(uid, entry);
      this.fitted = false;
    }
    entry.position = position;
    entry.name = name;
    if (this.map) this.place(uid, entry);
    this.refreshCard();
  }

  rename(uid, name) {
    const entry = this.markers.get(uid);
    if (!entry || entry.name === name) return;
    entry.name = name;
    if (this.map) this.place(uid, entry);
  }

  remove(uid) {
    const entry = this.markers.get(uid);
    if (!entry) return;
    if (entry.marker) entry.marker.remove();
    this.markers.delete(uid);
    this.refreshCard();
  }

  fit() {
    if (!this.map || this.markers.size === 0 || this.card.hidden) return;
    const points = [...this.markers.values()].map((e) => [e.position.lat, e.position.lng]);
    this.map.invalidateSize();
    // The country shapes are coarse (1:110m): no closer than a country.
    const maxZoom = this.cfg.map_tile_url ? 15 : 5;
    if (points.length === 1) this.map.setView(points[0], Math.min(maxZoom, 13));
    else this.map.fitBounds(window.L.latLngBounds(points), { padding: [30, 30], maxZoom });
    this.fitted = true;
  }
}
