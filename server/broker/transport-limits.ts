import { isIP, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { ServerConfig } from '../config-schema.js';
import { WindowCounter } from '../http/rate-limit-window.js';
import { guardSocket, type SocketGuard } from './guarded-connection.js';
import type { SignInGateLimits } from './sign-in-gate.js';

export interface TransportLimits {
  /** Largest CONNECT a client may send, and most bytes before it is signed in. */
  maxConnectBytes: number;
  /** Largest packet of any other type (remaining length: the protocol's payload limit plus header room). */
  maxPacketBytes: number;
  /** A client not signed in this long after connecting is closed. */
  signInTimeoutMs: number;
  /** New connections one address may open per 10 seconds (0 = not limited). */
  connectsPerAddressPer10s: number;
  /** Addresses the connection limit does not apply to. */
  exemptAddresses: ReadonlySet<string>;
  /** Sign-ins checked at once, and waiting their turn (sign-in-gate.ts). */
  signIns: SignInGateLimits;
}

export function transportLimits(config: ServerConfig): TransportLimits {
  return {
    maxConnectBytes: config.mqttMaxConnectBytes,
    maxPacketBytes: config.mqttMaxPacketBytes,
    signInTimeoutMs: config.mqttSignInTimeoutMs,
    connectsPerAddressPer10s: config.mqttConnectsPerAddressPer10s,
    exemptAddresses: new Set(parseAddressList(config.mqttConnectLimitExempt).map(plainAddress)),
    // A sign-in expected to wait more than half the sign-in timeout might not be checked before it runs out; a
    // check still running when the sign-in timeout would end the connection anyway gives its slot back.
    signIns: {
      atOnce: config.mqttSignInsAtOnce,
      waiting: config.mqttSignInsWaiting,
      maxWaitMs: Math.floor(config.mqttSignInTimeoutMs / 2),
      checkTimeoutMs: config.mqttSignInTimeoutMs,
    },
  };
}

/** The addresses of a comma-separated list, 'none' = empty (validated by makeConfig). */
function parseAddressList(list: string): string[] {
  return list.trim() === 'none' ? [] : list.split(',').map((a) => a.trim()).filter((a) => a !== '');
}

/** An IPv4 client of a dual-stack listener appears as ::ffff:a.b.c.d; it is the same address. */
function plainAddress(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address.toLowerCase();
}

/**
 * Takes each new TCP connection of the broker: refuses it at once when its address opened too many in the last
 * 10 seconds, otherwise guards it (packet and sign-in limits) and hands the socket and its guard to the broker.
 * `refused` is told the reason of each connection closed by a limit (counted for /metrics).
 * `clock` is wall time: these limits are about the network, not the simulated business clock.
 */
export function connectionAcceptor(
  limits: TransportLimits,
  clock: Clock,
  log: Logger,
  handle: (socket: Socket, guard: SocketGuard) => void,
  refused: (reason: string) => void = () => undefined,
): (socket: Socket) => void {
  const attempts = new WindowCounter(clock, 10_000);
  return (socket) => {
    const address = plainAddress(socket.remoteAddress ?? '');
    if (limits.connectsPerAddressPer10s > 0 && !limits.exemptAddresses.has(address)) {
      const n = attempts.count(address);
      if (n > limits.connectsPerAddressPer10s) {
        // Logged once per window, not per refused connection: a flood must not flood the log.
        if (n === limits.connectsPerAddressPer10s + 1) log.warn({ address }, 'mqtt connections refused: too many from this address');
        refused('TOO_MANY_FROM_ADDRESS');
        socket.destroy();
        return;
      }
    }
    const guard = guardSocket(socket, {
      limits: { connectBytes: limits.maxConnectBytes, packetBytes: limits.maxPacketBytes },
      signInTimeoutMs: limits.signInTimeoutMs,
      clock,
      onRefused: (reason) => {
        refused(reason);
        log.warn({ address, reason }, 'mqtt connection closed: limit broken');
      },
    });
    handle(socket, guard);
  };
}
