const WIDTH = 24;
function bar(done, total) {
    const f = total > 0 ? Math.min(1, done / total) : 1;
    const full = Math.round(f * WIDTH);
    return `[${'#'.repeat(full)}${'.'.repeat(WIDTH - full)}] ${String(Math.round(f * 100)).padStart(3)}%`;
}
/** The progress lines: lockers registered, parcels through, virtual hour, connections. */
function progressLines(p) {
    const through = p.pickedUp + p.returned + p.failed + p.faulted;
    return [
        `lockers   ${bar(p.registered, p.lockers)} ${p.registered}/${p.lockers} registered, ${p.connected} connected`,
        `parcels   ${bar(through, p.total)} booked ${p.booked}/${p.total}, deposited ${p.deposited}, picked up ${p.pickedUp}, returned ${p.returned}, failed ${p.failed}${p.faulted ? `, jammed ${p.faulted}` : ''}`,
        `time      ${bar(p.hour === null ? (p.phase === 'registering' ? 0 : p.hours) : p.hour + 1, p.hours)} ${p.phase}${p.hour !== null ? `, virtual hour ${p.hour + 1}/${p.hours}` : ''}`,
    ];
}
/**
 * Progress bars on stderr: redrawn in place on a terminal, otherwise one summary line every few seconds (logs
 * stay readable). Never on stdout, which carries the report.
 */
export function progressPrinter(stream) {
    const tty = stream.isTTY;
    let drawn = 0;
    let last = 0;
    const draw = (p) => {
        const lines = progressLines(p);
        if (tty) {
            stream.write(`${drawn ? `\x1b[${drawn}F` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
            drawn = lines.length;
        }
        else {
            stream.write(`${lines.slice(0, 2).join(' | ').replace(/\s+/g, ' ')} | ${p.phase}${p.hour !== null ? ` h${p.hour + 1}/${p.hours}` : ''}\n`);
        }
    };
    return {
        update(p) {
            if (!tty && Date.now() - last < 5000)
                return;
            last = Date.now();
            draw(p);
        },
        finish(p) {
            if (p)
                draw(p);
        },
    };
}
//# sourceMappingURL=progress.js.map