import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ConfigError, configFromEnv } from '../../server/config.js';

describe('server configuration', () => {
  it('has working defaults for the embedded setup', () => {
    const c = configFromEnv({});
    expect(c).toMatchObject({ port: 8080, mqttPort: 1883, host: '127.0.0.1', pinLength: 8, dataDir: path.resolve('./data') });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads each setting from its environment variable', () => {
    const c = configFromEnv({ PORT: '9000', MQTT_PORT: '0', HOST: '0.0.0.0', DATA_DIR: '/tmp/x', PIN_LENGTH: '10', ADMIN_TOKEN: 'a'.repeat(40) });
    expect(c).toMatchObject({ port: 9000, mqttPort: 0, host: '0.0.0.0', dataDir: '/tmp/x', pinLength: 10 });
  });

  it('takes a PIN alphabet of distinct symbols only', () => {
    expect(configFromEnv({ PIN_ALPHABET: 'ABCDEF0123' }).pinAlphabet).toBe('ABCDEF0123');
    for (const bad of ['AAB', 'abc', 'A', '0123456789!']) {
      expect(() => configFromEnv({ PIN_ALPHABET: bad }), bad).toThrow(/PIN_ALPHABET/);
    }
  });

  it('refuses bad values, naming every variable at fault', () => {
    try {
      configFromEnv({ PORT: 'eighty', PIN_LENGTH: '3', ADMIN_TOKEN: 'short' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.message).toContain('PORT');
      const again = (() => {
        try {
          configFromEnv({ PIN_LENGTH: '3', ADMIN_TOKEN: 'short', MQTT_PORT: '70000' });
        } catch (x) {
          return (x as ConfigError).problems.join('\n');
        }
        return '';
      })();
      expect(again).toContain('PIN_LENGTH');
      expect(again).toContain('ADMIN_TOKEN');
      expect(again).toContain('MQTT_PORT');
    }
  });
});
