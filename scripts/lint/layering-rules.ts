import type { ImportGraph, Problem, ResolvedImport } from './types.ts';

export type LayerKind =
  'platform' | 'tenant-core' | 'router' | 'subgraph' | 'workers' | 'scripts' | 'tests' | 'bench' | 'supergraph' | 'schema' | 'client' | 'other';

export interface Layer {
  kind: LayerKind;
  /** The subgraph's directory name, for `subgraph` only. */
  name?: string;
}

const TOP_LEVEL: Record<string, LayerKind> = {
  platform: 'platform',
  'tenant-core': 'tenant-core',
  router: 'router',
  workers: 'workers',
  scripts: 'scripts',
  tests: 'tests',
  bench: 'bench',
  supergraph: 'supergraph',
  schema: 'schema',
};

export function layerOf(path: string): Layer {
  const [top, second] = path.split('/');
  if (top === 'subgraphs' && second !== undefined) return { kind: 'subgraph', name: second };
  // A client's shipped code; its tests and scripts may use the repository's test support.
  if (top === 'clients' && second !== undefined && path.split('/')[2] === 'src') return { kind: 'client', name: second };
  return { kind: (top !== undefined && Object.hasOwn(TOP_LEVEL, top) ? TOP_LEVEL[top] : undefined) ?? 'other' };
}

function label(layer: Layer): string {
  if (layer.kind === 'subgraph') return `the ${layer.name} subgraph`;
  if (layer.kind === 'router') return 'the router';
  if (layer.kind === 'client') return `the ${layer.name} client`;
  return layer.kind;
}

// Which layers each layer may not depend on; platform is the base everything builds on and
// knows no domain, tenant-core (what every domain knows about a tenant) sits on platform alone,
// and subgraphs talk to each other only through the supergraph, events and tenant-core, never by
// importing each other's code. Workers run a subgraph's domain (its engine) in other processes,
// so they may import it.
const FORBIDDEN: Partial<Record<LayerKind, (to: Layer, from: Layer) => boolean>> = {
  platform: (to) => ['tenant-core', 'subgraph', 'router', 'workers', 'supergraph', 'schema', 'scripts', 'tests', 'bench'].includes(to.kind),
  'tenant-core': (to) => to.kind !== 'platform' && to.kind !== 'tenant-core',
  subgraph: (to, from) => (to.kind === 'subgraph' && to.name !== from.name) || ['router', 'workers', 'scripts', 'tests', 'bench'].includes(to.kind),
  router: (to) => ['subgraph', 'workers', 'scripts', 'tests', 'bench'].includes(to.kind),
  workers: (to) => ['router', 'scripts', 'tests', 'bench'].includes(to.kind),
  // Clients ship to apps and terminals on their own: they reach the platform over HTTP and
  // WebSocket only, through the SDK (which builds on nothing of ours).
  client: (to, from) => !(to.kind === 'client' && (to.name === from.name || (to.name === 'sdk' && from.name !== 'sdk'))),
  // The registry reads subgraph SDL files, never subgraph code.
  schema: (to) => ['subgraph', 'router', 'workers', 'scripts', 'tests', 'bench'].includes(to.kind),
};

const PRODUCTION = /^(?:platform|tenant-core|router|workers|schema)\/src\/|^(?:subgraphs|clients)\/[^/]+\/src\//;
const TEST_OR_BENCH = /^(?:tests|bench)\/|(?:^|\/)test\//;
const DOMAIN_FILE = /^subgraphs\/[^/]+\/src\/(?:.*\/)?(?:[^/]+-service|entities|passwords|tokens)\.ts$/;
const TRANSPORT_MODULE = /^(?:@apollo\/|graphql(?:\/|$)|(?:node:)?https?(?:\/|$)|(?:node:)?http2(?:\/|$)|undici(?:\/|$))/;

export function isProductionFile(file: string): boolean {
  return PRODUCTION.test(file);
}

export function isDomainFile(file: string): boolean {
  return DOMAIN_FILE.test(file);
}

function isBullmq(specifier: string): boolean {
  return specifier === 'bullmq' || specifier.startsWith('bullmq/');
}

/** Durable work runs in workers/; benchmarks and tests may drive queues directly. */
export function bullmqAllowed(file: string): boolean {
  return file.startsWith('workers/') || TEST_OR_BENCH.test(file);
}

/** The first rule one import breaks, or undefined. One problem per import keeps overlapping rules from double-counting. */
export function checkImport(file: string, ref: ResolvedImport): Omit<Problem, 'file' | 'line'> | undefined {
  const from = layerOf(file);
  if (ref.target !== null) {
    const to = layerOf(ref.target);
    if (FORBIDDEN[from.kind]?.(to, from) === true) {
      return { rule: 'layering', message: `${label(from)} must not import ${label(to)} ('${ref.specifier}' -> ${ref.target})` };
    }
    if (isProductionFile(file) && TEST_OR_BENCH.test(ref.target)) {
      return { rule: 'no-test-code-in-production', message: `production code must not import test or bench code ('${ref.specifier}' -> ${ref.target})` };
    }
    return undefined;
  }
  if (isBullmq(ref.specifier) && !bullmqAllowed(file)) {
    return {
      rule: 'bullmq-only-in-workers',
      message: `'${ref.specifier}' belongs to workers/ (queues and their consumers run there); call a domain engine instead`,
    };
  }
  if (isDomainFile(file) && TRANSPORT_MODULE.test(ref.specifier)) {
    return { rule: 'domain-purity', message: `domain code must not depend on Apollo or HTTP ('${ref.specifier}'); keep it in resolvers and servers` };
  }
  if (
    file.startsWith('platform/src/') &&
    !file.startsWith('platform/src/testing/') &&
    (ref.specifier === 'node:test' || ref.specifier.startsWith('node:test/'))
  ) {
    return { rule: 'no-node-test-in-platform', message: `'${ref.specifier}' is only allowed under platform/src/testing/` };
  }
  return undefined;
}

/** Layering, domain purity and test-code rules over every import, `import type` included: types couple layers too. */
export function checkLayering(graph: ImportGraph): Problem[] {
  const problems: Problem[] = [];
  for (const module of graph.modules.values()) {
    for (const ref of module.imports) {
      const found = checkImport(module.file, ref);
      if (found !== undefined) problems.push({ file: module.file, line: ref.line, ...found });
    }
  }
  return problems;
}
