import { writeFileSync } from 'node:fs';

/**
 * `tsx bench/import-fixture.ts N FILE.csv [COMPARTMENTS]`: a bulk-registration file of N lockers spread over a city
 * (for `npm run lockers:import`), each with COMPARTMENTS compartments (default 12: 6 S, 4 M, 2 L).
 */
const [n = '1000', file = 'lockers.csv', per = '12'] = process.argv.slice(2);
const count = Math.min(Number(n), 1_000_000);
const perLocker = Math.min(Math.max(Number(per), 1), 512);
const sizes = (i: number) => (i < perLocker / 2 ? 'S' : i < (perLocker * 5) / 6 ? 'M' : 'L');
const compartments = Array.from({ length: perLocker }, (_, i) => `C${i + 1}:${sizes(i)}`).join(' ');
const lines = ['name,lat,lon,compartments'];
for (let i = 0; i < count; i++) {
  lines.push(`Locker ${i + 1},${(30 + (i % 1000) / 1000).toFixed(5)},${(120 + Math.floor(i / 1000) / 1000).toFixed(5)},${compartments}`);
}
writeFileSync(file, `${lines.join('\n')}\n`);
process.stdout.write(`${count} lockers × ${perLocker} compartments → ${file}\n`);
