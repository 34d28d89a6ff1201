import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from '../../server/config.js';
import { lockerAcls } from '../../server/broker/dynsec.js';
import { topicMatches } from '../../server/broker/external-broker.js';
import { newLockerId } from '../../server/lockers/register-locker.js';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES, deviceMayPublish, deviceMaySubscribe } from '../../shared/topics.js';

describe('scale-out settings and broker rules', () => {
  it('reads the Postgres and external-broker settings, and refuses bad ones with CONFIG_INVALID', () => {
    const c = configFromEnv({ DATABASE_URL: 'postgres://u:p@db:5432/lockstep', MQTT_URL: 'mqtts://broker:8883', MQTT_DEVICE_AUTH: 'http', INSTANCE_ID: 'node-1', MQTT_SESSION_EXPIRY_SEC: '60' });
    expect(c).toMatchObject({ databaseUrl: 'postgres://u:p@db:5432/lockstep', mqttUrl: 'mqtts://broker:8883', mqttDeviceAuth: 'http', instanceId: 'node-1', mqttSessionExpirySec: 60, mqttSharedSubscriptions: 'on' });
    expect(configFromEnv({})).toMatchObject({ mqttDeviceAuth: 'dynsec', databasePoolSize: 10, fleetHeartbeatMs: 60_000 });
    expect(configFromEnv({ FLEET_HEARTBEAT_MS: '1000' }).fleetHeartbeatMs).toBe(1000);
    for (const env of [
      { DATABASE_URL: 'mysql://db/x' },
      { MQTT_URL: 'http://broker' },
      { MQTT_DEVICE_AUTH: 'jwt' },
      { MQTT_SHARED_SUBSCRIPTIONS: 'maybe' },
      { INSTANCE_ID: 'has space' },
      { DATABASE_POOL_SIZE: '0' },
      { BROKER_HOOK_TOKEN: 'short' },
      { FLEET_HEARTBEAT_MS: '999' },
      { FLEET_HEARTBEAT_MS: '600001' },
    ]) {
      expect(() => configFromEnv(env), JSON.stringify(env)).toThrow(ConfigError);
    }
  });

  it('matches MQTT filters as a broker does', () => {
    expect(topicMatches('lockers/+/events', 'lockers/L1/events')).toBe(true);
    expect(topicMatches('lockers/+/events', 'lockers/L1/events/ack')).toBe(false);
    expect(topicMatches('lockers/+/state/get', 'lockers/L1/state/get')).toBe(true);
    expect(topicMatches('lockers/+/state/get', 'lockers/L1/state')).toBe(false);
    expect(topicMatches('lockers/#', 'lockers/L1/state/get')).toBe(true);
    expect(topicMatches('lockers/+/status', 'other/L1/status')).toBe(false);
  });

  it('gives a locker\'s broker role exactly the topics the embedded broker allows it, by exact name', () => {
    const id = newLockerId();
    const acls = lockerAcls(id);
    const publish = acls.filter((a) => a.acltype === 'publishClientSend').map((a) => a.topic);
    const subscribe = acls.filter((a) => a.acltype === 'subscribeLiteral').map((a) => a.topic);
    expect(publish).toHaveLength(DEVICE_PUBLISHES.length);
    expect(subscribe).toHaveLength(DEVICE_SUBSCRIBES.length);
    for (const t of publish) expect(deviceMayPublish(id, t)).toBe(true);
    for (const t of subscribe) expect(deviceMaySubscribe(id, t)).toBe(true);
    expect(acls.every((a) => a.allow && !a.topic.includes('+') && !a.topic.includes('#') && a.topic.startsWith(`lockers/${id}/`))).toBe(true);
  });
});
