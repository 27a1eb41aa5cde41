import { readFile, writeFile } from 'node:fs/promises';
import { Supergraph } from '@apollo/federation-internals';
import { minifyIntrospection, outputIntrospectionFile } from '@gql.tada/internal';
import { introspectionFromSchema } from 'graphql';

// `npm run compose` also writes this file (`compose:check` checks it): the SDK's operations are
// typed by the public API of the committed supergraph (what the router serves, without
// federation's internals).
const SUPERGRAPH = new URL('../../../supergraph/supergraph.graphql', import.meta.url);
export const GRAPHQL_ENV = new URL('../src/graphql-env.d.ts', import.meta.url);

export async function renderGraphqlEnv(): Promise<string> {
  const api = Supergraph.build(await readFile(SUPERGRAPH, 'utf8'))
    .apiSchema()
    .toGraphQLJSSchema();
  return outputIntrospectionFile(minifyIntrospection(introspectionFromSchema(api, { descriptions: false })), { fileType: '.d.ts', shouldPreprocess: true });
}

if (import.meta.main) {
  const rendered = await renderGraphqlEnv();
  if (process.argv.includes('--check')) {
    const current = await readFile(GRAPHQL_ENV, 'utf8').catch(() => '');
    if (current !== rendered) {
      console.error('clients/sdk/src/graphql-env.d.ts is out of date: run npm run compose');
      process.exit(1);
    }
    console.log('graphql-env.d.ts is up to date');
  } else {
    await writeFile(GRAPHQL_ENV, rendered);
    console.log('wrote clients/sdk/src/graphql-env.d.ts');
  }
}
