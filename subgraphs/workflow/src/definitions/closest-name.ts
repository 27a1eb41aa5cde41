/** Case, dashes and underscores do not tell names apart: max_attempts is maxAttempts. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[\s_-]/g, '');
}

/** Edits from one name to the other (a swap of neighbours counts as one), bounded to short names. */
function distance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row[j] = best;
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * The name a user most likely meant: a known synonym first (`max` in a retry policy is
 * maxAttempts, though maxDelayMs is as near by spelling), then the same name spelled
 * otherwise, then one clear nearest typo, then the one name it begins. Undefined when
 * nothing stands out, so a guess is never offered as a fact.
 */
export function closestName(input: string, names: readonly string[], synonyms: Readonly<Record<string, string>> = {}): string | undefined {
  const key = normalize(input);
  if (key.length === 0) return undefined;
  for (const [synonym, name] of Object.entries(synonyms)) if (normalize(synonym) === key) return name;
  const same = names.filter((name) => normalize(name) === key);
  if (same.length === 1) return same[0];
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let tied = false;
  for (const name of names) {
    const d = distance(key, normalize(name));
    if (d < bestDistance) [best, bestDistance, tied] = [name, d, false];
    else if (d === bestDistance) tied = true;
  }
  if (best !== undefined && !tied && bestDistance <= Math.max(1, Math.floor(key.length / 3))) return best;
  if (key.length >= 3) {
    const starting = names.filter((name) => normalize(name).startsWith(key));
    if (starting.length === 1) return starting[0];
  }
  return undefined;
}
