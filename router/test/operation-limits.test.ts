import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { buildSchema, parse, specifiedRules, validate, type GraphQLError } from 'graphql';
import { operationLimitsRule, type OperationLimits } from '../src/limits/operation-limits.ts';

const SDL = `
  interface Node { id: ID! }
  type User implements Node {
    id: ID!
    name: String
    friends(first: Int): [User!]!
    bestFriend: User
  }
  type Query {
    me: User
    node(id: ID!): Node
    users(first: Int, last: Int): [User!]!
  }
`;
const schema = buildSchema(SDL);

const GENEROUS: OperationLimits = { maxDepth: 1_000, maxAliases: 1_000, maxCost: 1_000_000_000 };

function check(document: string, limits: Partial<OperationLimits>): readonly GraphQLError[] {
  return validate(schema, parse(document), [...specifiedRules, operationLimitsRule({ ...GENEROUS, ...limits })]);
}

function limitErrors(document: string, limits: Partial<OperationLimits>): string[] {
  return check(document, limits)
    .filter((e) => e.extensions.limit !== undefined)
    .map((e) => {
      assert.equal(e.extensions.code, 'BAD_USER_INPUT');
      return `${String(e.extensions.limit)}: ${e.message}`;
    });
}

/** The exact value the rule measured: the largest limit that still reports, plus one. */
function measured(document: string, limit: 'maxDepth' | 'maxAliases' | 'maxCost'): number {
  let low = 0;
  let high = 1_000_000;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (limitErrors(document, { [limit]: mid }).length > 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Validates in a worker so that a rule stuck in a loop fails the test instead of blocking
 * the event loop (and the whole run) for good. Returns every error message.
 */
async function validateInWorker(document: string, limits: OperationLimits): Promise<string[]> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const graphql = await import(workerData.graphqlUrl);
      const { operationLimitsRule } = await import(workerData.ruleUrl);
      const schema = graphql.buildSchema(workerData.sdl);
      const errors = graphql.validate(schema, graphql.parse(workerData.document), [...graphql.specifiedRules, operationLimitsRule(workerData.limits)]);
      parentPort.postMessage(errors.map((e) => e.message));
    })();`;
  const worker = new Worker(source, {
    eval: true,
    workerData: {
      graphqlUrl: import.meta.resolve('graphql'),
      ruleUrl: new URL('../src/limits/operation-limits.ts', import.meta.url).href,
      sdl: SDL,
      document,
      limits,
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      // A generous bound: the point is finishing at all, not speed.
      timer = setTimeout(() => reject(new Error('validation did not finish within 15 s')), 15_000);
    });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}

describe('operation limits', () => {
  it('reports nothing for a document within every limit', () => {
    const document = '{ me { name friends(first: 2) { name } } }';
    assert.deepEqual(check(document, { maxDepth: 3, maxAliases: 0, maxCost: 5 }), []);
  });

  describe('depth', () => {
    it('counts nested fields', () => {
      assert.equal(measured('{ me { friends { friends { name } } } }', 'maxDepth'), 4);
      assert.deepEqual(limitErrors('{ me { friends { friends { name } } } }', { maxDepth: 3 }), ['depth: Query depth 4 exceeds the limit of 3']);
    });

    it('counts through fragments and inline fragments', () => {
      const viaFragments = `
        query { me { ...F } }
        fragment F on User { friends { ...G } }
        fragment G on User { bestFriend { ... on User { friends { name } } } }`;
      assert.equal(measured(viaFragments, 'maxDepth'), 5);
      assert.equal(measured('{ node(id: "1") { ... on User { friends { ... { bestFriend { name } } } } } }', 'maxDepth'), 4);
      // A fragment that adds no field adds no level.
      assert.equal(measured('query { me { ...N } } fragment N on User { ... on User { name } }', 'maxDepth'), 2);
    });

    it('takes the deepest branch, not the sum', () => {
      assert.equal(measured('{ me { name friends { name } bestFriend { bestFriend { name } } } }', 'maxDepth'), 4);
    });
  });

  it('does not hang on fragment cycles, and graphql reports them', async () => {
    const cycle = `
      query { me { ...A } }
      fragment A on User { friends { ...B } }
      fragment B on User { bestFriend { ...A } }`;
    const messages = await validateInWorker(cycle, { ...GENEROUS, maxDepth: 3 });
    assert.ok(messages.some((m) => /Cannot spread fragment "A" within itself/.test(m)), messages.join('\n'));
    const self = await validateInWorker('query { me { ...S } } fragment S on User { friends { ...S } }', GENEROUS);
    assert.ok(self.some((m) => /within itself/.test(m)), self.join('\n'));
  });

  it('measures fragments that spread each other many times over without expanding each spread', async () => {
    // Each level spreads the next twice: 2^40 expansions unless a fragment is measured once.
    const levels = 40;
    let document = 'query { me { ...F0 } }\n';
    for (let i = 0; i < levels; i++) document += `fragment F${i} on User { ...F${i + 1} ...F${i + 1} }\n`;
    document += `fragment F${levels} on User { friends(first: 1) { a: name } }\n`;
    const messages = await validateInWorker(document, { maxDepth: 10, maxAliases: 30, maxCost: 1_000 });
    assert.ok(messages.some((m) => m.startsWith('Query cost')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('Query uses')), messages.join('\n'));
    assert.ok(!messages.some((m) => m.startsWith('Query depth')), messages.join('\n'));
    // The same shape, small enough to expand, shows the measured values are exact.
    let small = 'query { me { ...F0 } }\n';
    for (let i = 0; i < 3; i++) small += `fragment F${i} on User { ...F${i + 1} ...F${i + 1} }\n`;
    small += 'fragment F3 on User { friends(first: 1) { a: name } }\n';
    assert.equal(measured(small, 'maxCost'), 1 + 8 * (1 + 1));
    assert.equal(measured(small, 'maxAliases'), 8);
    assert.equal(measured(small, 'maxDepth'), 3);
  });

  describe('aliases', () => {
    it('counts every alias, inside fragments and once per spread', () => {
      assert.equal(measured('{ a: me { name } b: me { n: name } }', 'maxAliases'), 3);
      const document = `
        query { me { ...F } other: me { ...F } }
        fragment F on User { x: name ... on User { y: name } }`;
      assert.equal(measured(document, 'maxAliases'), 5);
      assert.deepEqual(limitErrors(document, { maxAliases: 4 }), ['aliases: Query uses 5 aliases; the limit is 4']);
      assert.deepEqual(limitErrors(document, { maxAliases: 5 }), []);
    });

    it('counts aliased __typename too', () => {
      assert.equal(measured('{ a: __typename b: __typename c: __typename }', 'maxAliases'), 3);
    });
  });

  describe('cost', () => {
    it('pays one per field', () => {
      assert.equal(measured('{ me { id name bestFriend { name } } }', 'maxCost'), 5);
    });

    it('multiplies what a list selects by a literal first, or by 10 without one', () => {
      assert.equal(measured('{ users(first: 5) { name } }', 'maxCost'), 1 + 5 * 1);
      assert.equal(measured('{ users(last: 3) { name id } }', 'maxCost'), 1 + 3 * 2);
      assert.equal(measured('{ users { name } }', 'maxCost'), 1 + 10 * 1);
      // Nested lists multiply: me(1) + friends(1 + 2 * (friends(1 + 3 * name(1)))).
      assert.equal(measured('{ me { friends(first: 2) { friends(first: 3) { name } } } }', 'maxCost'), 1 + (1 + 2 * (1 + 3 * 1)));
      assert.equal(measured('{ users { friends { friends { name } } } }', 'maxCost'), 1 + 10 * (1 + 10 * (1 + 10 * 1)));
      assert.deepEqual(limitErrors('{ users { friends { name } } }', { maxCost: 110 }), ['cost: Query cost 111 exceeds the budget of 110']);
    });

    it('cannot be cheated with a variable or a non-positive size', () => {
      // Validation does not see variable values: the default size applies.
      assert.equal(measured('query($n: Int) { users(first: $n) { name } }', 'maxCost'), 1 + 10 * 1);
      assert.equal(measured('{ users(first: 0) { name id } }', 'maxCost'), 1 + 1 * 2);
      assert.equal(measured('{ users(first: -5) { name id } }', 'maxCost'), 1 + 1 * 2);
    });

    it('counts fields reached through fragments', () => {
      const document = 'query { users(first: 4) { ...U } } fragment U on User { name ... on User { id } }';
      assert.equal(measured(document, 'maxCost'), 1 + 4 * 2);
    });
  });

  it('makes __typename free for depth and cost', () => {
    assert.deepEqual(check('{ __typename me { __typename } }', { maxDepth: 1, maxCost: 1 }), []);
    assert.deepEqual(limitErrors('{ __typename me { name } }', { maxDepth: 1, maxCost: 1 }), [
      'depth: Query depth 2 exceeds the limit of 1',
      'cost: Query cost 2 exceeds the budget of 1',
    ]);
    assert.equal(measured('{ users(first: 3) { __typename name } }', 'maxCost'), 1 + 3 * 1);
  });

  it('measures each operation of a document on its own', () => {
    const document = 'query Shallow { me { name } } query Deep { me { friends { friends { name } } } }';
    assert.deepEqual(limitErrors(document, { maxDepth: 3 }), ['depth: Query depth 4 exceeds the limit of 3']);
  });
});
