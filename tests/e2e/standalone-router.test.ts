import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { expectError, gql } from '../support/graphql-client.ts';

// The router as users run it in front of their own subgraphs: a real process over a supergraph file.
const ROUTER_MAIN = new URL('../../router/src/main.ts', import.meta.url);
const TYPE_DEFS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Book @key(fields: "id") { id: ID! title: String! }
  type Query { books: [Book!]! }
`;

function startRouter(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ROUTER_MAIN.pathname, ...args, '--port', '0'], {
      env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', TANSU_SECRET: '', TANSU_CONTEXT_SECRET: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL endpoint: (http:\/\/[^\s"]+)/.exec(output);
      if (match !== null) resolve({ child, url: match[1]! });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`router exited with ${code}:\n${output}`)));
  });
}

describe('standalone router over a user supergraph', () => {
  let subgraph: ApolloServer;
  let dir: string;
  let supergraphPath: string;
  const routers: ChildProcess[] = [];

  before(async () => {
    subgraph = new ApolloServer({
      schema: buildSubgraphSchema([{ typeDefs: parse(TYPE_DEFS), resolvers: { Query: { books: () => [{ id: '1', title: 'Dune' }] } } }]),
    });
    const { url } = await startStandaloneServer(subgraph, { listen: { port: 0, host: '127.0.0.1' } });
    const composed = composeServices([{ name: 'books', url, typeDefs: parse(TYPE_DEFS) }]);
    assert.equal(composed.errors, undefined);
    dir = await mkdtemp(join(tmpdir(), 'tansu-standalone-'));
    supergraphPath = join(dir, 'supergraph.graphql');
    await writeFile(supergraphPath, composed.supergraphSdl!);
  });

  after(async () => {
    for (const child of routers) child.kill('SIGTERM');
    await subgraph.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the supergraph with --no-auth', async () => {
    const router = await startRouter(['--supergraph', supergraphPath, '--no-auth']);
    routers.push(router.child);
    const res = await gql<{ books: { title: string }[] }>(router.url, '{ books { title } }');
    assert.deepEqual(res.body, { data: { books: [{ title: 'Dune' }] } });
  });

  it('keeps authentication on unless asked otherwise', async () => {
    const router = await startRouter(['--supergraph', supergraphPath]);
    routers.push(router.child);
    expectError(await gql(router.url, '{ books { title } }'), 'UNAUTHENTICATED', 401);
    expectError(await gql(router.url, '{ books { title } }', { token: 'not.a.jwt' }), 'UNAUTHENTICATED', 401);
  });

  it('fails with a clear message for a missing supergraph file', async () => {
    await assert.rejects(startRouter(['--supergraph', join(dir, 'missing.graphql')]), /Cannot read the supergraph file/);
  });
});
