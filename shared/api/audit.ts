import { Type, type Static } from '@sinclair/typebox';
import { CommandState } from './commands.js';
import { Page, PageCursor } from './page.js';

export const AUDIT_ACTIONS = [
  'remote_open',
  'key.rotate',
  'key.activate',
  'key.retire',
  'locker.re_enrol',
  // Remote opens and set_service (issue 17): a second operator's approval, a request that expired, set_service.
  'remote_open.approve',
  'remote_open.expire',
  'set_service',
  // Retiring a locker (issue 16).
  'locker.retire',
  // Firmware, rollouts and remote diagnostics (issue 19):
  'firmware.upload',
  'rollout.create',
  'rollout.pause',
  'rollout.resume',
  'rollout.abort',
  'rollout.rollback',
  'rollout.halt',
  'diagnostics',
  'locker.timezone',
] as const;
export const AuditAction = Type.Union(AUDIT_ACTIONS.map((a) => Type.Literal(a)));
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** `pending`: a remote open of an occupied compartment that waits for a second operator's approval (issue 17). */
export const AUDIT_RESULTS = ['created', 'done', 'refused', 'pending'] as const;
export const AuditResult = Type.Union(AUDIT_RESULTS.map((r) => Type.Literal(r)));
export type AuditResult = (typeof AUDIT_RESULTS)[number];

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const AuditView = Type.Object({
  id: Type.Integer(),
  at: Type.Integer(),
  actor: Type.String(),
  action: AuditAction,
  result: AuditResult,
  code: NullableString,
  lockerId: NullableString,
  compartmentId: NullableString,
  reason: NullableString,
  subject: NullableString,
  commandId: NullableString,
  /** The command's state now (a remote open's outcome at the locker), when the entry created one. */
  commandState: Type.Union([CommandState, Type.Null()]),
  commandResult: NullableString,
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
export type AuditView = Static<typeof AuditView>;

/** GET /v1/audit: newest first, a cursor page (shared/api/page.ts). */
export const AuditPage = Page(AuditView);
export type AuditPage = Static<typeof AuditPage>;

/** Query of GET /v1/audit. */
export const AuditQuery = Type.Object(
  {
    action: Type.Optional(AuditAction),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    lockerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Only entries with an id below this one (page backwards through the log). Query strings are not coerced. */
    before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,14}$' })),
    /** At most this many entries, 1–1000 (default 200); anything else is 400 VALIDATION_FAILED. */
    limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$' })),
    /** The previous page's `nextCursor`. */
    cursor: Type.Optional(PageCursor),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;
