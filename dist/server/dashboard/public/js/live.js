// Server-Sent Events read with fetch(): the token goes in the Authorization header (EventSource cannot send
// one, and a token in the URL would land in logs). Reconnects with backoff; every connect starts with a snapshot.

/** Parses an SSE byte stream, calling onEvent(name, data) per event. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') name = val;
        else if (field === 'data') data.push(val);
      }
      if (data.length) onEvent(name, data.join('\n'));
    }
  }
}

/**
 * Keeps a live connection open until stop() is called. handlers: onSnapshot(obj), onUpdate(obj),
 * onState('connecting' | 'live' | 'down'), onUnauthorized().
 */
export function connectLive(token, handlers) {
  const controller = new AbortController();
  let attempt = 0;
  let stopped = false;

  const run = async () => {
    while (!stopped) {
      handlers.onState(attempt === 0 ? 'connecting' : 'down');
      try {
        const res = await fetch('/v1/live', { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, cache: 'no-store', signal: controller.signal });
        if (res.status === 401) {
          handlers.onUnauthorized();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`live stream answered ${res.status}`);
        await readEvents(res.body, (name, data) => {
          const payload = JSON.parse(data);
          if (name === 'snapshot') {
            attempt = 0;
            handlers.onState('live');
            handlers.onSnapshot(payload);
          } else if (name === 'update') handlers.onUpdate(payload);
        });
      } catch (err) {
        if (stopped) return;
        console.warn('live stream', err);
      }
      if (stopped) return;
      attempt++;
      handlers.onState('down');
      // Exponential backoff with full jitter, 1 s to 30 s.
      const wait = Math.random() * Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
      await new Promise((r) => setTimeout(r, Math.max(500, wait)));
    }
  };
  void run();
  return {
    stop() {
      stopped = true;
      controller.abort();
    },
  };
}
