/** A Dockerfile read as its stages and instructions (enough of the format for our own Dockerfile). */
export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  image: string;
  name: string | undefined;
  steps: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const space = line.indexOf(' ');
    const op = line.slice(0, space).toUpperCase();
    const args = line.slice(space + 1).trim().replace(/\s+/g, ' ');
    if (op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ image: m![1]!, name: m![2], steps: [] });
    } else if (op !== 'ARG' || stages.length > 0) {
      stages.at(-1)?.steps.push({ op, args });
    }
  }
  return stages;
}

/** `KEY=value KEY2=value2` (values without spaces, as ours are). */
export function parseEnv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of args.split(' ')) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** An exec-form command (`["node", "x.js"]`), or the arguments after a HEALTHCHECK's options and CMD. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  return JSON.parse(json) as string[];
}
