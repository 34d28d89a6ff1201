/**
 * The report as one self-contained HTML page (inline SVG charts, no scripts, nothing fetched): throughput,
 * latency and open parcels over the run, then the figures.
 */
export function renderHtmlReport(r) {
    const t = r.timeline;
    const title = `Lockstep simulation${r.scenario ? `: ${r.scenario}` : ''}`;
    const ok = r.violations.length === 0 && r.parcels.failed === 0 && r.problemCount === 0;
    const charts = [
        chart('Throughput (per second)', t, [
            { label: 'bookings/s', color: '#2563eb', value: (p) => p.bookingsPerSec },
            { label: 'events committed/s', color: '#16a34a', value: (p) => p.commitsPerSec },
        ]),
        chart('Latency p50 / p90 (ms, log scale)', t, latencySeries(), true),
        chart('Open parcels and connected lockers', t, [
            { label: 'open parcels (booked, not picked up or returned)', color: '#9333ea', value: (p) => p.open },
            { label: 'connected lockers', color: '#64748b', value: (p) => p.connected },
        ]),
    ];
    const lat = (k) => r.latencyMs[k];
    const row = (cells) => `<tr>${cells.map((c) => `<td>${esc(c === null ? '–' : String(c))}</td>`).join('')}</tr>`;
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#0f172a;max-width:1100px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
.verdict{display:inline-block;padding:2px 8px;border-radius:4px;color:#fff;background:${ok ? '#16a34a' : '#dc2626'}}
table{border-collapse:collapse;margin:4px 0} td,th{border:1px solid #cbd5e1;padding:3px 8px;text-align:right} th{background:#f1f5f9}
td:first-child,th:first-child{text-align:left} svg{display:block;margin:4px 0 12px} .legend span{margin-right:16px}
.muted{color:#64748b}
</style></head><body>
<h1>${esc(title)}</h1>
<p><span class="verdict">${ok ? 'all parcels through, no violation' : 'problems found'}</span>
<span class="muted">seed ${r.seed} · ${r.lockers} lockers · ${r.workers} worker processes · ${(r.durationMs / 1000).toFixed(1)} s</span></p>
${charts.join('\n')}
<h2>Parcels (the books)</h2>
<table><tr><th>booked</th><th>in transit</th><th>in lockers</th><th>picked up</th><th>returned</th><th>cancelled</th><th>failed</th><th>kept back by planned jams</th></tr>
${row([r.parcels.booked, r.parcels.inTransit, r.parcels.inLockers, r.parcels.pickedUp, r.parcels.returned, r.parcels.cancelled, r.parcels.failed, r.parcels.faulted])}</table>
<h2>Latency (ms)</h2>
<table><tr><th></th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>
${['booking', 'unlock', 'commit'].map((k) => row([LATENCY_LABEL[k], lat(k).count, lat(k).p50, lat(k).p90, lat(k).p99, lat(k).max])).join('\n')}</table>
<h2>Throughput, connections, memory</h2>
<table><tr><th>bookings/s</th><th>peak bookings/s</th><th>events committed/s</th><th>peak committed/s</th><th>peak connected</th><th>failovers</th></tr>
${row([r.throughput.bookingsPerSec, r.throughput.peakBookingsPerSec, r.throughput.eventsCommittedPerSec, r.throughput.peakEventsCommittedPerSec, r.connections.peakConnected, r.connections.failovers])}</table>
<table><tr><th>process</th><th>peak RSS (MB)</th><th>peak heap (MB)</th></tr>
${r.memory.map((m) => row([m.process, m.rssPeakMb, m.heapPeakMb])).join('\n')}</table>
<h2>Events and faults</h2>
<table><tr><th>recorded</th><th>committed</th><th>resent (batches)</th><th>outages</th><th>network cuts</th><th>storm</th><th>power cuts</th><th>forced opens</th><th>jammed latches</th><th>crashes</th></tr>
${row([r.events.recorded, r.events.committed, `${r.events.resent} (${r.events.resentBatches})`, r.faults.outages, r.faults.networkCuts, r.faults.storm ? 'yes' : 'no', r.faults.powerCuts, r.faults.forcedOpens, r.faults.jams, r.faults.crashes])}</table>
<h2>Violations (${r.violations.length}) and problems (${r.problemCount})</h2>
<ul>${[...r.violations, ...r.problems.slice(0, 50)].map((v) => `<li>${esc(v)}</li>`).join('') || '<li>none</li>'}</ul>
<p class="muted">Phases: registration ${ms(r.phasesMs.register)}, traffic ${ms(r.phasesMs.traffic)}, convergence ${ms(r.phasesMs.converge)}. Latencies are real time; the traffic runs on virtual hours.</p>
</body></html>
`;
}
const LATENCY_LABEL = {
    booking: 'booking (API)',
    unlock: 'unlock decision (device)',
    commit: 'event → commit (ack)',
};
function latencySeries() {
    const colors = { booking: '#2563eb', unlock: '#ea580c', commit: '#16a34a' };
    return ['booking', 'unlock', 'commit'].flatMap((k) => [
        { label: `${LATENCY_LABEL[k]} p50`, color: colors[k], value: (p) => p.p50[k] },
        { label: `p90`, color: colors[k], value: (p) => p.p90[k], dashed: true },
    ]);
}
const W = 1000;
const H = 220;
const PAD = { l: 56, r: 12, t: 10, b: 28 };
/** One line chart over the run's seconds; virtual hours are marked along the bottom when the profile has them. */
function chart(title, points, series, log = false) {
    const xs = points.map((p) => p.t);
    const xMax = Math.max(1, ...xs);
    const values = series.flatMap((s) => points.map(s.value)).filter((v) => v !== null && Number.isFinite(v));
    // Latencies span from milliseconds (a keypad) to tens of seconds (a locker offline): a log scale shows both.
    const yMax = log ? 10 ** Math.max(1, Math.ceil(Math.log10(Math.max(1, ...values)))) : niceCeil(Math.max(1, ...values));
    const frac = (v) => (log ? Math.log10(Math.max(1, v)) / Math.log10(yMax) : v / yMax);
    const x = (t) => PAD.l + (t / xMax) * (W - PAD.l - PAD.r);
    const y = (v) => H - PAD.b - frac(v) * (H - PAD.t - PAD.b);
    const levels = log ? Array.from({ length: Math.log10(yMax) + 1 }, (_, i) => 10 ** i) : [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
    const grid = levels
        .map((v) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="#e2e8f0"/><text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#475569">${fmt(v)}</text>`)
        .join('');
    const ticks = Array.from({ length: 6 }, (_, i) => (i / 5) * xMax)
        .map((t) => `<text x="${x(t)}" y="${H - 8}" text-anchor="middle" font-size="11" fill="#475569">${t.toFixed(0)} s</text>`)
        .join('');
    // Hour marks closer than 24 px apart would print over each other: every n-th one then.
    const marks = hourMarks(points);
    const px = marks.length > 1 ? (x(marks[marks.length - 1].t) - x(marks[0].t)) / (marks.length - 1) : Infinity;
    const every = Math.max(1, Math.ceil(24 / Math.max(1, px)));
    const hours = marks.filter((_, i) => i % every === 0).map((m) => `<line x1="${x(m.t)}" x2="${x(m.t)}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#f1f5f9"/><text x="${x(m.t) + 2}" y="${PAD.t + 10}" font-size="10" fill="#94a3b8">h${m.hour}</text>`).join('');
    const lines = series
        .map((s) => {
        const segs = [];
        let current = [];
        for (const p of points) {
            const v = s.value(p);
            if (v === null || !Number.isFinite(v)) {
                if (current.length)
                    segs.push(current.join(' '));
                current = [];
                continue;
            }
            current.push(`${x(p.t).toFixed(1)},${y(v).toFixed(1)}`);
        }
        if (current.length)
            segs.push(current.join(' '));
        return segs.map((pts) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts}"/>`).join('');
    })
        .join('');
    const legend = series.map((s) => `<span style="color:${s.color}">${s.dashed ? '┄' : '━'} ${esc(s.label)}</span>`).join('');
    return `<h2>${esc(title)}</h2><div class="legend">${legend}</div>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${hours}${grid}${ticks}
<line x1="${PAD.l}" x2="${PAD.l}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#94a3b8"/><line x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}" stroke="#94a3b8"/>${lines}</svg>`;
}
function hourMarks(points) {
    const marks = [];
    let last = null;
    for (const p of points) {
        if (p.hour !== null && p.hour !== last)
            marks.push({ t: p.t, hour: p.hour });
        last = p.hour;
    }
    return marks.length > 48 ? marks.filter((_, i) => i % Math.ceil(marks.length / 48) === 0) : marks;
}
function niceCeil(v) {
    const e = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 2, 2.5, 5, 10])
        if (m * e >= v)
            return m * e;
    return 10 * e;
}
const fmt = (v) => (v >= 1000 ? `${(v / 1000).toFixed(v % 1000 === 0 ? 0 : 1)}k` : v % 1 === 0 ? String(v) : v.toFixed(1));
const ms = (v) => (v >= 10_000 ? `${(v / 1000).toFixed(0)} s` : `${v} ms`);
function esc(s) {
    return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
//# sourceMappingURL=html-report.js.map