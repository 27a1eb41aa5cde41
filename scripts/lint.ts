import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCycles, runtimeEdges } from './lint/cycles.ts';
import { checkHygiene } from './lint/hygiene.ts';
import { checkResolution, countImports, loadProjectGraph } from './lint/import-graph.ts';
import { checkKernelKnowsNoDomain, subgraphNames } from './lint/kernel-knows-no-domain.ts';
import { checkLayering } from './lint/layering-rules.ts';

// `npm run lint`: layering between workspaces, a kernel that names no domain, import cycles, and a few hygiene rules.
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const graph = loadProjectGraph(root);
const problems = [...checkResolution(graph), ...checkLayering(graph), ...checkKernelKnowsNoDomain(graph, subgraphNames(root)), ...checkHygiene(graph)].sort(
  (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule),
);
const cycles = findCycles(runtimeEdges(graph));

for (const problem of problems) console.log(`${problem.file}:${problem.line}  ${problem.rule}: ${problem.message}`);
for (const { path, componentSize } of cycles) {
  const note = componentSize > path.length - 1 ? ` (one of several loops among ${componentSize} files)` : '';
  console.log(`cycle: ${path.join(' -> ')}${note}`);
}
const total = problems.length + cycles.length;
console.log(`lint: ${graph.files.length} files, ${countImports(graph)} imports, ${total} problems`);
process.exitCode = total > 0 ? 1 : 0;
