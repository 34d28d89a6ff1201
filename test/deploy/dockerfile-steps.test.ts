import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/free-port.js';
import { execForm, parseDockerfile, parseEnv, type Stage } from './dockerfile.js';

/*
 * Docker cannot run on the test machines, so the Dockerfile's own steps run here, outside a container: the build
 * stage's COPY and RUN lines in a scratch folder standing for /app (package installs aside: they need the
 * registry, so node_modules is linked from this checkout instead), then the runtime stage's COPY --from lines,
 * ENV, and its CMD; the HEALTHCHECK command must then pass and /readyz answer 200.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'lockstep-image-'));
let server: ChildProcess | undefined;

afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

/** What `COPY . .` sends: the .dockerignore is an allow-list ("*", then "!path" lines). */
function buildContext(): string[] {
  const lines = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  expect(lines[0]).toBe('*');
  expect(lines.slice(1).every((l) => l.startsWith('!'))).toBe(true);
  return lines.slice(1).map((l) => l.slice(1));
}

/** Package installs need the registry: they are the only steps left out, and node_modules stands in for them. */
const INSTALL = /^(apt-get |npm ci\b|npm prune\b)/;

function runBuildStage(stage: Stage, app: string): void {
  mkdirSync(app, { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
  for (const { op, args } of stage.steps) {
    if (op === 'COPY') {
      const parts = args.split(' ');
      const sources = parts.slice(0, -1);
      if (sources.join(' ') === '.') {
        for (const rel of buildContext()) if (existsSync(path.join(ROOT, rel))) cpSync(path.join(ROOT, rel), path.join(app, rel), { recursive: true });
      } else {
        for (const rel of sources) cpSync(path.join(ROOT, rel), path.join(app, path.basename(rel)), { recursive: true });
      }
    } else if (op === 'RUN') {
      for (const command of args.split(' && ')) {
        if (INSTALL.test(command)) continue;
        execFileSync('sh', ['-c', command], { cwd: app, stdio: 'pipe', env: { ...process.env, npm_config_update_notifier: 'false' } });
      }
    }
  }
}

function runtimeStage(stage: Stage, from: string, app: string): { env: Record<string, string>; cmd: string[]; health: string[]; user: string | undefined } {
  mkdirSync(app, { recursive: true });
  let env: Record<string, string> = {};
  let cmd: string[] = [];
  let health: string[] = [];
  let user: string | undefined;
  for (const { op, args } of stage.steps) {
    if (op === 'COPY') {
      const m = /^--from=build (\S+) (\S+)$/.exec(args);
      expect(m, `runtime COPY takes from the build stage: ${args}`).not.toBeNull();
      const src = path.join(from, path.relative('/app', m![1]!));
      const dst = path.join(app, m![2]!);
      mkdirSync(path.dirname(dst), { recursive: true });
      // node_modules (pruned to production in the image) is linked: the same packages, dev ones included.
      if (path.basename(src) === 'node_modules') symlinkSync(path.join(ROOT, 'node_modules'), dst);
      else cpSync(src, dst, { recursive: true });
    } else if (op === 'ENV') env = { ...env, ...parseEnv(args) };
    else if (op === 'CMD') cmd = execForm(args);
    else if (op === 'HEALTHCHECK') health = execForm(args);
    else if (op === 'USER') user = args;
  }
  return { env, cmd, health, user };
}

describe('the Dockerfile, its steps run outside a container', () => {
  it('has a build stage with dev dependencies and a runtime stage that runs dist/ as a non-root user, with a health check on /readyz and a data volume', () => {
    expect(stages).toHaveLength(2);
    expect(stages[0]!.name).toBe('build');
    expect(stages[0]!.steps.some((s) => s.op === 'RUN' && /^npm ci\b/.test(s.args) && !s.args.includes('--omit=dev'))).toBe(true);
    const runtime = stages[1]!.steps;
    expect(runtime.find((s) => s.op === 'USER')?.args).toBe('node');
    expect(runtime.find((s) => s.op === 'VOLUME')?.args).toContain('/data');
    expect(runtime.find((s) => s.op === 'HEALTHCHECK')?.args).toMatch(/healthcheck\.mjs/);
    expect(readFileSync(path.join(ROOT, 'deploy/healthcheck.mjs'), 'utf8')).toContain('/readyz');
    expect(execForm(runtime.find((s) => s.op === 'CMD')!.args)).toEqual(['node', 'dist/server/main.js']);
    // Only what the runtime needs: no sources, no TypeScript, no tests.
    for (const s of runtime.filter((x) => x.op === 'COPY')) expect(s.args).toMatch(/^--from=build \/app\/(package\.json|node_modules|dist|deploy\/healthcheck\.mjs) /);
  });

  it('builds, starts as its CMD says, passes its HEALTHCHECK and stops on SIGTERM', async () => {
    const buildApp = path.join(scratch, 'build');
    runBuildStage(stages[0]!, buildApp);
    expect(existsSync(path.join(buildApp, 'dist/server/main.js'))).toBe(true);
    expect(existsSync(path.join(buildApp, 'dist/server/dashboard/public/index.html'))).toBe(true);

    const app = path.join(scratch, 'app');
    const { env, cmd, health, user } = runtimeStage(stages[1]!, buildApp, app);
    expect(user).toBe('node');
    expect(env).toMatchObject({ NODE_ENV: 'production', DATA_DIR: '/data' });
    // The image's settings, with a scratch data folder and free ports on loopback instead of /data, 8080 and 1883.
    const port = await freePort();
    const runEnv = { ...process.env, ...env, DATA_DIR: path.join(scratch, 'data'), HOST: '127.0.0.1', PORT: String(port), MQTT_PORT: String(await freePort()) };
    server = spawn(cmd[0]!, cmd.slice(1), { cwd: app, env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await expect.poll(() => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0), { timeout: 60_000 }).toBe(200);
    expect(out).toContain('Lockstep is running');
    // Outside a TTY the logs are JSON lines with ISO times.
    expect(out).toMatch(/^\{"level":30,"time":"\d{4}-\d\d-\d\dT[^"]+Z"/m);
    const check = spawn(health[0]!, health.slice(1), { cwd: app, env: runEnv, stdio: 'ignore' });
    expect(await new Promise((r) => check.on('exit', r))).toBe(0);

    const exited = new Promise((r) => server!.on('exit', r));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Stopped: the health check fails.
    const failed = spawn(health[0]!, health.slice(1), { cwd: app, env: runEnv, stdio: 'ignore' });
    expect(await new Promise((r) => failed.on('exit', r))).toBe(1);
  }, 150_000);
});
