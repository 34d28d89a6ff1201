import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** A locker's network as the simulator holds it: cut it, restore it. */
export interface NetworkLink {
  readonly cuts: number;
  readonly isCut: boolean;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * A locker connected straight to the broker (no proxy: three fewer open files and no copying, for big fleets
 * where this locker has no planned outage). Its network cannot be cut.
 */
export function directLink(): NetworkLink {
  return {
    cuts: 0,
    isCut: false,
    cut() {
      throw new Error('this locker is connected directly (no proxy): its network cannot be cut');
    },
    restore() {},
    close: async () => undefined,
  };
}

/**
 * A TCP proxy between one locker and the broker, so a network cut is a real one: `cut()` destroys the open
 * connections and refuses new ones until `restore()`. The agent sees only what a broken network does.
 */
export class TcpProxy implements NetworkLink {
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #cut = false;
  /** How many times a connection was cut. */
  cuts = 0;

  constructor(
    private readonly targetHost: string,
    private targetPort: number,
  ) {}

  /** Sends the connections made from now on to another port (the open ones stay where they are). */
  retarget(port: number): void {
    this.targetPort = port;
  }

  /** Starts listening on a free loopback port; returns the URL for the locker. */
  async listen(): Promise<string> {
    const server = createServer((client) => this.#accept(client));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return `mqtt://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  cut(): void {
    this.#cut = true;
    this.cuts++;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  restore(): void {
    this.#cut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #accept(client: Socket): void {
    if (this.#cut) {
      client.destroy();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
