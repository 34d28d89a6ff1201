import { createHash, createPublicKey, verify } from 'node:crypto';
import type { FirmwareUpload, FirmwareView } from '../../shared/api/firmware.js';
import { firmwareSignedText } from '../../shared/messages.js';
import { recordAudit } from '../audit/audit-log.js';
import type { ServerContext } from '../context.js';
import { LockstepError } from '../errors.js';
import type { FirmwareArtefactRow } from '../store/schema-firmware.js';

/** base64 of either alphabet, padding optional; null when it is not. */
function decodeBase64(text: string): Buffer | null {
  const t = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(t)) return null;
  return Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** Does `signature` verify over (version, sha256) with the vendor key `x`? */
export function signatureValid(x: string, version: string, sha256: string, signature: string): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  const sig = Buffer.from(signature, 'base64url');
  return sig.length === 64 && verify(null, Buffer.from(firmwareSignedText(version, sha256), 'utf8'), key, sig);
}

/**
 * Stores an update the vendor signed. The server never signs firmware (it holds no vendor key: a server taken over
 * cannot make lockers run code of its choosing); it checks the signature against FIRMWARE_PUBLIC_KEY when that is
 * set, so an artefact no locker would install is refused at upload. A version is stored once and never replaced.
 * Audited (`firmware.upload`), refused or stored.
 */
export async function uploadFirmware(ctx: ServerContext, body: FirmwareUpload, actor: string): Promise<FirmwareArtefactRow> {
  const now = ctx.clock.now();
  const about = { at: now, actor, action: 'firmware.upload' as const, subject: body.version };
  try {
    const bytes = decodeBase64(body.artefact);
    if (!bytes || bytes.length === 0) throw new LockstepError('FIRMWARE_ARTEFACT_INVALID');
    if (bytes.length > ctx.config.firmwareMaxBytes) throw new LockstepError('FIRMWARE_TOO_LARGE', { size: bytes.length, max: ctx.config.firmwareMaxBytes });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const key = ctx.config.firmwarePublicKey;
    if (key && !signatureValid(key, body.version, sha256, body.signature)) throw new LockstepError('FIRMWARE_SIGNATURE_INVALID', { version: body.version, sha256 });
    const row: FirmwareArtefactRow = {
      version: body.version,
      sha256,
      size: bytes.length,
      signature: body.signature,
      content: bytes.toString('base64'),
      notes: body.notes ?? null,
      created_by: actor,
      created_at: now,
    };
    await ctx.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('firmware_artefacts').select('version').where('version', '=', body.version).executeTakeFirst();
      if (existing) throw new LockstepError('FIRMWARE_EXISTS', { version: body.version });
      await trx.insertInto('firmware_artefacts').values(row).execute();
      await recordAudit(trx, { ...about, result: 'done', detail: { sha256, size: row.size, verified: Boolean(key) } });
    });
    ctx.log.info({ version: row.version, sha256, size: row.size, actor }, 'firmware stored');
    return row;
  } catch (err) {
    if (err instanceof LockstepError) await recordAudit(ctx.db, { ...about, result: 'refused', code: err.code });
    throw err;
  }
}

export function firmwareView(r: Omit<FirmwareArtefactRow, 'content'>): FirmwareView {
  return { version: r.version, sha256: r.sha256, size: r.size, signature: r.signature, notes: r.notes, createdBy: r.created_by, createdAt: r.created_at };
}
