import { callShard } from './shard-host.js';
import { Shard } from './shard.js';
import { VirtualClock } from './virtual-clock.js';
/** A child process hosting one shard of a big fleet; the coordinator drives it over IPC (see shard-host.ts). */
const clock = new VirtualClock();
let shard;
const send = (m) => {
    // The coordinator may be gone (killed): nothing to tell then, and 'disconnect' ends this process.
    if (process.connected)
        process.send?.(m, undefined, undefined, () => undefined);
};
process.on('message', (raw) => {
    const m = raw;
    if (m.t === 'init') {
        clock.advance(m.offset);
        shard = new Shard(m.init, clock);
        const s = shard;
        setInterval(() => send({ t: 'tick', tick: s.recorder.drain(s.connected(), s.ready()) }), 1000).unref();
        return;
    }
    if (m.t === 'advance')
        return clock.advance(m.ms);
    const s = shard;
    if (!s)
        return send({ t: 'result', id: m.id, ok: false, error: 'not initialised' });
    callShard(s, m.method, m.args).then((value) => {
        // A tick before every answer: the totals are complete when a call (collect, at the end) returns.
        send({ t: 'tick', tick: s.recorder.drain(m.method === 'stop' ? 0 : s.connected(), m.method === 'stop' ? 0 : s.ready()) });
        send({ t: 'result', id: m.id, ok: true, value: value ?? null });
    }, (err) => send({ t: 'result', id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }));
});
process.on('disconnect', () => process.exit(0));
//# sourceMappingURL=fleet-worker.js.map