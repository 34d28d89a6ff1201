/** How urgent an alarm kind is, for sorting and colour on the dashboard (unknown kinds are warnings). */
export const ALARM_SEVERITIES = ['critical', 'warning', 'info'] as const;
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];

/** The kinds the server raises, by severity. */
export const KIND_SEVERITY: Readonly<Record<string, AlarmSeverity>> = {
  forced_open: 'critical',
  revoked_grant_used: 'critical',
  grant_reused: 'critical',
  remote_open_burst: 'critical',
  compartment_conflict: 'critical',
  lock_jam: 'warning',
  door_left_open: 'warning',
  locker_offline: 'warning',
  battery_low: 'warning',
  on_backup_power: 'info',
  door_cycle_assumed: 'info',
  session_aborted: 'info',
  repeated_wrong_codes: 'critical',
};

export function alarmSeverity(kind: string): AlarmSeverity {
  return KIND_SEVERITY[kind] ?? 'warning';
}
