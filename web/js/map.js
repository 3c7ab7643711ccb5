// The map of nodes that report a position (Leaflet, the global `L`). Markers
// are drawn as circles, so no marker images are needed; without tiles (no
// network, or --map-tile-url none) the markers still show on a plain map.

export function mapAvailable() {
  return typeof window.L === 'object' && window.L !== null;
}

export class NodeMap {
  constructor(card, container, cfg, onSelect) {
    this.card = card;
    this.container = container;
    this.cfg = cfg;
    this.onSelect = onSelect;
    this.map = null;
    this.markers = new Map(); // uid -> {marker, name}
    this.fitted = false;
  }

  ensureMap() {
    if (this.map || !mapAvailable()) return this.map;
    this.card.hidden = false;
    this.map = window.L.map(this.container, { worldCopyJump: true, attributionControl: true });
    this.map.setView([48.71, 2.2], 4);
    const url = this.cfg.map_tile_url;
    if (url) {
      window.L.tileLayer(url, {
        maxZoom: 19,
        apikey: this.cfg.map_api_key || '',
        attribution: '&copy; OpenStreetMap contributors',
      }).addTo(this.map);
    }
    return this.map;
  }

  // Places (or moves) the marker of a node.
  set(uid, position, name) {
    if (!this.ensureMap()) {
      this.card.hidden = false;
      this.container.textContent = 'Map unavailable (Leaflet not loaded).';
      return;
    }
    let entry = this.markers.get(uid);
    if (!entry) {
      const marker = window.L.circleMarker([position.lat, position.lng], {
        radius: 9, weight: 2, color: '#ffffff', fillColor: '#ff7a45', fillOpacity: 0.95,
      }).addTo(this.map);
      marker.on('click', () => this.onSelect(uid));
      entry = { marker, name: null };
      this.markers.set(uid, entry);
      this.fitted = false;
    } else {
      entry.marker.setLatLng([position.lat, position.lng]);
    }
    if (entry.name !== name) this.rename(uid, name);
    if (!this.fitted) this.fit();
  }

  rename(uid, name) {
    const entry = this.markers.get(uid);
    if (!entry) return;
    entry.name = name;
    // A DOM node, not a string: Leaflet would parse a string as HTML.
    const text = document.createElement('span');
    text.textContent = name || uid;
    entry.marker.unbindTooltip();
    entry.marker.bindTooltip(text);
  }

  remove(uid) {
    const entry = this.markers.get(uid);
    if (!entry) return;
    entry.marker.remove();
    this.markers.delete(uid);
    if (this.markers.size === 0) this.card.hidden = true;
  }

  fit() {
    if (!this.map || this.markers.size === 0) return;
    const points = [...this.markers.values()].map((e) => e.marker.getLatLng());
    this.map.invalidateSize();
    if (points.length === 1) this.map.setView(points[0], 13);
    else this.map.fitBounds(window.L.latLngBounds(points), { padding: [30, 30], maxZoom: 15 });
    this.fitted = true;
  }
}
