import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { Handler } from './ipc.js';

/**
 * CPU profile of a measured window only (the same V8 sampling profiler as `node --cpu-prof`, without the
 * start-up, module loading and setup around the window): the `profileStart` and `profileStop` requests of a
 * bench child process (a server host or a client fleet).
 */
export function profilingHandlers(): Record<string, Handler> {
  const inspector = new Session();
  inspector.connect();
  return {
    profileStart: async () => {
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: 500 });
      await inspector.post('Profiler.start');
    },
    profileStop: async (m) => {
      const { profile } = await inspector.post('Profiler.stop');
      writeFileSync(String(m.file), JSON.stringify(profile));
      return m.file;
    },
  };
}
