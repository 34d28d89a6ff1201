// History charts with uPlot (served by this server): events per hour, occupancy per size, alarms; from GET /v1/history
// (the server's per-hour aggregates), for one locker or the fleet.
import { api } from './api.js';
import { el } from './dom.js';

const uPlot = window.uPlot;
const SERIES = {
  events: [
    ['bookings', 'Bookings', '#0969da'],
    ['deposits', 'Deposits', '#1a7f37'],
    ['pickups', 'Pickups', '#8250df'],
    ['expiries', 'Expiries', '#bf8700'],
  ],
  alarms: [['alarms', 'Alarms raised', '#cf222e']],
};
const SIZE_COLOURS = { S: '#0969da', M: '#1a7f37', L: '#bf8700', XL: '#8250df' };

/** Renders the three charts of a range into `host` (replacing what was there). Returns the history it drew. */
export async function renderHistory(host, lockerId, hours = 48) {
  const now = Date.now();
  const q = new URLSearchParams({ from: String(now - hours * 3_600_000) });
  if (lockerId) q.set('lockerId', lockerId);
  const h = await api('GET', `/v1/history?${q}`);
  const xs = h.hours.map((x) => x.hour / 1000);
  const width = Math.max(280, Math.min(host.clientWidth || 800, 1100) - 8);
  const charts = [];
  const chart = (title, series, ys, unit) => {
    const fig = el('figure', { class: 'chart card', dataset: { chart: title } }, el('figcaption', {}, title));
    const totals = series.map(([, label], i) => `${label}: ${ys[i].reduce((a, b) => a + (b ?? 0), 0)}`);
    fig.append(el('p', { class: 'sr-only' }, `${title} over the last ${hours} hours. ${unit === 'count' ? totals.join(', ') : ''}`));
    charts.push(fig);
    const opts = {
      width,
      height: 180,
      series: [{}, ...series.map(([, label, colour]) => ({ label, stroke: colour, width: 2, ...(unit === 'count' ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}) }))],
      axes: [{}, { size: 40 }],
      scales: { x: { time: true } },
      legend: { show: true },
    };
    return () => new uPlot(opts, [xs, ...ys], fig);
  };
  const draws = [
    chart('Parcels per hour', SERIES.events, SERIES.events.map(([k]) => h.hours.map((x) => x[k])), 'count'),
    chart(
      'Compartments in use per size',
      Object.keys(h.hours.at(-1)?.occupancy ?? {}).map((s) => [s, `Size ${s} in use`, SIZE_COLOURS[s] ?? '#57606a']),
      Object.keys(h.hours.at(-1)?.occupancy ?? {}).map((s) => h.hours.map((x) => x.occupancy[s]?.inUse ?? null)),
      'level',
    ),
    chart('Alarms raised per hour', SERIES.alarms, [h.hours.map((x) => x.alarms)], 'count'),
  ];
  host.replaceChildren(...charts);
  for (const draw of draws) draw();
  host.dataset.hours = String(h.hours.length);
  return h;
}
