import { randomBytes } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { RegisterLockerBody, type EnrolmentTicket } from '../../shared/api/lockers.js';
import { LockstepError } from '../errors.js';
import type { Db } from '../store/database.js';
import { hashToken } from '../enrolment/enrolment-tokens.js';
import { newLockerId, newLockerRow } from './register-locker.js';

const checkLocker = TypeCompiler.Compile(RegisterLockerBody);

/** How long an imported locker's enrolment token stays usable (as for one registered through the API). */
const ENROLMENT_TOKEN_TTL_MS = 7 * 24 * 3600_000;
/** Rows per INSERT: under SQLite's 32,766 and Postgres' 65,535 bound parameters for every table written. */
const LOCKERS_PER_INSERT = 1000;
const COMPARTMENTS_PER_INSERT = 5000;

/** One bad row: its number in the file (1 = the first locker; a CSV header is row 0) and a catalogue code. */
export interface ImportProblem {
  row: number;
  code: 'VALIDATION_FAILED' | 'DUPLICATE_COMPARTMENT';
  detail: string;
}

/** One imported locker's enrolment ticket (the token is shown only here), with the row it came from. */
export type ImportedTicket = EnrolmentTicket & { row: number; name: string };

/**
 * Parses an import file: JSON (an array of registration bodies, as `POST /v1/lockers` takes them) or CSV with the
 * header `name,lat,lon,compartments` where compartments are `ID:SIZE` separated by spaces (`A1:S A2:S B1:M`).
 * Returns every locker, or throws IMPORT_INVALID listing every bad row (nothing is written then).
 */
export function parseLockerImport(text: string, format: 'json' | 'csv'): RegisterLockerBody[] {
  const raw = format === 'json' ? parseJson(text) : parseCsv(text);
  if (raw.length === 0) throw new LockstepError('IMPORT_EMPTY');
  const problems: ImportProblem[] = [];
  raw.forEach((item, i) => {
    const row = i + 1;
    if (!checkLocker.Check(item)) {
      const first = checkLocker.Errors(item).First();
      problems.push({ row, code: 'VALIDATION_FAILED', detail: first ? `${first.path || '/'}: ${first.message}` : 'invalid' });
      return;
    }
    const seen = new Set<string>();
    for (const c of item.compartments) {
      if (seen.has(c.id)) {
        problems.push({ row, code: 'DUPLICATE_COMPARTMENT', detail: c.id });
        return;
      }
      seen.add(c.id);
    }
  });
  if (problems.length) throw new LockstepError('IMPORT_INVALID', { problems: problems.slice(0, 1000), count: problems.length });
  return raw as RegisterLockerBody[];
}

function parseJson(text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LockstepError('IMPORT_INVALID', { problems: [{ row: 0, code: 'VALIDATION_FAILED', detail: `not JSON: ${(err as Error).message}` }], count: 1 });
  }
  if (!Array.isArray(value)) throw new LockstepError('IMPORT_INVALID', { problems: [{ row: 0, code: 'VALIDATION_FAILED', detail: 'expected an array of lockers' }], count: 1 });
  return value;
}

const CSV_HEADER = 'name,lat,lon,compartments';

function parseCsv(text: string): unknown[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines[0]?.trim() !== CSV_HEADER) throw new LockstepError('IMPORT_INVALID', { problems: [{ row: 0, code: 'VALIDATION_FAILED', detail: `the first line must be "${CSV_HEADER}"` }], count: 1 });
  return lines.slice(1).map((line) => {
    const cells = splitCsvLine(line);
    if (cells.length !== 4) return { invalid: `expected 4 fields, got ${cells.length}` };
    const [name, lat, lon, compartments] = cells as [string, string, string, string];
    return {
      name,
      location: { lat: lat.trim() === '' ? NaN : Number(lat), lon: lon.trim() === '' ? NaN : Number(lon) },
      compartments: compartments.trim().split(/\s+/).filter(Boolean).map((c) => {
        const [id, size] = c.split(':');
        return { id, size };
      }),
    };
  });
}

/** One CSV line: fields separated by commas, a field in double quotes may hold commas and "" for a quote. */
function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

/**
 * Registers every locker of an import in one transaction: all of them or, on any failure, none. Inserts go in
 * batches (a thousand lockers, five thousand compartments per statement). Each locker gets its enrolment token,
 * returned here once (only its hash is stored), exactly as `POST /v1/lockers` would give it.
 */
export async function importLockers(db: Db, lockers: readonly RegisterLockerBody[], createdBy: string, now: number): Promise<ImportedTicket[]> {
  const tickets: ImportedTicket[] = lockers.map((l, i) => ({
    row: i + 1,
    name: l.name,
    lockerId: newLockerId(),
    token: `lse_${randomBytes(24).toString('base64url')}`,
    expiresAt: now + ENROLMENT_TOKEN_TTL_MS,
  }));
  await db.transaction().execute(async (trx) => {
    for (let start = 0; start < lockers.length; start += LOCKERS_PER_INSERT) {
      const slice = lockers.slice(start, start + LOCKERS_PER_INSERT);
      const ids = tickets.slice(start, start + LOCKERS_PER_INSERT);
      await trx
        .insertInto('lockers')
        .values(
          slice.map((l, i) => newLockerRow((ids[i] as ImportedTicket).lockerId, l, now)),
        )
        .execute();
      await trx
        .insertInto('enrolment_tokens')
        .values(ids.map((t) => ({ token_hash: hashToken(t.token), locker_id: t.lockerId, created_by: createdBy, created_at: now, expires_at: t.expiresAt, used_at: null })))
        .execute();
    }
    const compartments = lockers.flatMap((l, i) =>
      l.compartments.map((c) => ({ locker_id: (tickets[i] as ImportedTicket).lockerId, id: c.id, size: c.size, in_service: 1, parcel_id: null, low: c.low ? 1 : 0 })),
    );
    for (let start = 0; start < compartments.length; start += COMPARTMENTS_PER_INSERT) {
      await trx.insertInto('compartments').values(compartments.slice(start, start + COMPARTMENTS_PER_INSERT)).execute();
    }
  });
  return tickets;
}
