/**
 * Module hooks for the what-if patches that replace a server module (see bench/what-if.ts): a bench host
 * started with such a patch imports bench/what-if/<name>.ts wherever the server imports the original, so the
 * proposed change runs inside the real server without server/ being edited. Plain JavaScript: it runs in the
 * hooks thread, where tsx is not loaded yet.
 */
let replace = new Map();

/** @param {{ replace: Record<string, string> }} data original file URL → replacement file URL */
export function initialize(data) {
  replace = new Map(Object.entries(data.replace));
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const to = replace.get(resolved.url.split('?')[0]);
  return to ? { ...resolved, url: to, shortCircuit: true } : resolved;
}
