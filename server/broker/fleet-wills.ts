import type { Redis } from 'ioredis';

/**
 * The wills of a broker fleet (REDIS_URL), in Redis, at a constant cost per connect.
 *
 * aedes-persistence-redis keeps every will key in one Redis list and removes a key with LREM, which reads the whole
 * list: every connect did it twice and every disconnect once, so with 170,000 lockers each connect cost Redis a scan
 * of 170,000 entries, and Redis became the busiest process of the deployment (docs/scale.md). Its sweep of a dead
 * process's wills also reads only the first 10,001 entries of that list. This store replaces the persistence's will
 * methods (put, get, delete, stream) with hashes:
 *
 *   lockstep:wills:<brokerId>   clientId -> the will (JSON), one hash per broker process
 *   lockstep:will-owner         clientId -> the broker whose hash holds the client's current will
 *   lockstep:will-brokers       the brokers that may still hold wills
 *
 * A locker keeps one will across the fleet: connecting to another process removes the will its previous connection
 * left with a process that died, so the sweep cannot later publish a stale "offline" over a locker that came back.
 * A survivor claims each will of a dead process for a lease before it publishes it, and deletes it after, so of
 * several survivors one publishes it, and a survivor that dies in between leaves it to the next sweep. Each process
 * keeps a key alive in Redis (lockstep:will-alive:<id>) besides aedes' heartbeats, so a process that restarted and
 * has not yet heard the others' heartbeats cannot sweep a live process.
 */

const PREFIX = 'lockstep:wills:';
const OWNER = 'lockstep:will-owner';
const BROKERS = 'lockstep:will-brokers';
/** lockstep:will-alive:<brokerId>, set by each live broker, expiring after 3 missed heartbeats. */
const ALIVE = 'lockstep:will-alive:';
/** lockstep:will-claim:<brokerId>:<clientId>: which survivor publishes that will (until it deletes it, or the lease ends). */
const CLAIM = 'lockstep:will-claim:';
/** Wills read per step of a sweep (HSCAN's COUNT). */
const SWEEP_STEP = 500;

/** A will as aedes hands it over and publishes it again (MQTT 3.1.1: topic, payload, QoS, retain; no v5 properties). */
export interface StoredWill {
  cmd?: string;
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  clientId: string;
  brokerId: string;
}

type Encoded = Omit<StoredWill, 'payload'> & { payload: string };

function encode(will: StoredWill): string {
  return JSON.stringify({ ...will, payload: will.payload.toString('base64') } satisfies Encoded);
}

function decode(text: string | null): StoredWill | null {
  if (text === null) return null;
  const e = JSON.parse(text) as Encoded;
  return { ...e, cmd: 'publish', payload: Buffer.from(e.payload, 'base64') };
}

// Each script runs atomically in Redis and touches a fixed number of keys: O(1) per call. PUT also deletes from the
// previous owner's hash, a key it learns inside the script: that needs one Redis (not Redis Cluster), as aedes'
// clustering does anyway.
// KEYS: my hash, owner hash, brokers set. ARGV: clientId, my broker id, encoded will, hash prefix.
const PUT = `
local owner = redis.call('HGET', KEYS[2], ARGV[1])
if owner and owner ~= ARGV[2] then redis.call('HDEL', ARGV[4] .. owner, ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
return 1`;

// Takes (reads and deletes) the client's will from one broker's hash. KEYS: that hash, owner hash. ARGV: clientId, broker id.
const TAKE = `
local will = redis.call('HGET', KEYS[1], ARGV[1])
if will then redis.call('HDEL', KEYS[1], ARGV[1]) end
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
return will`;

// Claims a dead broker's will for one survivor for a lease, and reads it; the will stays until aedes, having
// published it, deletes it (TAKE). A survivor that dies in between leaves it to the next sweep after the lease.
// KEYS: that hash, the claim key. ARGV: clientId, my broker id, lease (ms).
const CLAIM_WILL = `
local will = redis.call('HGET', KEYS[1], ARGV[1])
if not will then return false end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return false end
return will`;

// Forgets a dead broker whose hash is empty, in one step (a put in between keeps it listed). KEYS: hash, brokers set. ARGV: broker id.
const FORGET = `
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) return 1 end
return 0`;

interface WillScripts {
  lockstepPutWill(mine: string, owner: string, brokers: string, clientId: string, brokerId: string, will: string, prefix: string): Promise<number>;
  lockstepTakeWill(hash: string, owner: string, clientId: string, brokerId: string): Promise<string | null>;
  lockstepClaimWill(hash: string, claim: string, clientId: string, brokerId: string, leaseMs: number): Promise<string | null>;
  lockstepForgetBroker(hash: string, brokers: string, brokerId: string): Promise<number>;
}

/** The persistence methods the store replaces (aedes-persistence-redis' async instance, under its callback layer). */
export interface WillMethods {
  putWill(client: { id: string }, packet: Omit<StoredWill, 'clientId' | 'brokerId'>): Promise<void>;
  getWill(client: { id: string }): Promise<StoredWill | null>;
  delWill(client: { id: string; brokerId?: string }): Promise<StoredWill | null>;
  streamWill(brokers?: Record<string, number>): AsyncGenerator<StoredWill>;
}

export interface FleetWillOptions {
  /** How often each broker says it is alive (aedes' heartbeatInterval); 3 missed and its wills go out. */
  heartbeatMs: number;
  /** The connection this process's broker has for a client id, if any (aedes' `clients`). */
  connectedHere?: (clientId: string) => { will?: unknown } | undefined;
}

export interface FleetWillStore extends WillMethods {
  /** Stops the alive beat and any sweep (before the Redis connection closes); deletes the alive key. */
  stop(): Promise<void>;
}

export function fleetWills(redis: Redis, brokerId: () => string, { heartbeatMs, connectedHere }: FleetWillOptions): FleetWillStore {
  redis.defineCommand('lockstepPutWill', { numberOfKeys: 3, lua: PUT });
  redis.defineCommand('lockstepTakeWill', { numberOfKeys: 2, lua: TAKE });
  redis.defineCommand('lockstepClaimWill', { numberOfKeys: 2, lua: CLAIM_WILL });
  redis.defineCommand('lockstepForgetBroker', { numberOfKeys: 2, lua: FORGET });
  const scripts = redis as unknown as WillScripts;
  const take = async (broker: string, clientId: string) => decode(await scripts.lockstepTakeWill(PREFIX + broker, OWNER, clientId, broker));
  const leaseMs = Math.max(4 * heartbeatMs, 5000);
  let stopped = false;
  // Ids of clients a newer connection in this process is taking over (see putWill).
  const replacing = new Set<string>();

  // Alive as long as this key lives: a survivor sweeps no broker whose key is there, whatever it heard lately.
  // Set with the first will (this broker holds nothing to sweep before), then every period.
  let beating = false;
  const beat = () => {
    let me: string;
    try {
      me = brokerId();
    } catch {
      return; // aedes not set up yet
    }
    beating = true;
    redis.set(ALIVE + me, '1', 'PX', 3 * heartbeatMs).catch(() => undefined);
  };
  const timer = setInterval(beat, heartbeatMs);
  timer.unref();

  return {
    async putWill(client, packet) {
      const me = brokerId();
      if (!beating) beat();
      // A connection taking over a client id still connected here (MQTT-3.1.4-2): aedes closes the old one after
      // this put, and the old one's close deletes "its" will by this broker's id, which is now the new one's.
      if (connectedHere?.(client.id)?.will) replacing.add(client.id);
      const will: StoredWill = { cmd: 'publish', topic: packet.topic, payload: Buffer.from(packet.payload), qos: packet.qos, retain: packet.retain, clientId: client.id, brokerId: me };
      await scripts.lockstepPutWill(PREFIX + me, OWNER, BROKERS, client.id, me, encode(will), PREFIX);
    },
    async getWill(client) {
      return decode(await redis.hget(PREFIX + brokerId(), client.id));
    },
    async delWill(client) {
      const me = brokerId();
      if (client.brokerId === me && replacing.delete(client.id)) return null;
      // aedes names the broker when the will is its own or one it just published from a sweep; at a connect it does
      // not (the client's previous will, wherever it was left): then whichever broker holds it.
      try {
        const broker = client.brokerId ?? (await redis.hget(OWNER, client.id));
        return broker ? await take(broker, client.id) : null;
      } catch (err) {
        // At a connect aedes goes on to put the new will either way; elsewhere it ignores the result.
        if (client.brokerId === undefined) return null;
        throw err;
      }
    },
    /**
     * The wills of every dead broker: not in `brokers` (the processes aedes heard from lately), not this one, and
     * without a live alive key. Each is claimed as it is read; aedes deletes it once published.
     */
    async *streamWill(brokers = {}) {
      const me = brokerId();
      for (const broker of await redis.smembers(BROKERS)) {
        if (stopped) return;
        if (broker === me || brokers[broker] !== undefined || (await redis.exists(ALIVE + broker))) continue;
        let cursor = '0';
        do {
          const [next, entries] = await redis.hscan(PREFIX + broker, cursor, 'COUNT', SWEEP_STEP);
          cursor = next;
          for (let i = 0; i < entries.length && !stopped; i += 2) {
            const clientId = entries[i] as string;
            const will = decode(await scripts.lockstepClaimWill(PREFIX + broker, `${CLAIM}${broker}:${clientId}`, clientId, me, leaseMs));
            if (will) yield will;
          }
        } while (cursor !== '0' && !stopped);
        // Done with a dead broker: forget it once its hash is empty (the last wills go when aedes has published them).
        if (!stopped) await scripts.lockstepForgetBroker(PREFIX + broker, BROKERS, broker);
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      try {
        await redis.del(ALIVE + brokerId());
      } catch {
        // not set up, or Redis gone: the key expires by itself
      }
    },
  };
}
