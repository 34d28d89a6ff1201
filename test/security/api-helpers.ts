import type { TestServer } from '../helpers/test-server.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Reply {
  status: number;
  body: { error?: { code: string; message: string; details?: Record<string, unknown> } } & Record<string, unknown>;
  headers: Record<string, unknown>;
}

/** One request through the real Fastify pipeline, as `token` (no Authorization header when undefined). */
export async function call(t: TestServer, token: string | undefined, method: Method, url: string, payload?: unknown): Promise<Reply> {
  const res = await t.server.app.inject({
    method,
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: res.body ? (res.json() as Reply['body']) : {}, headers: res.headers };
}

export interface CreatedAccount {
  id: string;
  name: string;
  role: 'admin' | 'operator' | 'carrier';
  token: string;
  tokenId: string;
}

/** Creates an account with the bootstrap admin token and returns it with its first token. */
export async function createAccount(t: TestServer, role: CreatedAccount['role'], name = `${role} account`): Promise<CreatedAccount> {
  const res = await call(t, t.server.adminToken, 'POST', '/v1/accounts', { name, role });
  if (res.status !== 201) throw new Error(`account not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as unknown as CreatedAccount;
}

/** Books a parcel as `token` and returns its id. */
export async function book(t: TestServer, token: string, lockerId: string, reference = 'REF'): Promise<string> {
  const res = await call(t, token, 'POST', '/v1/parcels', { lockerId, size: 'S', recipient: { email: 'r@x.example' }, reference });
  if (res.status !== 201) throw new Error(`not booked: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

const WRITABLE_TABLES = [
  'lockers',
  'compartments',
  'parcels',
  'grants',
  'parcel_history',
  'desired_changes',
  'notifications',
  'accounts',
  'account_tokens',
] as const;

/** Every row of every table an API request could write, as one string: equal snapshots = nothing written. */
export async function databaseSnapshot(t: TestServer): Promise<string> {
  const db = t.server.ctx.db;
  const parts: unknown[] = [];
  for (const table of WRITABLE_TABLES) parts.push(table, await db.selectFrom(table).selectAll().execute());
  return JSON.stringify(parts);
}
