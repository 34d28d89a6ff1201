import type { Db } from '../store/database.js';
import { HOUR_MS } from '../../shared/api/history.js';

/** The scope of the fleet-wide samples (locker ids never look like this). */
export const FLEET_SCOPE = '*';

/** SQLite bounds the parameters of one statement: insert in chunks. */
const CHUNK = 100;

interface SizeCount {
  scope: string;
  size: string;
  in_use: number;
  total: number;
}

/**
 * Scheduler job: once per hour (of the injected clock), samples the compartments in use per size, fleet-wide and
 * for each locker whose counts differ from its latest sample (readers carry a sample forward until the next, so
 * a quiet locker costs no rows). One grouped read of the compartments per hour; idempotent within the hour (a
 * second process or a second tick finds the fleet sample there and does nothing).
 */
export async function sampleOccupancy(db: Db, now: number): Promise<{ sampled: number } | null> {
  const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const done = await db.selectFrom('occupancy_samples').select('hour').where('scope', '=', FLEET_SCOPE).where('hour', '=', hour).executeTakeFirst();
  if (done) return null;
  const current = await db
    .selectFrom('compartments')
    .select((eb) => [
      'locker_id as scope',
      'size',
      eb.fn.sum<number>(eb.case().when('parcel_id', 'is not', null).then(1).else(0).end()).as('in_use'),
      eb.fn.countAll<number>().as('total'),
    ])
    .groupBy(['locker_id', 'size'])
    .execute();
  const latest = await latestSamples(db);
  const byScope = new Map<string, SizeCount[]>();
  const fleet = new Map<string, SizeCount>();
  for (const c of current) {
    const row = { scope: c.scope, size: c.size, in_use: Number(c.in_use), total: Number(c.total) };
    byScope.set(row.scope, [...(byScope.get(row.scope) ?? []), row]);
    const f = fleet.get(row.size) ?? { scope: FLEET_SCOPE, size: row.size, in_use: 0, total: 0 };
    f.in_use += row.in_use;
    f.total += row.total;
    fleet.set(row.size, f);
  }
  const changed: SizeCount[] = [];
  for (const [scope, rows] of byScope) if (signature(rows) !== latest.get(scope)) changed.push(...rows);
  const rows = [...changed, ...fleet.values()].map((r) => ({ ...r, hour }));
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += CHUNK) {
      await trx.insertInto('occupancy_samples').values(rows.slice(i, i + CHUNK)).onConflict((oc) => oc.columns(['scope', 'hour', 'size']).doNothing()).execute();
    }
  });
  return { sampled: new Set(changed.map((r) => r.scope)).size };
}

const signature = (rows: readonly { size: string; in_use: number; total: number }[]) =>
  [...rows].sort((a, b) => a.size.localeCompare(b.size)).map((r) => `${r.size}:${r.in_use}/${r.total}`).join(',');

/** Each locker's latest sample, as a signature to compare with. */
async function latestSamples(db: Db): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('occupancy_samples as s')
    .innerJoin(
      (eb) => eb.selectFrom('occupancy_samples').select((e) => ['scope', e.fn.max('hour').as('hour')]).where('scope', '!=', FLEET_SCOPE).groupBy('scope').as('m'),
      (join) => join.onRef('m.scope', '=', 's.scope').onRef('m.hour', '=', 's.hour'),
    )
    .select(['s.scope', 's.size', 's.in_use', 's.total'])
    .execute();
  const byScope = new Map<string, { size: string; in_use: number; total: number }[]>();
  for (const r of rows) byScope.set(r.scope, [...(byScope.get(r.scope) ?? []), r]);
  return new Map([...byScope].map(([scope, list]) => [scope, signature(list)]));
}
