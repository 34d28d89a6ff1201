// The fleet map: Leaflet with marker clusters (served by this server from the installed packages), tiles only when
// the server names a tile URL; without one the points sit on a plain background. Colour by state; a click opens
// the locker.
import { api } from './api.js';

const L = window.L;
const COLOURS = { online: '#1a7f37', offline: '#6e7781', alarm: '#cf222e' };

export const stateOf = (l) => (l.alarms.open + l.alarms.acknowledged > 0 ? 'alarm' : l.online ? 'online' : 'offline');

export function createFleetMap(container) {
  let map = null;
  let cluster = null;
  const markers = new Map();
  let fitted = false;

  // Built on the first snapshot (signed in: the settings need the token).
  async function init() {
    map = L.map(container, { worldCopyJump: true, attributionControl: true, maxZoom: 19 }).setView([52, 19], 5);
    const settings = await api('GET', '/v1/dashboard/settings').catch(() => ({ tileUrl: null }));
    if (settings.tileUrl) L.tileLayer(settings.tileUrl, { maxZoom: 19, attribution: settings.tileAttribution ?? '' }).addTo(map);
    else container.classList.add('no-tiles');
    cluster = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50 });
    map.addLayer(cluster);
  }
  let ready = null;

  function marker(l) {
    const state = stateOf(l);
    const m = L.circleMarker([l.location.lat, l.location.lon], { radius: 7, color: '#fff', weight: 1, fillColor: COLOURS[state], fillOpacity: 0.9 });
    m.bindTooltip(`${l.name} (${state})`);
    m.on('click', () => (location.hash = `#/lockers/${encodeURIComponent(l.id)}`));
    m.lockerState = state;
    m.lockerId = l.id;
    return m;
  }

  return {
    /** Every locker of the store (the first snapshot, or after a reconnect). */
    async setAll(lockers) {
      ready ??= init();
      await ready;
      cluster.clearLayers();
      markers.clear();
      const list = [];
      for (const l of lockers) {
        const m = marker(l);
        markers.set(l.id, m);
        list.push(m);
      }
      cluster.addLayers(list);
      container.dataset.markers = String(markers.size);
      if (!fitted && list.length) {
        map.fitBounds(L.latLngBounds(list.map((m) => m.getLatLng())), { padding: [20, 20], maxZoom: 14 });
        fitted = true;
      }
    },
    /** Lockers whose summary changed: a marker is replaced when its colour moves. */
    async update(lockers) {
      if (!ready) return;
      await ready;
      for (const l of lockers) {
        const old = markers.get(l.id);
        if (old && old.lockerState === stateOf(l)) continue;
        if (old) cluster.removeLayer(old);
        const m = marker(l);
        markers.set(l.id, m);
        cluster.addLayer(m);
      }
      container.dataset.markers = String(markers.size);
    },
    invalidate() {
      map?.invalidateSize();
    },
  };
}
