import { runAccountCommand } from './account-cli.js';

/** `npm run account -- set-password NAME` / `create-admin NAME` (server/accounts/account-cli.ts). */

/** The password from stdin: typed without echo on a terminal, else the first line of what is piped in. */
function readStdinPassword(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    return new Promise((resolve, reject) => {
      let text = '';
      stdin.setEncoding('utf8');
      stdin.on('data', (chunk: string) => (text += chunk));
      stdin.on('end', () => resolve(text.split('\n')[0] ?? ''));
      stdin.on('error', reject);
    });
  }
  process.stderr.write('Password: ');
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.setRawMode(false);
          stdin.off('data', onData);
          stdin.pause();
          process.stderr.write('\n');
          resolve(text);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        text = ch === '\u007f' ? text.slice(0, -1) : text + ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

runAccountCommand(process.argv.slice(2), process.env, readStdinPassword).then(
  (r) => {
    (r.code === 0 ? process.stdout : process.stderr).write(`${r.output}\n`);
    process.exit(r.code);
  },
  (err: unknown) => {
    process.stderr.write(`account command failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
