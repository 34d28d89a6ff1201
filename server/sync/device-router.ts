import { decoderFor } from '../../shared/codec.js';
import {
  EventBatchMessage,
  HeartbeatMessage,
  StateGetMessage,
  StateReportedMessage,
  StatusMessage,
} from '../../shared/messages.js';
import { parseTopic, SERVER_SUBSCRIPTIONS } from '../../shared/topics.js';
import type { ServerContext } from '../context.js';
import { handleEventBatch } from './handle-events.js';
import { publishSnapshot } from '../desired-state/desired-state.js';
import { recordLockerStatus, recordStateReport } from './locker-reports.js';
import { resendPending } from '../commands/commands.js';
import { recordHeartbeat } from './heartbeats.js';
import { onLockerPresence } from '../parcels/pickup-window.js';

const decode = {
  status: decoderFor(StatusMessage),
  heartbeat: decoderFor(HeartbeatMessage),
  events: decoderFor(EventBatchMessage),
  stateGet: decoderFor(StateGetMessage),
  stateReported: decoderFor(StateReportedMessage),
};

/**
 * Handles one message from a device: one case per topic, dispatched from one switch. Invalid payloads are
 * counted and logged, and change nothing. Never throws.
 */
export async function handleDeviceMessage(ctx: ServerContext, topic: string, payload: Buffer): Promise<void> {
  const parsed = parseTopic(topic);
  if (!parsed) {
    reject(ctx, 'UNKNOWN_TOPIC', topic);
    return;
  }
  const { lockerId, kind } = parsed;
  try {
    switch (kind) {
      case 'status': {
        const m = decode.status(payload);
        if (!m.ok) return reject(ctx, m.code, topic, m.detail);
        const online = m.value.state === 'online';
        const written = await recordLockerStatus(ctx, { lockerId, online, bootId: m.value.bootId });
        ctx.bus.domain({ type: 'locker.presence', lockerId, online });
        // Followed in the same group by a later status of the same locker: that one's handler does the rest.
        if (written?.superseded) return;
        // Back online: every command still waiting for a result goes again (the device runs each id once).
        if (online && (written?.pendingCommands ?? true)) await resendPending(ctx, lockerId);
        // Pickup windows stand still while the locker is offline (see server/parcels/pickup-window.ts). Most
        // statuses change nothing there (online and already available, as every connect of a healthy fleet):
        // those skip the hook's transaction, three round trips on Postgres. What a race leaves behind, the
        // scheduler's reconciliation catches up with. A locker holding no parcel has no window to move: its status
        // statement kept its outage itself (locker-reports.ts), and it comes back here as already done.
        if (written && written.unavailable !== online) return;
        await onLockerPresence(ctx, lockerId, online);
        return;
      }
      case 'heartbeat': {
        const m = decode.heartbeat(payload);
        if (!m.ok) return reject(ctx, m.code, topic, m.detail);
        const desiredVersion = await recordHeartbeat(ctx, lockerId, m.value.telemetry);
        // A locker that stayed behind (a lost delta, a state message it could not apply) catches up now.
        if (desiredVersion !== undefined && m.value.appliedVersion < desiredVersion) await publishSnapshot(ctx, lockerId);
        return;
      }
      case 'events': {
        const m = decode.events(payload);
        if (!m.ok) return reject(ctx, m.code, topic, m.detail);
        await handleEventBatch(ctx, lockerId, m.value);
        return;
      }
      case 'state/get': {
        const m = decode.stateGet(payload);
        if (!m.ok) return reject(ctx, m.code, topic, m.detail);
        await publishSnapshot(ctx, lockerId);
        return;
      }
      case 'state/reported': {
        const m = decode.stateReported(payload);
        if (!m.ok) return reject(ctx, m.code, topic, m.detail);
        await recordStateReport(ctx, { lockerId, version: m.value.version, lastSeq: m.value.lastSeq });
        return;
      }
      default:
        // Server → device topics echoed back, or a kind the server does not read.
        return reject(ctx, 'UNEXPECTED_TOPIC', topic);
    }
  } catch (err) {
    // A failed commit acknowledges nothing: the device resends, so nothing is lost.
    ctx.stats.reject('HANDLER_FAILED');
    ctx.log.error({ err, lockerId, kind }, 'device message handler failed');
  }
}

function reject(ctx: ServerContext, code: string, topic: string, detail?: string): void {
  ctx.stats.reject(code);
  ctx.log.warn({ code, topic, detail }, 'device message rejected');
}

/** Subscribes the server to every device topic. */
export async function subscribeDeviceTopics(ctx: ServerContext): Promise<void> {
  for (const filter of SERVER_SUBSCRIPTIONS) {
    await ctx.link.subscribe(filter, (topic, payload) => handleDeviceMessage(ctx, topic, payload));
  }
}
