import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Workspace {
  name: string;
  /** Repository-relative directory, no trailing slash. */
  dir: string;
  exports: unknown;
}

/** Reads the root package.json `workspaces` (plain directories and `dir/*` globs). */
export function loadWorkspaces(root: string): Workspace[] {
  const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces?: string[] };
  const dirs: string[] = [];
  for (const pattern of rootPackage.workspaces ?? []) {
    if (pattern.endsWith('/*')) {
      const parent = pattern.slice(0, -2);
      if (!existsSync(join(root, parent))) continue;
      for (const entry of readdirSync(join(root, parent), { withFileTypes: true })) {
        if (entry.isDirectory()) dirs.push(`${parent}/${entry.name}`);
      }
    } else {
      dirs.push(pattern.replace(/\/$/, ''));
    }
  }
  const workspaces: Workspace[] = [];
  for (const dir of dirs) {
    const file = join(root, dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; exports?: unknown };
    if (pkg.name !== undefined) workspaces.push({ name: pkg.name, dir, exports: pkg.exports });
  }
  return workspaces;
}

/**
 * Splits `@scope/pkg/sub/path` against the known workspaces and applies that workspace's
 * exports map. Returns undefined when the specifier names no workspace; `path: null` when it
 * names one but the exports map does not expose the subpath.
 */
export function resolveWorkspaceSpecifier(specifier: string, workspaces: readonly Workspace[]): { workspace: Workspace; path: string | null } | undefined {
  for (const workspace of workspaces) {
    if (specifier !== workspace.name && !specifier.startsWith(`${workspace.name}/`)) continue;
    const subpath = `.${specifier.slice(workspace.name.length)}`;
    const target = resolveExports(workspace.exports, subpath);
    return { workspace, path: target === null ? null : joinPosix(workspace.dir, target) };
  }
  return undefined;
}

// Node's rules, reduced to what a source-only monorepo uses: exact keys, single-`*`
// patterns (longest prefix wins) and conditional objects.
export function resolveExports(exportsField: unknown, subpath: string): string | null {
  if (exportsField === undefined || exportsField === null) return subpath === '.' ? './index.ts' : null;
  if (typeof exportsField === 'string' || Array.isArray(exportsField)) return subpath === '.' ? pickTarget(exportsField) : null;
  if (typeof exportsField !== 'object') return null;
  const map = exportsField as Record<string, unknown>;
  if (!Object.keys(map).some((key) => key.startsWith('.'))) return subpath === '.' ? pickTarget(map) : null;
  if (Object.hasOwn(map, subpath)) return pickTarget(map[subpath]);
  let best: { prefix: string; star: string; target: unknown } | undefined;
  for (const [key, target] of Object.entries(map)) {
    const star = key.indexOf('*');
    if (star === -1) continue;
    const prefix = key.slice(0, star);
    const suffix = key.slice(star + 1);
    if (!subpath.startsWith(prefix) || !subpath.endsWith(suffix) || subpath.length < prefix.length + suffix.length) continue;
    if (best === undefined || prefix.length > best.prefix.length) {
      best = { prefix, star: subpath.slice(prefix.length, subpath.length - suffix.length), target };
    }
  }
  if (best === undefined) return null;
  const picked = pickTarget(best.target);
  return picked === null ? null : picked.replaceAll('*', best.star);
}

const CONDITIONS = new Set(['types', 'import', 'node', 'module-sync', 'default']);

function pickTarget(target: unknown): string | null {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const item of target) {
      const picked = pickTarget(item);
      if (picked !== null) return picked;
    }
    return null;
  }
  if (target !== null && typeof target === 'object') {
    for (const [condition, value] of Object.entries(target)) {
      if (!CONDITIONS.has(condition)) continue;
      const picked = pickTarget(value);
      if (picked !== null) return picked;
    }
  }
  return null;
}

/** Joins and normalises repository-relative POSIX paths; never escapes above the root silently. */
export function joinPosix(...parts: string[]): string {
  const out: string[] = [];
  for (const segment of parts.join('/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0 || out[out.length - 1] === '..') out.push('..');
      else out.pop();
    } else {
      out.push(segment);
    }
  }
  return out.join('/');
}
