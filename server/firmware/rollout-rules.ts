import { createHash } from 'node:crypto';

/*
 * The rollout's decisions, with no I/O: which wave each locker is in, whether a locker's local time is inside the
 * maintenance window, and whether a wave's health gate holds.
 */

/** Waves as given: cumulative percentages, or groups of locker ids. */
export type WaveSpec = number[] | string[][];

/** Null when the waves are usable: percentages strictly increasing and ending at 100, or non-empty disjoint groups. */
export function wavesProblem(waves: WaveSpec): string | null {
  if (waves.length === 0) return 'no waves';
  if (isPercentages(waves)) {
    for (let i = 1; i < waves.length; i++) if (waves[i]! <= waves[i - 1]!) return 'percentages must increase';
    return waves[waves.length - 1] === 100 ? null : 'the last wave must be 100';
  }
  const seen = new Set<string>();
  for (const group of waves) for (const id of group) {
    if (seen.has(id)) return `locker ${id} is in two groups`;
    seen.add(id);
  }
  return null;
}

export function isPercentages(waves: WaveSpec): waves is number[] {
  return waves.every((w) => typeof w === 'number');
}

/**
 * The wave of each target locker. Percentages: targets in a stable pseudo-random order (SHA-256 of rollout id and
 * locker id, so the first 1 % is not always the same lockers, nor the oldest), wave `i` ending at ceil(N × p_i / 100).
 * Groups: the group's index.
 */
export function assignWaves(rolloutId: string, targets: readonly string[], waves: WaveSpec): Map<string, number> {
  const out = new Map<string, number>();
  if (!isPercentages(waves)) {
    waves.forEach((group, i) => group.forEach((id) => out.set(id, i)));
    return out;
  }
  const order = [...targets].sort((a, b) => {
    const ha = createHash('sha256').update(`${rolloutId}:${a}`).digest('hex');
    const hb = createHash('sha256').update(`${rolloutId}:${b}`).digest('hex');
    return ha < hb ? -1 : ha > hb ? 1 : 0;
  });
  let wave = 0;
  order.forEach((id, i) => {
    while (wave < waves.length - 1 && i >= Math.ceil((order.length * waves[wave]!) / 100)) wave++;
    out.set(id, wave);
  });
  return out;
}

/** "HH:MM" → minutes after midnight. */
export function minutesOf(hhmm: string): number {
  const [h = '0', m = '0'] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

export function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Minutes after local midnight at `now` in `timeZone` (an unknown zone reads as UTC). */
export function localMinutes(now: number, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: isTimeZone(timeZone) ? timeZone : 'UTC', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(now));
  const h = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const m = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return h * 60 + m;
}

/** Is `now` inside [start, end) of the locker's local day? start = end means all day; start > end wraps midnight. */
export function inWindow(now: number, timeZone: string, startMin: number, endMin: number): boolean {
  if (startMin === endMin) return true;
  const t = localMinutes(now, timeZone);
  return startMin < endMin ? t >= startMin && t < endMin : t >= startMin || t < endMin;
}

export interface WaveHealth {
  size: number;
  failed: number;
  /** Alarms the wave's lockers raised since the wave started, and in as long a time before it. */
  alarmsSince: number;
  alarmsBefore: number;
}

export interface Gate {
  maxFailedPct: number;
  maxAlarmIncrease: number;
}

/** Why the wave's health gate halts the rollout, or null while it holds. */
export function gateVerdict(h: WaveHealth, gate: Gate): string | null {
  if (h.size > 0 && (h.failed * 100) / h.size > gate.maxFailedPct) {
    return `${h.failed} of ${h.size} lockers in the wave did not come back with the new version (more than ${gate.maxFailedPct} %)`;
  }
  if (h.alarmsSince - h.alarmsBefore > gate.maxAlarmIncrease) {
    return `the wave's lockers raised ${h.alarmsSince} alarms since it started against ${h.alarmsBefore} before (more than ${gate.maxAlarmIncrease} more)`;
  }
  return null;
}
