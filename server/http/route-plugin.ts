import type { Server } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AccessTokens } from '../accounts/access-tokens.js';
import type { BootstrapToken } from '../accounts/bootstrap-token.js';
import type { ServerContext } from '../context.js';
import type { LiveHub } from '../dashboard/live-hub.js';
import type { LockerAccess } from '../enrolment/enrol.js';
import type { ServerMetrics } from '../metrics/metrics.js';
import type { SignIn } from '../accounts/sign-in.js';

/** Everything a route plugin may use, built once by createServer and handed to every plugin alike. */
export interface RouteDeps {
  readonly ctx: ServerContext;
  /** Signs account access tokens. */
  readonly tokens: AccessTokens;
  /** The bootstrap admin token (rotated through the API). */
  readonly bootstrap: BootstrapToken;
  /** What the live dashboard stream sends. */
  readonly live: LiveHub;
  readonly metrics: ServerMetrics;
  /** The broker URL given to enrolling devices (known once the broker listens). */
  readonly mqttUrl: () => string;
  /** Gives a locker access to the broker and takes it away (enrolment). */
  readonly lockerAccess: LockerAccess;
  /** True while lockers can reach the server through the broker (readiness). */
  readonly brokerListening: () => boolean;
  /** Operator sign-in (issue 19): passwords, sessions, second factors. */
  readonly signIn: SignIn;
}

/**
 * The one shape of a route module: a Fastify plugin taking the route deps, registered by createServer with
 * `app.register(plugin, deps)`. Each runs in its own encapsulated context; the error handler, the auth and
 * rate-limit hooks and the TypeBox type provider come from the root app (createHttpApp), set up before.
 * Every route states its roles in `config.roles`.
 */
export type RoutePlugin = FastifyPluginAsync<RouteDeps, Server, TypeBoxTypeProvider>;
