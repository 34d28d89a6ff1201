import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { systemClock } from '../../shared/clock.js';
import { LockerAgent } from '../../device/agent.js';
import type { LockerView } from '../../shared/api/lockers.js';
import type { ParcelView } from '../../shared/api/parcels.js';
import { checkInvariants, type ParcelWithHistory } from '../../simulator/checker.js';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { seededRandom } from '../../simulator/random.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Booked = ParcelView & { dropoff: { pin: string; qr: string } };
type Action = 'step' | 'cut' | 'restore' | 'restart' | 'wrong';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** A locker whose agent can be restarted (same store, same hardware), counting every event it records. */
async function harness(run: number) {
  const sim: InProcessLocker = await startSimLocker({
    api: t.api,
    name: `Property ${run}`,
    location: { lat: 52, lon: 21 },
    compartments: [{ id: 'A1', size: 'S' }, { id: 'A2', size: 'S' }],
    dataDir: t.dir,
    clock: systemClock,
    random: seededRandom(run),
  });
  const accepted = new Map<string, number>();
  const tap = (a: LockerAgent) => {
    a.onRecorded = (events) => {
      for (const e of events) if (e.type === 'code.accepted' && e.jti) accepted.set(e.jti, (accepted.get(e.jti) ?? 0) + 1);
    };
  };
  let agent = sim.agent;
  tap(agent);
  return {
    sim,
    accepted,
    get agent() {
      return agent;
    },
    async restart() {
      await agent.stop();
      const { mqttUrl, password } = sim.credentials;
      agent = new LockerAgent({ lockerId: sim.id, mqttUrl, password, hardware: sim.hardware, store: sim.store, clock: systemClock, random: seededRandom(run + 1), ackTimeoutMs: 1000 });
      tap(agent);
      await agent.start();
    },
    async stop() {
      await agent.stop();
      await sim.store.close();
      await sim.proxy.close();
    },
  };
}

describe('random interleavings of people, outages and agent restarts', () => {
  it('keep the invariants: nothing opened twice, every event once, every parcel out', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<Action>('step', 'step', 'step', 'cut', 'restore', 'restart', 'wrong'), { minLength: 4, maxLength: 16 }), async (actions) => {
        run++;
        const h = await harness(run);
        const { sim } = h;
        try {
          await expect.poll(() => h.agent.ready, { message: 'ready' }).toBe(true);
          const parcels: Booked[] = [];
          for (let i = 0; i < 2; i++) {
            parcels.push(await t.api.post<Booked>('/v1/parcels', { lockerId: sim.id, size: 'S', recipient: { email: 'r@x.example' }, reference: `P${run}-${i}` }));
          }
          const stage = parcels.map(() => 0);
          const step = async (force: boolean) => {
            const i = stage.findIndex((s) => s < 2);
            if (i < 0) return;
            const p = parcels[i] as Booked;
            let code = p.dropoff;
            if (stage[i] === 1) {
              const { notifications } = await t.api.get<{ notifications: { code: { pin: string; qr: string } }[] }>(`/v1/parcels/${p.id}/notifications`);
              const n = notifications[0];
              if (!n) {
                if (!force) return;
                await expect.poll(async () => (await t.api.get<{ notifications: unknown[] }>(`/v1/parcels/${p.id}/notifications`)).notifications.length > 0, { timeout: 15_000, message: 'the pickup code' }).toBe(true);
                return step(force);
              }
              code = n.code;
            }
            // The QR works whatever the locker knows; the PIN only once the booking reached it.
            const outcome = await h.agent.enterCode(code.qr, 'scanner');
            expect(outcome).toEqual({ opened: p.compartmentId });
            sim.hardware.openDoor(p.compartmentId);
            sim.hardware.closeDoor(p.compartmentId);
            stage[i] = (stage[i] ?? 0) + 1;
          };
          for (const a of actions) {
            if (a === 'step') await step(false);
            else if (a === 'cut') sim.proxy.cut();
            else if (a === 'restore') sim.proxy.restore();
            else if (a === 'restart') await h.restart();
            else await h.agent.enterCode('00000000', 'keypad');
          }
          sim.proxy.restore();
          while (stage.some((s) => s < 2)) await step(true);

          await expect.poll(async () => {
            const v = await t.api.get<LockerView>(`/v1/lockers/${sim.id}`);
            return (await sim.store.outboxSize()) === 0 && v.events.received === (await sim.store.lastSeq());
          }, { timeout: 20_000, message: 'convergence' }).toBe(true);
          const view = await t.api.get<LockerView>(`/v1/lockers/${sim.id}`);
          const read = await Promise.all(parcels.map((p) => t.api.get<ParcelWithHistory>(`/v1/parcels/${p.id}`)));
          expect(read.map((p) => p.status)).toEqual(['picked_up', 'picked_up']);
          const violations = checkInvariants({ parcels: read, lockers: [view], devices: new Map([[sim.id, { lastSeq: await sim.store.lastSeq(), acceptedByJti: h.accepted }]]) });
          expect(violations).toEqual([]);
        } finally {
          await h.stop();
        }
      }),
      { numRuns: 15 },
    );
  }, 240_000);
});

