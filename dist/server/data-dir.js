import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, fsyncSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';
/** Writes a file so that a crash leaves either the old content or the new, never half of it. */
export function writeFileAtomic(file, content, mode = 0o600) {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, content, { mode });
    const fd = openSync(tmp, 'r');
    try {
        fsyncSync(fd);
    }
    finally {
        closeSync(fd);
    }
    renameSync(tmp, file);
}
/** Creates the data folder on first start and loads (or makes) its secrets. */
export function prepareDataDir(dataDir, configuredAdminToken) {
    const secretsDir = path.join(dataDir, 'secrets');
    const keysDir = path.join(dataDir, 'keys');
    for (const d of [dataDir, secretsDir, keysDir])
        mkdirSync(d, { recursive: true, mode: 0o700 });
    const pinSecret = Buffer.from(readOrCreate(path.join(secretsDir, 'pin-secret'), () => randomBytes(32).toString('base64url')), 'base64url');
    const apiTokenSecret = Buffer.from(readOrCreate(path.join(secretsDir, 'api-token-secret'), () => randomBytes(32).toString('base64url')), 'base64url');
    let adminToken = configuredAdminToken;
    let adminTokenGenerated = false;
    let adminTokenFile;
    if (!adminToken) {
        adminTokenFile = path.join(secretsDir, 'admin-token');
        adminTokenGenerated = !existsSync(adminTokenFile);
        adminToken = readOrCreate(adminTokenFile, newAdminToken);
    }
    return {
        adminToken,
        adminTokenGenerated,
        adminTokenFile,
        pinSecret,
        apiTokenSecret,
        databaseFile: path.join(dataDir, 'lockstep.sqlite'),
        keysDir,
    };
}
/** A fresh bootstrap admin token. */
function newAdminToken() {
    return `lsa_${randomBytes(32).toString('base64url')}`;
}
/** Replaces the admin token file atomically with a fresh token and returns it (shown once by the caller). */
export function replaceAdminToken(file) {
    const token = newAdminToken();
    writeFileAtomic(file, `${token}\n`);
    return token;
}
function readOrCreate(file, make) {
    if (existsSync(file))
        return readFileSync(file, 'utf8').trim();
    const value = make();
    writeFileAtomic(file, `${value}\n`);
    return value;
}
//# sourceMappingURL=data-dir.js.map