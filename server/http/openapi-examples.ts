/** A JSON Schema as the document sees it (TypeBox's symbols dropped). */
export type JsonSchema = Record<string, unknown>;

const EXAMPLE_STRINGS: Record<string, string> = {
  'date-time': '2026-01-01T08:00:00.000Z',
  email: 'recipient@example.com',
  uri: 'https://carrier.example/hooks/lockstep',
};

/**
 * An example value for a schema: its own `examples[0]`, `const` or first `enum` value when it has one, otherwise
 * built from its type (every property of an object, one item of an array). Used for requests and answers that
 * carry no hand-written example, so every operation of the document shows one.
 */
export function exampleOf(schema: JsonSchema | undefined, depth = 0): unknown {
  if (!schema || depth > 12) return null;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ('default' in schema) return schema.default;
  const anyOf = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(anyOf)) {
    const member = anyOf.find((m) => m.type !== 'null') ?? anyOf[0];
    return exampleOf(member, depth + 1);
  }
  if (Array.isArray(schema.allOf)) {
    return Object.assign({}, ...(schema.allOf as JsonSchema[]).map((m) => exampleOf(m, depth + 1)).filter((v) => v && typeof v === 'object'));
  }
  const type = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== 'null') : (schema.type as string | undefined);
  switch (type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, exampleOf(v, depth + 1)]));
    }
    case 'array':
      return [exampleOf(schema.items as JsonSchema | undefined, depth + 1)];
    case 'string':
      return EXAMPLE_STRINGS[String(schema.format)] ?? 'string';
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return {};
  }
}
