import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { systemClock } from '../shared/clock.js';
import { LockerAgent } from './agent.js';
import { DeviceConfigError, deviceSettings } from './config.js';
import { createDeviceLogger } from './device-logger.js';
import { loadHardware } from './load-hardware.js';
import { runHardwareCheck } from './hardware/hardware-check.js';
import { DeviceStore } from './store/device-store.js';
import { DeviceIdentity, continueNumbering, enrol, keepBrokerAccount } from './identity.js';
import { screenSettings } from './screen/screen-settings.js';
import { startScreen } from './screen/start-screen.js';
// Firmware updates and remote diagnostics (issue 19):
import { LogTail } from './diagnostics.js';

const HELP = `Usage: npm run device -- [--credentials FILE] [--hardware NAME | --hardware-module PATH]
                         [--hardware-map FILE] [--check-hardware [--pulse COMPARTMENT]]

Runs one locker agent against a server. On its first start it makes its own Ed25519 key pair and enrols with
the single-use token an operator got from POST /v1/lockers; later starts reuse the key. Settings come from FILE
(the "enrolment" object of that answer, plus "apiUrl" and "compartments": [{"id","size"}]) or from LOCKER_ID,
API_URL, ENROLMENT_TOKEN, MQTT_URL (optional override), DEVICE_DATA_DIR, COMPARTMENTS ("A1:S,A2:M") and
LOG_LEVEL (logs go to stderr as JSON lines).

The hardware is a driver chosen by configuration: LOCKSTEP_HARDWARE (or --hardware) names a built-in driver,
LOCKSTEP_HARDWARE_MODULE (or --hardware-module) a module, from the working folder, exporting
createHardware(config). Without either, the driver is "simulated" (the simulator's module,
./simulator/simulated-hardware-driver.ts), driven from the terminal (type "help" there). Bad settings exit 2 with DEVICE_CONFIG_INVALID, DEVICE_HARDWARE_UNKNOWN
or DEVICE_HARDWARE_MODULE_INVALID.

Lock boards (docs/hardware.md): --hardware modbus-tcp://HOST:PORT or "modbus-rtu:///dev/ttyUSB0?baud=9600"
(or HARDWARE), --hardware simulated (the default). --hardware-map FILE (HARDWARE_MAP) places compartments on
coils and inputs; HARDWARE_POLL_MS sets the sensor poll interval. --check-hardware lists the boards, coils and
inputs it can read and pulses nothing; with --pulse A1 it pulses that one lock. It exits 0 when every board
answers, 3 when one does not; a bad address or map exits 2 (DEVICE_HARDWARE_ADDRESS_INVALID,
DEVICE_HARDWARE_MAP_INVALID).

The locker's screen (docs/screen.md): --screen-port PORT (or SCREEN_PORT) serves it on http://127.0.0.1:PORT/
for the kiosk browser; SCREEN_LANGUAGE, SCREEN_IDLE_SECONDS, SCREEN_LOW_COMPARTMENTS, REOPEN_WINDOW_SECONDS.`;

/** lock boards (issue 15): `HARDWARE` and `--hardware-map`, and the simulator when no driver is named. */
function hardwareDefaults(env: NodeJS.ProcessEnv, values: { hardware?: string | undefined; 'hardware-module'?: string | undefined; 'hardware-map'?: string | undefined }): NodeJS.ProcessEnv {
  const named = values.hardware ?? values['hardware-module'] ?? env.LOCKSTEP_HARDWARE ?? env.LOCKSTEP_HARDWARE_MODULE;
  return {
    ...(named === undefined ? { LOCKSTEP_HARDWARE: env.HARDWARE ?? 'simulated' } : {}),
    ...(values['hardware-map'] !== undefined ? { HARDWARE_MAP: values['hardware-map'] } : {}),
  };
}

function commandLine() {
  try {
    return parseArgs({
      options: {
        credentials: { type: 'string' },
        hardware: { type: 'string' },
        'hardware-module': { type: 'string' },
        help: { type: 'boolean' },
        // lock boards (issue 15)
        'hardware-map': { type: 'string' },
        'check-hardware': { type: 'boolean' },
        pulse: { type: 'string' },
        // screen (issue 14)
        'screen-port': { type: 'string' },
      },
    }).values;
  } catch (err) {
    throw new DeviceConfigError(`${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
  }
}

async function main(): Promise<void> {
  const values = commandLine();
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  let file: Record<string, unknown> = {};
  if (values.credentials) {
    try {
      file = JSON.parse(readFileSync(values.credentials, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new DeviceConfigError(`cannot read ${values.credentials}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // The flags are the same settings as the variables, given on the command line (npm run device uses one).
  const env = {
    ...process.env,
    ...(values.hardware !== undefined ? { LOCKSTEP_HARDWARE: values.hardware } : {}),
    ...(values['hardware-module'] !== undefined ? { LOCKSTEP_HARDWARE_MODULE: values['hardware-module'] } : {}),
    // lock boards (issue 15): HARDWARE names the driver too; `simulated` when nothing names one
    ...hardwareDefaults(process.env, values),
  };
  const settings = deviceSettings(env, file);
  const screenConfig = screenSettings(env, values['screen-port']); // Screen (issue 14)
  // Firmware updates and remote diagnostics (issue 19): the log also goes to a ring a diagnostics request reads.
  const tail = new LogTail();
  const log = createDeviceLogger(settings.logLevel, pino.multistream([{ level: 'trace', stream: pino.destination(2) }, { level: 'trace', stream: tail }])).child({ lockerId: settings.lockerId });
  const driver = await loadHardware(settings, process.cwd(), { log });
  // lock boards (issue 15): the checklist reads (and with --pulse drives) the hardware, then exits
  if (values['check-hardware'] || values.pulse !== undefined) {
    const code = await runHardwareCheck(driver, { pulse: values.pulse, wiring: settings.hardwareMap ? `mapping file ${settings.hardwareMap}` : 'default wiring' }, (l) => process.stdout.write(`${l}\n`));
    await driver.close?.();
    process.exit(code);
  }
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  const store = await DeviceStore.open(path.join(settings.dataDir, `${settings.lockerId}.sqlite`), () => randomUUID().replaceAll('-', ''));
  const identity = await DeviceIdentity.loadOrCreate(store);
  let mqttUrl = settings.mqttUrl ?? (await store.getMeta('mqtt_url'));
  if (!(await store.getMeta('enrolled_at'))) {
    if (!settings.apiUrl || !settings.enrolmentToken) {
      throw new DeviceConfigError('this locker is not enrolled yet: give API_URL and ENROLMENT_TOKEN (or apiUrl and token in the file)');
    }
    const enrolled = await enrol(settings.apiUrl, settings.lockerId, settings.enrolmentToken, identity.publicKey);
    await continueNumbering(store, enrolled.lastSeq);
    await keepBrokerAccount(store, enrolled.broker);
    await store.setMeta('mqtt_url', enrolled.mqttUrl);
    await store.setMeta('enrolled_at', new Date().toISOString());
    mqttUrl = settings.mqttUrl ?? enrolled.mqttUrl;
    log.info({ mqttUrl: enrolled.mqttUrl }, 'enrolled');
  }
  if (!mqttUrl) throw new DeviceConfigError('no broker URL: set MQTT_URL');
  const agent = new LockerAgent({
    lockerId: settings.lockerId,
    mqttUrl,
    password: () => identity.brokerPassword(settings.lockerId, Date.now()),
    hardware: driver.hardware,
    store,
    clock: systemClock,
    // A fleet powered on at once (after a city-wide outage) does not connect at once.
    startJitterMs: 5000,
    log,
    reopenWindowSec: screenConfig.reopenWindowSec, // Screen (issue 14)
    // Firmware updates and remote diagnostics (issue 19; docs/firmware.md):
    update: {
      dir: path.join(settings.dataDir, 'firmware'),
      ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
      ...(settings.firmwarePublicKey ? { publicKey: settings.firmwarePublicKey } : {}),
      ...(settings.firmwareVersion ? { initialVersion: settings.firmwareVersion } : {}),
    },
    logTail: () => tail.lines(),
  });
  await agent.start();
  log.info({ bootId: agent.bootId }, 'locker started');
  // Screen (issue 14): the locker's own screen, served on loopback for the kiosk browser (docs/screen.md).
  if (screenConfig.port !== null) {
    const screen = await startScreen({
      agent,
      store,
      clock: systemClock,
      compartments: driver.hardware.compartments(),
      port: screenConfig.port,
      language: screenConfig.language,
      idleTimeoutSec: screenConfig.idleTimeoutSec,
      lowCompartments: screenConfig.lowCompartments,
      log,
    });
    log.info({ url: screen.url }, 'screen served');
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await agent.stop();
    await driver.close?.();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  if (driver.stopRequested) await driver.stopRequested.then(stop);
}

main().catch((err: unknown) => {
  const code = err instanceof DeviceConfigError ? err.code : 'DEVICE_FAILED';
  process.stderr.write(`${code}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof DeviceConfigError ? 2 : 1);
});
