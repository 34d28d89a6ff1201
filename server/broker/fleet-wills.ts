import type { Redis } from 'ioredis';

/**
 * The wills of a broker fleet (REDIS_URL), in Redis, at a constant cost per connect.
 *
 * aedes-persistence-redis keeps every will key in one Redis list and removes a key with LREM, which reads the whole
 * list: every connect did it twice and every disconnect once, so with 170,000 lockers each connect cost Redis a scan
 * of 170,000 entries, and Redis became the busiest process of the deployment (docs/scale.md). Its sweep of a dead
 * process's wills also reads only the first 10,001 entries of that list. This store replaces those three methods of
 * the persistence (put, delete, stream; get stays compatible) with hashes:
 *
 *   lockstep:wills:<brokerId>   clientId -> the will (JSON), one hash per broker process
 *   lockstep:will-owner         clientId -> the broker whose hash holds the client's current will
 *   lockstep:will-brokers       the brokers that may still hold wills
 *
 * A locker keeps one will across the fleet: connecting to another process removes the will its previous connection
 * left with a process that died, so the sweep cannot later publish a stale "offline" over a locker that came back.
 * The sweep takes each will with one atomic step (read and delete), so of several surviving processes one publishes it.
 */

const PREFIX = 'lockstep:wills:';
const OWNER = 'lockstep:will-owner';
const BROKERS = 'lockstep:will-brokers';
/** Wills read per step of a sweep (HSCAN's COUNT). */
const SWEEP_STEP = 500;

/** A will as aedes hands it over and publishes it again. */
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

// Each script runs atomically in Redis and touches a fixed number of keys: O(1) per call.
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

interface WillScripts {
  lockstepPutWill(mine: string, owner: string, brokers: string, clientId: string, brokerId: string, will: string, prefix: string): Promise<number>;
  lockstepTakeWill(hash: string, owner: string, clientId: string, brokerId: string): Promise<string | null>;
}

/** The persistence methods the store replaces (aedes-persistence-redis' async instance, under its callback layer). */
export interface WillMethods {
  putWill(client: { id: string }, packet: Omit<StoredWill, 'clientId' | 'brokerId'>): Promise<void>;
  getWill(client: { id: string }): Promise<StoredWill | null>;
  delWill(client: { id: string; brokerId?: string }): Promise<StoredWill | null>;
  streamWill(brokers?: Record<string, number>): AsyncGenerator<StoredWill>;
}

export function fleetWills(redis: Redis, brokerId: () => string): WillMethods {
  redis.defineCommand('lockstepPutWill', { numberOfKeys: 3, lua: PUT });
  redis.defineCommand('lockstepTakeWill', { numberOfKeys: 2, lua: TAKE });
  const scripts = redis as unknown as WillScripts;
  const take = async (broker: string, clientId: string) => decode(await scripts.lockstepTakeWill(PREFIX + broker, OWNER, clientId, broker));
  return {
    async putWill(client, packet) {
      const me = brokerId();
      const will: StoredWill = { cmd: 'publish', topic: packet.topic, payload: Buffer.from(packet.payload), qos: packet.qos, retain: packet.retain, clientId: client.id, brokerId: me };
      await scripts.lockstepPutWill(PREFIX + me, OWNER, BROKERS, client.id, me, encode(will), PREFIX);
    },
    async getWill(client) {
      return decode(await redis.hget(PREFIX + brokerId(), client.id));
    },
    async delWill(client) {
      // aedes names the broker when the will is its own or one it just published from a sweep; at a connect it does
      // not (the client's previous will, wherever it was left): then whichever broker holds it.
      const broker = client.brokerId ?? (await redis.hget(OWNER, client.id));
      return broker ? take(broker, client.id) : null;
    },
    /** The wills of every broker not in `brokers` (the processes aedes heard from lately), each taken as it is read. */
    async *streamWill(brokers = {}) {
      for (const broker of await redis.smembers(BROKERS)) {
        if (brokers[broker] !== undefined) continue;
        let cursor = '0';
        do {
          const [next, entries] = await redis.hscan(PREFIX + broker, cursor, 'COUNT', SWEEP_STEP);
          cursor = next;
          for (let i = 0; i < entries.length; i += 2) {
            const will = await take(broker, entries[i] as string);
            if (will) yield will;
          }
        } while (cursor !== '0');
        // Done with a dead broker: forget it once its hash is empty (a will put since keeps it listed).
        if ((await redis.hlen(PREFIX + broker)) === 0) await redis.srem(BROKERS, broker);
      }
    },
  };
}
