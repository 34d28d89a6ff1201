import { fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Shard } from './shard.js';
import { VirtualClock } from './virtual-clock.js';
const TICK_MS = 1000;
/** The shard's methods, each one call by name (both hosts: in this process or in a worker). */
function remoteMethods(call) {
    return {
        start: () => call('start'),
        runFlows: (flows, t0) => call('runFlows', flows, t0),
        runFaults: (plan, t0) => call('runFaults', plan, t0),
        noShowDeposit: () => call('noShowDeposit'),
        noShowCollect: () => call('noShowCollect'),
        noShowGiveUp: () => call('noShowGiveUp'),
        status: () => call('status'),
        collect: () => call('collect'),
    };
}
/** Calls a shard's method by name (the worker's dispatcher and the local host share it). */
export function callShard(shard, method, args) {
    switch (method) {
        case 'start':
            return shard.start();
        case 'runFlows':
            return shard.runFlows(args[0], args[1]);
        case 'runFaults':
            return shard.runFaults(args[0], args[1]);
        case 'noShowDeposit':
            return shard.noShowDeposit();
        case 'noShowCollect':
            return shard.noShowCollect();
        case 'noShowGiveUp':
            return Promise.resolve(shard.noShowGiveUp());
        case 'status':
            return shard.status();
        case 'collect':
            return shard.collect();
        case 'stop':
            return shard.stop();
    }
}
/** The shard in the coordinator's own process, sharing its clock (and so the in-process server's). */
export function localShard(init, clock, onTick) {
    const shard = new Shard(init, clock);
    const name = `shard ${init.shard} (in process)`;
    // Memory is left out (0): the coordinator measures this process itself.
    const drain = (connected, ready) => ({ ...shard.recorder.drain(connected, ready), memory: { rss: 0, heapUsed: 0 } });
    const timer = setInterval(() => onTick(name, drain(shard.connected(), shard.ready())), TICK_MS);
    timer.unref();
    // Every answer comes after a tick, so the totals are complete when a call (collect, at the end) returns.
    const call = async (method, ...args) => {
        const value = (await callShard(shard, method, args));
        onTick(name, drain(shard.connected(), shard.ready()));
        return value;
    };
    return {
        name,
        shard,
        ...remoteMethods(call),
        advance: () => undefined, // shares the coordinator's clock
        async stop() {
            await shard.stop();
            clearInterval(timer);
            onTick(name, drain(0, 0));
        },
    };
}
const WORKER_ENTRY = fileURLToPath(new URL('./fleet-worker.ts', import.meta.url));
/** Niceness of the worker processes (the server's process keeps the default 0). */
const WORKER_NICE = 10;
/**
 * The shard in a child process of its own: one process may hold only `ulimit -n` open files, and each locker
 * holds several (its MQTT socket, its proxy's sockets, its SQLite files), so a big fleet is spread over processes.
 */
export function workerShard(init, clock, onTick) {
    const name = `worker ${init.shard}`;
    // SIM_CPU_PROF_DIR: every worker writes a V8 CPU profile there when it exits (to find where a big run's time goes).
    const prof = process.env.SIM_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SIM_CPU_PROF_DIR}`] : [];
    const execArgv = ['--import', 'tsx', '--max-old-space-size=4096', ...prof];
    const child = fork(WORKER_ENTRY, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    // The lockers stand in for hardware of their own; on one machine their processes must not take the CPU the
    // server needs (ten busy workers would get ten shares to its one). A lower priority needs no privilege.
    if (child.pid !== undefined) {
        try {
            os.setPriority(child.pid, WORKER_NICE);
        }
        catch {
            // Not allowed here (a restricted container): the run goes on at equal priority.
        }
    }
    const pending = new Map();
    let nextId = 1;
    let exited = false;
    child.on('message', (raw) => {
        const m = raw;
        if (m.t === 'tick')
            return onTick(name, m.tick);
        const p = pending.get(m.id);
        if (!p)
            return;
        pending.delete(m.id);
        if (m.ok)
            p.resolve(m.value);
        else
            p.reject(new Error(`${name}: ${m.error}`));
    });
    child.on('exit', (code, signal) => {
        exited = true;
        for (const p of pending.values())
            p.reject(new Error(`${name} exited (${signal ?? code})`));
        pending.clear();
    });
    const send = (m) => {
        if (!exited && child.connected)
            child.send(m);
    };
    send({ t: 'init', init, offset: clock.offset });
    const call = (method, ...args) => new Promise((resolve, reject) => {
        if (exited)
            return reject(new Error(`${name} is not running`));
        const id = nextId++;
        pending.set(id, { resolve: resolve, reject });
        send({ t: 'call', id, method, args });
    });
    return {
        name,
        ...remoteMethods(call),
        advance: (ms) => send({ t: 'advance', ms }),
        async stop() {
            if (exited)
                return;
            const gone = new Promise((r) => child.once('exit', r));
            await call('stop').catch(() => undefined);
            child.disconnect();
            await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
            if (!exited)
                child.kill('SIGKILL');
        },
    };
}
//# sourceMappingURL=shard-host.js.map