import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCycles, runtimeEdges, stronglyConnectedComponents } from '@tansu/scripts/lint/cycles';
import { checkHygiene } from '@tansu/scripts/lint/hygiene';
import { buildGraph, checkResolution } from '@tansu/scripts/lint/import-graph';
import { checkKernelKnowsNoDomain } from '@tansu/scripts/lint/kernel-knows-no-domain';
import { checkLayering } from '@tansu/scripts/lint/layering-rules';
import { resolveExports, type Workspace } from '@tansu/scripts/lint/workspaces';

// Same shape as the real repository's package.json files, so workspace imports resolve the same way.
const WORKSPACES: Workspace[] = [
  { name: '@tansu/platform', dir: 'platform', exports: { './*': './src/*.ts' } },
  { name: '@tansu/tenant-core', dir: 'tenant-core', exports: { './*': './src/*.ts' } },
  { name: '@tansu/router', dir: 'router', exports: { './*': './src/*.ts' } },
  { name: '@tansu/subgraph-identity', dir: 'subgraphs/identity', exports: { './*': './src/*.ts' } },
  { name: '@tansu/subgraph-tenancy', dir: 'subgraphs/tenancy', exports: { './*': './src/*.ts' } },
  { name: '@tansu/workers', dir: 'workers', exports: { './*': './src/*.ts' } },
  { name: '@tansu/tests', dir: 'tests', exports: { './*': './src/*.ts' } },
  { name: '@tansu/scripts', dir: 'scripts', exports: { './*': './*.ts' } },
  { name: '@tansu/client', dir: 'clients/sdk', exports: { '.': './src/index.ts', './*': './src/*.ts' } },
];

function graphOf(sources: Record<string, string>) {
  return buildGraph(new Map(Object.entries(sources)), { workspaces: WORKSPACES });
}

// The real list comes from the subgraphs/ directories at lint time.
const DOMAINS = ['identity', 'tenancy', 'workflow'];

function problemsOf(sources: Record<string, string>): string[] {
  const graph = graphOf(sources);
  return [...checkResolution(graph), ...checkLayering(graph), ...checkKernelKnowsNoDomain(graph, DOMAINS), ...checkHygiene(graph)].map(
    (p) => `${p.file}:${p.line} ${p.rule}`,
  );
}

function cyclesOf(sources: Record<string, string>): string[] {
  return findCycles(runtimeEdges(graphOf(sources))).map((cycle) => cycle.path.join(' -> '));
}

describe('layering rules', () => {
  it('rejects a subgraph importing another subgraph, but not its own files', () => {
    const problems = problemsOf({
      'subgraphs/identity/src/resolvers.ts': "import { x } from './auth-service.ts';\nimport { y } from '@tansu/subgraph-tenancy/tenancy-service';\n",
      'subgraphs/identity/src/auth-service.ts': 'export const x = 1;\n',
      'subgraphs/tenancy/src/tenancy-service.ts': 'export const y = 1;\n',
    });
    assert.deepEqual(problems, ['subgraphs/identity/src/resolvers.ts:2 layering']);
  });

  it('rejects platform importing the router, by workspace name or by relative path', () => {
    const problems = problemsOf({
      'platform/src/config.ts': "import { a } from '@tansu/router/create-router';\n",
      'platform/src/logger.ts': "\n\nimport type { b } from '../../router/src/create-router.ts';\n",
      'router/src/create-router.ts': "import { c } from '@tansu/platform/config';\nexport const a = 1;\nexport type b = number;\n",
    });
    assert.deepEqual(problems, ['platform/src/config.ts:1 layering', 'platform/src/logger.ts:3 layering']);
  });

  it('lets workers use platform but not the router', () => {
    const problems = problemsOf({
      'workers/src/main.ts': "import { a } from '@tansu/platform/config';\nimport { b } from '@tansu/router/create-router';\n",
      'platform/src/config.ts': 'export const a = 1;\n',
      'router/src/create-router.ts': 'export const b = 1;\n',
    });
    assert.deepEqual(problems, ['workers/src/main.ts:2 layering']);
  });

  it('keeps tenant-core out of the kernel, by workspace name or by relative path, platform tests included', () => {
    const problems = problemsOf({
      'platform/src/config.ts': "import { plans } from '@tansu/tenant-core/plans';\n",
      'platform/src/db/migrate.ts': "\nimport type { Tenant } from '../../../tenant-core/src/entities.ts';\n",
      'platform/test/outbox.test.ts': "import { entities } from '@tansu/tenant-core/entities';\n",
      'tenant-core/src/plans.ts': 'export const plans = 1;\n',
      'tenant-core/src/entities.ts': 'export type Tenant = number;\nexport const entities = [];\n',
    });
    assert.deepEqual(problems, ['platform/src/config.ts:1 layering', 'platform/src/db/migrate.ts:2 layering', 'platform/test/outbox.test.ts:1 layering']);
  });

  it('lets tenant-core build on platform alone, its tests included', () => {
    const problems = problemsOf({
      'tenant-core/src/memberships.ts': [
        "import { openDatabase } from '@tansu/platform/db/database';",
        "import { Redis } from 'ioredis';",
        "import { plans } from './plans.ts';",
        "import { signIn } from '@tansu/subgraph-identity/auth-service';",
        "import type { Router } from '../../router/src/create-router.ts';",
        "import { startWorkers } from '@tansu/workers/main';",
        '',
      ].join('\n'),
      'tenant-core/src/plans.ts': 'export const plans = 1;\n',
      'tenant-core/test/memberships.test.ts': "import { plans } from '../src/plans.ts';\nimport { spine } from '@tansu/tests/spine';\n",
      'platform/src/db/database.ts': 'export const openDatabase = 1;\n',
      'subgraphs/identity/src/auth-service.ts': 'export const signIn = 1;\n',
      'router/src/create-router.ts': 'export type Router = number;\n',
      'workers/src/main.ts': 'export const startWorkers = 1;\n',
      'tests/src/spine.ts': 'export const spine = 1;\n',
    });
    assert.deepEqual(problems, [
      'tenant-core/src/memberships.ts:4 layering',
      'tenant-core/src/memberships.ts:5 layering',
      'tenant-core/src/memberships.ts:6 layering',
      'tenant-core/test/memberships.test.ts:2 layering',
    ]);
  });

  it('lets subgraphs, the router and workers import tenant-core', () => {
    const problems = problemsOf({
      'subgraphs/tenancy/src/tenancy-service.ts': "import { plans } from '@tansu/tenant-core/plans';\n",
      'router/src/admission.ts': "import { plans } from '@tansu/tenant-core/plans';\n",
      'workers/src/purge.ts': "import type { Tenant } from '../../tenant-core/src/entities.ts';\n",
      'tenant-core/src/plans.ts': 'export const plans = 1;\n',
      'tenant-core/src/entities.ts': 'export type Tenant = number;\n',
    });
    assert.deepEqual(problems, []);
  });

  it("keeps clients' shipped code free of the server's and of each other, the SDK aside, while their tests use the repository's support", () => {
    const problems = problemsOf({
      'clients/sdk/src/client.ts':
        "import { a } from './errors.ts';\nimport { b } from '@tansu/platform/config';\nimport { c } from '../../../tests/support/x.ts';\n",
      'clients/sdk/src/errors.ts': 'export const a = 1;\n',
      'clients/sdk/test/client.test.ts': "import { d } from '@tansu/client';\nimport { c } from '../../../tests/support/x.ts';\n",
      'clients/sdk/src/index.ts': 'export const d = 1;\n',
      'platform/src/config.ts': 'export const b = 1;\n',
      'tests/support/x.ts': 'export const c = 1;\n',
      'clients/cli/src/main.ts': "import { d } from '@tansu/client';\nimport { e } from '../../console/src/app.ts';\n",
      'clients/console/src/app.ts': 'export const e = 1;\n',
      'clients/sdk/src/index2.ts': "import { e } from '../../console/src/app.ts';\n",
    });
    assert.deepEqual(problems, [
      'clients/cli/src/main.ts:2 layering',
      'clients/sdk/src/client.ts:2 layering',
      'clients/sdk/src/client.ts:3 layering',
      'clients/sdk/src/index2.ts:1 layering',
    ]);
  });

  it('keeps BullMQ in workers, benchmarks and tests', () => {
    const problems = problemsOf({
      'subgraphs/workflow/src/engine/dispatcher.ts': "import type { Queue } from 'bullmq';\n",
      'platform/src/redis/queues.ts': "\nimport { Worker } from 'bullmq/dist/esm/classes/worker.js';\n",
      'router/src/main.ts': "const { Queue } = await import('bullmq');\n",
      'workers/src/workflow/step-worker.ts': "import { Worker } from 'bullmq';\n",
      'bench/workflow/peer.ts': "import { Queue, Worker } from 'bullmq';\n",
      'subgraphs/workflow/test/dispatch.test.ts': "import { Queue } from 'bullmq';\n",
      'router/src/queue-names.ts': "export const name = 'bullmq';\n",
    });
    assert.deepEqual(problems.sort(), [
      'platform/src/redis/queues.ts:2 bullmq-only-in-workers',
      'router/src/main.ts:1 bullmq-only-in-workers',
      'subgraphs/workflow/src/engine/dispatcher.ts:1 bullmq-only-in-workers',
    ]);
  });

  it('keeps Apollo and HTTP out of domain code, node:test out of platform, and test code out of production', () => {
    const problems = problemsOf({
      'subgraphs/tenancy/src/tenancy-service.ts': "import { GraphQLError } from 'graphql';\n",
      'subgraphs/tenancy/src/resolvers.ts': "import { GraphQLError } from 'graphql';\n",
      'subgraphs/identity/src/tokens.ts': "import type { IncomingMessage } from 'node:http';\n",
      'platform/src/lifecycle.ts': "import { test } from 'node:test';\n",
      'platform/src/testing/test-servers.ts': "import { test } from 'node:test';\n",
      'router/src/auth/authenticator.ts': "import { s } from '../../test/support.ts';\n",
      'router/test/support.ts': 'export const s = 1;\n',
    });
    assert.deepEqual(problems.sort(), [
      'platform/src/lifecycle.ts:1 no-node-test-in-platform',
      'router/src/auth/authenticator.ts:1 no-test-code-in-production',
      'subgraphs/identity/src/tokens.ts:1 domain-purity',
      'subgraphs/tenancy/src/tenancy-service.ts:1 domain-purity',
    ]);
  });

  it('reports imports that resolve to nothing', () => {
    assert.deepEqual(problemsOf({ 'router/src/main.ts': "import { a } from './gone.ts';\nimport { b } from '@tansu/platform/gone';\n" }), [
      'router/src/main.ts:1 unresolved-import',
      'router/src/main.ts:2 unresolved-import',
    ]);
  });
});

describe('the kernel knows no domain', () => {
  it('refuses a domain name in kernel string and template text, as a whole word in any case', () => {
    const problems = problemsOf({
      'platform/src/db/migrate.ts': "const SCHEMAS = ['platform', 'identity', 'workflow'];\n",
      'platform/src/config.ts': "const port = r.int('TENANCY_PORT', 4102);\nconst url = `http://${host}:${port}/Workflow/x`;\n",
      'platform/src/testing/test-servers.ts': 'const name = `tansu-${id}-identity`;\n',
      'platform/src/events/topics.ts': "type Topic = 'workflow.run.updated';\n",
      'platform/src/words.ts': "const a = 'identityUrl';\nconst b = 'workflows tenancyish';\nconst c = 'no domain here';\n",
    });
    assert.deepEqual(problems.sort(), [
      'platform/src/config.ts:1 kernel-knows-no-domain',
      'platform/src/config.ts:2 kernel-knows-no-domain',
      'platform/src/db/migrate.ts:1 kernel-knows-no-domain',
      'platform/src/db/migrate.ts:1 kernel-knows-no-domain',
      'platform/src/events/topics.ts:1 kernel-knows-no-domain',
      'platform/src/testing/test-servers.ts:1 kernel-knows-no-domain',
    ]);
  });

  it("lets the config module name a domain's own environment variable, and nothing else", () => {
    const problems = problemsOf({
      'platform/src/config.ts': "const a = r.int('TANSU_WORKFLOW_TENANT_CONCURRENCY', 20);\nconst b = r.int('WORKFLOW_PORT', 4103);\n",
      'platform/src/other.ts': "const a = r.int('TANSU_WORKFLOW_TENANT_CONCURRENCY', 20);\n",
    });
    assert.deepEqual(problems.sort(), ['platform/src/config.ts:2 kernel-knows-no-domain', 'platform/src/other.ts:1 kernel-knows-no-domain']);
  });

  it('names the word it found', () => {
    const graph = graphOf({ 'platform/src/db/migrate.ts': "const SCHEMAS = ['platform', 'IDENTITY'];\n" });
    const [problem, ...rest] = checkKernelKnowsNoDomain(graph, DOMAINS);
    assert.deepEqual(rest, []);
    assert.match(problem!.message, /\bidentity domain\b/);
  });

  it('ignores comments, identifiers and module specifiers in the kernel, and domain names outside it', () => {
    const problems = problemsOf({
      'platform/src/http/egress.ts': [
        '// Outbound calls made for workflow http steps and identity providers.',
        '/** The tenancy subgraph passes its own port. */',
        "import { x } from './workflow-free.ts';",
        'const identity = x;',
        '',
      ].join('\n'),
      'platform/src/http/workflow-free.ts': 'export const x = 1;\n',
      'subgraphs/workflow/src/engine/schemas.ts': "export const SCHEMA = 'workflow';\n",
      'tenant-core/src/plans.ts': "export const owner = 'identity';\n",
      'platform/test/migrate.test.ts': "const schemas = ['identity'];\n",
    });
    assert.deepEqual(problems, []);
  });
});

describe('cycles', () => {
  it('finds a runtime cycle', () => {
    assert.deepEqual(
      cyclesOf({
        'platform/src/a.ts': "import { b } from './b.ts';\nexport const a = 1;\n",
        'platform/src/b.ts': "import { a } from './a.ts';\nexport const b = 1;\n",
        'platform/src/c.ts': "import { a } from './a.ts';\n",
      }),
      ['platform/src/a.ts -> platform/src/b.ts -> platform/src/a.ts'],
    );
  });

  it('does not count an `import type` back edge, since it is erased at run time', () => {
    assert.deepEqual(
      cyclesOf({
        'platform/src/a.ts': "import { b } from './b.ts';\nexport type A = number;\n",
        'platform/src/b.ts': "import type { A } from './a.ts';\nexport type { A as B } from './a.ts';\nexport const b = 1;\n",
      }),
      [],
    );
  });

  it('still counts `import { type X }`, which leaves a module load behind', () => {
    assert.deepEqual(
      cyclesOf({
        'platform/src/a.ts': "import { b } from './b.ts';\nexport type A = number;\n",
        'platform/src/b.ts': "import { type A } from './a.ts';\nexport const b = 1;\n",
      }),
      ['platform/src/a.ts -> platform/src/b.ts -> platform/src/a.ts'],
    );
  });

  it('follows dynamic imports and workspace specifiers, and reports a self-import', () => {
    assert.deepEqual(
      cyclesOf({
        'router/src/a.ts': "const b = await import('@tansu/router/b');\n",
        'router/src/b.ts': "export { c } from './c.ts';\n",
        'router/src/c.ts': "import './a.ts';\nexport const c = 1;\n",
        'router/src/d.ts': "import './d.ts';\n",
      }),
      ['router/src/a.ts -> router/src/b.ts -> router/src/c.ts -> router/src/a.ts', 'router/src/d.ts -> router/src/d.ts'],
    );
  });

  it('splits a graph into strongly connected components', () => {
    const edges: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a', 'd'], d: ['e'], e: ['d'], f: [] };
    const components = stronglyConnectedComponents(Object.keys(edges), (node) => edges[node] ?? []);
    assert.deepEqual(components.map((c) => c.join(',')).sort(), ['a,b,c', 'd,e', 'f']);
  });
});

describe('hygiene', () => {
  it('flags console.log outside entry points, suppression directives and .only, but not their mentions in strings', () => {
    const problems = problemsOf({
      'router/src/create-router.ts': "console.log('x');\nconst s = '// @ts-ignore and console.log';\n",
      'router/src/main.ts': "console.log('usage');\n",
      'bench/run.ts': "console.log('result');\n",
      'platform/src/errors.ts': 'const a = 1; // @ts-expect-error\n/* @ts-ignore */\n// mentions @ts-ignore mid-comment\n',
      'tests/e2e/spine.test.ts': "import { it } from 'node:test';\nit.only('x', () => {});\n",
    });
    assert.deepEqual(problems.sort(), [
      'platform/src/errors.ts:1 no-ts-suppression',
      'platform/src/errors.ts:2 no-ts-suppression',
      'router/src/create-router.ts:1 no-console-log',
      'tests/e2e/spine.test.ts:2 no-only',
    ]);
  });
});

describe('exports maps', () => {
  it('resolves patterns, exact keys and conditions', () => {
    assert.equal(resolveExports({ './*': './src/*.ts' }, './db/database'), './src/db/database.ts');
    assert.equal(resolveExports({ '.': { import: './src/index.ts' }, './*': './src/*.ts' }, '.'), './src/index.ts');
    assert.equal(resolveExports({ './internal/*': null, './*': './src/*.ts' }, './internal/x'), null);
  });
});
