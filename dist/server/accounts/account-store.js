import { randomBytes } from 'node:crypto';
function newAccountId() {
    return `acc_${randomBytes(8).toString('hex')}`;
}
export async function insertAccount(db, account, now) {
    const row = { id: newAccountId(), name: account.name, role: account.role, created_at: now, disabled: 0 };
    await db.insertInto('accounts').values(row).execute();
    return row;
}
export function listAccounts(db) {
    return db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('id').execute();
}
export function findAccount(db, id) {
    return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}
export function listTokens(db, accountId) {
    return db.selectFrom('account_tokens').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('jti').execute();
}
export async function insertToken(db, token) {
    await db
        .insertInto('account_tokens')
        .values({ jti: token.id, account_id: token.accountId, created_at: token.createdAt, expires_at: token.expiresAt, revoked_at: null })
        .execute();
}
/** Marks an account disabled; every token of it stops working at once. */
export async function disableAccount(db, id) {
    await db.updateTable('accounts').set({ disabled: 1 }).where('id', '=', id).execute();
}
/** Revokes one token of an account (first revocation time wins); returns the row, or undefined when unknown. */
export async function revokeToken(db, accountId, jti, now) {
    await db
        .updateTable('account_tokens')
        .set({ revoked_at: now })
        .where('jti', '=', jti)
        .where('account_id', '=', accountId)
        .where('revoked_at', 'is', null)
        .execute();
    return db.selectFrom('account_tokens').selectAll().where('jti', '=', jti).where('account_id', '=', accountId).executeTakeFirst();
}
/** What the authenticator checks on every request: the token row and its account's state. */
export function findTokenAccount(db, jti) {
    return db
        .selectFrom('account_tokens as t')
        .innerJoin('accounts as a', 'a.id', 't.account_id')
        .select(['t.account_id', 't.expires_at', 't.revoked_at', 'a.role', 'a.disabled'])
        .where('t.jti', '=', jti)
        .executeTakeFirst();
}
//# sourceMappingURL=account-store.js.map