import type { Kysely, Migration } from 'kysely';

/**
 * Idempotency keys (issue 16): the first answer to a POST sent with an `Idempotency-Key`, per account, kept 24 h;
 * and retired lockers (kept in history, hidden from the fleet, refused by the broker).
 */
export const idempotencyAndRetire: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('idempotency_keys')
      // `role:id` of the caller: keys are per account.
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      // SHA-256 (hex) of method, path and canonical body: the same key with another request is refused.
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      // 'in_flight' while the first request runs; 'done' once its answer is stored.
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('status', 'integer')
      .addColumn('content_type', 'text')
      .addColumn('body', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      // An in-flight claim older than this was abandoned (its process died): another request may take it over.
      .addColumn('locked_until', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['account', 'key'])
      .execute();
    await db.schema.createIndex('idempotency_keys_expires').on('idempotency_keys').column('expires_at').execute();
    await db.schema.alterTable('lockers').addColumn('retired_at', 'bigint').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('lockers').dropColumn('retired_at').execute();
    await db.schema.dropTable('idempotency_keys').execute();
  },
};
