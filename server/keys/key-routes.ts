import { Type } from '@sinclair/typebox';
import { Jwks, KeyList, KeyView } from '../../shared/api/keys.js';
import { principalRef } from '../accounts/principal.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, authErrors } from '../http/schemas.js';
import type { SigningKeyRow } from '../store/schema.js';
import { activateKey, liveGrantsOf, lockersWithoutKey, retireKey, rotateKey } from './key-rotation.js';

const KidParams = Type.Object({ kid: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const ADMIN = { roles: ['admin'] } as const;

/** Signing keys: the public JWKS (public), and list, rotate, activate, retire (admin). */
export const keyRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/.well-known/jwks.json',
    { config: { roles: 'public' }, schema: { summary: 'Public keys that sign grants (JWKS)', tags: ['admin'], response: { 200: Jwks } } },
    async () => ({ keys: ctx.keys.publicKeys() }),
  );

  async function view(row: SigningKeyRow): Promise<KeyView> {
    return {
      kid: row.kid,
      status: row.status,
      publicJwk: { kty: 'OKP' as const, crv: 'Ed25519' as const, x: row.public_x, kid: row.kid, alg: 'EdDSA' as const, use: 'sig' as const },
      createdAt: row.created_at,
      activatedAt: row.activated_at,
      retiredAt: row.retired_at,
      liveGrants: await liveGrantsOf(ctx, row.kid),
      pendingLockers: row.status === 'next' ? await lockersWithoutKey(ctx, row.kid) : null,
    };
  }

  app.get(
    '/v1/admin/keys',
    { config: ADMIN, schema: { summary: 'List signing keys', tags: ['admin'], response: { 200: KeyList, ...authErrors } } },
    async () => {
      const rows = await ctx.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
      return { keys: await Promise.all(rows.map(view)) };
    },
  );

  app.post(
    '/v1/admin/keys/rotate',
    { config: ADMIN, schema: { summary: 'Start a signing key rotation', tags: ['admin'], response: { 201: KeyView, 409: ErrorResponse, ...authErrors } } },
    async (request, reply) => reply.code(201).send(await view(await rotateKey(ctx, principalRef(principalOf(request))))),
  );

  app.post(
    '/v1/admin/keys/:kid/activate',
    { config: ADMIN, schema: { summary: 'Activate the next signing key', tags: ['admin'], params: KidParams, response: { 200: KeyView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } } },
    async (request) => view(await activateKey(ctx, request.params.kid, principalRef(principalOf(request)))),
  );

  app.post(
    '/v1/admin/keys/:kid/retire',
    { config: ADMIN, schema: { summary: 'Retire a signing key', tags: ['admin'], params: KidParams, response: { 200: KeyView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } } },
    async (request) => view((await retireKey(ctx, request.params.kid, principalRef(principalOf(request)))).key),
  );
};
