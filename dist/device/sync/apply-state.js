import { GrantVerifier } from '../../shared/grants.js';
/**
 * Applies a desired-state message: only newer versions, a delta only on top of the version this locker has,
 * a snapshot as a whole. Each grant is verified (signature, this locker) before it is kept; the window is
 * checked when it is used. A revoked grant is remembered, so its QR code is refused too.
 */
export async function applyDesiredState(store, msg, ctx) {
    const applied = await store.appliedVersion();
    if (msg.full) {
        if (msg.version < applied)
            return { applied, changed: false, refusedGrants: 0 };
        const { grants, refused } = await verifyAll(msg.grants, msg.keys, ctx.lockerId);
        await store.applyDesired({
            version: msg.version,
            replaceAll: true,
            add: grants,
            revoke: msg.revoked,
            keys: msg.keys,
            config: msg.config,
            compartments: msg.compartments,
            now: ctx.now,
        });
        return { applied: msg.version, changed: true, refusedGrants: refused };
    }
    if (msg.version <= applied)
        return { applied, changed: false, refusedGrants: 0 };
    if (msg.baseVersion !== applied || (await store.config()) === undefined)
        return { gap: true };
    let keys;
    let config;
    const adds = [];
    const revoke = [];
    const compartments = [];
    for (const c of msg.changes) {
        switch (c.op) {
            case 'grant.add':
                adds.push(c.token);
                break;
            case 'grant.revoke':
                revoke.push(c.jti);
                break;
            case 'keys.set':
                keys = c.keys;
                break;
            case 'config.set':
                config = c.config;
                break;
            case 'compartment.service':
                compartments.push({ id: c.id, inService: c.inService });
                break;
        }
    }
    const { grants, refused } = await verifyAll(adds, keys ?? (await store.keys()), ctx.lockerId);
    await store.applyDesired({
        version: msg.version,
        replaceAll: false,
        add: grants.filter((g) => !revoke.includes(g.claims.jti)),
        revoke,
        ...(keys ? { keys } : {}),
        ...(config ? { config } : {}),
        compartments,
        now: ctx.now,
    });
    return { applied: msg.version, changed: true, refusedGrants: refused };
}
async function verifyAll(tokens, keys, lockerId) {
    const verifier = new GrantVerifier(keys);
    const grants = [];
    let refused = 0;
    for (const token of tokens) {
        // The window is checked when the grant is used, not now: a grant valid later is kept.
        const v = await verifier.verify(token, { lockerId, now: null, clockToleranceSec: 0 });
        if (v.ok)
            grants.push({ token, claims: v.claims });
        else
            refused++;
    }
    return { grants, refused };
}
//# sourceMappingURL=apply-state.js.map