import { Type } from '@sinclair/typebox';
import { PublicJwk } from '../../shared/messages.js';
import type { App } from './app.js';
import type { ServerContext } from '../context.js';

export function systemRoutes(app: App, ctx: ServerContext): void {
  app.get(
    '/healthz',
    { config: { roles: 'public' }, schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/.well-known/jwks.json',
    { config: { roles: 'public' }, schema: { response: { 200: Type.Object({ keys: Type.Array(PublicJwk) }) } } },
    async () => ({ keys: ctx.keys.publicKeys() }),
  );
}
