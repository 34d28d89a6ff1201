import { connect, type Socket } from 'node:net';

/** MQTT's "remaining length": 7 bits a byte, least significant first, high bit = more follows. */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** The fixed header of a packet: type and flags in the first byte, then the remaining length. */
export function fixedHeader(firstByte: number, length: number): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(length)]);
}

export interface RawClient {
  socket: Socket;
  /** Everything the server sent. */
  received(): Buffer;
  closed: Promise<void>;
  isClosed(): boolean;
}

/** A TCP connection that speaks bytes, not MQTT: what an attacker has. */
export async function rawClient(url: string, localAddress?: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port), ...(localAddress ? { localAddress } : {}) });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => undefined);
  const closedP = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => Buffer.concat(chunks), closed: closedP, isClosed: () => closed };
}

/**
 * Streams zeros after `header` until `total` bytes went out or the server closed the connection; returns how
 * many bytes the socket accepted.
 */
export async function stream(client: RawClient, header: Buffer, total: number, chunkBytes = 256 * 1024): Promise<number> {
  const chunk = Buffer.alloc(chunkBytes);
  let sent = 0;
  const write = (b: Buffer) =>
    new Promise<boolean>((resolve) => {
      if (client.isClosed() || client.socket.destroyed) return resolve(false);
      const ok = client.socket.write(b, (err) => {
        if (err) resolve(false);
      });
      if (ok) return resolve(true);
      const onDrain = () => resolve(true);
      client.socket.once('drain', onDrain);
      void client.closed.then(() => {
        client.socket.off('drain', onDrain);
        resolve(false);
      });
    });
  if (!(await write(header))) return sent;
  sent += header.length;
  while (sent < total) {
    if (!(await write(chunk))) break;
    sent += chunk.length;
  }
  return sent;
}
