import { fork } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { LockerAgent } from '../device/agent.js';
import { DeviceStore } from '../device/store/device-store.js';
import { DeviceIdentity, continueNumbering, enrol, keepBrokerAccount } from '../device/identity.js';
import { hostHardware } from './ipc-hardware.js';
import { SimulatedLocker } from './simulated-locker.js';
import { directLink, TcpProxy } from './tcp-proxy.js';
/** Compartment mix of a simulated locker. */
export const DEFAULT_COMPARTMENTS = [
    { id: 'A1', size: 'S' },
    { id: 'A2', size: 'S' },
    { id: 'A3', size: 'S' },
    { id: 'B1', size: 'M' },
    { id: 'B2', size: 'M' },
    { id: 'C1', size: 'L' },
    { id: 'D1', size: 'XL' },
];
const newEventId = () => randomUUID().replaceAll('-', '');
/**
 * An operator registers the locker; its controller makes its own key pair and enrols with the single-use token
 * (as a real one does on first start), then reaches the broker through its own proxy (its network).
 */
async function register(s) {
    const compartments = s.compartments ?? DEFAULT_COMPARTMENTS;
    const created = await s.api.post('/v1/lockers', { name: s.name, location: s.location, compartments });
    const dbFile = path.join(s.dataDir, `${created.id}.sqlite`);
    const store = await DeviceStore.open(dbFile, newEventId);
    const identity = await DeviceIdentity.loadOrCreate(store);
    const enrolled = await s.api.withServer((baseUrl) => enrol(baseUrl, created.id, created.enrolment.token, identity.publicKey));
    await continueNumbering(store, enrolled.lastSeq);
    // Against an external broker with static per-locker accounts (Mosquitto dynamic security) enrolment hands one over.
    await keepBrokerAccount(store, enrolled.broker);
    if (s.direct)
        return { created, compartments, proxy: directLink(), mqttUrl: enrolled.mqttUrl, store, identity, dbFile };
    const broker = new URL(enrolled.mqttUrl);
    const proxy = new TcpProxy(broker.hostname, Number(broker.port));
    const mqttUrl = await proxy.listen().catch(async (err) => {
        await store.close();
        throw err;
    });
    return { created, compartments, proxy, mqttUrl, store, identity, dbFile };
}
/** Registers a locker with the server and starts its agent in this process on simulated hardware. */
export async function startSimLocker(s) {
    const { created, compartments, proxy, mqttUrl, store, identity } = await register(s);
    const hardware = new SimulatedLocker(compartments);
    const password = () => identity.brokerPassword(created.id, s.clock.now());
    const tap = { seqs: new Set(), acceptedByJti: new Map(), byType: new Map() };
    // Event-to-commit: from the moment the agent records an event to its ack, which the server sends after the commit.
    const recordedAt = new Map();
    if (s.recorder) {
        const recorder = s.recorder;
        const acknowledge = store.acknowledge.bind(store);
        store.acknowledge = async (seqs) => {
            await acknowledge(seqs);
            const now = performance.now();
            for (const seq of seqs) {
                const at = recordedAt.get(seq);
                if (at === undefined)
                    continue;
                recordedAt.delete(seq);
                recorder.add('committed');
                recorder.latency('commit', now - at);
            }
        };
    }
    const startAgent = () => {
        const agent = new LockerAgent({
            lockerId: created.id,
            mqttUrl,
            password,
            hardware,
            store,
            clock: s.clock,
            random: s.random,
            ackTimeoutMs: s.ackTimeoutMs ?? 2000,
            ...(s.outboxLimit !== undefined ? { outboxLimit: s.outboxLimit } : {}),
            ...(s.startJitterMs ? { startJitterMs: s.startJitterMs } : {}),
        });
        agent.onRecorded = (events) => {
            const now = performance.now();
            for (const e of events) {
                tap.seqs.add(e.seq);
                if (s.recorder)
                    recordedAt.set(e.seq, now);
                tap.byType.set(e.type, (tap.byType.get(e.type) ?? 0) + 1);
                if (e.type === 'code.accepted' && e.jti)
                    tap.acceptedByJti.set(e.jti, (tap.acceptedByJti.get(e.jti) ?? 0) + 1);
            }
        };
        return agent;
    };
    let resentBefore = { events: 0, batches: 0 };
    const locker = {
        id: created.id,
        hardware,
        proxy,
        agent: startAgent(),
        store,
        tap,
        credentials: { mqttUrl, password },
        turn: Promise.resolve(),
        crashes: 0,
        ready: () => locker.agent.ready,
        outboxSize: () => store.outboxSize(),
        lastSeq: () => store.lastSeq(),
        resent: () => ({ events: resentBefore.events + locker.agent.sync.stats.eventsResent, batches: resentBefore.batches + locker.agent.sync.stats.batchesResent }),
        async powerCut(downMs) {
            const old = locker.agent;
            old.sync.dropConnection();
            await old.stop();
            resentBefore = { events: resentBefore.events + old.sync.stats.eventsResent, batches: resentBefore.batches + old.sync.stats.batchesResent };
            locker.crashes++;
            await new Promise((r) => setTimeout(r, downMs));
            locker.agent = startAgent();
            await locker.agent.start();
        },
        async stop() {
            await locker.agent.stop();
            await store.close();
            await proxy.close();
        },
    };
    await locker.agent.start();
    return locker;
}
const DEVICE_ENTRY = fileURLToPath(new URL('./device-process.ts', import.meta.url));
/** Registers a locker and runs its agent in a child process (killable with SIGKILL); hardware stays here. */
export async function startProcessLocker(s) {
    const { created, compartments, proxy, mqttUrl, store, dbFile } = await register(s);
    // The agent process opens the same store, with the identity made at enrolment.
    await store.close();
    const hardware = new SimulatedLocker(compartments);
    const config = {
        lockerId: created.id,
        mqttUrl,
        dbFile,
        compartments: [...compartments],
        seed: s.seed ?? 1,
        ackTimeoutMs: 2000,
    };
    let status = null;
    let resentBefore = { events: 0, batches: 0 };
    let child;
    let unhost = () => { };
    const spawnAgent = () => {
        status = null;
        child = fork(DEVICE_ENTRY, [], {
            execArgv: ['--import', 'tsx'],
            env: { ...process.env, LOCKSTEP_SIM_DEVICE: JSON.stringify(config) },
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        unhost = hostHardware(child, hardware, (st) => (status = st));
    };
    spawnAgent();
    const locker = {
        id: created.id,
        hardware,
        proxy,
        turn: Promise.resolve(),
        crashes: 0,
        ready: () => status?.ready ?? false,
        outboxSize: async () => (status ? status.outbox : null),
        lastSeq: async () => status?.lastSeq ?? 0,
        resent: () => ({ events: resentBefore.events + (status?.resent ?? 0), batches: resentBefore.batches + (status?.resentBatches ?? 0) }),
        async crash() {
            const c = child;
            if (!c || c.exitCode !== null)
                return;
            resentBefore = { events: resentBefore.events + (status?.resent ?? 0), batches: resentBefore.batches + (status?.resentBatches ?? 0) };
            status = null;
            unhost();
            const exited = new Promise((r) => c.once('exit', r));
            c.kill('SIGKILL');
            await exited;
            locker.crashes++;
        },
        restart() {
            spawnAgent();
        },
        async crashAndRestart(downMs) {
            await locker.crash?.();
            await new Promise((r) => setTimeout(r, downMs));
            spawnAgent();
        },
        async stop() {
            const c = child;
            if (c && c.exitCode === null) {
                const exited = new Promise((r) => c.once('exit', r));
                c.send({ t: 'stop' });
                await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
                if (c.exitCode === null)
                    c.kill('SIGKILL');
            }
            unhost();
            await proxy.close();
        },
    };
    return locker;
}
//# sourceMappingURL=fleet.js.map