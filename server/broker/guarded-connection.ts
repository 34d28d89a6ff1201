import type { Socket } from 'node:net';
import type { Clock } from '../../shared/clock.js';
import { PacketGuard, type GuardVerdict, type PacketLimits } from './packet-guard.js';

export interface GuardOptions {
  limits: PacketLimits;
  /** A client not signed in this long after it connected is closed. */
  signInTimeoutMs: number;
  clock: Clock;
  /** Called once when the connection is closed for breaking a limit. */
  onRefused(reason: GuardVerdict | 'SIGN_IN_TIMEOUT'): void;
}

/** What the broker tells the guard of a connection. */
export interface SocketGuard {
  /** The client proved who it is: the sign-in limits no longer apply. */
  signedIn(): void;
}

/**
 * Watches the bytes a client sends on the socket the broker reads: every chunk passes the packet guard as the
 * broker reads it (a socket emits 'data' for each chunk it hands out, also to a reader that uses 'readable'), and
 * the socket is destroyed the moment a packet header breaks a limit, so the broker holds at most the one chunk
 * that carried that header and never the oversized packet. The broker reads and writes the socket itself: no
 * stream in between (a wrapping stream cost about a quarter of the broker's CPU per event; docs/performance.md).
 */
export function guardSocket(socket: Socket, options: GuardOptions): SocketGuard {
  const guard = new PacketGuard(options.limits);
  let cancelTimeout: (() => void) | undefined = options.clock.setTimeout(() => refuse('SIGN_IN_TIMEOUT'), options.signInTimeoutMs);
  const stopTimer = () => {
    cancelTimeout?.();
    cancelTimeout = undefined;
  };
  const refuse = (reason: GuardVerdict | 'SIGN_IN_TIMEOUT') => {
    stopTimer();
    if (socket.destroyed) return;
    options.onRefused(reason);
    socket.destroy();
  };
  socket.on('data', (chunk: Buffer) => {
    const verdict = guard.feed(chunk);
    if (verdict !== 'OK') refuse(verdict);
  });
  socket.once('close', stopTimer);
  return {
    signedIn() {
      guard.signedIn();
      stopTimer();
    },
  };
}
