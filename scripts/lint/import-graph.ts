import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { scanSource } from './source-scan.ts';
import type { ImportGraph, ImportRef, Problem, ResolvedImport, SourceModule } from './types.ts';
import { joinPosix, loadWorkspaces, resolveWorkspaceSpecifier, type Workspace } from './workspaces.ts';

export interface GraphOptions {
  workspaces: readonly Workspace[];
  /** Whether a repository-relative path exists; non-project targets (JSON, .js) are not graph nodes but are not missing either. */
  exists?: (path: string) => boolean;
}

/** Tracked plus untracked-but-not-ignored `.ts` files, repository-relative, sorted. */
export function listProjectFiles(root: string): string[] {
  const git = (...args: string[]): string[] =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .split('\0')
      .filter((line) => line !== '');
  const candidates = [...git('ls-files', '-z', '--', '*.ts'), ...git('ls-files', '-z', '--others', '--exclude-standard', '--', '*.ts')];
  // Tracked files deleted in the working tree are still listed by git.
  const files = candidates.filter((file) => !file.split('/').includes('node_modules') && existsSync(join(root, file)));
  return [...new Set(files)].sort();
}

export function loadProjectGraph(root: string): ImportGraph {
  const sources = new Map<string, string>();
  for (const file of listProjectFiles(root)) sources.set(file, readFileSync(join(root, file), 'utf8'));
  const exists = (path: string): boolean => {
    if (sources.has(path)) return true;
    try {
      return statSync(join(root, path)).isFile();
    } catch {
      return false;
    }
  };
  return buildGraph(sources, { workspaces: loadWorkspaces(root), exists });
}

/** Builds the graph from in-memory sources keyed by repository-relative path. */
export function buildGraph(sources: ReadonlyMap<string, string>, options: GraphOptions): ImportGraph {
  const files = [...sources.keys()].sort();
  const known = new Set(files);
  const exists = options.exists ?? ((path: string) => known.has(path));
  const modules = new Map<string, SourceModule>();
  for (const file of files) {
    const scan = scanSource(file, sources.get(file) ?? '');
    const imports = scan.imports.map((ref) => resolveImport(file, ref, known, exists, options.workspaces));
    modules.set(file, { file, imports, scan });
  }
  return { files, modules };
}

function resolveImport(
  from: string,
  ref: ImportRef,
  known: ReadonlySet<string>,
  exists: (path: string) => boolean,
  workspaces: readonly Workspace[],
): ResolvedImport {
  let candidates: string[];
  if (ref.specifier.startsWith('./') || ref.specifier.startsWith('../') || ref.specifier === '.' || ref.specifier === '..') {
    candidates = withExtensions(joinPosix(dirnamePosix(from), ref.specifier));
  } else {
    const workspace = resolveWorkspaceSpecifier(ref.specifier, workspaces);
    if (workspace === undefined) return { ...ref, target: null, internal: false, missing: false };
    if (workspace.path === null) return { ...ref, target: workspace.workspace.dir, internal: false, missing: true };
    candidates = [workspace.path];
  }
  const target = candidates.find((path) => known.has(path)) ?? candidates.find((path) => exists(path));
  if (target === undefined) return { ...ref, target: candidates[0] ?? null, internal: false, missing: true };
  return { ...ref, target, internal: known.has(target), missing: false };
}

// Type stripping needs explicit `.ts`, but `.js` specifiers and extensionless ones still appear
// in code written for other resolvers; resolving them keeps those edges in the graph.
function withExtensions(path: string): string[] {
  if (path.endsWith('.js')) return [path, `${path.slice(0, -3)}.ts`];
  if (/\.[cm]?[jt]sx?$|\.json$/.test(path)) return [path];
  return [path, `${path}.ts`, `${path}/index.ts`];
}

function dirnamePosix(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

export function checkResolution(graph: ImportGraph): Problem[] {
  const problems: Problem[] = [];
  for (const module of graph.modules.values()) {
    for (const ref of module.imports) {
      if (!ref.missing) continue;
      problems.push({
        file: module.file,
        line: ref.line,
        rule: 'unresolved-import',
        message: `'${ref.specifier}' does not resolve to a file${ref.target === null ? '' : ` (looked for ${ref.target})`}`,
      });
    }
  }
  return problems;
}

export function countImports(graph: ImportGraph): number {
  let count = 0;
  for (const module of graph.modules.values()) count += module.imports.length;
  return count;
}
