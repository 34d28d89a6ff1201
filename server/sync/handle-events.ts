import { encode } from '../../shared/codec.js';
import type { EventAckMessage, EventBatchMessage } from '../../shared/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import type { ServerContext } from '../context.js';
import { applyDeviceEvent } from '../parcels/device-effects.js';
import { releaseConfirmed } from './release-compartments.js';

export interface BatchOutcome {
  applied: number;
  duplicates: number;
}

/**
 * Commits a batch of device events, each `(lockerId, seq)` once, then acknowledges every seq of the batch
 * (new and already known). Nothing is acknowledged before the transaction has committed.
 */
export async function handleEventBatch(ctx: ServerContext, lockerId: string, batch: EventBatchMessage): Promise<BatchOutcome> {
  const receivedAt = ctx.clock.now();
  const events = [...batch.events].sort((a, b) => a.seq - b.seq);
  const afterCommit: (() => Promise<void>)[] = [];
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    let applied = 0;
    let duplicates = 0;
    for (const event of events) {
      const inserted = await trx
        .insertInto('device_events')
        .values({
          locker_id: lockerId,
          seq: event.seq,
          event_id: event.id,
          boot_id: event.bootId,
          device_at: event.at,
          received_at: receivedAt,
          type: event.type,
          body: JSON.stringify(event),
        })
        .onConflict((oc) => oc.columns(['locker_id', 'seq']).doNothing())
        .executeTakeFirst();
      if (inserted.numInsertedOrUpdatedRows === 0n) {
        duplicates++;
        continue;
      }
      await applyDeviceEvent({ ctx, trx, lockerId, afterCommit }, event);
      applied++;
    }
    await trx.updateTable('lockers').set({ last_seen_at: receivedAt }).where('id', '=', lockerId).execute();
    if (applied) await releaseConfirmed(trx, lockerId, receivedAt);
    return { applied, duplicates };
  });
  ctx.stats.eventsApplied += outcome.applied;
  ctx.stats.eventsDuplicate += outcome.duplicates;
  ctx.bus.eventsCommitted({ lockerId, receivedAt, events, ...outcome });

  const ack: EventAckMessage = { v: PROTOCOL_VERSION, seqs: events.map((e) => e.seq), serverTime: ctx.clock.now() };
  await ctx.link.publish(topics.eventsAck(lockerId), encode(ack), { qos: 1 });
  for (const run of afterCommit) {
    await run().catch((err: unknown) => ctx.log.warn({ err, lockerId }, 'post-commit publish failed; the next snapshot carries it'));
  }
  return outcome;
}
