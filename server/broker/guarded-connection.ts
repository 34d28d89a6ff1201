import type { Socket } from 'node:net';
import type { Clock } from '../../shared/clock.js';
import { PacketGuard, type GuardVerdict, type PacketLimits } from './packet-guard.js';

export interface GuardOptions {
  limits: PacketLimits;
  /** A client whose CONNECT the broker has not taken up this long after it connected is closed. */
  signInTimeoutMs: number;
  clock: Clock;
  /** Called once when the connection is closed for breaking a limit. */
  onRefused(reason: GuardVerdict | 'SIGN_IN_TIMEOUT'): void;
}

/** Once the broker took up the CONNECT, the connection is closed unanswered only after this many sign-in timeouts. */
const SIGNING_IN_BACKSTOP = 3;

/** What the broker tells the guard of a connection. */
export interface SocketGuard {
  /**
   * The broker took up the client's CONNECT: its sign-in now answers the client within the sign-in line's own bounds
   * (CONNACK 3 when it cannot, broker-sign-in.ts), so the sign-in timeout no longer closes the connection under it.
   */
  signingIn(): void;
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
    signingIn() {
      // A backstop only: the sign-in answers long before (its line refuses what waited past its bounds).
      if (cancelTimeout === undefined) return;
      stopTimer();
      cancelTimeout = options.clock.setTimeout(() => refuse('SIGN_IN_TIMEOUT'), SIGNING_IN_BACKSTOP * options.signInTimeoutMs);
    },
    signedIn() {
      guard.signedIn();
      stopTimer();
    },
  };
}
