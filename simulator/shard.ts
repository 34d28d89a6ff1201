import path from 'node:path';
import type { CompartmentSize } from '../shared/compartment-sizes.js';
import type { ParcelView } from '../shared/api/parcels.js';
import { ApiClient, ApiError } from '../client/http-client.js';
import { startProcessLocker, startSimLocker, type InProcessLocker, type SimLocker } from './fleet.js';
// Firmware rollouts (issue 19):
import { simulatedFirmwareSettings } from './firmware-rollout.js';
import { Recorder } from './metrics.js';
import { awaitCode, awaitPickupCode, visitLocker } from './people.js';
import type { FaultPlan, FlowPlan } from './plan.js';
import { seededRandom } from './random.js';
import type { VirtualClock } from './virtual-clock.js';

/** What a part of the fleet needs to start: its lockers (by index in the whole fleet) and how to reach the server. */
export interface ShardInit {
  shard: number;
  servers: readonly string[];
  token: string;
  lockers: readonly { index: number; name: string; lat: number; lon: number; seed: number }[];
  compartments: readonly { id: string; size: CompartmentSize }[];
  /** Every agent in its own child process (crash tests) instead of in this process. */
  processes: boolean;
  workDir: string;
  registerConcurrency: number;
  /** Spread of each agent's first connect. */
  startJitterMs: number;
  /** How often a waiting recipient asks for the pickup code. */
  pollMs: number;
  /** How long an agent waits for an event batch's ack before sending it again. */
  ackTimeoutMs: number;
  /** How long a courier at a jammed latch waits for the agent to open another compartment. */
  jamWaitMs: number;
  /** Lockers (by index) that reach the broker through a TCP proxy, whose network can be cut; 'all' for every one. */
  proxied: 'all' | readonly number[];
  /** Firmware rollouts (issue 19): the vendor key the lockers trust, and the lockers (by index) a new version does not come up on. */
  firmware?: { publicKey: string; failing: readonly number[] };
}

export interface DeviceSummary {
  id: string;
  lastSeq: number;
  outbox: number | null;
  acceptedByJti?: [string, number][];
}

export interface ShardResult {
  devices: DeviceSummary[];
  parcelIds: string[];
  problems: string[];
  codes: { accepted: number; rejected: number } | null;
  resent: number;
  resentBatches: number;
  networkCuts: number;
  powerCuts: number;
  forcedOpens: number;
  failovers: number;
}

type Booked = ParcelView & { dropoff: { pin: string; qr: string } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
/** Longest a carrier keeps retrying a booking while the locker is full (pickups free compartments). */
const BOOKING_PATIENCE_MS = 180_000;

/**
 * One part of the fleet, in whatever process hosts it: registers and runs its lockers (each the real agent with
 * its own store and MQTT connection), sends couriers and recipients to them as planned, injects its faults, and
 * reports counts and latencies through its Recorder.
 */
export class Shard {
  readonly recorder = new Recorder();
  readonly api: ApiClient;
  /** By index in the whole fleet. */
  readonly lockers = new Map<number, SimLocker>();
  readonly #problems: string[] = [];
  readonly #parcelIds: string[] = [];
  /** Compartments holding (or booked for) one of our parcels, per locker id: forced opens leave them alone. */
  readonly #busy = new Map<string, Set<string>>();
  #noShowsPending: FlowPlan[] = [];
  #noShowsInLocker: { f: FlowPlan; parcel: Booked; door: string }[] = [];
  #powerCuts = 0;
  #forcedOpens = 0;

  constructor(
    readonly init: ShardInit,
    readonly clock: VirtualClock,
  ) {
    this.api = new ApiClient(init.servers, init.token, { onReadRetry: () => this.recorder.add('readRetries') });
  }

  /**
   * Registers and starts every locker of the shard, a few at a time (each is an API call, a key pair, a store,
   * an enrolment), and no faster than they come up: while `maxStarting` agents still wait for their first
   * configuration, registration pauses. On a busy server, connects would otherwise queue behind registrations,
   * time out and come again, each retry one more sign-in to check.
   */
  async start(maxStarting = 60): Promise<void> {
    const queue = [...this.init.lockers];
    const proxied = this.init.proxied === 'all' ? null : new Set(this.init.proxied);
    const worker = async () => {
      for (let l = queue.shift(); l; l = queue.shift()) {
        while (this.lockers.size - this.ready() >= maxStarting) await sleep(100);
        const setup = {
          api: this.api,
          name: l.name,
          location: { lat: l.lat, lon: l.lon },
          compartments: this.init.compartments,
          dataDir: path.join(this.init.workDir),
          clock: this.clock,
          random: seededRandom(l.seed),
          seed: l.seed,
          recorder: this.recorder,
          startJitterMs: this.init.startJitterMs,
          ackTimeoutMs: this.init.ackTimeoutMs,
          direct: proxied !== null && !proxied.has(l.index),
          ...(this.init.firmware ? { firmware: simulatedFirmwareSettings(this.init.firmware, l.index) } : {}),
        };
        this.lockers.set(l.index, this.init.processes ? await startProcessLocker(setup) : await startSimLocker(setup));
        this.recorder.add('registered');
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.init.registerConcurrency) }, worker));
  }

  connected(): number {
    let n = 0;
    for (const l of this.lockers.values()) {
      const agent = (l as Partial<InProcessLocker>).agent;
      if (agent ? agent.sync.connected : l.ready()) n++;
    }
    return n;
  }

  ready(): number {
    let n = 0;
    for (const l of this.lockers.values()) if (l.ready()) n++;
    return n;
  }

  /** Runs the planned journeys of this shard's parcels; `t0` is the wall-clock time traffic starts. */
  async runFlows(flows: readonly FlowPlan[], t0: number): Promise<void> {
    await Promise.all(flows.map((f) => (f.noShow ? this.#noShowsPending.push(f) : this.#journey(f, t0))));
  }

  async #journey(f: FlowPlan, t0: number): Promise<void> {
    const locker = this.#locker(f.locker);
    const fail = (problem: string) => {
      this.recorder.add('failed');
      this.#problems.push(`${f.reference}: ${problem}`);
    };
    try {
      await sleep(t0 + f.startMs - Date.now());
      const parcel = await this.#book(locker.id, f.size, f.reference);
      if (!parcel) return fail(`could not book at ${locker.id}`);
      if (f.jam) locker.hardware.jam(parcel.compartmentId);
      // A jammed latch: the agent tries it twice, calls it jammed and opens another compartment for the same code.
      const drop = await visitLocker(locker, parcel.dropoff, parcel.compartmentId, {
        useQr: f.qrDropoff,
        holdMs: f.holdMs,
        ...(f.jam ? { acceptAnyDoor: true, releaseTimeoutMs: this.init.jamWaitMs, tries: 2 } : {}),
      });
      if (f.jam) locker.hardware.jam(parcel.compartmentId, false);
      if (!drop.ok) {
        if (f.jam) {
          // A planned fault, not a failure of the system: the parcel stays booked (in transit) in the books.
          this.recorder.add('faulted');
          return;
        }
        return fail(`deposit failed: ${drop.problem}`);
      }
      if (drop.unlockMs !== undefined) this.recorder.latency('unlock', drop.unlockMs);
      this.recorder.add('deposited');
      const door = drop.door ?? parcel.compartmentId;
      this.#hold(locker.id, door);
      await sleep(f.pickupAfterMs);
      const code = await awaitPickupCode(this.api, parcel.id, 120_000, this.init.pollMs);
      if (!code) return fail('no pickup code was released');
      const pickup = await visitLocker(locker, code, door, { useQr: f.qrPickup, holdMs: f.holdMs });
      if (!pickup.ok) return fail(`pickup failed: ${pickup.problem}`);
      if (pickup.unlockMs !== undefined) this.recorder.latency('unlock', pickup.unlockMs);
      this.#release(locker.id, door);
      this.#release(locker.id, parcel.compartmentId);
      this.recorder.add('pickedUp');
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
  }

  /** A carrier books, waiting and retrying while the locker is full; the latency counted is the accepted request's. */
  async #book(lockerId: string, size: CompartmentSize, reference: string, patienceMs = BOOKING_PATIENCE_MS): Promise<Booked | null> {
    const until = Date.now() + patienceMs;
    for (let wait = 100; ; wait = Math.min(1000, wait * 1.5)) {
      const asked = performance.now();
      try {
        const parcel = await this.api.post<Booked>('/v1/parcels', { lockerId, size, recipient: { email: `${reference.toLowerCase()}@example.test` }, reference });
        this.recorder.latency('booking', performance.now() - asked);
        this.recorder.add('booked');
        this.#parcelIds.push(parcel.id);
        this.#hold(lockerId, parcel.compartmentId);
        return parcel;
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 'NO_FREE_COMPARTMENT') throw err;
        if (Date.now() + wait > until) return null;
        await sleep(wait);
      }
    }
  }

  /**
   * No-shows, once everyone else is done: couriers deposit as many as fit, then wait until the server has them
   * all as deposited. The coordinator then moves virtual time past the pickup window and calls noShowCollect.
   */
  async noShowDeposit(): Promise<{ deposited: number; pending: number }> {
    for (const f of [...this.#noShowsPending]) {
      const locker = this.#locker(f.locker);
      const parcel = await this.#book(locker.id, f.size, f.reference, 0).catch(() => null);
      if (!parcel) continue;
      this.#noShowsPending.splice(this.#noShowsPending.indexOf(f), 1);
      const drop = await visitLocker(locker, parcel.dropoff, parcel.compartmentId, { useQr: false });
      if (!drop.ok) {
        this.recorder.add('failed');
        this.#problems.push(`${f.reference}: deposit failed: ${drop.problem}`);
        continue;
      }
      if (drop.unlockMs !== undefined) this.recorder.latency('unlock', drop.unlockMs);
      this.recorder.add('deposited');
      this.#noShowsInLocker.push({ f, parcel, door: drop.door ?? parcel.compartmentId });
    }
    const until = Date.now() + 60_000;
    for (const { parcel } of this.#noShowsInLocker) {
      while ((await this.api.get<ParcelView>(`/v1/parcels/${parcel.id}`)).status !== 'in_locker') {
        if (Date.now() > until) {
          this.#problems.push('no-show parcels never reached the server as deposited');
          break;
        }
        await sleep(100);
      }
    }
    return { deposited: this.#noShowsInLocker.length, pending: this.#noShowsPending.length };
  }

  /** After the pickup window passed: couriers collect the no-shows with their collection codes (they end returned). */
  async noShowCollect(): Promise<void> {
    const batch = this.#noShowsInLocker;
    this.#noShowsInLocker = [];
    await Promise.all(
      batch.map(async ({ f, parcel, door }) => {
        const locker = this.#locker(f.locker);
        const code = await awaitCode(this.api, parcel.id, 'collection_code', 60_000, this.init.pollMs);
        if (!code) return void this.#problems.push(`${f.reference}: no collection code was issued`);
        const visit = await visitLocker(locker, code, door, { useQr: false });
        if (!visit.ok) return void this.#problems.push(`${f.reference}: collection failed: ${visit.problem}`);
        if (visit.unlockMs !== undefined) this.recorder.latency('unlock', visit.unlockMs);
        this.recorder.add('returned');
      }),
    );
  }

  /** The no-shows that never found a free compartment. */
  noShowGiveUp(): void {
    for (const f of this.#noShowsPending) this.#problems.push(`${f.reference}: could not book at ${this.#locker(f.locker).id}`);
    this.recorder.add('failed', this.#noShowsPending.length);
    this.#noShowsPending = [];
  }

  /** Network cuts, the storm, forced doors and power cuts planned for this shard's lockers. */
  async runFaults(plan: FaultPlan, t0: number): Promise<void> {
    const at = (ms: number) => sleep(t0 + ms - Date.now());
    const mine = (i: number) => this.lockers.get(i);
    await Promise.all([
      ...plan.outages.map(async (o) => {
        const l = mine(o.locker);
        if (!l) return;
        await at(o.startMs);
        l.proxy.cut();
        await sleep(o.durationMs);
        l.proxy.restore();
      }),
      (async () => {
        if (!plan.storm) return;
        await at(plan.storm.startMs);
        for (const l of this.lockers.values()) l.proxy.cut(); // a storm plans a proxy for every locker
        await sleep(plan.storm.downMs);
        for (const l of this.lockers.values()) l.proxy.restore();
      })(),
      ...plan.forcedOpens.map(async (o) => {
        const l = mine(o.locker);
        if (!l) return;
        await at(o.atMs);
        await this.#forceOpen(l);
      }),
      ...plan.powerCuts.map(async (p) => {
        const l = mine(p.locker) as Partial<InProcessLocker> | undefined;
        if (!l?.powerCut) return;
        await at(p.atMs);
        await l.powerCut(p.downMs);
        this.#powerCuts++;
      }),
    ]);
  }

  /** A vandal pulls an empty compartment's door open and pushes it shut (in the keypad queue, like a visit). */
  async #forceOpen(l: SimLocker): Promise<void> {
    const act = l.turn.then(async () => {
      const busy = this.#busy.get(l.id) ?? new Set<string>();
      const free = l.hardware.compartments().find((c) => !busy.has(c.id) && !l.hardware.isDoorOpen(c.id) && !l.hardware.isReleased(c.id));
      if (!free) return;
      l.hardware.forceOpen(free.id);
      await sleep(200);
      l.hardware.closeDoor(free.id);
      this.#forcedOpens++;
    });
    l.turn = act.catch(() => undefined);
    await act;
  }

  async status(): Promise<DeviceSummary[]> {
    return Promise.all([...this.lockers.values()].map(async (l) => ({ id: l.id, lastSeq: await l.lastSeq(), outbox: await l.outboxSize() })));
  }

  async collect(): Promise<ShardResult> {
    const all = [...this.lockers.values()];
    const taps = all.flatMap((l) => ((l as Partial<InProcessLocker>).tap ? [(l as InProcessLocker).tap] : []));
    return {
      devices: await Promise.all(
        all.map(async (l) => {
          const tap = (l as Partial<InProcessLocker>).tap;
          return { id: l.id, lastSeq: await l.lastSeq(), outbox: await l.outboxSize(), ...(tap ? { acceptedByJti: [...tap.acceptedByJti] } : {}) };
        }),
      ),
      parcelIds: [...this.#parcelIds],
      problems: [...this.#problems],
      codes: this.init.processes
        ? null
        : { accepted: taps.reduce((n, t) => n + (t.byType.get('code.accepted') ?? 0), 0), rejected: taps.reduce((n, t) => n + (t.byType.get('code.rejected') ?? 0), 0) },
      resent: all.reduce((n, l) => n + l.resent().events, 0),
      resentBatches: all.reduce((n, l) => n + l.resent().batches, 0),
      networkCuts: all.reduce((n, l) => n + l.proxy.cuts, 0),
      powerCuts: this.#powerCuts,
      forcedOpens: this.#forcedOpens,
      failovers: this.api.failovers,
    };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.lockers.values()].map((l) => l.stop().catch(() => undefined)));
  }

  #locker(index: number): SimLocker {
    const l = this.lockers.get(index);
    if (!l) throw new Error(`locker ${index} is not in shard ${this.init.shard}`);
    return l;
  }

  #hold(lockerId: string, compartmentId: string): void {
    const set = this.#busy.get(lockerId) ?? new Set<string>();
    set.add(compartmentId);
    this.#busy.set(lockerId, set);
  }

  #release(lockerId: string, compartmentId: string): void {
    this.#busy.get(lockerId)?.delete(compartmentId);
  }
}
