import fastifyCookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app.js';

/**
 * The sign-in session cookie. Over TLS it is `__Host-lockstep_session` (the browser then insists on Secure, Path=/
 * and no Domain); on plain HTTP (development, tests) `lockstep_session`. Both are HttpOnly and SameSite=Strict.
 */
export const SECURE_COOKIE = '__Host-lockstep_session';
export const PLAIN_COOKIE = 'lockstep_session';

/** When the cookie is Secure: 'auto' = the request came over TLS, or the deployment sends HSTS (a TLS proxy in front). */
export type CookieSecurity = 'auto' | 'always' | 'never';

/** Registers @fastify/cookie (parses Cookie headers on request, writes Set-Cookie on send). Before the auth hook. */
export async function registerSessionCookies(app: App): Promise<void> {
  await app.register(fastifyCookie);
}

/** The session cookie's value on a request (the secure name wins when both are sent). */
export function sessionCookieValue(request: FastifyRequest): string | undefined {
  const cookies = request.cookies as Record<string, string | undefined> | null;
  return cookies?.[SECURE_COOKIE] ?? cookies?.[PLAIN_COOKIE] ?? undefined;
}

export function cookieIsSecure(request: FastifyRequest, security: CookieSecurity, hsts: boolean): boolean {
  if (security === 'always') return true;
  if (security === 'never') return false;
  return request.protocol === 'https' || hsts;
}

export interface CookieSettings {
  security: CookieSecurity;
  /** HSTS is configured: clients reach the server through TLS. */
  hsts: boolean;
  /** The session's absolute end (the cookie's Expires). */
  expiresAt: number;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string, settings: CookieSettings): void {
  const secure = cookieIsSecure(request, settings.security, settings.hsts);
  reply.setCookie(secure ? SECURE_COOKIE : PLAIN_COOKIE, value, {
    httpOnly: true,
    secure,
    sameSite: 'strict',
    path: '/',
    expires: new Date(settings.expiresAt),
  });
}

/** Tells the browser to drop the cookie (under both names). */
export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(PLAIN_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict' });
  reply.clearCookie(SECURE_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: true });
}
