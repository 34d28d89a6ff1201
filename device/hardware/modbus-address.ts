/**
 * Where the lock boards are: the `--hardware` value (`HARDWARE`) of a Modbus driver, parsed. Two forms:
 *   modbus-tcp://HOST:PORT                      a Modbus TCP I/O module or gateway (port 502 when absent)
 *   modbus-rtu:///dev/ttyUSB0?baud=9600&parity=none&stopbits=1&databits=8   boards on an RS-485 bus
 */
import { HardwareConfigError } from './hardware-config-error.js';

export type BusAddress =
  | { transport: 'tcp'; host: string; port: number }
  | { transport: 'rtu'; path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; stopBits: 1 | 2; dataBits: 7 | 8 };

const BAUD_RATES = new Set([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]);

function bad(spec: string, why: string): HardwareConfigError {
  return new HardwareConfigError(`bad hardware address "${spec}": ${why}`, 'DEVICE_HARDWARE_ADDRESS_INVALID');
}

export function parseBusAddress(spec: string): BusAddress {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw bad(spec, 'not a URL (modbus-tcp://HOST:PORT or modbus-rtu:///dev/ttyUSB0?baud=9600)');
  }
  if (url.protocol === 'modbus-tcp:') {
    if (!url.hostname) throw bad(spec, 'no host');
    if (url.pathname && url.pathname !== '/') throw bad(spec, 'a TCP address has no path');
    const port = url.port ? Number(url.port) : 502;
    return { transport: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port };
  }
  if (url.protocol === 'modbus-rtu:') {
    if (url.hostname) throw bad(spec, 'write the device path after three slashes: modbus-rtu:///dev/ttyUSB0');
    const path = decodeURIComponent(url.pathname);
    if (!path.startsWith('/dev/') && !path.startsWith('/tmp/')) throw bad(spec, 'the serial device must be a path under /dev (or /tmp for a test pair)');
    const known = new Set(['baud', 'parity', 'stopbits', 'databits']);
    for (const key of url.searchParams.keys()) if (!known.has(key)) throw bad(spec, `unknown option "${key}" (baud, parity, stopbits, databits)`);
    const baudRate = Number(url.searchParams.get('baud') ?? 9600);
    if (!BAUD_RATES.has(baudRate)) throw bad(spec, `baud must be one of ${[...BAUD_RATES].join(', ')}`);
    const parity = url.searchParams.get('parity') ?? 'none';
    if (parity !== 'none' && parity !== 'even' && parity !== 'odd') throw bad(spec, 'parity must be none, even or odd');
    const stopBits = Number(url.searchParams.get('stopbits') ?? 1);
    if (stopBits !== 1 && stopBits !== 2) throw bad(spec, 'stopbits must be 1 or 2');
    const dataBits = Number(url.searchParams.get('databits') ?? 8);
    if (dataBits !== 7 && dataBits !== 8) throw bad(spec, 'databits must be 7 or 8');
    return { transport: 'rtu', path, baudRate, parity, stopBits, dataBits };
  }
  throw bad(spec, `unknown scheme ${url.protocol} (modbus-tcp: or modbus-rtu:)`);
}

/** The address as people read it in logs and the checklist. */
export function describeBus(a: BusAddress): string {
  return a.transport === 'tcp' ? `modbus-tcp://${a.host}:${a.port}` : `modbus-rtu://${a.path} ${a.baudRate} baud ${a.dataBits}${a.parity[0]?.toUpperCase()}${a.stopBits}`;
}
