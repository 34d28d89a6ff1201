import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
/** The dashboard's files (HTML, CSS, JavaScript modules), served under /dashboard/. */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.svg': 'image/svg+xml',
};
/** Scripts and styles come only from this server; nothing inline, no frames, no other origins. */
export const SECURITY_HEADERS = {
    'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
};
/** Every file under public/, read once at start: only these paths are ever served (no traversal possible). */
export function loadAssets(dir, prefix = '') {
    const assets = new Map();
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const rel = prefix + entry.name;
        if (entry.isDirectory()) {
            for (const [k, v] of loadAssets(path.join(dir, entry.name), `${rel}/`))
                assets.set(k, v);
            continue;
        }
        const type = TYPES[path.extname(entry.name)];
        if (!type)
            continue;
        const body = readFileSync(path.join(dir, entry.name));
        assets.set(rel, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
    }
    return assets;
}
//# sourceMappingURL=static-assets.js.map