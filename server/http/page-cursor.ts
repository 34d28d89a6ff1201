import { LockstepError } from '../errors.js';

/**
 * The opaque cursors of cursor pages (`{ items, nextCursor }`): the sort key of the page's last item as JSON in
 * base64url. A cursor that does not decode to what the listing expects is 400 INVALID_CURSOR.
 */
export function encodeCursor(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The sort key a cursor carries, checked by `parse` (which returns undefined for a key of the wrong shape). */
export function decodeCursor<T>(cursor: string, parse: (value: unknown) => T | undefined): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new LockstepError('INVALID_CURSOR');
  }
  const key = parse(value);
  if (key === undefined) throw new LockstepError('INVALID_CURSOR');
  return key;
}
