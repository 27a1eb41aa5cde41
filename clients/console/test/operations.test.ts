import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { Supergraph } from '@apollo/federation-internals';
import { specifiedRules, validate } from 'graphql';
import { OPERATIONS } from '../src/operations.ts';

// The console is a client like any other: it may use the public API and nothing else.
describe("the console's operations", () => {
  it("ask only for the supergraph's public API", async () => {
    const api = Supergraph.build(await readFile(new URL('../../../supergraph/supergraph.graphql', import.meta.url), 'utf8'))
      .apiSchema()
      .toGraphQLJSSchema();
    assert.ok(OPERATIONS.length > 0);
    for (const document of OPERATIONS) {
      const name = document.definitions[0]?.kind === 'OperationDefinition' ? document.definitions[0].name?.value : undefined;
      assert.deepEqual(
        validate(api, document, specifiedRules).map((e) => e.message),
        [],
        name,
      );
    }
  });
});
