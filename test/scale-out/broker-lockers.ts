import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { systemClock } from '../../shared/clock.js';
import type { CompartmentSize } from '../../shared/compartment-sizes.js';
import { LockerAgent } from '../../device/agent.js';
import { DeviceIdentity, continueNumbering, enrol, keepBrokerAccount } from '../../device/identity.js';
import { DeviceStore } from '../../device/store/device-store.js';
import type { EnrolmentTicket, LockerView } from '../../shared/api/lockers.js';
import type { ApiClient } from '../../client/http-client.js';
import { SimulatedLocker } from '../../simulator/simulated-locker.js';

/** A locker as its controller runs it, against whatever broker enrolment names (with its own broker account if given one). */
export interface BrokerLocker {
  id: string;
  agent: LockerAgent;
  store: DeviceStore;
  hardware: SimulatedLocker;
  /** Grants the agent accepted, by jti (a grant must open a door once). */
  acceptedByJti: Map<string, number>;
  /** The broker account enrolment handed out (undefined with token sign-in). */
  brokerUsername: string | undefined;
  stop(): Promise<void>;
}

export async function startBrokerLocker(
  api: ApiClient,
  dataDir: string,
  compartments: { id: string; size: CompartmentSize }[],
  /** Where the locker connects, in place of the broker enrolment names (e.g. a proxy in front of it). */
  mqttUrl?: string,
): Promise<BrokerLocker> {
  const created = await api.post<LockerView & { enrolment: EnrolmentTicket }>('/v1/lockers', { name: 'Scale-out', location: { lat: 52.23, lon: 21.01 }, compartments });
  const store = await DeviceStore.open(path.join(dataDir, `${created.id}.sqlite`), () => randomUUID().replaceAll('-', ''));
  const identity = await DeviceIdentity.loadOrCreate(store);
  const enrolled = await api.withServer((url) => enrol(url, created.id, created.enrolment.token, identity.publicKey));
  await continueNumbering(store, enrolled.lastSeq);
  await keepBrokerAccount(store, enrolled.broker);
  const hardware = new SimulatedLocker(compartments);
  const agent = new LockerAgent({
    lockerId: created.id,
    mqttUrl: mqttUrl ?? enrolled.mqttUrl,
    password: () => identity.brokerPassword(created.id, Date.now()),
    hardware,
    store,
    clock: systemClock,
    ackTimeoutMs: 2000,
  });
  const acceptedByJti = new Map<string, number>();
  agent.onRecorded = (events) => {
    for (const e of events) if (e.type === 'code.accepted' && e.jti) acceptedByJti.set(e.jti, (acceptedByJti.get(e.jti) ?? 0) + 1);
  };
  await agent.start();
  return {
    id: created.id,
    agent,
    store,
    hardware,
    acceptedByJti,
    brokerUsername: enrolled.broker?.username,
    async stop() {
      await agent.stop();
      await store.close();
    },
  };
}
