import type { Db } from '../store/database.js';
import { LockstepError } from '../errors.js';
import { ALARM_STATES, type AlarmState } from '../../shared/api/alarms.js';
import type { AlarmRow } from '../store/schema.js';

export type AlarmAction = 'acknowledge' | 'resolve';

/**
 * The state an alarm moves to, or null when the action is not allowed from its state: an operator acknowledges
 * an open alarm (someone is on it), and resolves an open or acknowledged one (dealt with). Resolved is final: the
 * same fault again raises a new alarm.
 */
export function nextAlarmState(state: AlarmState, action: AlarmAction): AlarmState | null {
  if (action === 'acknowledge') return state === 'open' ? 'acknowledged' : null;
  return state === 'resolved' ? null : 'resolved';
}

/** The states each action is allowed from. */
const fromStates = (action: AlarmAction): AlarmState[] => ALARM_STATES.filter((s) => nextAlarmState(s, action) !== null);

/**
 * Acknowledges or resolves an alarm, recording who and when (and the note, when given). One conditional update,
 * so two operators at once cannot both move it: the second gets ALARM_STATE_CONFLICT with the state it found.
 */
export async function actOnAlarm(db: Db, id: string, action: AlarmAction, actor: string, now: number, note?: string): Promise<AlarmRow> {
  const stamp =
    action === 'acknowledge'
      ? { state: 'acknowledged' as const, acknowledged_at: now, acknowledged_by: actor }
      : { state: 'resolved' as const, resolved_at: now, resolved_by: actor };
  const updated = await db
    .updateTable('alarms')
    .set({ ...stamp, ...(note === undefined ? {} : { note }) })
    .where('id', '=', id)
    .where('state', 'in', fromStates(action))
    .returningAll()
    .executeTakeFirst();
  if (updated) return updated;
  const current = await db.selectFrom('alarms').select('state').where('id', '=', id).executeTakeFirst();
  if (!current) throw new LockstepError('ALARM_NOT_FOUND', { alarmId: id });
  throw new LockstepError('ALARM_STATE_CONFLICT', { alarmId: id, state: current.state, action });
}
