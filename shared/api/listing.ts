import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * Listings (issue 16, issue 19): every list route answers `{ items, nextCursor }` and takes `?limit=&cursor=`.
 * `limit` is honoured up to the route's maximum and refused above it (LIMIT_TOO_LARGE), never ignored; `cursor`
 * is the opaque `nextCursor` of the page before (CURSOR_INVALID when it is not one, or was made for another sort).
 * A walk from the first page to `nextCursor: null` sees every row once (keyset pages: rows added meanwhile appear
 * in their place, none repeats).
 */
export const LimitParam = Type.String({ pattern: '^[1-9][0-9]{0,5}$', description: 'Rows per page (at most the route\'s maximum; more is refused).' });
export const CursorParam = Type.String({ minLength: 1, maxLength: 400, pattern: '^[A-Za-z0-9_-]+$', description: 'The nextCursor of the page before.' });

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Null on the last page.' }) });
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const SortOrder = Type.Union([Type.Literal('asc'), Type.Literal('desc')]);
export type SortOrder = Static<typeof SortOrder>;

/** A time in ms since the epoch, in a query string. */
export const TimeParam = Type.String({ pattern: '^[0-9]{1,15}$' });
