#!/usr/bin/env node
// The container's health check: exit 0 when the server answers /readyz with 200 (database and broker up, storage
// taking writes), 1 otherwise. Plain JavaScript and Node's fetch: the runtime image has neither curl nor tsx.
const port = process.env.PORT || '8080';
const url = `http://127.0.0.1:${port}/readyz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
