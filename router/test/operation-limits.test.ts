import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { buildSchema, getIntrospectionQuery, getOperationAST, parse, specifiedRules, validate, type GraphQLError } from 'graphql';
import { ApolloServer } from '@apollo/server';
import { TansuError } from '@tansu/platform/errors';
import { costWithVariables, operationLimitsRule, type OperationLimits } from '../src/limits/operation-limits.ts';
import { useExpansionGuard } from '../src/limits/use-expansion-guard.ts';
import { graphiqlIntrospectionQueries } from './graphiql-introspection.ts';

const SDL = `
  interface Node { id: ID! }
  type User implements Node {
    id: ID!
    name: String
    friends(first: Int): [User!]!
    bestFriend: User
  }
  type Run { id: ID! status: String steps(first: Int): [Step!]! tags: [String!]! }
  type Step { id: ID! name: String }
  type RunEdge { cursor: String! node: Run! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type RunConnection { nodes: [Run!]! edges: [RunEdge!]! pageInfo: PageInfo! totalCount: Int! }
  type Form { name: String fields: [Form!]! }
  type Query {
    forms: [Form!]!
    me: User
    node(id: ID!): Node
    users(first: Int, last: Int): [User!]!
    runs(first: Int, after: String): RunConnection!
    recentRuns(first: Int = 20): RunConnection!
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

const LIMIT_NAMES = { maxDepth: 'depth', maxAliases: 'aliases', maxCost: 'cost' } as const;

/** The exact value the rule measured: the largest limit that still reports, plus one. */
function measured(document: string, limit: 'maxDepth' | 'maxAliases' | 'maxCost'): number {
  let low = 0;
  let high = 1_000_000;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (limitErrors(document, { [limit]: mid }).some((e) => e.startsWith(`${LIMIT_NAMES[limit]}:`))) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Validates in a worker so that a rule stuck in a loop fails the test instead of blocking
 * the event loop (and the whole run) for good. Returns every error message (a thrown one as
 * `thrown CODE: message`).
 */
async function validateInWorker(document: string, limits: OperationLimits): Promise<string[]> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const graphql = await import(workerData.graphqlUrl);
      const { operationLimitsRule } = await import(workerData.ruleUrl);
      const schema = graphql.buildSchema(workerData.sdl);
      try {
        const errors = graphql.validate(schema, graphql.parse(workerData.document), [...graphql.specifiedRules, operationLimitsRule(workerData.limits)]);
        parentPort.postMessage(errors.map((e) => e.message));
      } catch (error) {
        parentPort.postMessage(['thrown ' + error.extensions?.code + ': ' + error.message]);
      }
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
    assert.ok(
      messages.some((m) => /Cannot spread fragment "A" within itself/.test(m)),
      messages.join('\n'),
    );
    const self = await validateInWorker('query { me { ...S } } fragment S on User { friends { ...S } }', GENEROUS);
    assert.ok(
      self.some((m) => /within itself/.test(m)),
      self.join('\n'),
    );
  });

  it('measures fragments that spread each other many times over without expanding each spread', async () => {
    // Each level spreads the next twice: 2^12 expansions are measured once per fragment.
    const levels = 12;
    let document = 'query { me { ...F0 } }\n';
    for (let i = 0; i < levels; i++) document += `fragment F${i} on User { ...F${i + 1} ...F${i + 1} }\n`;
    document += `fragment F${levels} on User { friends(first: 1) { a: name } }\n`;
    const messages = await validateInWorker(document, { maxDepth: 10, maxAliases: 30, maxCost: 1_000 });
    assert.ok(
      messages.some((m) => m.startsWith('Query cost')),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => m.startsWith('Query uses')),
      messages.join('\n'),
    );
    assert.ok(!messages.some((m) => m.startsWith('Query depth')), messages.join('\n'));
    // The same shape, small enough to expand, shows the measured values are exact.
    let small = 'query { me { ...F0 } }\n';
    for (let i = 0; i < 3; i++) small += `fragment F${i} on User { ...F${i + 1} ...F${i + 1} }\n`;
    small += 'fragment F3 on User { friends(first: 1) { a: name } }\n';
    assert.equal(measured(small, 'maxCost'), 1 + 8 * (1 + 1));
    assert.equal(measured(small, 'maxAliases'), 8);
    assert.equal(measured(small, 'maxDepth'), 3);
  });

  it('refuses a document whose fragments expand past 100,000 selections before graphql-js walks them', async () => {
    // graphql-js's MaxIntrospectionDepthRule walks each expansion anew: 2^40 of them here,
    // all free for depth and cost (__typename), so only the refusal keeps the worker alive.
    const levels = 40;
    let document = 'query { __schema { types { ...F0 } } }\n';
    for (let i = 0; i < levels; i++) document += `fragment F${i} on __Type { ...F${i + 1} ...F${i + 1} }\n`;
    document += `fragment F${levels} on __Type { __typename }\n`;
    assert.deepEqual(await validateInWorker(document, GENEROUS), ["thrown BAD_USER_INPUT: The document's fragments expand to more than 100000 selections"]);
    // In process too: the refusal is a client error with a stable code.
    assert.throws(
      () => check(document, {}),
      (error: unknown) => error instanceof TansuError && error.code === 'BAD_USER_INPUT' && error.extensions.limit === 'fragments',
    );
    // The same spreads through ordinary fields are refused the same way.
    const plain = document.replace('__schema { types { ...F0 } }', 'me { ...F0 }').replaceAll('on __Type', 'on User');
    assert.deepEqual(await validateInWorker(plain, GENEROUS), ["thrown BAD_USER_INPUT: The document's fragments expand to more than 100000 selections"]);
  });

  it("refuses such a document in Apollo's pipeline as a client error, before graphql-js's rules walk it", async () => {
    // 2^20 expansions: finite without the guard (the rule would throw, which Apollo reports as INTERNAL).
    let document = 'query Bomb { __schema { types { ...F0 } } }\n';
    for (let i = 0; i < 20; i++) document += `fragment F${i} on __Type { ...F${i + 1} ...F${i + 1} }\n`;
    document += 'fragment F20 on __Type { __typename }\n';
    const apollo = new ApolloServer({
      schema,
      plugins: [useExpansionGuard()],
      validationRules: [operationLimitsRule(GENEROUS)],
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    await apollo.start();
    try {
      const response = await apollo.executeOperation({ query: document });
      assert.equal(response.body.kind, 'single');
      const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
      assert.deepEqual(
        errors?.map((e) => [e.extensions?.code, e.message]),
        [['GRAPHQL_VALIDATION_FAILED', "The document's fragments expand to more than 100000 selections"]],
      );
      assert.equal(response.http.status, 400);
      // Documents within the bound are untouched.
      const fine = await apollo.executeOperation({ query: '{ __schema { queryType { name } } }' });
      assert.deepEqual(fine.body.kind === 'single' ? JSON.parse(JSON.stringify(fine.body.singleResult)) : undefined, {
        data: { __schema: { queryType: { name: 'Query' } } },
      });
    } finally {
      await apollo.stop();
    }
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

  describe('introspection', () => {
    const EVERY_OPTION = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    });
    const graphiql = graphiqlIntrospectionQueries();
    const STANDARD: Record<string, string> = {
      'graphql-js getIntrospectionQuery with every option on': EVERY_OPTION,
      // GraphQL Code Generator loads a URL schema through @graphql-tools, which sends getIntrospectionQuery with the loader's options (none by default).
      'graphql-js defaults, as codegen sends it': getIntrospectionQuery(),
      "GraphiQL 3.8.3's schema loader, as the playground bundle builds it": graphiql.query,
      "GraphiQL's fallback without subscriptionType": graphiql.withoutSubscriptions,
    };
    const DEFAULTS: OperationLimits = { maxDepth: 12, maxAliases: 30, maxCost: 100_000 };

    for (const [name, query] of Object.entries(STANDARD)) {
      it(`lets the standard query through with default limits: ${name}`, () => {
        assert.deepEqual(check(query, DEFAULTS), []);
        // Nine or ten levels of ofType add nothing: __schema types fields args type kind.
        assert.equal(measured(query, 'maxDepth'), 6);
        // Priced like any other lists: types × fields × args × a type reference.
        const cost = measured(query, 'maxCost');
        assert.ok(cost > 10_000 && cost <= DEFAULTS.maxCost, `cost ${cost}`);
      });
    }

    it('adds no depth for ofType, however deep the chain', () => {
      assert.equal(
        measured(
          '{ __type(name: "User") { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }',
          'maxDepth',
        ),
        2,
      );
    });

    it('refuses nested introspection lists beyond two, in every shape', () => {
      const refused = (lists: number) => [
        `introspection: Introspection nests ${lists} lists of the schema (types, fields, interfaces, possibleTypes, inputFields); the limit is 2`,
      ];
      assert.deepEqual(limitErrors('{ __schema { types { fields { type { fields { name } } } } } }', {}), refused(3));
      assert.deepEqual(limitErrors('{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }', {}), refused(5));
      assert.deepEqual(limitErrors('{ __type(name: "User") { fields { type { interfaces { possibleTypes { name } } } } } }', {}), refused(3));
      assert.deepEqual(
        limitErrors('{ __type(name: "User") { inputFields { type { ofType { ofType { inputFields { type { inputFields { name } } } } } } } } }', {}),
        refused(3),
      );
      // Through fragments, and through args (a list that is not counted, but leads back to a type).
      const viaFragments = `
        query { __schema { types { ...T } } }
        fragment T on __Type { fields { args { type { ...U } } } }
        fragment U on __Type { ofType { fields { name } } }`;
      assert.deepEqual(limitErrors(viaFragments, {}), refused(3));
      // Two are fine: the fields of one type's fields' types.
      assert.deepEqual(limitErrors('{ __type(name: "User") { fields { type { fields { name } } } } }', {}), []);
      // The bound is an option, and counts only introspection: an ordinary field named `fields` is not counted.
      assert.deepEqual(limitErrors('{ __schema { types { fields { type { fields { name } } } } } }', { maxIntrospectionLists: 3 }), []);
      assert.deepEqual(limitErrors('{ forms { fields { fields { fields { name } } } } }', {}), []);
    });

    it('prices the attack too: each nested list multiplies the cost by ten', () => {
      const two = measured('{ __type(name: "User") { fields { type { fields { name } } } } }', 'maxCost');
      const three = measured('{ __type(name: "User") { fields { type { fields { type { fields { name } } } } } } }', 'maxCost');
      assert.equal(two, 1 + 1 + 10 * (1 + 1 + 10 * 1));
      assert.equal(three, 1 + 1 + 10 * (1 + 1 + 10 * (1 + 1 + 10 * 1)));
    });
  });

  describe('pages (connections)', () => {
    const cost = (document: string, variables?: Record<string, unknown>): number => {
      const parsed = parse(document);
      return costWithVariables(schema, parsed, getOperationAST(parsed)!, variables);
    };

    it("sizes a page's lists by its size argument, and pays for the page object once", () => {
      // runs(1) + nodes(1 + 100 × id(1)).
      assert.equal(measured('{ runs(first: 100) { nodes { id } } }', 'maxCost'), 1 + (1 + 100 * 1));
      assert.equal(measured('{ runs(first: 3) { nodes { id status } } }', 'maxCost'), 1 + (1 + 3 * 2));
      // edges(1 + 100 × (cursor(1) + node(1 + id(1)))), pageInfo and totalCount once.
      assert.equal(
        measured('{ runs(first: 100) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }', 'maxCost'),
        1 + 1 + (1 + 2) + (1 + 100 * (1 + (1 + 1))),
      );
      // Without the argument: the schema default, else 10.
      assert.equal(measured('{ recentRuns { nodes { id } } }', 'maxCost'), 1 + (1 + 20 * 1));
      assert.equal(measured('{ runs { nodes { id } } }', 'maxCost'), 1 + (1 + 10 * 1));
    });

    it('sizes only the lists directly in the page: deeper lists keep their own size', () => {
      // tags has no size of its own and is not directly in the page: 10.
      assert.equal(measured('{ runs(first: 100) { nodes { tags } } }', 'maxCost'), 1 + (1 + 100 * (1 + 10 * 0)));
      assert.equal(measured('{ runs(first: 100) { nodes { steps { id } } } }', 'maxCost'), 1 + (1 + 100 * (1 + 10 * 1)));
      assert.equal(measured('{ runs(first: 100) { nodes { steps(first: 2) { id } } } }', 'maxCost'), 1 + (1 + 100 * (1 + 2 * 1)));
      // A list with a size argument of its own is not a page: the lists it selects keep theirs.
      assert.equal(measured('{ users(first: 5) { friends { name } } }', 'maxCost'), 1 + 5 * (1 + 10 * 1));
    });

    it('sizes lists reached through fragments in the page', () => {
      const document = `
        query { big: runs(first: 50) { ...Page } small: runs(first: 2) { ...Page } }
        fragment Page on RunConnection { nodes { id } ... on RunConnection { edges { cursor } } }`;
      assert.equal(measured(document, 'maxCost'), 1 + (1 + 50) + (1 + 50) + 1 + (1 + 2) + (1 + 2));
    });

    it('sizes pages from variables per request', () => {
      const document = 'query Runs($n: Int) { runs(first: $n) { nodes { id } } }';
      // Validation cannot see $n: 10.
      assert.equal(measured(document, 'maxCost'), 1 + (1 + 10 * 1));
      assert.equal(cost(document, { n: 100 }), 1 + (1 + 100 * 1));
      assert.equal(cost(document, { n: 1_000_000 }), 1 + (1 + 1_000_000 * 1));
      assert.equal(cost(document, {}), 1 + (1 + 10 * 1), 'left out: no schema default, 10');
      assert.equal(cost('query Recent($n: Int) { recentRuns(first: $n) { nodes { id } } }', {}), 1 + (1 + 20 * 1), 'left out: the schema default');
      assert.equal(cost('query Runs($n: Int = 40) { runs(first: $n) { edges { node { id } } } }', {}), 1 + (1 + 40 * (1 + 1)), 'the declared default');
    });
  });

  it('measures each operation of a document on its own', () => {
    const document = 'query Shallow { me { name } } query Deep { me { friends { friends { name } } } }';
    assert.deepEqual(limitErrors(document, { maxDepth: 3 }), ['depth: Query depth 4 exceeds the limit of 3']);
  });
});
