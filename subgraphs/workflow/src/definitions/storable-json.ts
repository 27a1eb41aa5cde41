import { indexPath, keyPath } from './json-path.ts';

/** Postgres text and jsonb hold neither NUL characters nor halves of a UTF-16 surrogate pair. */
function storableText(text: string): boolean {
  return text.isWellFormed() && !text.includes('\u0000');
}

/**
 * Where a JSON value holds text Postgres cannot store (in a string or a key), so the client
 * hears which field is at fault instead of a generic refusal from the database.
 */
export function unstorableTextAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return storableText(value) ? undefined : path;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = unstorableTextAt(item, indexPath(path, index));
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const at = keyPath(path, key);
      if (!storableText(key)) return at;
      const found = unstorableTextAt(item, at);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

export const UNSTORABLE_MESSAGE = 'contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored';
