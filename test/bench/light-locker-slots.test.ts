import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import pLimit from 'p-limit';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeCredentials } from '../../bench/events.js';
import { LightLocker } from '../../bench/light-locker.js';
import { seededRandom } from '../../simulator/random.js';

/** The bench's light lockers against a real aedes (or a server that never answers) over loopback. */
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

function lockers(port: number, n: number, slots: { run: pLimit.Limit; size: number }): LightLocker[] {
  const random = seededRandom(7);
  const made = fakeCredentials(n).map(
    (c) => new LightLocker({ lockerId: c.lockerId, key: c.key, host: '127.0.0.1', port, ack: 'puback', heartbeatMs: 0, ackTimeoutMs: 5000, random, slots }),
  );
  cleanup.push(async () => void (await Promise.all(made.map((l) => l.stop()))));
  return made;
}

describe('bench light lockers with connect slots', () => {
  it('connect one at a time through a single slot, each giving it back at its CONNACK', async () => {
    const aedes = await Aedes.createBroker();
    cleanup.push(() => new Promise((resolve) => aedes.close(() => resolve())));
    let mostAtOnce = 0;
    let connecting = 0;
    const server = createServer((socket) => {
      connecting++;
      mostAtOnce = Math.max(mostAtOnce, connecting);
      // Counted until the broker has answered the CONNECT (its first bytes back are the CONNACK).
      const write = socket.write.bind(socket);
      let answered = false;
      socket.write = ((...args: Parameters<typeof socket.write>) => {
        if (!answered) {
          answered = true;
          connecting--;
        }
        return write(...args);
      }) as typeof socket.write;
      aedes.handle(socket);
    });
    const port = await listen(server);
    const slots = { run: pLimit(1), size: 1 };
    const fleet = lockers(port, 6, slots);
    await Promise.all(fleet.map((l) => l.start()));
    expect(fleet.every((l) => l.connected)).toBe(true);
    expect(mostAtOnce).toBe(1);
    expect(fleet.reduce((n, l) => n + l.stats.slotWaits, 0)).toBe(5);
    expect(slots.run.activeCount).toBe(0);
    expect(slots.run.pendingCount).toBe(0);
    expect(fleet.map((l) => l.stats.attempts)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('counts a connection the server closes without a CONNACK as dropped, and gives its slot back', async () => {
    const server = createServer((socket) => socket.once('data', () => socket.end()));
    const port = await listen(server);
    const slots = { run: pLimit(1), size: 1 };
    const [locker] = lockers(port, 1, slots) as [LightLocker];
    void locker.start();
    await expect.poll(() => locker.stats.dropped, { timeout: 5000 }).toBeGreaterThan(0);
    expect(locker.connected).toBe(false);
    expect(locker.stats.busy + locker.stats.timeouts).toBe(0);
    // Waiting for its backoff, not connecting: the slot is free.
    expect(slots.run.activeCount).toBe(0);
  });
});
