// The comparison baseline: a stock Apollo Gateway on Apollo Server, no tuning.
// `node bench/router/peer-gateway.ts --supergraph <file> --port <N>`
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const { values } = parseArgs({
  options: {
    supergraph: { type: 'string' },
    port: { type: 'string' },
  },
});
if (!values.supergraph || !values.port) {
  console.error('usage: peer-gateway.ts --supergraph <file> --port <N>');
  process.exit(2);
}

const gateway = new ApolloGateway({ supergraphSdl: readFileSync(values.supergraph, 'utf8') });
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: Number(values.port) } });
console.log(`peer gateway ready at ${url}`);

const stop = (): void => {
  server.stop().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
