import { Type } from '@sinclair/typebox';
import { Jwks, KeyList, KeyView } from '../../shared/api/keys.js';
import { principalRef } from '../accounts/principal.js';
import { principalOf } from '../http/auth.js';
import { ErrorResponse, authErrors } from '../http/schemas.js';
import { activateKey, liveGrantsOf, lockersWithoutKey, retireKey, rotateKey } from './key-rotation.js';
const KidParams = Type.Object({ kid: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const ADMIN = { roles: ['admin'] };
/** Signing keys: the public JWKS (public), and list, rotate, activate, retire (admin). */
export const keyRoutes = async (app, { ctx }) => {
    app.get('/.well-known/jwks.json', { config: { roles: 'public' }, schema: { response: { 200: Jwks } } }, async () => ({ keys: ctx.keys.publicKeys() }));
    async function view(row) {
        return {
            kid: row.kid,
            status: row.status,
            publicJwk: { kty: 'OKP', crv: 'Ed25519', x: row.public_x, kid: row.kid, alg: 'EdDSA', use: 'sig' },
            createdAt: row.created_at,
            activatedAt: row.activated_at,
            retiredAt: row.retired_at,
            liveGrants: await liveGrantsOf(ctx, row.kid),
            pendingLockers: row.status === 'next' ? await lockersWithoutKey(ctx, row.kid) : null,
        };
    }
    app.get('/v1/admin/keys', { config: ADMIN, schema: { response: { 200: KeyList, ...authErrors } } }, async () => {
        const rows = await ctx.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
        return { keys: await Promise.all(rows.map(view)) };
    });
    app.post('/v1/admin/keys/rotate', { config: ADMIN, schema: { response: { 201: KeyView, 409: ErrorResponse, ...authErrors } } }, async (request, reply) => reply.code(201).send(await view(await rotateKey(ctx, principalRef(principalOf(request))))));
    app.post('/v1/admin/keys/:kid/activate', { config: ADMIN, schema: { params: KidParams, response: { 200: KeyView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } } }, async (request) => view(await activateKey(ctx, request.params.kid, principalRef(principalOf(request)))));
    app.post('/v1/admin/keys/:kid/retire', { config: ADMIN, schema: { params: KidParams, response: { 200: KeyView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } } }, async (request) => view((await retireKey(ctx, request.params.kid, principalRef(principalOf(request)))).key));
};
//# sourceMappingURL=key-routes.js.map