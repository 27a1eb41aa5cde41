import type { ImportGraph, Problem } from './types.ts';

const SERVICE_SOURCE = /^(?:platform|tenant-core|router)\/src\/|^subgraphs\/[^/]+\/src\//;

export function isTestFile(file: string): boolean {
  return file.endsWith('.test.ts');
}

/** Services log through the structured logger; only entry points (`main.ts`, `*-main.ts`) may print to stdout. */
export function consoleLogAllowed(file: string): boolean {
  return !SERVICE_SOURCE.test(file) || /(^|\/|-)main\.ts$/.test(file);
}

export function checkHygiene(graph: ImportGraph): Problem[] {
  const problems: Problem[] = [];
  for (const { file, scan } of graph.modules.values()) {
    if (!consoleLogAllowed(file)) {
      for (const line of scan.consoleLogLines) {
        problems.push({ file, line, rule: 'no-console-log', message: 'use the logger; console.log is for entry points (main.ts, *-main.ts) only' });
      }
    }
    for (const { line, directive } of scan.tsDirectives) {
      problems.push({ file, line, rule: 'no-ts-suppression', message: `${directive} hides type errors; fix the type instead` });
    }
    if (isTestFile(file)) {
      for (const { line, callee } of scan.onlyCalls) {
        problems.push({ file, line, rule: 'no-only', message: `${callee}( would skip the rest of the suite` });
      }
    }
  }
  return problems;
}
