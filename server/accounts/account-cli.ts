import { systemClock } from '../../shared/clock.js';
import { ConfigError, configFromEnv } from '../config.js';
import { prepareDataDir } from '../data-dir.js';
import { LockstepError } from '../errors.js';
import { openDatabase } from '../store/database.js';
import { insertAccount } from './account-store.js';
import { accountsNamed, findCredentials } from './credential-store.js';
import { SIGN_IN_ROLES } from './sessions.js';
import { SignIn } from './sign-in.js';

const USAGE = `usage: npm run account -- set-password NAME     (an operator or admin account; the password is read from stdin)
       npm run account -- create-admin NAME     (a new admin account with the password read from stdin)`;

export interface CliResult {
  code: number;
  output: string;
}

/**
 * `npm run account`: sets an operator's or admin's password, or creates an admin with one, straight in the
 * database of the configured deployment (DATA_DIR, DATABASE_URL): how the first admin gets a password without the
 * API. The password comes from stdin, never from the command line (which other users of the machine can read).
 */
export async function runAccountCommand(args: string[], env: NodeJS.ProcessEnv, readPassword: () => Promise<string>): Promise<CliResult> {
  const [command, ...rest] = args;
  const name = rest.join(' ').trim();
  if ((command !== 'set-password' && command !== 'create-admin') || !name) return { code: 2, output: USAGE };
  let config;
  try {
    config = configFromEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return { code: 2, output: `${err.code}: ${err.message}` };
    throw err;
  }
  const secrets = prepareDataDir(config.dataDir, config.adminToken);
  const db = await openDatabase(config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'sqlite', file: secrets.databaseFile });
  try {
    const named = (await accountsNamed(db, name)).filter((a) => SIGN_IN_ROLES.includes(a.role));
    let account;
    if (command === 'create-admin') {
      for (const a of named) if ((await findCredentials(db, a.id))?.password_hash) return { code: 1, output: `An account named "${name}" already signs in with a password.` };
    } else {
      if (named.length !== 1) return { code: 1, output: named.length ? `Several operator or admin accounts are named "${name}".` : `No operator or admin account is named "${name}".` };
      account = named[0]!;
    }
    const password = (await readPassword()).replace(/\r?\n$/, '');
    const signIn = new SignIn({ db, clock: systemClock, config, rootSecret: secrets.apiTokenSecret });
    account ??= await insertAccount(db, { name, role: 'admin' }, systemClock.now());
    const { sessionsEnded } = await signIn.setPassword(account, password);
    const created = command === 'create-admin' ? `Admin account ${account.id} created. ` : '';
    return { code: 0, output: `${created}Password of "${account.name}" (${account.role}) set; ${sessionsEnded} session(s) ended.` };
  } catch (err) {
    if (err instanceof LockstepError) return { code: 1, output: `${err.code}: ${err.message}${err.details ? ` ${JSON.stringify(err.details)}` : ''}` };
    throw err;
  } finally {
    await db.destroy();
  }
}
