import { TypeCompiler } from '@sinclair/typebox/compiler';
import { MAX_PAYLOAD_BYTES, PROTOCOL_VERSION } from './protocol-version.js';
/**
 * Builds a decoder for one message schema, compiled once. Never throws. `maxBytes` is MAX_PAYLOAD_BYTES for
 * every topic but `state` (MAX_STATE_PAYLOAD_BYTES).
 */
export function decoderFor(schema, maxBytes = MAX_PAYLOAD_BYTES) {
    const check = TypeCompiler.Compile(schema);
    return (payload) => {
        const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
        if (size > maxBytes) {
            return { ok: false, code: 'PAYLOAD_TOO_LARGE', detail: `${size} bytes > ${maxBytes}` };
        }
        let value;
        try {
            value = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
        }
        catch {
            return { ok: false, code: 'MALFORMED_JSON', detail: 'payload is not JSON' };
        }
        if (typeof value === 'object' && value !== null && 'v' in value && value.v !== PROTOCOL_VERSION) {
            return { ok: false, code: 'UNSUPPORTED_VERSION', detail: `v=${String(value.v)}, expected ${PROTOCOL_VERSION}` };
        }
        if (!check.Check(value)) {
            const first = check.Errors(value).First();
            return { ok: false, code: 'SCHEMA_MISMATCH', detail: first ? `${first.path || '/'}: ${first.message}` : 'invalid' };
        }
        return { ok: true, value };
    };
}
/** Serialises a message for the wire. */
export function encode(message) {
    return Buffer.from(JSON.stringify(message));
}
//# sourceMappingURL=codec.js.map