import { randomUUID } from 'node:crypto';
import { systemClock } from '../shared/clock.js';
import { LockerAgent } from '../device/agent.js';
import { DeviceStore } from '../device/store/device-store.js';
import { DeviceIdentity } from '../device/identity.js';
import { IpcHardware } from './ipc-hardware.js';
import { seededRandom } from './random.js';
/** A locker agent in its own process (so it can be killed with SIGKILL), its hardware in the simulator. */
async function main() {
    const config = JSON.parse(process.env.LOCKSTEP_SIM_DEVICE ?? '');
    const send = (m) => {
        if (process.connected)
            process.send?.(m);
    };
    const hardware = new IpcHardware(config.compartments, send);
    const store = await DeviceStore.open(config.dbFile, () => randomUUID().replaceAll('-', ''));
    const identity = await DeviceIdentity.loadOrCreate(store);
    const agent = new LockerAgent({
        lockerId: config.lockerId,
        mqttUrl: config.mqttUrl,
        password: () => identity.brokerPassword(config.lockerId, Date.now()),
        hardware,
        store,
        clock: systemClock,
        random: seededRandom(config.seed),
        ackTimeoutMs: config.ackTimeoutMs,
    });
    let closing = false;
    process.on('message', (raw) => {
        const m = raw;
        if (m.t === 'stop') {
            closing = true;
            void agent
                .stop()
                .then(() => store.close())
                .finally(() => process.exit(0));
            return;
        }
        hardware.receive(m);
    });
    process.on('disconnect', () => process.exit(0));
    await agent.start();
    const report = async () => {
        if (closing)
            return;
        send({ t: 'status', ready: agent.ready, outbox: await store.outboxSize(), lastSeq: await store.lastSeq(), resent: agent.sync.stats.eventsResent, resentBatches: agent.sync.stats.batchesResent, connects: agent.sync.stats.connects });
    };
    setInterval(() => void report().catch(() => undefined), 50);
}
main().catch((err) => {
    process.stderr.write(`device process failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
});
//# sourceMappingURL=device-process.js.map