import { expect, vi } from 'vitest';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { ServerConfig } from '../../server/config-schema.js';
import type { LockerView } from '../../shared/api/lockers.js';
import type { ParcelView } from '../../shared/api/parcels.js';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { seededRandom } from '../../simulator/random.js';
import { startTestServer, type TestServer } from './test-server.js';

export type Booked = ParcelView & { dropoff: { pin: string; qr: string } };
export type ParcelRead = ParcelView & { history: { type: string; source: string; detail: Record<string, unknown> | null }[] };

export interface LockerFixture {
  t: TestServer;
  locker: InProcessLocker;
  /** Books a parcel of `size` at the fixture's locker, as a carrier would. */
  book(reference: string, size?: string): Promise<Booked>;
  read(parcelId: string): Promise<ParcelRead>;
  view(): Promise<LockerView>;
  /** The person pulls the released door and pushes it shut. */
  cycle(compartmentId: string): void;
  /** Waits until the locker applied every desired-state version. */
  synced(): Promise<void>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  compartments?: { id: string; size: 'S' | 'M' | 'L' | 'XL' }[];
  server?: Partial<ServerConfig>;
  /** The server's clock (and the locker's, unless `deviceClock` is given). */
  clock?: Clock;
  deviceClock?: Clock;
  seed?: number;
  outboxLimit?: number;
  /** The agent's reopen-once window, seconds (default: off). */
  reopenWindowSec?: number;
}

/** A real server and one locker agent in this process on simulated hardware, ready to take codes. */
export async function startLockerFixture(o: FixtureOptions = {}): Promise<LockerFixture> {
  const t = await startTestServer(o.server ?? {}, o.clock);
  const locker = await startSimLocker({
    api: t.api,
    name: 'Fixture',
    location: { lat: 52.23, lon: 21.01 },
    compartments: o.compartments ?? [
      { id: 'A1', size: 'S' },
      { id: 'A2', size: 'S' },
    ],
    dataDir: t.dir,
    clock: o.deviceClock ?? o.clock ?? systemClock,
    random: seededRandom(o.seed ?? 1),
    ...(o.outboxLimit !== undefined ? { outboxLimit: o.outboxLimit } : {}),
    ...(o.reopenWindowSec !== undefined ? { reopenWindowSec: o.reopenWindowSec } : {}),
  });
  await vi.waitFor(() => expect(locker.agent.ready, 'the locker configuration').toBe(true), { timeout: 10_000, interval: 10 });
  const view = () => t.api.get<LockerView>(`/v1/lockers/${locker.id}`);
  return {
    t,
    locker,
    book: (reference, size = 'S') => t.api.post<Booked>('/v1/parcels', { lockerId: locker.id, size, recipient: { email: 'r@x.example' }, reference }),
    read: (id) => t.api.get<ParcelRead>(`/v1/parcels/${id}`),
    view,
    cycle(id) {
      expect(locker.hardware.openDoor(id)).toBe(true);
      locker.hardware.closeDoor(id);
    },
    synced: () =>
      vi.waitFor(
        async () => {
          const v = await view();
          expect(v.reportedVersion, 'the locker to apply the desired state').toBe(v.desiredVersion);
        },
        { timeout: 15_000, interval: 10 },
      ),
    async close() {
      await locker.stop();
      await t.close();
    },
  };
}
