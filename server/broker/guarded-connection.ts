import { Duplex } from 'node:stream';
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

/**
 * The stream the broker reads a client from: the socket's bytes pass through unchanged once the packet guard has
 * seen them, and the socket is destroyed the moment a packet header breaks a limit, so no oversized packet is
 * ever buffered. Writes go straight to the socket.
 */
export class GuardedConnection extends Duplex {
  readonly #socket: Socket;
  readonly #guard: PacketGuard;
  #cancelTimeout: (() => void) | undefined;

  constructor(socket: Socket, private readonly options: GuardOptions) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    this.#guard = new PacketGuard(options.limits);
    this.#cancelTimeout = options.clock.setTimeout(() => this.#refuse('SIGN_IN_TIMEOUT'), options.signInTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      const verdict = this.#guard.feed(chunk);
      if (verdict !== 'OK') return this.#refuse(verdict);
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  /** The client proved who it is: the sign-in limits no longer apply. */
  signedIn(): void {
    this.#guard.signedIn();
    this.#cancelTimeout?.();
    this.#cancelTimeout = undefined;
  }

  #refuse(reason: GuardVerdict | 'SIGN_IN_TIMEOUT'): void {
    if (this.destroyed) return;
    this.options.onRefused(reason);
    this.#socket.destroy();
    this.destroy();
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#socket.write(chunk)) callback();
    else this.#socket.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end(() => callback());
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#cancelTimeout?.();
    this.#cancelTimeout = undefined;
    this.#socket.destroy();
    callback(err);
  }
}
