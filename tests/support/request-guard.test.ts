import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { GraphQLError, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';
import { gql } from './graphql-client.ts';
import { activateGuard, createGuardedLogger, createRequestGuard, recordLogLine } from './request-guard.ts';
import { createClient } from './ws-client.ts';

const INTERNAL = { message: 'Internal server error', extensions: { code: 'INTERNAL', requestId: 'req-1' } };

describe('request guard', () => {
  it('records an error line with its service, message, error and request id, and no debug line', () => {
    const guard = createRequestGuard();
    const restore = activateGuard(guard);
    try {
      const logger = createGuardedLogger('silent', 'test');
      assert.equal(logger.isLevelEnabled('debug'), false);
      const request = logger.child({ service: 'router', requestId: 'req-1' });
      request.debug('planning');
      request.warn('slow subgraph');
      request.error({ err: new Error('connection reset') }, 'router request failed');
      const problems = guard.problems();
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0]!, /^during "start-up": error log router: router request failed: connection reset \(requestId req-1\)\n {4}at /);
    } finally {
      restore();
    }
  });

  it('records the error lines a child process prints, named by the process', () => {
    const guard = createRequestGuard();
    const restore = activateGuard(guard);
    try {
      recordLogLine('{"level":40,"service":"router","msg":"slow subgraph"}', 'router-a');
      recordLogLine('not json', 'router-a');
      recordLogLine('{"level":50,"service":"router","msg":"router request failed","requestId":"req-2"}', 'router-a');
      assert.deepEqual(guard.problems(), ['during "start-up": error log router-a/router: router request failed (requestId req-2)']);
    } finally {
      restore();
    }
  });

  it('lets a declared line through, and fails a declaration that never matched', () => {
    const guard = createRequestGuard([
      { match: /mail delivery failed/, because: 'the test points the mailer at a closed port' },
      { match: /stream hub read failed/, because: 'never happens here' },
    ]);
    guard.logLine({ level: 50, service: 'mail', msg: 'mail delivery failed', err: { message: 'ECONNREFUSED' } });
    assert.deepEqual(guard.problems(), ['the expected error log /stream hub read failed/ (never happens here) never appeared: drop it']);
  });

  describe('INTERNAL answers', () => {
    const http = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: null, errors: [INTERNAL] })),
    );
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          boom: {
            type: GraphQLString,
            resolve: () => {
              throw new GraphQLError('Internal server error', { extensions: { code: 'INTERNAL' } });
            },
          },
        },
      }),
    });
    const wss = new WebSocketServer({ server: http });
    const stopWs = useServer({ schema }, wss);
    after(async () => {
      await stopWs.dispose();
      await new Promise((resolve) => http.close(resolve));
    });
    const url = async () => {
      if (!http.listening) await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      return `127.0.0.1:${(http.address() as AddressInfo).port}`;
    };

    it('fails gql at once, unless the test expects it', async () => {
      const endpoint = `http://${await url()}/graphql`;
      await assert.rejects(gql(endpoint, '{ boom }'), /INTERNAL answer \(HTTP 200\) to \{ boom \}: .*"requestId":"req-1"/);
      const expected = await gql(endpoint, '{ boom }', { expectInternal: true });
      assert.equal(expected.body.errors?.[0]?.extensions?.code, 'INTERNAL');
    });

    it('records one over WebSocket, unless the test expects it', async () => {
      const guard = createRequestGuard();
      const restore = activateGuard(guard);
      try {
        const query = async (expectInternal: boolean) => {
          const client = createClient({ url: `ws://${await url()}`, webSocketImpl: WebSocket, retryAttempts: 0, expectInternal });
          for await (const result of client.iterate({ query: '{ boom }' })) assert.equal(result.errors?.[0]?.extensions?.code, 'INTERNAL');
          await client.dispose();
        };
        await query(true);
        assert.deepEqual(guard.problems(), []);
        await query(false);
        assert.equal(guard.problems().length, 1);
        assert.match(guard.problems()[0]!, /INTERNAL answer over WebSocket \(next\): .*Internal server error/);
      } finally {
        restore();
      }
    });
  });
});
