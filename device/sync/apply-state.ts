import { GrantVerifier, type GrantClaims } from '../../shared/grants.js';
import type { PublicJwk, StateMessage } from '../../shared/messages.js';
import type { DeviceStore } from '../store/device-store.js';

export type ApplyResult = { applied: number; changed: boolean; refusedGrants: number } | { gap: true };

/**
 * Applies a desired-state message: only newer versions, a delta only on top of the version this locker has,
 * a snapshot as a whole. Each grant is verified (signature, this locker) before it is kept; the window is
 * checked when it is used.
 */
export async function applyDesiredState(
  store: DeviceStore,
  msg: StateMessage,
  ctx: { lockerId: string },
): Promise<ApplyResult> {
  const applied = await store.appliedVersion();
  const haveConfig = (await store.config()) !== undefined;
  if (msg.full) {
    if (msg.version < applied) return { applied, changed: false, refusedGrants: 0 };
    const { grants, refused } = await verifyAll(msg.grants, msg.keys, ctx.lockerId);
    await store.applyDesired({
      version: msg.version,
      replaceAll: true,
      add: grants,
      revoke: [],
      keys: msg.keys,
      config: msg.config,
      compartments: msg.compartments,
    });
    return { applied: msg.version, changed: true, refusedGrants: refused };
  }
  if (msg.version <= applied) return { applied, changed: false, refusedGrants: 0 };
  if (msg.baseVersion !== applied || !haveConfig) return { gap: true };
  const keys = await store.keys();
  const adds = msg.changes.flatMap((c) => (c.op === 'grant.add' ? [c.token] : []));
  const revoke = msg.changes.flatMap((c) => (c.op === 'grant.revoke' ? [c.jti] : []));
  const { grants, refused } = await verifyAll(adds, keys, ctx.lockerId);
  await store.applyDesired({ version: msg.version, replaceAll: false, add: grants, revoke });
  return { applied: msg.version, changed: true, refusedGrants: refused };
}

async function verifyAll(tokens: readonly string[], keys: PublicJwk[], lockerId: string) {
  const verifier = new GrantVerifier(keys);
  const grants: { token: string; claims: GrantClaims }[] = [];
  let refused = 0;
  for (const token of tokens) {
    // The window is checked when the grant is used, not now: a grant valid later is kept.
    const v = await verifier.verify(token, { lockerId, now: null, clockToleranceSec: 0 });
    if (v.ok) grants.push({ token, claims: v.claims });
    else refused++;
  }
  return { grants, refused };
}
