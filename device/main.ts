import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { systemClock } from '../shared/clock.js';
import { SimulatedLocker } from '../simulator/simulated-locker.js';
import { LockerAgent } from './agent.js';
import { DeviceConfigError, deviceSettings } from './config.js';
import { DeviceStore } from './store/device-store.js';
import { DeviceIdentity, continueNumbering, enrol, keepBrokerAccount } from './identity.js';

const HELP = `Usage: npm run device -- [--credentials FILE]

Runs one locker agent against a server. On its first start it makes its own Ed25519 key pair and enrols with
the single-use token an operator got from POST /v1/lockers; later starts reuse the key. Settings come from FILE
(the "enrolment" object of that answer, plus "apiUrl" and "compartments": [{"id","size"}]) or from LOCKER_ID,
API_URL, ENROLMENT_TOKEN, MQTT_URL (optional override), DEVICE_DATA_DIR and COMPARTMENTS ("A1:S,A2:M").
This build drives simulated hardware from the terminal:

  12345678        type a PIN on the keypad
  scan <qr>       scan a QR grant (or, while a batch code is in use, a parcel label: its id)
  open A1         pull door A1 (opens only when its latch was released)
  close A1        push door A1 shut
  force A1        force door A1 open
  misfit          press "does not fit" (the open deposit door's parcel goes to a larger compartment)
  quit            stop the agent`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { credentials: { type: 'string' }, help: { type: 'boolean' } } });
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
  const settings = deviceSettings(process.env, file);
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
    process.stdout.write(`enrolled as ${settings.lockerId}\n`);
  }
  if (!mqttUrl) throw new DeviceConfigError('no broker URL: set MQTT_URL');
  const hardware = new SimulatedLocker(settings.compartments);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const agent = new LockerAgent({
    lockerId: settings.lockerId,
    mqttUrl,
    password: () => identity.brokerPassword(settings.lockerId, Date.now()),
    hardware,
    store,
    clock: systemClock,
    // A fleet powered on at once (after a city-wide outage) does not connect at once.
    startJitterMs: 5000,
    log: (msg, data) => process.stderr.write(`${msg} ${data ? JSON.stringify(data) : ''}\n`),
  });
  const origDisplay = hardware.display.bind(hardware);
  hardware.display = (line) => {
    origDisplay(line);
    say(`[display] ${line}`);
  };
  hardware.onDoor((id, state) => say(`[door] ${id} ${state}`));
  await agent.start();
  say(`locker ${settings.lockerId} started (boot ${agent.bootId}); type "help" for commands`);

  const stop = async () => {
    await agent.stop();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  for await (const raw of createInterface({ input: process.stdin })) {
    const line = raw.trim();
    const [cmd = '', arg = ''] = line.split(/\s+/, 2);
    try {
      if (/^\d+$/.test(line)) say(JSON.stringify(await agent.enterCode(line, 'keypad')));
      else if (cmd === 'scan') say(JSON.stringify(await agent.enterCode(arg, 'scanner')));
      else if (cmd === 'open') say(hardware.openDoor(arg) ? `door ${arg} open` : `door ${arg} is latched`);
      else if (cmd === 'close') hardware.closeDoor(arg);
      else if (cmd === 'force') hardware.forceOpen(arg);
      else if (cmd === 'misfit') say(JSON.stringify({ doesNotFit: await agent.doesNotFit() }));
      else if (cmd === 'quit') break;
      else if (line) say(HELP);
    } catch (err) {
      say(`error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  await stop();
}

main().catch((err: unknown) => {
  const code = err instanceof DeviceConfigError ? err.code : 'DEVICE_FAILED';
  process.stderr.write(`${code}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof DeviceConfigError ? 2 : 1);
});
