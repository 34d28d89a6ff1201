/** The actor of what the server does by itself (a key activated after its grace period, a key retired). */
export const SYSTEM_ACTOR = 'system';
/** Appends one entry, inside the caller's transaction when it passes one. The log is never updated or deleted. */
export async function recordAudit(db, e) {
    await db
        .insertInto('audit_log')
        .values({
        at: e.at,
        actor: e.actor,
        action: e.action,
        result: e.result,
        locker_id: e.lockerId ?? null,
        compartment_id: e.compartmentId ?? null,
        reason: e.reason ?? null,
        code: e.code ?? null,
        command_id: e.commandId ?? null,
        subject: e.subject ?? null,
        detail: e.detail ? JSON.stringify(e.detail) : null,
    })
        .execute();
}
//# sourceMappingURL=audit-log.js.map