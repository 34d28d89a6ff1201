import { Agent, request } from 'node:http';
import { percentiles, round, say, type Percentiles } from './stats.js';

export interface HttpLoadOptions {
  url: string;
  headers: Record<string, string>;
  /** The next request body; null when there is nothing more to send (capacity used up). */
  body: () => string | null;
  expectStatus: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  label: string;
}

export interface HttpLoadResult {
  /** Expected answers per second in the measured window (after warm-up). */
  rps: number;
  ok: number;
  /** Unexpected answers by error code (or status), measured window and warm-up together. */
  errors: Record<string, number>;
  latencyMs: Percentiles;
  measuredMs: number;
  /** True when the bodies ran out before the window ended. */
  exhausted: boolean;
}

/**
 * A closed-loop HTTP load: `concurrency` keep-alive connections, each sending its next request as soon as the
 * previous answer is read. Counts the expected answers that completed inside the measured window.
 */
export async function httpLoad(o: HttpLoadOptions): Promise<HttpLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const url = new URL(o.url);
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.durationMs;
  let ok = 0;
  let exhausted = false;
  let lastDone = measureFrom;

  const once = (body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...o.headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const worker = async () => {
    while (performance.now() < end) {
      const body = o.body();
      if (body === null) {
        exhausted = true;
        return;
      }
      const t0 = performance.now();
      let answer: { status: number; text: string };
      try {
        answer = await once(body);
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'NETWORK';
        errors[code] = (errors[code] ?? 0) + 1;
        continue;
      }
      const t1 = performance.now();
      if (answer.status !== o.expectStatus) {
        let code = `HTTP_${answer.status}`;
        try {
          code = (JSON.parse(answer.text) as { error?: { code?: string } }).error?.code ?? code;
        } catch {
          // not JSON: the status says enough
        }
        errors[code] = (errors[code] ?? 0) + 1;
        continue;
      }
      if (t1 >= measureFrom && t1 <= end) {
        ok++;
        latencies.push(t1 - t0);
        lastDone = t1;
      }
    }
  };
  const progress = setInterval(() => say(`  [${o.label}] ${ok} answers in the window so far`), 2000);
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  clearInterval(progress);
  agent.destroy();
  // A window cut short (bodies ran out) is measured to its last answer.
  const measuredMs = exhausted ? Math.max(1, lastDone - measureFrom) : o.durationMs;
  return { rps: round(ok / (measuredMs / 1000)), ok, errors, latencyMs: percentiles(latencies), measuredMs: round(measuredMs), exhausted };
}
