import type { Kysely, Migration } from 'kysely';

/**
 * Operator sign-in (issue 19): each account's password hash and TOTP second factor, the sign-in sessions (by the
 * hash of their cookie value) and the failed-sign-in counters behind the lockout (per account name and per address).
 */
export const signIn: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('account_credentials')
      .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id'))
      .addColumn('password_hash', 'text')
      .addColumn('password_set_at', 'bigint')
      .addColumn('totp_secret', 'text')
      .addColumn('totp_enabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('totp_last_step', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sign_in_sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('address', 'text')
      .addColumn('user_agent', 'text')
      .execute();
    await db.schema.createIndex('sign_in_sessions_account').on('sign_in_sessions').columns(['account_id']).execute();
    await db.schema.createIndex('sign_in_sessions_expiry').on('sign_in_sessions').columns(['expires_at']).execute();

    await db.schema
      .createTable('sign_in_failures')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('first_at', 'bigint', (c) => c.notNull())
      .addColumn('locked_until', 'bigint')
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('sign_in_failures').execute();
    await db.schema.dropTable('sign_in_sessions').execute();
    await db.schema.dropTable('account_credentials').execute();
  },
};
