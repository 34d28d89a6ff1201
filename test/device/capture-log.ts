import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createDeviceLogger } from '../../device/device-logger.js';

/** The device's logger (with its redaction) at trace level, writing every line to an array. */
export function captureDeviceLog(): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createDeviceLogger('trace', sink) };
}
