import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadScenario, ScenarioError, validateScenario } from '../../simulator/scenario.js';
import { parseYamlSubset } from '../../simulator/scenario-yaml.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-scenario-'));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};
const good = {
  name: 'tiny',
  fleet: { lockers: 2 },
  traffic: { parcelsPerLocker: 2, hourMs: 100, hourly: [1, 2] },
};

function rejection(value: unknown): ScenarioError {
  try {
    validateScenario(value, 'x.json');
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error('accepted a bad scenario');
}

describe('scenario files', () => {
  it('the shipped scenarios are valid', () => {
    for (const name of ['normal-day', 'singles-day', 'storm']) {
      const s = loadScenario(path.join('scenarios', `${name}.json`));
      expect(s.name).toBe(name);
    }
  });

  it('a bad field is named by its path', () => {
    expect(rejection({ ...good, fleet: { lockers: 'many' } })).toMatchObject({ code: 'SIM_BAD_SCENARIO', path: '/fleet/lockers' });
    expect(rejection({ ...good, traffic: { ...good.traffic, qrShare: 2 } }).path).toBe('/traffic/qrShare');
    expect(rejection({ ...good, fleet: { lockers: 2, compartments: [{ size: 'XXL', count: 1 }] } }).path).toMatch(/^\/fleet\/compartments\/0\/size/);
    expect(rejection({ ...good, surprise: true }).path).toBe('/surprise');
    expect(rejection({ ...good, traffic: { ...good.traffic, hourly: [0, 0] } }).path).toBe('/traffic/hourly');
    expect(rejection({ ...good, faults: { storm: { atHour: 5, downMs: 1000 } } }).path).toBe('/faults/storm/atHour');
    expect(rejection({ name: 'no fleet', traffic: good.traffic }).path).toBe('/fleet');
  });

  it('reads the YAML subset the docs describe, and refuses what it does not know', () => {
    const file = write(
      'tiny.yaml',
      `# a comment
name: "tiny yaml"
fleet:
  lockers: 3
  compartments:
    - size: S
      count: 2
    - { size: M, count: 1 }
traffic:
  parcelsPerLocker: 1.5 # inline comment
  hourMs: 200
  hourly: [1, 0.5, 2]
faults:
  storm: { atHour: 1, downMs: 500 }
`,
    );
    expect(loadScenario(file)).toEqual({
      name: 'tiny yaml',
      fleet: { lockers: 3, compartments: [{ size: 'S', count: 2 }, { size: 'M', count: 1 }] },
      traffic: { parcelsPerLocker: 1.5, hourMs: 200, hourly: [1, 0.5, 2] },
      faults: { storm: { atHour: 1, downMs: 500 } },
    });
    expect(() => parseYamlSubset('a: &anchor 1')).toThrow(/line 1/);
    expect(() => parseYamlSubset('a:\n  b: 1\n c: 2')).toThrow(/line 3/);
    expect(() => loadScenario(write('bad.yaml', 'name: x\nfleet:\n  lockers: -1\ntraffic: {}\n'))).toThrow(ScenarioError);
  });

  it('a file that is not JSON, or missing, is a bad scenario too', () => {
    expect(() => loadScenario(write('broken.json', '{ "name": '))).toThrow(/not valid JSON/);
    expect(() => loadScenario(path.join(dir, 'missing.json'))).toThrow(/cannot read the file \(ENOENT\)/);
  });

  it('the CLI refuses a bad scenario with SIM_BAD_SCENARIO, the field, and exit code 2', async () => {
    const file = write('cli-bad.json', JSON.stringify({ ...good, traffic: { ...good.traffic, hourMs: -5 } }));
    const err = await run('node_modules/.bin/tsx', ['simulator/cli.ts', '--scenario', file]).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/SIM_BAD_SCENARIO: .*cli-bad\.json at \/traffic\/hourMs/);
  });
});
