import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Encrypts small secrets kept in the database (TOTP secrets) with AES-256-GCM under a key derived (HKDF-SHA256) from
 * a secret of the data folder: a copy of the database alone does not give the second factors away. The account id is
 * bound as associated data, so a secret cannot be moved to another account's row.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(rootSecret: Uint8Array, purpose: string) {
    this.#key = Buffer.from(hkdfSync('sha256', rootSecret, Buffer.alloc(0), `lockstep ${purpose}`, 32));
  }

  seal(plain: string, boundTo: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(boundTo));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1.${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  /** The plain text, or null when the box was not sealed with this key for this owner (or was altered). */
  open(sealed: string, boundTo: string): string | null {
    const [v, iv, body, tag] = sealed.split('.');
    if (v !== 'v1' || !iv || body === undefined || !tag) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(boundTo));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}
