/**
 * Data mapping between steps. A string that starts with `$.` is a reference into the run's
 * scope (`$.input…`, `$.steps.<id>.output…`, `$.run.id`); in a text template
 * `{{ $.… }}` is replaced by the referenced value. Everything else is taken literally.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface MappingScope {
  input: Json;
  steps: Record<string, { output: Json }>;
  run: { id: string; idempotencyKey?: string | null };
  [extra: string]: unknown;
}

const REFERENCE = /^\$\.([A-Za-z_][\w-]*)((?:\.[\w-]+|\[\d+\])*)$/;
const TEMPLATE = /\{\{\s*(\$\.[\w.[\]-]+)\s*\}\}/g;
/** Any `{{ … }}`, to catch placeholders meant as references that would stay literal text. */
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

export interface Reference {
  root: string;
  path: string[];
}

export function parseReference(text: string): Reference | undefined {
  const match = REFERENCE.exec(text);
  if (match === null) return undefined;
  const path = (match[2] ?? '').split(/\.|\[|\]/).filter((part) => part.length > 0);
  return { root: match[1]!, path };
}

/** Every reference a mapping makes, including those inside templates. */
export function referencesIn(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value.startsWith('$.')) found.push(value);
    for (const match of value.matchAll(TEMPLATE)) found.push(match[1]!);
  } else if (Array.isArray(value)) {
    for (const item of value) referencesIn(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) referencesIn(item, found);
  }
  return found;
}

/**
 * The first `{{ … }}` in a text that looks meant as a reference but is not one, so it would
 * be sent as written: `{{ input.id }}`, `{{ $.input.id | upper }}`. Other braces (a template
 * for another system, `{{name}}`) are the user's literal text.
 */
export function misusedPlaceholder(text: string): string | undefined {
  for (const match of text.matchAll(PLACEHOLDER)) {
    const inner = match[1]!.trim();
    const meantAsReference = inner.startsWith('$') || /^(input|steps|run)\b/.test(inner);
    if (meantAsReference && !(inner.startsWith('$.') && parseReference(inner) !== undefined)) return match[0];
  }
  return undefined;
}

function lookup(scope: MappingScope, reference: Reference): unknown {
  let current: unknown = scope;
  for (const part of [reference.root, ...reference.path]) {
    if (current === null || typeof current !== 'object') return undefined;
    // Own properties only: a mapping must never reach into prototypes.
    if (!Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export function resolveReference(scope: MappingScope, text: string): unknown {
  const reference = parseReference(text);
  return reference === undefined ? undefined : lookup(scope, reference);
}

function render(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Evaluates a mapping against the scope; unresolved references become null. */
export function resolveMapping(value: unknown, scope: MappingScope): Json {
  if (typeof value === 'string') {
    if (value.startsWith('$.') && parseReference(value) !== undefined) return (resolveReference(scope, value) ?? null) as Json;
    if (value.includes('{{')) return value.replace(TEMPLATE, (_, ref: string) => render(resolveReference(scope, ref)));
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => resolveMapping(item, scope));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, Json> = {};
    // Defined, not assigned: an output key named __proto__ stays a key instead of a prototype.
    for (const [key, item] of Object.entries(value))
      Object.defineProperty(out, key, { value: resolveMapping(item, scope), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value as Json;
}
