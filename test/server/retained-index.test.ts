import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import { createServer, type AddressInfo, type Server } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { indexedMemoryPersistence } from '../../server/broker/retained-index.js';

/** What a new subscription to `filter` receives as retained messages, within a short wait. */
async function retainedFor(url: string, filter: string): Promise<string[]> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const got: string[] = [];
  client.on('message', (topic, payload, packet) => {
    if (packet.retain) got.push(`${topic}=${payload.toString()}`);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  await new Promise((resolve) => setTimeout(resolve, 400));
  await client.endAsync();
  return got.sort();
}

describe('retained messages indexed by exact topic (aedes persistence)', () => {
  let broker: Aedes;
  let server: Server;
  let url: string;
  let publisher: MqttClient;

  beforeAll(async () => {
    broker = await Aedes.createBroker({ persistence: indexedMemoryPersistence() });
    server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    publisher = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    for (const id of ['a', 'b', 'c']) await publisher.publishAsync(`lockers/${id}/status`, `on-${id}`, { qos: 1, retain: true });
  });
  afterAll(async () => {
    await publisher.endAsync();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('an exact subscription gets only its own topic’s retained message', async () => {
    expect(await retainedFor(url, 'lockers/b/status')).toEqual(['lockers/b/status=on-b']);
    expect(await retainedFor(url, 'lockers/zzz/status')).toEqual([]);
  });

  it('a wildcard subscription still gets every match', async () => {
    expect(await retainedFor(url, 'lockers/+/status')).toEqual(['lockers/a/status=on-a', 'lockers/b/status=on-b', 'lockers/c/status=on-c']);
  });

  it('a newer retained message replaces the old one, and an empty one clears it, for exact and wildcard subscriptions', async () => {
    await publisher.publishAsync('lockers/a/status', 'off-a', { qos: 1, retain: true });
    await publisher.publishAsync('lockers/c/status', '', { qos: 1, retain: true });
    expect(await retainedFor(url, 'lockers/a/status')).toEqual(['lockers/a/status=off-a']);
    expect(await retainedFor(url, 'lockers/c/status')).toEqual([]);
    expect(await retainedFor(url, 'lockers/+/status')).toEqual(['lockers/a/status=off-a', 'lockers/b/status=on-b']);
  });
});
