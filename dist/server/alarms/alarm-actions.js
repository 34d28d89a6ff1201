import { LockstepError } from '../errors.js';
import { ALARM_STATES } from '../../shared/api/alarms.js';
/**
 * The state an alarm moves to, or null when the action is not allowed from its state: an operator acknowledges
 * an open alarm (someone is on it), and resolves an open or acknowledged one (dealt with). Resolved is final: the
 * same fault again raises a new alarm.
 */
export function nextAlarmState(state, action) {
    if (action === 'acknowledge')
        return state === 'open' ? 'acknowledged' : null;
    return state === 'resolved' ? null : 'resolved';
}
/** The states each action is allowed from. */
const fromStates = (action) => ALARM_STATES.filter((s) => nextAlarmState(s, action) !== null);
/**
 * Acknowledges or resolves an alarm, recording who and when (and the note, when given). One conditional update,
 * so two operators at once cannot both move it: the second gets ALARM_STATE_CONFLICT with the state it found.
 */
export async function actOnAlarm(db, id, action, actor, now, note) {
    const stamp = action === 'acknowledge'
        ? { state: 'acknowledged', acknowledged_at: now, acknowledged_by: actor }
        : { state: 'resolved', resolved_at: now, resolved_by: actor };
    const updated = await db
        .updateTable('alarms')
        .set({ ...stamp, ...(note === undefined ? {} : { note }) })
        .where('id', '=', id)
        .where('state', 'in', fromStates(action))
        .returningAll()
        .executeTakeFirst();
    if (updated)
        return updated;
    const current = await db.selectFrom('alarms').select('state').where('id', '=', id).executeTakeFirst();
    if (!current)
        throw new LockstepError('ALARM_NOT_FOUND', { alarmId: id });
    throw new LockstepError('ALARM_STATE_CONFLICT', { alarmId: id, state: current.state, action });
}
//# sourceMappingURL=alarm-actions.js.map