import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The introspection queries GraphiQL sends from the playground, exactly: built by the
 * graphql-js copy inside the GraphiQL bundle the playground serves, with the options its schema
 * loader (@graphiql/react's useIntrospectionQuery) passes when the page sets none, and the
 * fallback it retries without `subscriptionType` when the first answer has no data.
 */
export function graphiqlIntrospectionQueries(): { query: string; withoutSubscriptions: string } {
  const bundle = readFileSync(createRequire(import.meta.url).resolve('graphiql/graphiql.min.js'), 'utf8');
  const start = bundle.indexOf('function getIntrospectionQuery(options) {');
  const end = bundle.indexOf('\n/***/ })', start);
  if (start < 0 || end < 0) throw new Error('getIntrospectionQuery not found in the GraphiQL bundle');
  const build = new Function(`${bundle.slice(start, end)}\nreturn getIntrospectionQuery;`)() as (options: Record<string, unknown>) => string;
  const query = build({ inputValueDeprecation: undefined, schemaDescription: undefined });
  return { query, withoutSubscriptions: query.replace('subscriptionType { name }', '') };
}
