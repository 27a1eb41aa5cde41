import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../prompt.ts';

/** A workflow definition as a file holds it: JSON `{ "name": …, "steps": [ … ] }`. */
export interface DefinitionFile {
  file: string;
  name: string;
  steps: unknown[];
}

async function readDefinition(path: string): Promise<DefinitionFile> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UsageError(`Cannot read ${path}`);
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not JSON`);
  }
  const definition = value as { name?: unknown; steps?: unknown };
  if (typeof definition === 'object' && definition !== null && typeof definition.name === 'string' && Array.isArray(definition.steps))
    return { file: path, name: definition.name, steps: definition.steps };
  throw new UsageError(`${path} must hold { "name": "…", "steps": [ … ] }`);
}

/**
 * The definitions FILE and DIR arguments name, in order: a folder gives its `*.json` files by
 * name. Every file is read and checked before anything is sent, so a typo applies nothing.
 * `several` tells one file named alone from a set.
 */
export async function readDefinitions(paths: readonly string[]): Promise<{ definitions: DefinitionFile[]; several: boolean }> {
  const files: string[] = [];
  let folder = false;
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new UsageError(`Cannot read ${path}`);
    });
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    folder = true;
    const entries = await readdir(path, { withFileTypes: true });
    const found = entries
      .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
      .map((entry) => entry.name)
      .sort();
    if (found.length === 0) throw new UsageError(`${path} holds no .json definition`);
    files.push(...found.map((name) => join(path, name)));
  }
  const definitions: DefinitionFile[] = [];
  for (const file of files) definitions.push(await readDefinition(file));
  return { definitions, several: folder || files.length > 1 };
}
