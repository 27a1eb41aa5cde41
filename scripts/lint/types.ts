export interface Problem {
  file: string;
  line: number;
  rule: string;
  message: string;
}

export type ImportKind = 'import' | 'export-from' | 'dynamic' | 'require' | 'type-query';

export interface ImportRef {
  specifier: string;
  line: number;
  kind: ImportKind;
  /** Erased at run time (`import type`, `export type ... from`, `typeof import('x')`). */
  typeOnly: boolean;
}

export interface ResolvedImport extends ImportRef {
  /** Repository-relative path the specifier points at, or null for third-party and builtin modules. */
  target: string | null;
  /** The target is one of the linted project files, so the import is an edge of the graph. */
  internal: boolean;
  /** A relative or workspace import whose target does not exist. */
  missing: boolean;
}

export interface SourceScan {
  imports: ImportRef[];
  consoleLogLines: number[];
  tsDirectives: { line: number; directive: string }[];
  onlyCalls: { line: number; callee: string }[];
  /** Text of string and template literals (template pieces between substitutions), module specifiers left out. */
  literalTexts: { line: number; text: string }[];
}

export interface SourceModule {
  file: string;
  imports: ResolvedImport[];
  scan: SourceScan;
}

export interface ImportGraph {
  files: string[];
  modules: Map<string, SourceModule>;
}
