/**
 * The small part of YAML a scenario file needs (no YAML library is a dependency): nested block mappings, block
 * sequences (of scalars or of mappings), one-line flow sequences `[1, 2]` and mappings `{ a: 1 }` of scalars,
 * `#` comments, plain, single- and double-quoted scalars, numbers, booleans and null. Anchors, multi-line
 * strings and multiple documents are refused with an error naming the line.
 */
interface Line {
  no: number;
  indent: number;
  text: string;
}

export function parseYamlSubset(source: string): unknown {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    const text = stripComment(raw).trimEnd();
    if (!text.trim() || text.trim() === '---') return;
    if (/^\t/.test(raw)) throw new Error(`line ${i + 1}: tabs are not allowed for indentation`);
    lines.push({ no: i + 1, indent: text.length - text.trimStart().length, text: text.trim() });
  });
  if (lines.length === 0) return null;
  const state = { i: 0 };
  const value = parseBlock(lines, state, lines[0]!.indent);
  if (state.i < lines.length) throw new Error(`line ${lines[state.i]!.no}: unexpected indentation`);
  return value;
}

function stripComment(raw: string): string {
  let quote: string | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1]!))) return raw.slice(0, i);
  }
  return raw;
}

function parseBlock(lines: Line[], state: { i: number }, indent: number): unknown {
  const first = lines[state.i]!;
  if (first.text.startsWith('- ') || first.text === '-') return parseSequence(lines, state, indent);
  return parseMapping(lines, state, indent);
}

function parseSequence(lines: Line[], state: { i: number }, indent: number): unknown[] {
  const out: unknown[] = [];
  while (state.i < lines.length) {
    const line = lines[state.i]!;
    if (line.indent < indent) break;
    if (line.indent > indent || !(line.text.startsWith('- ') || line.text === '-')) throw new Error(`line ${line.no}: expected a "- " item`);
    const rest = line.text.slice(1).trimStart();
    if (!rest) {
      state.i++;
      out.push(state.i < lines.length && lines[state.i]!.indent > indent ? parseBlock(lines, state, lines[state.i]!.indent) : null);
    } else if (keyValue(rest)) {
      // "- key: value" opens a mapping whose further keys sit under the first one.
      const inner = indent + (line.text.length - rest.length);
      lines[state.i] = { no: line.no, indent: inner, text: rest };
      out.push(parseMapping(lines, state, inner));
    } else {
      state.i++;
      out.push(scalarOrFlow(rest, line.no));
    }
  }
  return out;
}

function parseMapping(lines: Line[], state: { i: number }, indent: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (state.i < lines.length) {
    const line = lines[state.i]!;
    if (line.indent < indent) break;
    if (line.indent > indent) throw new Error(`line ${line.no}: unexpected indentation`);
    const kv = keyValue(line.text);
    if (!kv) throw new Error(`line ${line.no}: expected "key: value"`);
    if (Object.hasOwn(out, kv.key)) throw new Error(`line ${line.no}: duplicate key "${kv.key}"`);
    state.i++;
    if (kv.value) {
      out[kv.key] = scalarOrFlow(kv.value, line.no);
    } else if (state.i < lines.length && lines[state.i]!.indent > indent) {
      out[kv.key] = parseBlock(lines, state, lines[state.i]!.indent);
    } else if (state.i < lines.length && lines[state.i]!.indent === indent && lines[state.i]!.text.startsWith('- ')) {
      out[kv.key] = parseSequence(lines, state, indent);
    } else {
      out[kv.key] = null;
    }
  }
  return out;
}

function keyValue(text: string): { key: string; value: string } | null {
  const m = /^("([^"]*)"|'([^']*)'|[^\s"'[{][^:]*?)\s*:(\s+(.*))?$/.exec(text);
  if (!m) return null;
  return { key: m[2] ?? m[3] ?? (m[1] as string), value: (m[5] ?? '').trim() };
}

function scalarOrFlow(text: string, no: number): unknown {
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw new Error(`line ${no}: a flow sequence must end on its line`);
    const body = text.slice(1, -1).trim();
    return body ? splitFlow(body, no).map((p) => scalarOrFlow(p, no)) : [];
  }
  if (text.startsWith('{')) {
    if (!text.endsWith('}')) throw new Error(`line ${no}: a flow mapping must end on its line`);
    const out: Record<string, unknown> = {};
    const body = text.slice(1, -1).trim();
    for (const part of body ? splitFlow(body, no) : []) {
      const kv = keyValue(part);
      if (!kv) throw new Error(`line ${no}: expected "key: value" in a flow mapping`);
      out[kv.key] = scalarOrFlow(kv.value, no);
    }
    return out;
  }
  return scalar(text, no);
}

function splitFlow(body: string, no: number): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (quote || depth !== 0) throw new Error(`line ${no}: unbalanced brackets or quotes`);
  parts.push(body.slice(start).trim());
  return parts;
}

function scalar(text: string, no: number): unknown {
  if (/^[&*!|>]/.test(text)) throw new Error(`line ${no}: anchors, tags and block strings are not supported`);
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) throw new Error(`line ${no}: unterminated string`);
    return JSON.parse(text) as string;
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new Error(`line ${no}: unterminated string`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null' || text === '~') return null;
  if (/^[-+]?(\d[\d_]*)(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return Number(text.replaceAll('_', ''));
  return text;
}
