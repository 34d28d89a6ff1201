import { createHash } from 'node:crypto';
import { LockstepError } from '../errors.js';

/**
 * Keyset cursors: the sort value and id of the last row of a page, bound to the query they were made for (a
 * digest of its sort and filters), base64url JSON. Opaque to clients; anything else is CURSOR_INVALID.
 */
export interface CursorKey {
  /** The last row's sort value (null for a missing one). */
  v: string | number | null;
  id: string;
}

export function querySignature(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 12);
}

export function encodeCursor(signature: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify([signature, key.v, key.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, signature: string): CursorKey | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new LockstepError('CURSOR_INVALID');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw new LockstepError('CURSOR_INVALID');
  const [sig, v, id] = parsed as unknown[];
  if (sig !== signature || typeof id !== 'string' || !(v === null || typeof v === 'string' || typeof v === 'number')) throw new LockstepError('CURSOR_INVALID');
  return { v, id };
}

/** The page size asked for, or the default; above `max` is refused (never silently cut). */
export function pageLimit(limit: string | undefined, fallback: number, max: number): number {
  if (limit === undefined) return fallback;
  const n = Number(limit);
  if (n > max) throw new LockstepError('LIMIT_TOO_LARGE', { limit: n, max });
  return n;
}
