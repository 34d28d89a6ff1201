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
import { DeviceStore } from './store/device-store.js';
import { DeviceIdentity, continueNumbering, enrol, keepBrokerAccount } from './identity.js';
// Firmware updates and remote diagnostics (issue 19):
import { LogTail } from './diagnostics.js';

const HELP = `Usage: npm run device -- [--credentials FILE] [--hardware NAME | --hardware-module PATH]

Runs one locker agent against a server. On its first start it makes its own Ed25519 key pair and enrols with
the single-use token an operator got from POST /v1/lockers; later starts reuse the key. Settings come from FILE
(the "enrolment" object of that answer, plus "apiUrl" and "compartments": [{"id","size"}]) or from LOCKER_ID,
API_URL, ENROLMENT_TOKEN, MQTT_URL (optional override), DEVICE_DATA_DIR, COMPARTMENTS ("A1:S,A2:M") and
LOG_LEVEL (logs go to stderr as JSON lines).

The hardware is a driver chosen by configuration: LOCKSTEP_HARDWARE (or --hardware) names a built-in driver,
LOCKSTEP_HARDWARE_MODULE (or --hardware-module) a module, from the working folder, exporting
createHardware(config). npm run device uses the simulator's, ./simulator/simulated-hardware-driver.ts, driven
from the terminal (type "help" there). Bad settings exit 2 with DEVICE_CONFIG_INVALID, DEVICE_HARDWARE_UNKNOWN
or DEVICE_HARDWARE_MODULE_INVALID.`;

function commandLine() {
  try {
    return parseArgs({
      options: { credentials: { type: 'string' }, hardware: { type: 'string' }, 'hardware-module': { type: 'string' }, help: { type: 'boolean' } },
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
  };
  const settings = deviceSettings(env, file);
  // Firmware updates and remote diagnostics (issue 19): the log also goes to a ring a diagnostics request reads.
  const tail = new LogTail();
  const log = createDeviceLogger(settings.logLevel, pino.multistream([{ level: 'trace', stream: pino.destination(2) }, { level: 'trace', stream: tail }])).child({ lockerId: settings.lockerId });
  const driver = await loadHardware(settings);
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
