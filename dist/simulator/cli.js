import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderHtmlReport } from './html-report.js';
import { progressPrinter } from './progress.js';
import { runSimulation } from './run-simulation.js';
import { loadScenario, ScenarioError } from './scenario.js';
const USAGE = `Usage: npm run simulate -- [--scenario FILE] [--lockers N] [--parcels N] [--seed N] [--qr-share F] [--outages F]
                        [--crashes N] [--no-show F] [--processes] [--workers N] [--server URL[,URL...] --token T]
                        [--json] [--out FILE] [--report-html FILE]

  --scenario FILE     a scenario (JSON or YAML, see docs/simulator.md): fleet, traffic over virtual hours, faults,
                      seed. The flags below override its values.
  --lockers N         simulated lockers (default 3, or the scenario's)
  --parcels N         parcels to book, deposit and pick up (default 30, or the scenario's per-locker rate × lockers)
  --seed N            seed for a reproducible run (default 1, or the scenario's)
  --qr-share F        share of people who scan the QR instead of typing the PIN, 0..1 (default 0.2)
  --outages F         share of lockers whose network is cut (at a TCP proxy) for part of the run, 0..1 (default 0)
  --crashes N         agents killed with SIGKILL mid-flow and restarted (default 0; runs agents as processes)
  --no-show F         share of recipients who never come; virtual time then passes the pickup window and couriers
                      collect those parcels with their collection codes (they end returned), 0..1 (default 0)
  --processes         run every agent in its own process even without crashes
  --workers N         child processes that host the lockers (0 = all in this process; default one per 1,000
                      lockers above 500)
  --server URLS       run against running servers instead of one in this process: one base URL or several,
                      comma-separated (requests go round-robin and fail over when one cannot be reached)
  --token T           admin token for --server (or set LOCKSTEP_TOKEN)
  --json              print the report as one JSON object on stdout
  --out FILE          also write the JSON report to FILE (and the HTML page next to it, FILE with .html)
  --report-html FILE  write the report as a self-contained HTML page with charts

Progress goes to stderr. Exit code: 0 when every parcel went through with no violation, 1 otherwise, 2 on bad
arguments (SIM_BAD_ARGUMENT) or a bad scenario file (SIM_BAD_SCENARIO).`;
function fail(message) {
    process.stderr.write(`SIM_BAD_ARGUMENT: ${message}\n\n${USAGE}\n`);
    process.exit(2);
}
function int(name, raw, min, max) {
    if (raw === undefined)
        return undefined;
    if (!/^\d+$/.test(raw))
        fail(`--${name} must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max)
        fail(`--${name} must be between ${min} and ${max}, got ${n}`);
    return n;
}
function share(name, raw) {
    if (raw === undefined)
        return undefined;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
        fail(`--${name} must be a number from 0 to 1`);
    return n;
}
async function main() {
    let values;
    try {
        ({ values } = parseArgs({
            options: {
                scenario: { type: 'string' },
                lockers: { type: 'string' },
                parcels: { type: 'string' },
                seed: { type: 'string' },
                'qr-share': { type: 'string' },
                outages: { type: 'string' },
                crashes: { type: 'string' },
                processes: { type: 'boolean', default: false },
                workers: { type: 'string' },
                'no-show': { type: 'string' },
                server: { type: 'string' },
                token: { type: 'string' },
                json: { type: 'boolean', default: false },
                out: { type: 'string' },
                'report-html': { type: 'string' },
                help: { type: 'boolean', default: false },
            },
            strict: true,
        }));
    }
    catch (err) {
        fail(err instanceof Error ? err.message : String(err));
    }
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    let scenario;
    if (values.scenario) {
        try {
            scenario = loadScenario(values.scenario);
        }
        catch (err) {
            if (!(err instanceof ScenarioError))
                throw err;
            process.stderr.write(`SIM_BAD_SCENARIO: ${err.message}\n`);
            process.exit(2);
        }
    }
    const token = values.token ?? process.env.LOCKSTEP_TOKEN;
    if (values.server && !token)
        fail('--server needs --token or LOCKSTEP_TOKEN');
    if (values.server && values.server.split(',').some((u) => !/^https?:\/\/[^\s,]+$/.test(u.trim())))
        fail('--server takes http(s) URLs, comma-separated');
    const options = {
        ...(scenario ? { scenario } : {}),
        lockers: int('lockers', values.lockers, 1, 20_000),
        parcels: int('parcels', values.parcels, 0, 1_000_000),
        seed: int('seed', values.seed, 0, 2 ** 32 - 1),
        qrShare: share('qr-share', values['qr-share']),
        outages: share('outages', values.outages),
        crashes: int('crashes', values.crashes, 0, 1000),
        processes: values.processes ?? false,
        workers: int('workers', values.workers, 0, 32),
        noShow: share('no-show', values['no-show']),
        ...(values.server ? { server: values.server } : {}),
        ...(token ? { token } : {}),
    };
    if ((options.processes || (options.crashes ?? 0) > 0) && (options.workers ?? 0) > 0)
        fail('--processes and --crashes cannot be combined with --workers');
    if ((options.lockers ?? 0) > 1000 && (options.processes || (options.crashes ?? 0) > 0))
        fail('--processes and --crashes run one process per agent: at most 1000 lockers');
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    const printer = progressPrinter(process.stderr);
    let last = null;
    const onProgress = (p) => {
        last = p;
        printer.update(p);
    };
    process.stderr.write(`simulating ${scenario ? `scenario "${scenario.name}"` : 'from flags'} (${values.scenario ?? 'no scenario file'})\n`);
    const report = await runSimulation({ ...defined, onProgress });
    printer.finish(last);
    const json = values.json ? JSON.stringify(report) : JSON.stringify(report, null, 2);
    process.stdout.write(`${json}\n`);
    const htmlFile = values['report-html'] ?? (values.out ? values.out.replace(/\.json$/i, '') + '.html' : undefined);
    if (values.out)
        writeReport(values.out, `${JSON.stringify(report, null, 2)}\n`);
    if (htmlFile)
        writeReport(htmlFile, renderHtmlReport(report));
    const ok = report.violations.length === 0 && report.parcels.failed === 0 && report.problemCount === 0;
    process.exitCode = ok ? 0 : 1;
}
function writeReport(file, text) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, text);
    process.stderr.write(`report written to ${file}\n`);
}
main().catch((err) => {
    process.stderr.write(`SIM_FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
//# sourceMappingURL=cli.js.map