import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { configFromEnv } from '../../server/config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');

interface ComposeService {
  image?: string;
  build?: string;
  env_file?: string | string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

/** `KEY=value` lines of an env file (comments and blanks skipped). */
function envFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

const gitIgnores = (file: string) => {
  try {
    execFileSync('git', ['check-ignore', '-q', file], { cwd: ROOT });
    return true;
  } catch {
    return false;
  }
};

describe('compose.yaml: server, Postgres and Mosquitto with its dynamic-security plugin', () => {
  const compose = parse(read('compose.yaml')) as { services: Record<string, ComposeService> };
  const { server, postgres, mosquitto } = compose.services;

  it('runs the image built from the Dockerfile on Postgres and Mosquitto, with its data on a volume', () => {
    expect(server?.build).toBe('.');
    expect(server?.volumes).toContain('lockstep-data:/data');
    expect(server?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(postgres?.image).toMatch(/^postgres:/);
    expect(mosquitto?.image).toMatch(/^eclipse-mosquitto:2/);
    const conf = read('deploy/mosquitto/mosquitto.conf');
    expect(conf).toMatch(/^allow_anonymous false$/m);
    expect(conf).toMatch(/^plugin \S*mosquitto_dynamic_security\.so$/m);
  });

  it('takes its secrets from env files git ignores, each with a committed example holding no secret', () => {
    const files = Object.values(compose.services).flatMap((s) => (s.env_file === undefined ? [] : [s.env_file].flat()));
    expect(files.length).toBeGreaterThan(0);
    for (const f of new Set(files)) {
      expect(gitIgnores(f), `${f} ignored`).toBe(true);
      expect(existsSync(path.join(ROOT, `${f}.example`)), `${f}.example`).toBe(true);
      expect(gitIgnores(`${f}.example`)).toBe(false);
      for (const value of Object.values(envFile(read(`${f}.example`)))) expect(value).toMatch(/CHANGE-ME/);
    }
    // No password written into compose.yaml itself.
    expect(read('compose.yaml')).not.toMatch(/PASSWORD:\s*\S/);
  });

  it("the server's settings there are a configuration the server accepts (Postgres, Mosquitto, dynamic security)", () => {
    const env = { ...envFile(read('deploy/env/lockstep.env.example')), ...server!.environment, MQTT_PUBLIC_URL: 'mqtt://localhost:1883' };
    const imageEnv = { DATA_DIR: '/data', HOST: '0.0.0.0', PORT: '8080', MQTT_PORT: '1883' };
    const config = configFromEnv({ ...imageEnv, ...env });
    expect(config.databaseUrl).toMatch(/^postgres:\/\/lockstep:.*@postgres:5432\/lockstep$/);
    expect(config.mqttUrl).toBe('mqtt://mosquitto:1883');
    expect(config.mqttDeviceAuth).toBe('dynsec');
  });
});

describe('deploy/lockstep-server.service', () => {
  const unit = read('deploy/lockstep-server.service');

  it('runs dist/ with node, restarts on failure, logs to the journal, and has its own data folder', () => {
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node dist\/server\/main\.js$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^StandardOutput=journal$/m);
    expect(unit).toMatch(/^StateDirectory=lockstep$/m);
    expect(unit).toMatch(/^Environment=DATA_DIR=\/var\/lib\/lockstep$/m);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
  });

  it('passes systemd-analyze verify, and its security exposure is low', () => {
    // Under a temporary name: `verify` wants the file name to be the unit's.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-unit-'));
    const file = path.join(dir, 'lockstep-server.service');
    copyFileSync(path.join(ROOT, 'deploy/lockstep-server.service'), file);
    const verify = execFileSync('systemd-analyze', ['verify', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(verify.trim()).toBe('');
    const security = execFileSync('systemd-analyze', ['security', '--offline=true', file], { encoding: 'utf8' });
    const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security)?.[1]);
    expect(exposure).toBeLessThanOrEqual(2);
  });
});
