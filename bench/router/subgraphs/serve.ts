// One benchmark subgraph per process: `node bench/router/subgraphs/serve.ts <name> <port>`.
// Separate processes let the OS spread subgraph work over both cores, as the
// public benchmark runs each subgraph as its own service.
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { RESOLVERS, SUBGRAPH_NAMES, type SubgraphName } from './resolvers.ts';

export function subgraphSdl(name: SubgraphName): string {
  return readFileSync(new URL(`./${name}.graphql`, import.meta.url), 'utf8');
}

async function main(): Promise<void> {
  const name = (process.argv[2] ?? process.env.SUBGRAPH) as SubgraphName | undefined;
  const port = Number(process.argv[3] ?? process.env.PORT);
  if (!name || !SUBGRAPH_NAMES.includes(name) || !Number.isInteger(port) || port <= 0) {
    console.error(`usage: serve.ts <${SUBGRAPH_NAMES.join('|')}> <port>`);
    process.exit(2);
  }
  const schema = buildSubgraphSchema([{ typeDefs: parse(subgraphSdl(name)), resolvers: RESOLVERS[name] }]);
  const server = new ApolloServer({ schema });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port } });
  console.log(`subgraph ${name} ready at ${url}`);
  const stop = (): void => {
    server.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.main) await main();
