/** Spells where a value sits in a JSON document, as a client would write it: `steps[1].with.headers["X-Id"]`. */
export function keyPath(base: string, key: string): string {
  const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  if (segment.startsWith('"')) return `${base}[${segment}]`;
  return base === '' ? segment : `${base}.${segment}`;
}

export function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}
