import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAccountCommand } from '../../server/accounts/account-cli.js';
import { insertAccount } from '../../server/accounts/account-store.js';
import { openDatabase } from '../../server/store/database.js';
import { startTestServer } from '../helpers/test-server.js';
import { send, signInAs } from './session-helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-account-cli-'));
const env = { DATA_DIR: dir, PASSWORD_SCRYPT_LOG_N: '10', LOG_LEVEL: 'silent' };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run account', () => {
  it('creates the first admin with a password read from stdin, sets an operator\'s, and refuses what it should', async () => {
    const created = await runAccountCommand(['create-admin', 'First', 'admin'], env, async () => 'root of all trust here\n');
    expect(created).toEqual({ code: 0, output: expect.stringMatching(/^Admin account acc_[0-9a-f]{16} created\. Password of "First admin" \(admin\) set; 0 session\(s\) ended\.$/) });
    expect((await runAccountCommand(['create-admin', 'first ADMIN'], env, async () => 'another passphrase')).code).toBe(1);
    expect((await runAccountCommand(['set-password', 'Nobody'], env, async () => 'whatever passphrase')).output).toBe('No operator or admin account is named "Nobody".');
    expect((await runAccountCommand(['set-password', 'First admin'], env, async () => 'short')).output).toMatch(/^PASSWORD_TOO_WEAK: /);
    expect((await runAccountCommand(['drop-tables'], env, async () => '')).code).toBe(2);

    // An operator account made by an admin (straight in the database here), then its password from the command line.
    const db = await openDatabase(path.join(dir, 'lockstep.sqlite'));
    await insertAccount(db, { name: 'Night shift', role: 'operator' }, Date.now());
    await db.destroy();
    const set = await runAccountCommand(['set-password', 'Night shift'], env, async () => 'set from the command line');
    expect(set).toEqual({ code: 0, output: 'Password of "Night shift" (operator) set; 0 session(s) ended.' });

    const t = await startTestServer({ passwordScryptLogN: 10 }, undefined, undefined, { dir });
    try {
      const s = await signInAs(t, 'First admin', 'root of all trust here');
      expect((await send(t, 'GET', '/v1/accounts', { cookie: s.cookie })).status).toBe(200);
      const op = await signInAs(t, 'Night shift', 'set from the command line');
      expect((await send(t, 'GET', '/v1/fleet', { cookie: op.cookie })).status).toBe(200);
    } finally {
      await t.server.stop();
    }
  });
});
