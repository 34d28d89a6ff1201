/**
 * Takes or renews the lease `name` for `holder` until `now + ttlMs`: renewed when this holder has it, taken
 * over when the last holder let it expire, created when it never existed. Both steps are conditional writes, so
 * two processes racing for it never both win. True when `holder` holds it now.
 */
export async function holdLease(db, name, holder, now, ttlMs) {
    const renewed = await db
        .updateTable('leases')
        .set({ holder, expires_at: now + ttlMs })
        .where('name', '=', name)
        .where((eb) => eb.or([eb('holder', '=', holder), eb('expires_at', '<=', now)]))
        .executeTakeFirst();
    if (renewed.numUpdatedRows === 1n)
        return true;
    const created = await db
        .insertInto('leases')
        .values({ name, holder, expires_at: now + ttlMs })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
    return created.numInsertedOrUpdatedRows === 1n;
}
/** Gives the lease up (a clean stop), so another process takes over at its next tick rather than after expiry. */
export async function releaseLease(db, name, holder) {
    await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
}
/** Who holds the lease now, if anyone. */
export async function leaseHolder(db, name, now) {
    const row = await db.selectFrom('leases').select('holder').where('name', '=', name).where('expires_at', '>', now).executeTakeFirst();
    return row?.holder;
}
//# sourceMappingURL=leases.js.map