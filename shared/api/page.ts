import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * Cursor pages (issue 16): `?limit=&cursor=` → `{ items, nextCursor }`. The cursor is opaque (base64url); pass
 * `nextCursor` back as it came; null on the last page. See docs/http-api.md, "Listing and cursors".
 */
export const PageCursor = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' });

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    /** Pass as `?cursor=` for the next page; null when this page is the last. */
    nextCursor: Type.Union([PageCursor, Type.Null()]),
  });
}
export type Page<T> = { items: T[]; nextCursor: string | null };
export type PageCursor = Static<typeof PageCursor>;
