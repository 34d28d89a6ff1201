import type { Generated, Insertable, Selectable } from 'kysely';
import type { Role } from '../../shared/api/accounts.js';
import type { AlarmState } from '../../shared/api/alarms.js';
import type { AuditAction, AuditResult } from '../../shared/api/audit.js';
import type { CommandState, RemoteOpenRequestState } from '../../shared/api/commands.js';
import type { SigningKeyStatus } from '../../shared/api/keys.js';
import type { WebhookDeliveryState } from '../../shared/api/webhooks.js';

/**
 * Tables of accounts, commands, alarms, keys, audit, enrolment, webhooks and broker tokens. Times are ms since
 * the epoch from the injected clock; booleans are 0/1. schema.ts adds them to `Database`
 * (through `OperationsTables`, at the end).
 */

/** An API account (a carrier's system, an operator, an admin). The bootstrap admin token is not an account. */
export interface AccountsTable {
  id: string;
  name: string;
  role: Role;
  created_at: number;
  disabled: number;
}

/** One issued access token, by its `jti`; the token itself is shown once and never stored. */
export interface AccountTokensTable {
  jti: string;
  account_id: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export type AccountRow = Selectable<AccountsTable>;
export type AccountTokenRow = Selectable<AccountTokensTable>;

/** An operator's command to a locker, sent until the device reports a final state or it expires. */
export interface CommandsTable {
  id: string;
  locker_id: string;
  type: 'open' | 'set_service';
  compartment_id: string;
  in_service: number | null;
  reason: string;
  requested_by: string;
  state: CommandState;
  /** Why it failed or expired (a device or server code). */
  result: string | null;
  created_at: number;
  expires_at: number;
  updated_at: number;
}

/** Something an operator must look at. One open alarm per (locker, compartment, kind): repeats count up. */
export interface AlarmsTable {
  id: string;
  locker_id: string;
  compartment_id: string | null;
  parcel_id: string | null;
  kind: string;
  state: AlarmState;
  count: number;
  first_at: number;
  last_at: number;
  /** JSON with what was seen last. */
  detail: string | null;
  acknowledged_at: number | null;
  /** `role:id` of who acknowledged it. */
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  /** The last note an operator gave with an acknowledge or resolve. */
  note: string | null;
}

export type CommandRow = Selectable<CommandsTable>;
export type AlarmRow = Selectable<AlarmsTable>;

/** A grant-signing key's life. The private key is a file in DATA_DIR/keys (mode 0600), deleted on retirement. */
export interface SigningKeysTable {
  kid: string;
  status: SigningKeyStatus;
  /** The public key (base64url `x` of the Ed25519 JWK). */
  public_x: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
}

/** The desired-state version that carried a `next` key to each locker that existed when it was made. */
export interface KeyDeliveriesTable {
  kid: string;
  locker_id: string;
  version: number;
}

/** Security-relevant actions: who did what, when, to what, why, and whether it was done or refused. */
export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  /** `role:id` of the principal, or `system` for what the server did by itself. */
  actor: string;
  action: AuditAction;
  locker_id: string | null;
  compartment_id: string | null;
  /** The reason the actor gave (remote opens), or why the server acted. */
  reason: string | null;
  /** `created` (a remote open's command was stored: its final state is in `commands`), `done`, or `refused`. */
  result: AuditResult;
  /** The catalogue code of a refusal. */
  code: string | null;
  command_id: string | null;
  /** e.g. the key id of a key action. */
  subject: string | null;
  /** JSON with what else matters (limits, counts). */
  detail: string | null;
}

export type SigningKeyRow = Selectable<SigningKeysTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type NewAuditRow = Insertable<AuditLogTable>;

/** A single-use enrolment token, kept only as its SHA-256. */
export interface EnrolmentTokensTable {
  token_hash: string;
  locker_id: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

// Webhooks (migration 007): one endpoint per carrier account and the durable outbox of its deliveries.
/** A carrier account's webhook endpoint. The secret signs every delivery; it is shown once and never logged. */
export interface WebhooksTable {
  account_id: string;
  url: string;
  secret: string;
  created_at: number;
  updated_at: number;
}

/** One event for one account, written in the transaction of the change it reports, sent until 2xx or dead. */
export interface WebhookDeliveriesTable {
  /** Order of creation. */
  seq: Generated<number>;
  /** The event id (`Lockstep-Event-Id`), stable across retries. */
  id: string;
  account_id: string;
  event_type: string;
  parcel_id: string;
  /** JSON of the event as sent, without its code (derived from `grant_jti` at send time, never stored). */
  payload: string;
  /** The grant whose code the event carries (pickup grant of `parcel.deposited`, collect grant of `parcel.expired`). */
  grant_jti: string | null;
  created_at: number;
  /** Attempts started (counted when an attempt is claimed, so a crash mid-attempt still counts it). */
  attempts: number;
  /** When the next attempt is due (a never-tried delivery is due at once); while an attempt runs, its lease end. */
  next_attempt_at: number;
  state: WebhookDeliveryState;
  last_error: string | null;
  /** HTTP status of the last answer, if any. */
  last_status: number | null;
  last_attempt_at: number | null;
  delivered_at: number | null;
}

export type WebhookRow = Selectable<WebhooksTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;

/** Broker token ids already used, per locker (a token signs in once). */
export interface BrokerTokenUsesTable {
  locker_id: string;
  jti: string;
  keep_until: number;
}

/** These tables, added to `Database` by schema.ts. */
export interface OperationsTables {
  accounts: AccountsTable;
  account_tokens: AccountTokensTable;
  commands: CommandsTable;
  alarms: AlarmsTable;
  signing_keys: SigningKeysTable;
  key_deliveries: KeyDeliveriesTable;
  audit_log: AuditLogTable;
  enrolment_tokens: EnrolmentTokensTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  broker_token_uses: BrokerTokenUsesTable;
  remote_open_requests: RemoteOpenRequestsTable;
  // Idempotency keys (migration 016, issue 16).
  idempotency_keys: IdempotencyKeysTable;
}

// Remote opens of occupied compartments (migration 014, issue 17).
/** An open of a compartment that held a parcel: sent on the requester's daily allowance, or after a second operator's approval. */
export interface RemoteOpenRequestsTable {
  id: string;
  locker_id: string;
  compartment_id: string;
  /** The parcel the compartment held when asked. */
  parcel_id: string | null;
  reason: string;
  /** `role:id` of who asked. */
  requested_by: string;
  state: RemoteOpenRequestState;
  /** How long the command may wait for the locker once sent (the request's `ttlSec`), or null for the default. */
  ttl_sec: number | null;
  created_at: number;
  /** Approval must come before this. */
  expires_at: number;
  approved_by: string | null;
  approved_at: number | null;
  /** When the open command was sent (allowance: at once; approved: at approval). */
  sent_at: number | null;
  command_id: string | null;
}

export type RemoteOpenRequestRow = Selectable<RemoteOpenRequestsTable>;

// Idempotency keys (migration 016, issue 16): server/http/idempotency.ts.
/** The first answer to a POST sent with an `Idempotency-Key`, per account, kept 24 h. */
export interface IdempotencyKeysTable {
  /** `role:id` of the caller. */
  account: string;
  key: string;
  /** SHA-256 (hex) of the method, path and canonical JSON body of the first request. */
  fingerprint: string;
  state: 'in_flight' | 'done';
  status: number | null;
  content_type: string | null;
  body: string | null;
  created_at: number;
  /** An in-flight claim past this was abandoned (its process died) and may be taken over. */
  locked_until: number;
  expires_at: number;
}
