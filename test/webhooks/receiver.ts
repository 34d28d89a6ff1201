import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got, with the verdict of its own signature check. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; occurredAt: number; data: Record<string, unknown> } & Record<string, unknown>;
  /** The `t=` of the signature (unix seconds). */
  t: number | undefined;
  signatureValid: boolean;
}

/** What the receiver answers on a path: a status (and headers), or 'hang' (never answers). */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

/**
 * A carrier's webhook endpoint on 127.0.0.1 (port 0): verifies every signature itself with the documented
 * recipe (HMAC-SHA256 over "<t>.<raw body>"), records what came, and answers from a per-path script (200 when
 * the script is empty).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  readonly #secrets = new Map<string, string>();
  readonly #scripts = new Map<string, Answer[]>();
  readonly #server: Server;
  readonly #hanging = new Set<() => void>();
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const body = Buffer.concat(chunks).toString('utf8');
        const header = String(req.headers['lockstep-signature'] ?? '');
        const t = /(?:^|,)t=(\d+)/.exec(header)?.[1];
        const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(header)?.[1];
        const secret = this.#secrets.get(path);
        let signatureValid = false;
        if (secret && t && v1) {
          const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
          signatureValid = timingSafeEqual(expected, Buffer.from(v1, 'hex'));
        }
        this.received.push({ path, headers: req.headers, body, json: JSON.parse(body) as Received['json'], t: t ? Number(t) : undefined, signatureValid });
        const answer = this.#scripts.get(path)?.shift() ?? { status: 200 };
        if (answer === 'hang') {
          this.#hanging.add(() => res.destroy());
          return;
        }
        res.writeHead(answer.status, answer.headers).end('ok');
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** The secret the endpoint at `path` checks signatures with. */
  expect(path: string, secret: string): void {
    this.#secrets.set(path, secret);
  }

  /** Answers for the next requests on `path`, in order. */
  script(path: string, ...answers: Answer[]): void {
    this.#scripts.set(path, [...(this.#scripts.get(path) ?? []), ...answers]);
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const drop of this.#hanging) drop();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
