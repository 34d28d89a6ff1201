import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';
import { asyncApiDocument, asyncApiYaml } from '../../shared/asyncapi/asyncapi-document.js';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES } from '../../shared/topics.js';
import { decoderFor } from '../../shared/codec.js';
import { StatusMessage } from '../../shared/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const committed = readFileSync(path.join(ROOT, 'docs/asyncapi.yaml'), 'utf8');

describe('AsyncAPI document of the MQTT contract (docs/asyncapi.yaml)', () => {
  it('is what `npm run asyncapi` generates from shared/ now (it cannot drift from the schemas)', () => {
    expect(committed).toBe(asyncApiYaml());
  });

  it('is a valid AsyncAPI 3 document for @asyncapi/parser, with no errors or warnings', async () => {
    const { document, diagnostics } = await new Parser().parse(committed);
    const problems = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning);
    expect(problems.map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    // One channel per topic of the protocol; the locker sends on its five and receives on three.
    const addresses = document!.channels().all().map((c) => c.address());
    expect(addresses.sort()).toEqual([...DEVICE_PUBLISHES, ...DEVICE_SUBSCRIBES].map((k) => `lockers/{lockerId}/${k}`).sort());
    expect(document!.operations().filterBySend().length).toBe(DEVICE_PUBLISHES.length);
    expect(document!.operations().filterByReceive().length).toBe(DEVICE_SUBSCRIBES.length);
  });

  it("its payload schemas are the protocol's: a message the codec takes fits, and the schema refuses what the codec refuses", () => {
    const doc = asyncApiDocument() as { components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[]; additionalProperties?: boolean }> } };
    const status = doc.components.schemas.StatusMessage!;
    expect(status.required).toEqual(expect.arrayContaining(['v', 'state', 'bootId']));
    expect(status.additionalProperties).toBe(false);
    expect(status.properties?.v).toEqual({ const: PROTOCOL_VERSION, type: 'number' });
    const decodeStatus = decoderFor(StatusMessage);
    expect(decodeStatus(JSON.stringify({ v: PROTOCOL_VERSION, state: 'offline', bootId: 'b1' })).ok).toBe(true);
    expect(decodeStatus(JSON.stringify({ v: PROTOCOL_VERSION, state: 'away', bootId: 'b1' })).ok).toBe(false);
    expect(JSON.stringify(status.properties?.state)).not.toContain('away');
  });
});
