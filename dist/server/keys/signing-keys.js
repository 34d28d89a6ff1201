import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import { GRANT_ALG } from '../../shared/grants.js';
import { writeFileAtomic } from '../data-dir.js';
/** A key file with no database row is left from a rotation interrupted before its commit once this old. */
const ORPHAN_AGE_MS = 10 * 60_000;
/**
 * The server's Ed25519 grant-signing keys. Each private key is a JWK file in DATA_DIR/keys (mode 0600, the folder
 * 0700); its state (next, active, previous, retired) is a row of `signing_keys`. This object holds the keys that
 * are not retired, in memory, for signing and for the key sets sent to lockers and served as the JWKS; the rules
 * that move keys from state to state are in key-rotation.ts.
 */
export class SigningKeys {
    dir;
    #live = new Map();
    #queue = Promise.resolve();
    constructor(dir) {
        this.dir = dir;
    }
    /**
     * Loads the keys, making the first one on a new data folder. A data folder from before key states existed
     * (key files, no rows) is taken over as it was: the newest key active, the others previous.
     */
    static async load(dir, db, now) {
        const keys = new SigningKeys(dir);
        const rows = await db.selectFrom('signing_keys').select(['kid', 'status']).execute();
        const files = readKeyFiles(dir);
        if (rows.length === 0) {
            if (files.length === 0)
                files.push(await createKeyFile(dir, now));
            files.sort((a, b) => a.createdAt - b.createdAt || a.kid.localeCompare(b.kid));
            await db
                .insertInto('signing_keys')
                .values(files.map((f, i) => ({
                kid: f.kid,
                status: i === files.length - 1 ? 'active' : 'previous',
                public_x: publicX(f),
                created_at: f.createdAt,
                activated_at: i === files.length - 1 ? now : null,
                retired_at: null,
            })))
                .execute();
        }
        else {
            const known = new Map(rows.map((r) => [r.kid, r.status]));
            for (const f of files) {
                const status = known.get(f.kid);
                if (status === 'retired' || (status === undefined && now - f.createdAt > ORPHAN_AGE_MS))
                    keys.deleteFile(f.kid);
            }
        }
        await keys.reload(db);
        return keys;
    }
    /** Brings the keys in memory in line with the database (another process may have rotated or retired one). */
    async reload(db) {
        const rows = await db.selectFrom('signing_keys').selectAll().where('status', '!=', 'retired').orderBy('created_at').orderBy('kid').execute();
        const next = new Map();
        for (const row of rows) {
            const known = this.#live.get(row.kid);
            const key = known ?? (await toSigningKey(this.#readFile(row.kid)));
            next.set(row.kid, { ...key, status: row.status });
        }
        if (![...next.values()].some((k) => k.status === 'active'))
            throw new Error('no active signing key in the database');
        this.#live = next;
    }
    /** The key new grants are signed with. */
    get active() {
        for (const k of this.#live.values())
            if (k.status === 'active')
                return k;
        throw new Error('no active signing key');
    }
    /** The key on its way to the lockers, if a rotation is under way. */
    get next() {
        for (const k of this.#live.values())
            if (k.status === 'next')
                return k;
        return undefined;
    }
    /** Every key that is not retired (next, active, previous), oldest first. */
    live() {
        return [...this.#live.values()];
    }
    /** Public keys of every key whose grants may still be live (and of the next key), for the JWKS and for lockers. */
    publicKeys() {
        return this.live().map((k) => k.publicJwk);
    }
    /** Makes a new key pair and stores its private key file; the caller records it in the database. */
    async generate(now) {
        return toSigningKey(await createKeyFile(this.dir, now));
    }
    /** Runs key changes one at a time in this process. */
    exclusive(fn) {
        const run = this.#queue.then(fn, fn);
        this.#queue = run.catch(() => undefined);
        return run;
    }
    /** Deletes a private key file (a retired key, or one whose rotation failed): it can never sign again. */
    deleteFile(kid) {
        const file = keyFile(this.dir, kid);
        if (existsSync(file))
            unlinkSync(file);
    }
    #readFile(kid) {
        const file = keyFile(this.dir, kid);
        if (!existsSync(file))
            throw new Error(`signing key ${kid} is in the database but its private key file is missing`);
        return JSON.parse(readFileSync(file, 'utf8'));
    }
}
function keyFile(dir, kid) {
    return path.join(dir, `signing-${kid}.json`);
}
function readKeyFiles(dir) {
    return readdirSync(dir)
        .filter((f) => f.startsWith('signing-') && f.endsWith('.json'))
        .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
}
function publicX(s) {
    if (typeof s.jwk.x !== 'string')
        throw new Error(`signing key ${s.kid} has no public part`);
    return s.jwk.x;
}
async function createKeyFile(dir, now) {
    const { privateKey } = await generateKeyPair('Ed25519', { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = (await calculateJwkThumbprint(jwk)).slice(0, 16);
    const stored = { kid, createdAt: now, jwk };
    writeFileAtomic(keyFile(dir, kid), JSON.stringify(stored), 0o600);
    return stored;
}
async function toSigningKey(s) {
    const privateKey = (await importJWK(s.jwk, GRANT_ALG));
    return {
        kid: s.kid,
        privateKey,
        createdAt: s.createdAt,
        publicJwk: { kty: 'OKP', crv: 'Ed25519', x: publicX(s), kid: s.kid, alg: 'EdDSA', use: 'sig' },
    };
}
//# sourceMappingURL=signing-keys.js.map