import { parseArgs } from 'node:util';
import { runSimulation, type Progress } from './run-simulation.js';

const USAGE = `Usage: npm run simulate -- [--lockers N] [--parcels N] [--seed N] [--qr-share F] [--outages F] [--crashes N]
                        [--no-show F] [--processes] [--server URL --token T] [--json]

  --lockers N     simulated lockers (default 3)
  --parcels N     parcels to book, deposit and pick up (default 30)
  --seed N        seed for a reproducible run (default 1)
  --qr-share F    share of people who scan the QR instead of typing the PIN, 0..1 (default 0.2)
  --outages F     share of lockers whose network is cut (at a TCP proxy) for part of the run, 0..1 (default 0)
  --crashes N     agents killed with SIGKILL mid-flow and restarted (default 0; runs agents as processes)
  --no-show F     share of recipients who never come; virtual time then passes the pickup window and couriers
                  collect those parcels with their collection codes (they end returned), 0..1 (default 0)
  --processes     run every agent in its own process even without crashes
  --server URL    run against a running server instead of one in this process
  --token T       admin token for --server (or set LOCKSTEP_TOKEN)
  --json          print the report as one JSON object on stdout

Progress goes to stderr. Exit code: 0 when every parcel went through with no violation, 1 otherwise, 2 on bad arguments.`;

function fail(message: string): never {
  process.stderr.write(`SIM_BAD_ARGUMENT: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) fail(`--${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) fail(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        lockers: { type: 'string' },
        parcels: { type: 'string' },
        seed: { type: 'string' },
        'qr-share': { type: 'string' },
        outages: { type: 'string' },
        crashes: { type: 'string' },
        processes: { type: 'boolean', default: false },
        'no-show': { type: 'string' },
        server: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const qrShare = values['qr-share'] === undefined ? 0.2 : Number(values['qr-share']);
  if (!Number.isFinite(qrShare) || qrShare < 0 || qrShare > 1) fail('--qr-share must be a number from 0 to 1');
  const outages = values.outages === undefined ? 0 : Number(values.outages);
  if (!Number.isFinite(outages) || outages < 0 || outages > 1) fail('--outages must be a number from 0 to 1');
  const noShow = values['no-show'] === undefined ? 0 : Number(values['no-show']);
  if (!Number.isFinite(noShow) || noShow < 0 || noShow > 1) fail('--no-show must be a number from 0 to 1');
  const options = {
    lockers: int('lockers', values.lockers, 3, 1, 1000),
    parcels: int('parcels', values.parcels, 30, 0, 100_000),
    seed: int('seed', values.seed, 1, 0, 2 ** 32 - 1),
    qrShare,
    outages,
    crashes: int('crashes', values.crashes, 0, 0, 1000),
    processes: values.processes ?? false,
    noShow,
    ...(values.server ? { server: values.server } : {}),
    ...(values.token || process.env.LOCKSTEP_TOKEN ? { token: values.token ?? process.env.LOCKSTEP_TOKEN } : {}),
  };
  if (options.server && !options.token) fail('--server needs --token or LOCKSTEP_TOKEN');

  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const onProgress = (p: Progress) => {
    const line = `parcels: booked ${p.booked}/${p.total}, deposited ${p.deposited}, picked up ${p.pickedUp}, returned ${p.returned}, failed ${p.failed}`;
    const done = p.pickedUp + p.returned + p.failed === p.total;
    if (tty) process.stderr.write(`\r${line}${done ? '\n' : ''}`);
    else if (done || Date.now() - lastLine > 1000) {
      lastLine = Date.now();
      process.stderr.write(`${line}\n`);
    }
  };
  process.stderr.write(
    `simulating ${options.lockers} lockers, ${options.parcels} parcels (seed ${options.seed}, outages ${options.outages}, crashes ${options.crashes})\n`,
  );
  const report = await runSimulation({ ...options, onProgress });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  }
  const ok = report.violations.length === 0 && report.parcels.failed === 0 && report.problems.length === 0;
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`SIM_FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
