import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadScenario, ScenarioError, validateScenario } from '../../simulator/scenario.js';

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

  it('reads YAML scenarios: block and flow collections, comments, quoted strings', () => {
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
    expect(() => loadScenario(write('bad.yaml', 'name: x\nfleet:\n  lockers: -1\ntraffic: {}\n'))).toThrow(ScenarioError);
  });

  it('reads folded (>) and literal (|) block strings', () => {
    const file = write(
      'blocks.yaml',
      `name: blocks
description: >
  A folded description
  on two lines.
fleet:
  lockers: 1
traffic:
  parcelsPerLocker: 1
  hourMs: 0
  hourly: [1]
`,
    );
    expect(loadScenario(file).description).toBe('A folded description on two lines.\n');
    const literal = write('literal.yaml', `name: |-
  first
  second
fleet: { lockers: 1 }
traffic: { parcelsPerLocker: 1, hourMs: 0, hourly: [1] }
`);
    expect(loadScenario(literal).name).toBe('first\nsecond');
  });

  it('a YAML syntax error is a bad scenario naming the line', () => {
    const rejectYaml = (name: string, text: string): ScenarioError => {
      try {
        loadScenario(write(name, text));
      } catch (err) {
        if (err instanceof ScenarioError) return err;
        throw err;
      }
      throw new Error('accepted bad YAML');
    };
    const indent = rejectYaml('indent.yaml', 'name: x\nfleet:\n  lockers: 1\n traffic: 2\n');
    expect(indent).toMatchObject({ code: 'SIM_BAD_SCENARIO', path: '' });
    expect(indent.message).toMatch(/indent\.yaml: not valid YAML: line 4, column \d+: .+ \(BAD_INDENT\)/);
    expect(rejectYaml('dup.yaml', 'name: x\nname: y\n').message).toMatch(/line 2, column 1: .*\(DUPLICATE_KEY\)/);
    expect(rejectYaml('docs.yaml', 'name: x\n---\nname: y\n').message).toMatch(/line 2, .*\(MULTIPLE_DOCS\)/);
    expect(rejectYaml('tab.yaml', 'fleet:\n\tlockers: 1\n').message).toMatch(/not valid YAML: line 2/);
    expect(rejectYaml('alias.yaml', 'name: *nowhere\n').message).toMatch(/not valid YAML: .*alias/i);
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
