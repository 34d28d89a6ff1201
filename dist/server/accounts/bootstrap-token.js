import { createHash, timingSafeEqual } from 'node:crypto';
import { LockstepError } from '../errors.js';
import { replaceAdminToken } from '../data-dir.js';
function digest(s) {
    return createHash('sha256').update(s).digest();
}
/**
 * The bootstrap admin token (ADMIN_TOKEN or data/secrets/admin-token). It is compared in constant time through
 * its digest and can be rotated when it lives in the data folder: the file is replaced atomically and the old
 * token stops working at once in this process.
 */
export class BootstrapToken {
    file;
    #token;
    #digest;
    /** `file` is undefined when the token came from the environment (it cannot be rotated from here then). */
    constructor(token, file) {
        this.file = file;
        this.#token = token;
        this.#digest = digest(token);
    }
    get current() {
        return this.#token;
    }
    matches(candidate) {
        return timingSafeEqual(digest(candidate), this.#digest);
    }
    /** Makes, stores and returns a new token; the old one is refused from now on. */
    rotate() {
        if (!this.file)
            throw new LockstepError('ADMIN_TOKEN_FROM_ENVIRONMENT');
        const token = replaceAdminToken(this.file);
        this.#token = token;
        this.#digest = digest(token);
        return token;
    }
}
//# sourceMappingURL=bootstrap-token.js.map