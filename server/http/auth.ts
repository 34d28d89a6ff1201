import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app.js';
import { errorBody } from '../errors.js';

export type Role = 'admin' | 'operator' | 'carrier';

export interface Principal {
  id: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Who may call the route. Every route states it; a route without it is refused to everyone. */
    roles?: readonly Role[] | 'public';
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Bearer-token authentication and per-route roles. */
export function registerAuth(app: App, adminToken: string): void {
  const adminDigest = digest(adminToken);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const roles = request.routeOptions.config.roles;
    if (roles === 'public' || request.is404) return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,1024})$/.exec(header) : null;
    const token = match?.[1];
    if (!token || !timingSafeEqual(digest(token), adminDigest)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send(errorBody('UNAUTHENTICATED'));
    }
    request.principal = { id: 'admin', role: 'admin' };
    if (!roles || !roles.includes(request.principal.role)) {
      return reply.code(403).send(errorBody('FORBIDDEN', { required: roles ?? [] }));
    }
  });
}
